"""Training and inference throughput of ``tllab.models.SmallCNN``, with and without
``torch.compile`` and the channels-last memory format.

Run from the repository root (after ``make setup``)::

    .venv/bin/python benchmarks/bench_finetune.py                 # 8x8 and 32x32 images, CPU
    .venv/bin/python benchmarks/bench_finetune.py --quick         # 8x8 only, no compile
    .venv/bin/python benchmarks/bench_finetune.py --device cuda   # GPU rows

Cases: the chapter's network (``SmallCNN(width=16)``, 24k parameters) on 8x8 images (the
digits of the image-recognition chapter) and on 32x32 images (a ``FULL_SCALE``-like render);
phase ``train`` = one step of :func:`tllab.finetune.fit`'s work (forward, cross-entropy,
backward, Adam) on a batch of 128, phase ``infer`` = eval-mode forward without gradients on a
batch of 1024; variants ``eager`` (the baseline), ``channels_last`` (model and inputs in
``torch.channels_last``), ``compile`` (``torch.compile`` of the model, default mode) and
``compile+cl`` (both).  Every case runs in a fresh subprocess (its own compile cache and peak
memory).  Throughput = images per second, median of ``--repeats`` timed runs of ``--steps``
batches after a warm-up; "warm-up s" is the first call(s), where ``torch.compile`` compiles;
"vs eager" is the ratio to the eager row of the same size and phase, measured in the same run;
"peak MB" is the growth of the resident set's high-water mark over the resident set once the
model and data are made (CPU; ``torch.cuda.max_memory_allocated`` on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_mmd import _reset_peak_rss, _status_kb, _sync  # noqa: E402

VARIANTS = ("eager", "channels_last", "compile", "compile+cl")
PHASES = ("train", "infer")


def run_case(variant: str, phase: str, size: int, device: str, steps: int,
             repeats: int) -> dict:
    """One (variant, phase, size) case in this process; returns the measured numbers."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tllab.models import SmallCNN

    torch.manual_seed(0)
    batch = 128 if phase == "train" else 1024
    model = SmallCNN(width=16).to(device)
    x = torch.rand(batch, 1, size, size, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if "cl" in variant or variant == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    net = torch.compile(model) if variant.startswith("compile") else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    if phase == "train":
        model.train()

        def step():
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                net(x)

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _reset_peak_rss()
    start = time.perf_counter()
    for _ in range(3):  # compiles (and recompiles for the second call's shapes) here
        step()
    _sync(device)
    warmup = time.perf_counter() - start
    rates = []
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(device)
        rates.append(steps * batch / (time.perf_counter() - t))
    if device == "cuda":
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = (_status_kb("VmHWM") - base) / 2**10
    return {"rate": statistics.median(rates), "warmup": warmup, "peak_mb": peak}


def _subprocess(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--case", *args], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:70]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads on the CPU (default: torch's choice)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="8x8, eager and channels_last")
    parser.add_argument("--case", nargs=4, metavar=("VARIANT", "PHASE", "SIZE", "DEVICE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.case:
        variant, phase, size, device = args.case
        print(json.dumps(run_case(variant, phase, int(size), device, args.steps,
                                  args.repeats)))
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device here")
    sizes = [8] if args.quick else args.sizes
    variants = VARIANTS[:2] if args.quick else VARIANTS
    threads = args.threads or torch.get_num_threads()
    print(f"# device={args.device} threads={threads} torch={torch.__version__} "
          f"SmallCNN(width=16); batch 128 (train) / 1024 (infer); {args.steps} steps x "
          f"{args.repeats} repeats")
    print(f"{'size':>5} {'phase':<6} {'variant':<14} {'images/s':>10} {'vs eager':>9} "
          f"{'warm-up s':>10} {'peak MB':>8}")
    print("-" * 68)
    extra = ["--steps", str(args.steps), "--repeats", str(args.repeats)]
    if args.threads:
        extra += ["--threads", str(args.threads)]
    for size in sizes:
        for phase in PHASES:
            eager = None
            for variant in variants:
                r = _subprocess([variant, phase, str(size), args.device, *extra])
                if "error" in r:
                    print(f"{size:>5} {phase:<6} {variant:<14} failed: {r['error']}")
                    continue
                eager = r["rate"] if variant == "eager" else eager
                ratio = f"{r['rate'] / eager:.2f}x" if eager else "-"
                print(f"{size:>5} {phase:<6} {variant:<14} {r['rate']:>10.0f} {ratio:>9} "
                      f"{r['warmup']:>10.2f} {r['peak_mb']:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
