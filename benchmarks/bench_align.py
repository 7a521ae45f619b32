"""Benchmark tllab.align (CORAL, subspace alignment, TCA exact and landmark) against skada.

Run from the repository root::

    .venv/bin/pip install -r requirements-bench.txt -c constraints.txt   # skada, POT, pandas
    .venv/bin/python benchmarks/bench_align.py              # n in 1000 2000 5000 10000 50000
    .venv/bin/python benchmarks/bench_align.py --quick      # n in 1000 2000, one repeat

Problem (d = 64, two classes): latent z ~ N(0, I₆₄), label y = 1[w·z + 0.3 ε > 0]; source
x = z Aₛ, target x = z Aₜ + b with random full-rank Aₛ, Aₜ and shift b (a different linear
"sensor" per domain), n source and n target points.  Every (implementation, method, n) case
runs in its own subprocess with ``BENCH_THREADS`` intra-op threads (default: torch's) for
torch and ``OMP_NUM_THREADS`` for NumPy/SciPy: time = median of ``--repeats`` runs (at least 9
when a run takes under 0.5 s) after a warm-up when a run takes under 10 s (one run otherwise);
peak MiB = growth of the resident set's high-water mark (``VmHWM``, reset as in
``bench_mmd.py``) over the resident set once the data are made (after the warm-up if any).
Accuracy: the same scikit-learn logistic regression trained on the mapped source, scored on the
mapped target.
Agreement with skada on the same data:

* CORAL: tllab ``CORAL(reg=0)`` against skada ``CORALAdapter(reg=None)`` (both: centred
  domains, no shrinkage; tllab's output is shifted by the target mean, removed before
  comparing), max |difference| / max |value| of the mapped source.
* Subspace alignment (k = 20): same construction; compared after matching each PCA axis'
  sign (eigenvectors have none).
* TCA (k = 20, Gaussian kernel exp(-|x-y|²/d), i.e. σ = sqrt(d/2), skada's rbf default;
  tllab μ = 1 ⇔ skada mu = 1): largest principal angle between the two embeddings of the
  pooled sample.  skada solves ``eigh(solve(I + mu KLK, KHK))``, an eigendecomposition of a
  non-symmetric matrix through a symmetric solver, so its embedding is not TCA's exact one;
  compare accuracies.  TCA with landmarks (tllab, ``--landmarks`` r, one row per r) is
  compared with tllab's exact solution where that runs (largest principal angle).

The exact TCA (tllab and skada: N = 2n, several N x N float64 matrices, O(N³)) is skipped
above ``--tca-exact-max`` points per domain, with the reason printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

D = 64
K = 20
SEED = 0


def make_data(n: int):
    import numpy as np

    rng = np.random.default_rng(SEED + n)
    w = rng.normal(size=D)
    a_s = rng.normal(size=(D, D)) / np.sqrt(D) + np.eye(D)
    a_t = rng.normal(size=(D, D)) / np.sqrt(D) + np.eye(D) * 0.7
    b = rng.normal(size=D)
    zs, zt = rng.normal(size=(n, D)), rng.normal(size=(n, D))
    ys = (zs @ w + 0.3 * rng.normal(size=n) > 0).astype(int)
    yt = (zt @ w + 0.3 * rng.normal(size=n) > 0).astype(int)
    return zs @ a_s, ys, zt @ a_t + b, yt


def fit_map(impl: str, method: str, xs, xt):
    """Return the mapped (source, target) as NumPy arrays."""
    import numpy as np

    sigma = (D / 2) ** 0.5
    if impl == "tllab":
        import torch

        from tllab.align import CORAL, TCA, SubspaceAlignment

        a, b = torch.from_numpy(xs), torch.from_numpy(xt)
        if method.startswith("tca-lm"):
            est = TCA(K, kernel="gaussian", bandwidth=sigma, mu=1.0,
                      n_landmarks=int(method[6:]))
        else:
            est = {"coral": lambda: CORAL(reg=0.0),
                   "subspace": lambda: SubspaceAlignment(K),
                   "tca": lambda: TCA(K, kernel="gaussian", bandwidth=sigma, mu=1.0)}[method]()
        zs, zt = est.fit_transform(a, b)
        return zs.numpy(), zt.numpy()
    from skada import CORALAdapter, SubspaceAlignmentAdapter, TransferComponentAnalysisAdapter

    z = np.vstack([xs, xt])
    dom = np.concatenate([np.ones(len(xs)), -np.ones(len(xt))]).astype(int)
    ad = {"coral": lambda: CORALAdapter(reg=None),
          "subspace": lambda: SubspaceAlignmentAdapter(n_components=K, random_state=0),
          "tca": lambda: TransferComponentAnalysisAdapter(kernel="rbf", n_components=K,
                                                          mu=1.0)}[method]()
    out = ad.fit_transform(z, sample_domain=dom)
    out = getattr(out, "X", out)  # skada may wrap the output
    out = np.asarray(out)
    return out[: len(xs)], out[len(xs):]


def worker(impl, method, n, repeats, out_path) -> None:
    import numpy as np
    import torch
    from bench_mmd import _reset_peak_rss, _status_kb

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", torch.get_num_threads())))
    if impl == "skada":
        import skada  # noqa: F401  (imported before the clock starts)
    else:
        import tllab.align  # noqa: F401
    xs, _, xt, _ = make_data(n)
    base = _reset_peak_rss()
    t0 = time.perf_counter()
    zs, zt = fit_map(impl, method, xs, xt)
    first = time.perf_counter() - t0
    times = [first]
    if first < 10:  # the first run was a warm-up: measure memory and time after it
        base = _reset_peak_rss()
        times = []
        for _ in range(repeats if first > 0.5 else max(repeats, 9)):  # ms-scale: more runs
            t0 = time.perf_counter()
            zs, zt = fit_map(impl, method, xs, xt)
            times.append(time.perf_counter() - t0)
    peak = (_status_kb("VmHWM") - base) / 1024
    np.save(out_path, np.vstack([zs, zt]).astype(np.float64))
    print("RESULT " + json.dumps({"time": statistics.median(times), "runs": len(times),
                                  "warm": first < 10, "peak_mib": peak}))


def accuracy(z, n, ys, yt) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(z[:n])
    clf = LogisticRegression(max_iter=500).fit(sc.transform(z[:n]), ys)
    return float(clf.score(sc.transform(z[n:]), yt))


def agreement(method, z, ref, n, xt) -> str:
    import numpy as np
    import scipy.linalg

    if method == "coral":  # skada centres both domains; tllab maps the source onto the target
        z = z - xt.mean(0)
        return f"{np.abs(z - ref).max() / np.abs(ref).max():.1e}"
    if method == "subspace":
        signs = np.sign((z * ref).sum(0))
        return f"{np.abs(z * signs - ref).max() / np.abs(ref).max():.1e}"
    angle = scipy.linalg.subspace_angles(z, ref).max()
    return f"angle {angle:.2f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000, 50000])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tca-exact-max", type=int, default=2000)
    p.add_argument("--landmarks", type=int, nargs="+", default=[500, 1000])
    p.add_argument("--methods", nargs="+", default=["coral", "subspace", "tca", "tca-lm"],
                   help="subset of coral subspace tca tca-lm")
    p.add_argument("--worker", nargs=4, metavar=("IMPL", "METHOD", "N", "OUT"),
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        impl, method, n, out = args.worker
        worker(impl, method, int(n), args.repeats, out)
        return
    if args.quick:
        args.sizes, args.repeats = [1000, 2000], 1
    import numpy as np
    import torch

    try:
        import skada

        peers = [f"skada {skada.__version__}"]
        have_skada = True
    except ImportError:
        peers, have_skada = ["skada not installed: peers skipped"], False
    print(f"# torch {torch.__version__}, BENCH_THREADS={os.environ.get('BENCH_THREADS', '-')}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}, {'; '.join(peers)}; "
          f"d={D}, k={K}")
    cases = [("coral", "tllab"), ("coral", "skada"), ("subspace", "tllab"),
             ("subspace", "skada"), ("tca", "tllab"), ("tca", "skada")]
    cases += [(f"tca-lm{r}", "tllab") for r in args.landmarks]
    cases = [c for c in cases if c[0].rstrip("0123456789") in args.methods]
    rows = []
    tmp = tempfile.mkdtemp(prefix="bench_align_")
    for n in args.sizes:
        _, ys, xt, yt = make_data(n)
        outs = {}
        for method, impl in cases:
            label = f"{method:<13}{impl:<7}{n:>7}"
            if impl == "skada" and not have_skada:
                continue
            if method == "tca" and n > args.tca_exact_max:
                big = 2 * n
                rows.append(f"{label}  skipped: exact eigenproblem on N = {big} points needs "
                            f"~{6 * 8 * big**2 / 2**30:.0f} GiB of N x N float64 matrices and "
                            f"O(N^3) time (--tca-exact-max {args.tca_exact_max})")
                continue
            out = os.path.join(tmp, f"{method}_{impl}_{n}.npy")
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl, method, str(n),
                   out, "--repeats", str(args.repeats)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                rows.append(f"{label}  failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(line[0][7:])
            z = np.load(out)
            outs[(method, impl)] = (z, r)
            acc = accuracy(z, n, ys, yt)
            if impl == "skada":
                agree = agreement(method, outs[(method, "tllab")][0], z, n, xt) \
                    if (method, "tllab") in outs else "—"
                speed = f"{r['time'] / outs[(method, 'tllab')][1]['time']:.1f}x" \
                    if (method, "tllab") in outs else "—"
            elif method.startswith("tca-lm") and ("tca", "tllab") in outs:
                agree = "vs exact " + agreement("tca", z, outs[("tca", "tllab")][0], n, xt)
                speed = "—"
            else:
                agree, speed = "—", "—"
            note = "" if r["warm"] else "  (1 run, no warm-up)"
            rows.append(f"{label}{r['time']:>10.3f}{r['runs']:>5}{r['peak_mib']:>10.0f}"
                        f"{acc:>8.3f}  {speed:>8}  {agree}{note}")
            os.remove(out)
        print(f"done n={n}", flush=True)
    hdr = (f"{'method':<13}{'impl':<7}{'n':>7}{'time s':>10}{'runs':>5}{'peak MiB':>10}"
           f"{'acc_t':>8}  {'skada/x':>8}  agreement")
    print()
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
