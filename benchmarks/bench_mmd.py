"""Speed and memory of ``tllab.mmd2`` against the naive full-matrix version and peers.

Run from the repository root (after ``make setup``)::

    .venv/bin/python benchmarks/bench_mmd.py                  # n = m = 1k … 100k, d = 32, CPU
    .venv/bin/python benchmarks/bench_mmd.py --quick          # small sizes only
    .venv/bin/python benchmarks/bench_mmd.py --device cuda    # on a GPU
    .venv/bin/pip install -r requirements-bench.txt  # optional peers: geomloss, torchdrift

Every (implementation, n) case runs in a fresh subprocess so that its peak memory is its
own: CPU peak is the growth of the process's maximum resident set over the baseline taken
after the data were made; GPU peak is ``torch.cuda.max_memory_allocated``.  Time is the
median of ``--repeats`` runs after a warm-up (a single run when one takes over 10 s, marked
in the ``runs`` column).  The *floor* is what the arithmetic alone costs on this machine,
measured in the same run: the FLOPs of the Gram products (``2 d`` per pair, with the
symmetric ``x``-``x`` and ``y``-``y`` sums counted once per unordered pair, as tllab computes
them) over the rate of a ``(1024 x d) @ (d x 1024)`` GEMM, plus one ``exp`` per pair at the
rate of ``torch.exp`` on a 1024 x 1024 block (both in cache, so the floor is optimistic).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

IMPLS = ("tllab", "naive", "geomloss", "torchdrift")


def _data(n: int, d: int, device: str):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    y = torch.randn(n, d, generator=g) + 0.05
    return x.to(device), y.to(device)


def _bandwidth(x, y) -> float:
    import tllab

    return float(tllab.median_bandwidth(x, y))


def _naive(x, y, sigma):
    """The textbook version: whole matrices from cdist, then exp (unbiased estimator)."""
    c = -0.5 / sigma**2
    n, m = x.shape[0], y.shape[0]
    kxx = torch.exp(torch.cdist(x, x) ** 2 * c)
    kyy = torch.exp(torch.cdist(y, y) ** 2 * c)
    kxy = torch.exp(torch.cdist(x, y) ** 2 * c)
    return ((kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
            + (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1)) - 2 * kxy.mean())


def _make(impl: str, sigma: float):
    if impl == "tllab":
        import tllab

        return lambda x, y: tllab.mmd2(x, y, bandwidth=sigma)
    if impl == "naive":
        return lambda x, y: _naive(x, y, sigma)
    if impl == "geomloss":
        from geomloss import SamplesLoss

        # geomloss's kernel loss is ½ of the biased (V-statistic) MMD²; same σ convention.
        loss = SamplesLoss("gaussian", blur=sigma, backend="tensorized")
        return lambda x, y: 2 * loss(x, y)
    if impl == "torchdrift":
        from torchdrift.detectors.mmd import GaussianKernel, kernel_mmd

        # One (n+m)² matrix; keeps the diagonal (neither the biased nor unbiased estimator).
        return lambda x, y: kernel_mmd(x, y, n_perm=None, kernel=GaussianKernel(sigma))
    raise ValueError(impl)


def _sync(device: str):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> int:
    """Reset the peak-RSS mark (Linux: clear_refs 5) and return the current RSS in kB.

    Freed heap memory is first handed back to the OS (glibc ``malloc_trim``), so that a
    later allocation that reuses it still shows up as growth of the resident set.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # not Linux: fall back to the lifetime maximum
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _status_kb("VmRSS")


def run_case(impl: str, n: int, d: int, device: str, repeats: int) -> dict:
    """Time one implementation at one size in this process (called in a subprocess)."""
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", torch.get_num_threads())))
    x, y = _data(n, d, device)
    sigma = _bandwidth(x, y)
    fn = _make(impl, sigma)
    with torch.no_grad():
        fn(x[:256], y[:256])  # warm-up: kernels loaded, threads spun up
        _sync(device)
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        base_rss = _reset_peak_rss()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            value = float(fn(x, y))
            _sync(device)
            times.append(time.perf_counter() - t0)
            if times[-1] > 10:
                break
    if device.startswith("cuda"):
        peak_mb = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak_mb = (_status_kb("VmHWM") - base_rss) / 2**10
    return {"time": statistics.median(times), "runs": len(times), "peak_mb": peak_mb,
            "value": value}


