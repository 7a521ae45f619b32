"""Benchmark tllab.kmm_weights against cvxopt's interior-point QP (sparse and dense constraints).

Run from the repository root::

    .venv/bin/python benchmarks/bench_kmm.py             # n_s in 500 1000 3000 10000 (~20 min)
    .venv/bin/python benchmarks/bench_kmm.py --quick     # n_s in 500 1000, 1 repeat
    .venv/bin/python benchmarks/bench_kmm.py --sizes 20000   # tllab only (cvxopt skipped)
    .venv/bin/pip install -r requirements-bench.txt      # adds skada (optional)

Problem: d = 10, source N(0, I), target N(0.3·1, 0.8² I), n_t = n_s, Gaussian kernel with
the median bandwidth of the pooled sample (the same σ for every implementation),
B = 1000, default ε = (√n_s − 1)/√n_s.  tllab runs with its defaults (the memory budget
chooses the kernel cache and the solver; the table says which).  The references are
cvxopt 1.3's ``solvers.qp`` (primal-dual interior point, default tolerances) on the same
QP with the box and slab constraints ``Gβ <= h`` given as a sparse ``spmatrix``
("cvxopt-sparse", the reference for the speed-ups) and as a dense matrix
("cvxopt-dense", 5–6× slower).

Every (implementation, size) case runs in its own subprocess.  Time: median of
``--repeats`` runs after one warm-up run for n_s <= 1000, a single run above.  Peak
memory: growth of the resident-set high-water mark (``VmHWM``, reset with
``/proc/self/clear_refs`` after ``malloc_trim``) over the resident set once the data
are made (on CUDA, ``torch.cuda.max_memory_allocated``).  The objective
``½βᵀKβ − κᵀβ`` of every solution is evaluated by one float64 tiled evaluator; "rel gap"
is ``(f − f_best) / |f_best|`` with ``f_best`` the lowest objective found at that size
(so >= 0: how far above the best solution, which cvxopt's interior point stops short of
by ~1e-7).  cvxopt-sparse is skipped above ``--cvxopt-max`` (10 000: ~5 min on 2 cores,
O(n³) per iteration), cvxopt-dense above ``--cvxopt-dense-max`` and skada above
``--skada-max`` (3 000), with the reason printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

D = 10
SEED = 0
B = 1000.0


def make_data(n: int):
    import numpy as np

    rng = np.random.default_rng(SEED + n)
    xs = rng.normal(size=(n, D))
    xt = rng.normal(size=(n, D)) * 0.8 + 0.3
    return xs, xt


def kmm_kappa(xs, xt, sigma):
    """κ_i = (n_s/n_t) Σ_j k(x_i, x'_j) in float64, as a torch tensor."""
    import torch

    import tllab

    ones = torch.ones(len(xt), dtype=torch.float64)
    return tllab.kernel_matvec(torch.tensor(xs), ones, torch.tensor(xt),
                               bandwidth=sigma) * (len(xs) / len(xt))


def kmm_objective(beta, xs, xt, sigma):
    """f(β) = ½ βᵀKβ − κᵀβ in float64 with tiled products (no n×n matrix)."""
    import torch

    import tllab

    b = torch.as_tensor(beta, dtype=torch.float64)
    kb = tllab.kernel_matvec(torch.tensor(xs), b, bandwidth=sigma)
    return float(0.5 * b @ kb - kmm_kappa(xs, xt, sigma) @ b)


def _cvxopt_qp(xs, xt, sigma, sparse: bool):
    import cvxopt
    import numpy as np
    import torch
    from cvxopt import solvers

    import tllab

    n = len(xs)
    eps = (math.sqrt(n) - 1) / math.sqrt(n)
    K = tllab.kernel_matrix(torch.tensor(xs), bandwidth=sigma).numpy()
    kappa = kmm_kappa(xs, xt, sigma).numpy()
    h = cvxopt.matrix(np.concatenate([np.full(n, B), np.zeros(n), [n * (1 + eps)],
                                      [-n * (1 - eps)]]))
    if sparse:  # rows: β_i <= B, −β_i <= 0, Σβ <= n(1+ε), −Σβ <= −n(1−ε)
        idx = list(range(n))
        G = cvxopt.spmatrix([1.0] * n + [-1.0] * n + [1.0] * n + [-1.0] * n,
                            idx + [n + i for i in idx] + [2 * n] * n + [2 * n + 1] * n,
                            idx * 4, (2 * n + 2, n))
    else:
        G = cvxopt.matrix(np.vstack([np.eye(n), -np.eye(n), np.ones((1, n)), -np.ones((1, n))]))
    P, q = cvxopt.matrix(K), cvxopt.matrix(-kappa)
    del K
    solvers.options["show_progress"] = False
    sol = solvers.qp(P, q, G, h)
    return np.array(sol["x"]).ravel(), {"iters": sol["iterations"], "status": sol["status"]}


def solve(impl: str, xs, xt, sigma: float, device: str):
    import torch

    import tllab

    if impl.startswith("tllab"):
        dtype = torch.float32 if impl.endswith("f32") else torch.float64
        a = torch.tensor(xs, dtype=dtype, device=device)
        b = torch.tensor(xt, dtype=dtype, device=device)
        res = tllab.kmm_weights(a, b, bandwidth=sigma, B=B, return_info=True)
        if device == "cuda":
            torch.cuda.synchronize()
        return res.weights.double().cpu().numpy(), {
            "iters": res.n_iter, "solver": res.solver, "dense": res.dense, "cert": res.gap,
            "converged": res.converged, "budget_gib": res.memory_budget / 2**30}
    if impl.startswith("cvxopt"):
        return _cvxopt_qp(xs, xt, sigma, sparse=impl == "cvxopt-sparse")
    if impl == "skada":
        import numpy as np
        from skada import KMMReweightAdapter

        z = np.vstack([xs, xt])
        dom = np.concatenate([np.ones(len(xs)), -np.ones(len(xt))]).astype(int)
        ad = KMMReweightAdapter(gamma=1.0 / (2 * sigma**2), B=B)
        ad.fit(z, sample_domain=dom)
        return ad.source_weights_, {"solver": "frank-wolfe"}
    raise ValueError(impl)


def worker(impl: str, n: int, sigma: float, repeats: int, device: str) -> None:
    import torch
    from bench_mmd import _reset_peak_rss, _status_kb

    xs, xt = make_data(n)
    warm = n <= 1000
    if warm:
        solve(impl, xs, xt, sigma, device)
    runs = repeats if warm else 1
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    base = _reset_peak_rss()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        beta, extra = solve(impl, xs, xt, sigma, device)
        times.append(time.perf_counter() - t0)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda"
            else (_status_kb("VmHWM") - base) / 1024)
    out = {"time": statistics.median(times), "runs": runs, "peak_mib": peak,
           "objective": kmm_objective(beta, xs, xt, sigma), **extra}
    print("RESULT " + json.dumps(out))


