"""Benchmark tllab.models.one_vs_rest_logistic against a loop of binary fits and scikit-learn.

Run from the repository root::

    .venv/bin/python benchmarks/bench_linear.py                # n in 900 10000 50000
    .venv/bin/python benchmarks/bench_linear.py --quick        # n = 900, 1 repeat

Problem: K = 10 classes, d = 64 features (the digits' size), x ~ N(0, I), labels from a random
linear soft-max model; objective per class: mean logistic loss + reg/2·||slopes||², reg = 1/n
(the foundations chapter's ``tau = 1``).  Implementations:

* ``tllab OvR``: :func:`tllab.models.one_vs_rest_logistic` (batched Newton, all classes at once);
* ``tllab loop``: ten calls of :func:`tllab.weighted_logistic_regression` (the naive baseline);
* ``sklearn OvR``: ``OneVsRestClassifier(LogisticRegression(C=1/(reg·n), tol=1e-10))``, lbfgs.

Every case runs in its own subprocess; peak memory is the growth of ``ru_maxrss`` after imports
and data.  Time: median of ``--repeats`` runs after one warm-up.  "max obj gap" is the largest,
over the classes, of (objective − the best objective of the three implementations) in float64.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

K, D, SEED = 10, 64, 0
IMPLS = ("tllab OvR", "tllab loop", "sklearn OvR")


def make_data(n: int):
    import numpy as np

    rng = np.random.default_rng(SEED + n)
    x = rng.normal(size=(n, D))
    logits = x @ rng.normal(size=(D, K)) * 0.5
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = (rng.uniform(size=(n, 1)) > p.cumsum(1)).sum(1)
    return x, y


def fit(impl: str, x, y, reg: float):
    import numpy as np

    import tllab

    if impl == "tllab OvR":
        return tllab.models.one_vs_rest_logistic(x, y, reg=reg, n_classes=K).numpy()
    if impl == "tllab loop":
        return np.stack([tllab.weighted_logistic_regression(x, (y == k) * 1.0, reg=reg).numpy()
                         for k in range(K)])
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    clf = OneVsRestClassifier(LogisticRegression(C=1.0 / (reg * len(y)), tol=1e-10,
                                                 max_iter=10_000))
    clf.fit(x, y)
    return np.stack([np.r_[e.intercept_, e.coef_[0]] for e in clf.estimators_])


def objectives(coef, x, y, reg: float):
    import numpy as np

    z = coef[:, 0] + x @ coef[:, 1:].T
    t = (y[:, None] == np.arange(K)).astype(float)
    loss = (np.logaddexp(0.0, z) - t * z).mean(0)
    return loss + 0.5 * reg * (coef[:, 1:] ** 2).sum(1)


def worker(impl: str, n: int, repeats: int) -> None:
    x, y = make_data(n)
    reg = 1.0 / n
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    coef = fit(impl, x, y, reg)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        coef = fit(impl, x, y, reg)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    print(json.dumps({"time": statistics.median(times), "peak_kib": peak,
                      "obj": objectives(coef, x, y, reg).tolist()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[900, 10_000, 50_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worker", nargs=2, metavar=("IMPL", "N"))
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.repeats)
        return
    sizes, repeats = ([900], 1) if args.quick else (args.sizes, args.repeats)
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, K={K}, d={D}")
    print(f"{'implementation':<14}{'n':>8}{'time (s)':>11}{'peak MiB':>10}"
          f"{'max obj gap':>13}{'× tllab OvR':>13}")
    for n in sizes:
        res = {}
        for impl in IMPLS:
            cmd = [sys.executable, __file__, "--worker", impl, str(n), "--repeats", str(repeats)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            res[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
        best = [min(r["obj"][k] for r in res.values()) for k in range(K)]
        for impl, r in res.items():
            gap = max(o - b for o, b in zip(r["obj"], best, strict=True))
            ratio = r["time"] / res["tllab OvR"]["time"]
            print(f"{impl:<14}{n:>8}{r['time']:>11.3f}{r['peak_kib'] / 1024:>10.1f}"
                  f"{gap:>13.2e}{ratio:>13.2f}")


if __name__ == "__main__":
    main()