def measure_floor_rates(d: int, device: str, tile: int = 1024) -> tuple[float, float]:
    """(GEMM FLOP/s for inner dimension d, exp evaluations per second) on this machine.

    Both are measured on one ``tile x tile`` block, the size tllab works on, so that the
    rates are the in-cache best case rather than a memory-bound one.
    """
    a = torch.randn(tile, d, device=device)
    b = torch.randn(d, tile, device=device)
    out = torch.empty(tile, tile, device=device)
    z = torch.rand(tile, tile, device=device).neg_()

    def rate(step, work_per_step: float) -> float:
        step()
        _sync(device)
        reps, elapsed = 1, 0.0
        while elapsed < 0.2:
            reps *= 2
            t0 = time.perf_counter()
            for _ in range(reps):
                step()
            _sync(device)
            elapsed = time.perf_counter() - t0
        return reps * work_per_step / elapsed

    gemm = rate(lambda: torch.mm(a, b, out=out), 2 * tile * tile * d)
    exps = rate(lambda: torch.exp(z, out=out), tile * tile)
    return gemm, exps


def floor_seconds(n: int, m: int, d: int, gemm: float, exps: float) -> float:
    pairs = n * (n + 1) / 2 + m * (m + 1) / 2 + n * m
    return pairs * 2 * d / gemm + pairs / exps


def _fits(impl: str, n: int, device: str) -> str | None:
    """Why a dense implementation is skipped at this size (None when it runs)."""
    if impl == "tllab":
        return None
    matrices = {"naive": 6 * n * n, "geomloss": 6 * n * n, "torchdrift": 3 * (2 * n) ** 2}[impl]
    need_gb = matrices * 4 / 2**30
    if device.startswith("cuda"):
        have_gb = torch.cuda.get_device_properties(0).total_memory / 2**30
    else:
        have_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    if need_gb > 0.6 * have_gb:
        return f"needs ~{need_gb:.0f} GB of {have_gb:.0f} GB"
    return None


def _available(impl: str) -> bool:
    if impl in ("tllab", "naive"):
        return True
    try:
        __import__(impl)
    except ImportError:
        return False
    return True


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000, 50000, 100000])
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--impls", nargs="+", default=list(IMPLS), choices=IMPLS)
    p.add_argument("--quick", action="store_true", help="sizes 1000 and 4000 only")
    p.add_argument("--case", nargs=2, metavar=("IMPL", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]), args.dim, args.device,
                                  args.repeats)))
        return
    sizes = [1000, 4000] if args.quick else args.sizes
    gemm, exps = measure_floor_rates(args.dim, args.device)
    print(f"# device={args.device} threads={torch.get_num_threads()} d={args.dim} "
          f"torch={torch.__version__}; GEMM {gemm / 1e9:.1f} GFLOP/s (k={args.dim}), "
          f"exp {exps / 1e9:.2f} G/s")
    header = (f"{'impl':<11}{'n=m':>8}{'time s':>10}{'runs':>5}{'peak MB':>10}"
              f"{'value':>13}{'vs naive':>10}{'vs floor':>10}")
    print(header)
    print("-" * len(header))
    for n in sizes:
        floor = floor_seconds(n, n, args.dim, gemm, exps)
        rows = {}
        for impl in args.impls:
            if not _available(impl):
                rows[impl] = "not installed (pip install -r requirements-bench.txt)"
                continue
            reason = _fits(impl, n, args.device)
            if reason:
                rows[impl] = f"skipped: {reason}"
                continue
            cmd = [sys.executable, __file__, "--case", impl, str(n), "--dim", str(args.dim),
                   "--device", args.device, "--repeats", str(args.repeats)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                tail = (res.stderr.strip().splitlines() or ["?"])[-1]
                rows[impl] = f"failed: {tail[:60]}"
                continue
            rows[impl] = json.loads(res.stdout.strip().splitlines()[-1])
        naive = rows.get("naive")
        for impl, r in rows.items():
            if isinstance(r, str):
                print(f"{impl:<11}{n:>8}  {r}")
                continue
            vs_naive = f"{naive['time'] / r['time']:.1f}x" if isinstance(naive, dict) else "-"
            print(f"{impl:<11}{n:>8}{r['time']:>10.3f}{r['runs']:>5}{r['peak_mb']:>10.1f}"
                  f"{r['value']:>13.4e}{vs_naive:>10}{r['time'] / floor:>9.2f}x", flush=True)
    print("vs naive: naive time / this time (higher is better); vs floor: this time / floor.")


if __name__ == "__main__":
    main()