def _machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import cvxopt

        cvx = cvxopt.__version__
    except ImportError:
        cvx = "not installed"
    return (f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), cvxopt {cvx}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 3000, 10000])
    p.add_argument("--quick", action="store_true", help="sizes 500 1000, one repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cvxopt-max", type=int, default=10000)
    p.add_argument("--cvxopt-dense-max", type=int, default=3000)
    p.add_argument("--skada-max", type=int, default=3000)
    p.add_argument("--worker", nargs=4, metavar=("IMPL", "N", "SIGMA", "DEVICE"),
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        impl, n, sigma, device = args.worker
        worker(impl, int(n), float(sigma), args.repeats, device)
        return
    if args.quick:
        args.sizes, args.repeats = [500, 1000], 1

    import torch

    import tllab

    impls = [("tllab-f64", "cpu"), ("tllab-f32", "cpu")]
    if torch.cuda.is_available():
        impls += [("tllab-f64", "cuda"), ("tllab-f32", "cuda")]
    limits = {"cvxopt-sparse": args.cvxopt_max, "cvxopt-dense": args.cvxopt_dense_max,
              "skada": args.skada_max}
    for impl in ("cvxopt-sparse", "cvxopt-dense", "skada"):
        try:
            __import__(impl.split("-")[0])
            impls.append((impl, "cpu"))
        except ImportError:
            print(f"{impl}: not importable, skipped (see requirements-bench.txt)")
    print(f"# {_machine()}; load average at start {os.getloadavg()[0]:.2f}")

    rows = []
    for n in args.sizes:
        sigma = float(tllab.median_bandwidth(*make_data(n)))  # shared by every implementation
        for impl, device in impls:
            limit = limits.get(impl)
            if limit is not None and n > limit:
                why = ("Frank-Wolfe on a dense K" if impl == "skada"
                       else "interior point: O(n^3) per iteration")
                print(f"skip {impl} at n_s={n}: above --{impl.replace('-sparse', '')}-max="
                      f"{limit} ({why})")
                continue
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl, str(n),
                   repr(sigma), device, "--repeats", str(args.repeats)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                print(f"{impl} n_s={n} failed:\n{proc.stderr[-2000:]}")
                continue
            r = json.loads(line[0][7:])
            r.update(impl=impl + ("" if device == "cpu" else f"@{device}"), n=n)
            rows.append(r)
            print(f"  done {r['impl']} n_s={n}: {r['time']:.2f} s", flush=True)
        here = [r for r in rows if r["n"] == n]
        best = min(r["objective"] for r in here)
        ref = next((r for r in here if r["impl"] == "cvxopt-sparse"), None)
        for r in here:
            r["rel_gap"] = (r["objective"] - best) / abs(best)
            if ref is not None:
                r["speedup"] = ref["time"] / r["time"]
    print(f"# load average at end {os.getloadavg()[0]:.2f}\n")
    hdr = (f"{'implementation':<15}{'n_s':>7}{'time s':>9}{'runs':>5}{'peak MiB':>10}"
           f"{'objective':>19}{'rel gap':>9}{'vs sparse':>10}  notes")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        spd = f"{r['speedup']:.1f}x" if "speedup" in r else "—"
        notes = []
        if "solver" in r and r["impl"].startswith("tllab"):
            notes.append(f"{r['solver']}, {'K cached' if r['dense'] else 'K tiled'}, "
                         f"products={r['iters']}, certified gap {r['cert']:.0e}")
            if not r["converged"]:
                notes.append("NOT converged")
        elif "status" in r:
            notes.append(f"iters={r['iters']}, {r['status']}")
        if r["runs"] == 1:
            notes.append("1 run")
        print(f"{r['impl']:<15}{r['n']:>7}{r['time']:>9.2f}{r['runs']:>5}{r['peak_mib']:>10.0f}"
              f"{r['objective']:>19.6f}{r['rel_gap']:>9.1e}{spd:>10}  {'; '.join(notes)}")


if __name__ == "__main__":
    main()
