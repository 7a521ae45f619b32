"""Benchmark tllab.kmm_weights against the dense cvxopt QP (and skada's KMM if installed).

Run from the repository root::

    .venv/bin/python benchmarks/bench_kmm.py                 # n_s in 500 1000 3000 10000
    .venv/bin/python benchmarks/bench_kmm.py --quick         # n_s in 500 1000, 1 repeat
    .venv/bin/python benchmarks/bench_kmm.py --sizes 500 3000 --repeats 5
    PYTHONPATH=/path/to/skada_site .venv/bin/python benchmarks/bench_kmm.py   # add skada

Problem: d = 10, source N(0, I), target N(0.3·1, 0.8² I), n_t = n_s, Gaussian kernel with
the median bandwidth of the pooled sample (the same σ for every implementation),
B = 1000, default ε.  Every (implementation, size) case runs in its own subprocess so its
peak memory (growth of ``ru_maxrss`` after imports and data, warm-up included; on CUDA
``torch.cuda.max_memory_allocated``) is its own.  Time: median of ``--repeats`` runs
after one warm-up run for n_s <= 1000; a single run above (stated in the table).  The
objective ``½βᵀKβ − κᵀβ`` of every solution is evaluated by the same float64 tiled
evaluator; "rel gap" is ``(f − f_cvxopt)/|f_cvxopt|`` (negative: lower than cvxopt's).
cvxopt (dense interior point, O(n³) per iteration, ~ 3 n² doubles) is skipped above
``--cvxopt-max`` (3000), and skada above ``--skada-max``, with the reason printed.
tllab caches the dense K when n_s <= 4096 (float64) by its own rule; for larger n_s the
benchmark passes ``cache_kernel=True`` (``--tiled-large`` keeps the tiled products,
memory O(n·block) but ~30x slower per iteration on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

D = 10
SEED = 0


def make_data(n: int):
    import numpy as np

    rng = np.random.default_rng(SEED + n)
    xs = rng.normal(size=(n, D))
    xt = rng.normal(size=(n, D)) * 0.8 + 0.3
    return xs, xt


def kmm_objective(beta, xs, xt, sigma):
    """f(β) = ½ βᵀKβ − κᵀβ in float64 with tiled products (no n×n matrix)."""
    import torch

    import tllab

    xs_t, xt_t = torch.tensor(xs), torch.tensor(xt)
    b = torch.as_tensor(beta, dtype=torch.float64)
    kb = tllab.kernel_matvec(xs_t, b, bandwidth=sigma)
    kappa = tllab.kernel_matvec(xs_t, torch.ones(len(xt), dtype=torch.float64), xt_t,
                                bandwidth=sigma) * (len(xs) / len(xt))
    return float(0.5 * b @ kb - kappa @ b)


def solve(impl: str, xs, xt, sigma: float, device: str, tiled_large: bool):
    import numpy as np
    import torch

    import tllab

    n = len(xs)
    if impl.startswith("tllab"):
        dtype = torch.float32 if impl.endswith("f32") else torch.float64
        a = torch.tensor(xs, dtype=dtype, device=device)
        b = torch.tensor(xt, dtype=dtype, device=device)
        cache = None if (n <= 4096 or tiled_large) else True
        res = tllab.kmm_weights(a, b, bandwidth=sigma, B=1000.0, cache_kernel=cache,
                                return_info=True)
        if device == "cuda":
            torch.cuda.synchronize()
        return res.weights.double().cpu().numpy(), {"iters": res.n_iter, "dense": res.dense}
    if impl == "cvxopt":
        import cvxopt
        from cvxopt import solvers

        eps = (math.sqrt(n) - 1) / math.sqrt(n)
        d2 = ((xs[:, None, :] - xs[None, :, :]) ** 2).sum(-1)
        K = np.exp(-d2 / (2 * sigma**2))
        del d2
        kt = np.exp(-((xs[:, None, :] - xt[None, :, :]) ** 2).sum(-1) / (2 * sigma**2))
        kappa = n / len(xt) * kt.sum(1)
        del kt
        G = np.vstack([np.eye(n), -np.eye(n), np.ones((1, n)), -np.ones((1, n))])
        h = np.concatenate([np.full(n, 1000.0), np.zeros(n), [n * (1 + eps)], [-n * (1 - eps)]])
        solvers.options["show_progress"] = False
        sol = solvers.qp(cvxopt.matrix(K), cvxopt.matrix(-kappa), cvxopt.matrix(G),
                         cvxopt.matrix(h))
        return np.array(sol["x"]).ravel(), {"iters": sol["iterations"], "status": sol["status"]}
    if impl == "skada":
        from skada import KMMReweightAdapter

        z = np.vstack([xs, xt])
        dom = np.concatenate([np.ones(n), -np.ones(len(xt))]).astype(int)
        ad = KMMReweightAdapter(gamma=1.0 / (2 * sigma**2), B=1000.0)
        ad.fit(z, sample_domain=dom)
        return ad.source_weights_, {"solver": "frank-wolfe", "max_iter": ad.max_iter}
    raise ValueError(impl)


def worker(impl: str, n: int, sigma: float, repeats: int, device: str,
           tiled_large: bool) -> None:
    import torch

    xs, xt = make_data(n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # imports + data
    warm = n <= 1000
    if warm:
        solve(impl, xs, xt, sigma, device, tiled_large)
    runs = repeats if warm else 1
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        beta, extra = solve(impl, xs, xt, sigma, device, tiled_large)
        times.append(time.perf_counter() - t0)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    out = {
        "time": statistics.median(times), "runs": runs, "warm": warm,
        "peak_mib": peak_kib / 1024,
        "gpu_mib": (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None),
        "objective": kmm_objective(beta, xs, xt, sigma),
        "min_w": float(beta.min()), "max_w": float(beta.max()),
        "sum_rel": float(beta.sum() / n), **extra,
    }
    print("RESULT " + json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 3000, 10000])
    p.add_argument("--quick", action="store_true", help="sizes 500 1000, one repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cvxopt-max", type=int, default=3000)
    p.add_argument("--skada-max", type=int, default=3000)
    p.add_argument("--tiled-large", action="store_true")
    p.add_argument("--worker", nargs=4, metavar=("IMPL", "N", "SIGMA", "DEVICE"),
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        impl, n, sigma, device = args.worker
        worker(impl, int(n), float(sigma), args.repeats, device, args.tiled_large)
        return
    if args.quick:
        args.sizes, args.repeats = [500, 1000], 1

    import torch

    import tllab

    try:
        import skada  # noqa: F401

        have_skada = True
    except ImportError:
        have_skada = False
        print("skada not importable: skipped (pip install skada; no torch/TF needed). "
              "ADAPT skipped: it requires tensorflow.")
    impls = [("tllab-f64", "cpu"), ("tllab-f32", "cpu")]
    if torch.cuda.is_available():
        impls += [("tllab-f64", "cuda"), ("tllab-f32", "cuda")]
    impls.append(("cvxopt", "cpu"))
    if have_skada:
        impls.append(("skada", "cpu"))

    rows = []
    for n in args.sizes:
        ref = None
        sigma = float(tllab.median_bandwidth(*make_data(n)))  # shared by every implementation
        for impl, device in impls:
            limit = {"cvxopt": args.cvxopt_max, "skada": args.skada_max}.get(impl)
            if limit is not None and n > limit:
                print(f"skip {impl} at n_s={n}: above --{impl}-max={limit} (dense QP: "
                      f"{3 * n * n * 8 / 2**30:.1f} GiB of matrices, O(n^3) per iteration)")
                continue
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl, str(n),
                   repr(sigma), device, "--repeats", str(args.repeats)]
            cmd += ["--tiled-large"] if args.tiled_large else []
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                print(f"{impl} n_s={n} failed:\n{proc.stderr[-2000:]}")
                continue
            r = json.loads(line[0][7:])
            r.update(impl=f"{impl}" + ("" if device == "cpu" else f"@{device}"), n=n)
            if impl == "cvxopt":
                ref = r
            rows.append(r)
        for r in rows:
            if r["n"] == n and ref is not None:
                r["rel_gap"] = (r["objective"] - ref["objective"]) / abs(ref["objective"])
                r["speedup"] = ref["time"] / r["time"]
    print()
    hdr = (f"{'implementation':<16}{'n_s':>7}{'time s':>10}{'runs':>6}{'peak MiB':>10}"
           f"{'objective':>18}{'rel gap':>11}{'cvxopt/x':>10}  notes")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        gap = f"{r['rel_gap']:.1e}" if "rel_gap" in r else "—"
        spd = f"{r['speedup']:.1f}x" if "speedup" in r else "—"
        mem = r["gpu_mib"] if r.get("gpu_mib") is not None else r["peak_mib"]
        notes = []
        if "iters" in r:
            notes.append(f"iters={r['iters']}")
        if "dense" in r:
            notes.append("dense K" if r["dense"] else "tiled")
        if r.get("status") not in (None, "optimal"):
            notes.append(f"status={r['status']}")
        if not r["warm"]:
            notes.append("1 run, no warm-up")
        print(f"{r['impl']:<16}{r['n']:>7}{r['time']:>10.2f}{r['runs']:>6}{mem:>10.0f}"
              f"{r['objective']:>18.6f}{gap:>11}{spd:>10}  {', '.join(notes)}")


if __name__ == "__main__":
    main()
