"""Tests of tllab.reweight against independent references (cvxopt QP, numpy closed forms,
analytic density ratios) plus the bad-input table.  Only the KMM-versus-QP tests need
cvxopt (the ``qp`` fixture skips them without it)."""

from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np
import pytest
import torch

import tllab
from tllab import (
    classifier_weights,
    clip_weights,
    effective_sample_size,
    flatten_weights,
    importance_weighted_risk,
    iwcv_score,
    kliep_weights,
    kmm_weights,
    select_ratio_bandwidth,
    ulsif_weights,
)


# ----------------------------------------------------------------------- references
def gram(a, b, sigmas, kernel="gaussian"):
    """Dense float64 (multi-)kernel matrix written from scratch with explicit differences:
    Gaussian exp(-|a-b|^2/(2 s^2)) or Laplacian exp(-|a-b|/s), summed over the bandwidths s."""
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    if kernel == "laplacian":
        return sum(np.exp(-np.sqrt(d2) / s) for s in sigmas)
    return sum(np.exp(-d2 / (2.0 * s**2)) for s in sigmas)


@pytest.fixture(scope="module")
def qp():
    """cvxopt's QP solver: only the KMM reference tests need it (skipped without cvxopt)."""
    cvxopt = pytest.importorskip("cvxopt")
    from cvxopt import solvers

    return cvxopt, solvers


def kmm_reference(qp, xs, xt, sigma, B, eps=None, kernel="gaussian"):
    """KMM solved by cvxopt's interior point in float64 at tight tolerances.

    The box is a sparse constraint matrix; the sum constraint two inequalities, or an
    equality when eps = 0.  Returns (beta, K, kappa, eps)."""
    cvxopt, solvers = qp
    sigmas = sigma if isinstance(sigma, list) else [sigma]
    ns, nt = len(xs), len(xt)
    if eps is None:
        eps = (math.sqrt(ns) - 1) / math.sqrt(ns)
    K = gram(xs, xs, sigmas, kernel)
    kappa = ns / nt * gram(xs, xt, sigmas, kernel).sum(1)
    rows = list(range(ns))
    box = cvxopt.spmatrix([1.0] * ns + [-1.0] * ns, rows + [ns + i for i in rows], rows * 2)
    h = np.concatenate([np.full(ns, B), np.zeros(ns)])
    eq = {}
    if eps == 0:
        eq = {"A": cvxopt.matrix(np.ones((1, ns))), "b": cvxopt.matrix([float(ns)])}
        G = box
    else:
        G = cvxopt.sparse([box, cvxopt.matrix(np.vstack([np.ones(ns), -np.ones(ns)]))])
        h = np.concatenate([h, [ns * (1 + eps), -ns * (1 - eps)]])
    for tight in (1e-11, 1e-9):  # the tightest tolerances cvxopt reaches on this problem
        opts = {"show_progress": False, "abstol": tight, "reltol": tight, "feastol": tight,
                "maxiters": 200}
        sol = solvers.qp(cvxopt.matrix(K), cvxopt.matrix(-kappa), G, cvxopt.matrix(h), **eq,
                         options=opts)
        if sol["status"] == "optimal":
            break
    assert sol["status"] == "optimal"
    beta = np.clip(np.array(sol["x"]).ravel(), 0.0, B)
    return beta, K, kappa, eps


def objective(beta, K, kappa):
    return 0.5 * beta @ K @ beta - kappa @ beta


def assert_feasible(w, B, eps, ns):
    w = np.asarray(w, dtype=np.float64)
    assert w.min() >= 0.0
    assert w.max() <= B * (1 + 1e-6)
    assert abs(w.sum() - ns) <= ns * eps * (1 + 1e-6) + 1e-6


def make_shift(seed, ns, nt, d, shift, scale=0.7):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(ns, d)), rng.normal(size=(nt, d)) * scale + shift


# What kmm_weights' docstring claims at the default tol = 1e-7: within tol of the optimum
# in float64; within 1e-6 for float32 inputs (float32 kernel values).
KMM_REL_TOL = {torch.float64: 1e-7, torch.float32: 1e-6}
# cvxopt at the tolerances above stops within ~1e-9 relative of the optimum: a result
# "better" than the reference by more than this would mean a violated constraint.
REF_SLACK = 1e-8


def assert_near_optimum(res, K, kappa, ref, dtype=torch.float64):
    f = objective(res.weights.double().cpu().numpy(), K, kappa)
    f_ref = objective(ref, K, kappa)
    assert f - f_ref <= KMM_REL_TOL[dtype] * abs(f_ref), (f - f_ref) / abs(f_ref)
    assert f - f_ref >= -REF_SLACK * abs(f_ref), (f - f_ref) / abs(f_ref)
    if dtype == torch.float64:
        # the reported objective is this f, and the certificate f - gap |f| is a lower
        # bound on the optimum
        assert res.objective == pytest.approx(f, rel=1e-9)
        assert f - res.gap * abs(f) <= f_ref + REF_SLACK * abs(f_ref)


# ----------------------------------------------------------------------- KMM vs QP
KMM_CASES = [
    # seed, ns, nt, d, shift, bandwidth, B
    (0, 300, 200, 2, 1.0, 1.0, 1000.0),
    (1, 500, 400, 5, 0.5, 2.0, 1000.0),
    (2, 1000, 800, 10, 1.0, 3.0, 1000.0),
    (3, 400, 300, 3, 2.0, 0.5, 5.0),
    (4, 600, 600, 10, 0.3, "median", 10.0),
]


@pytest.mark.parametrize("seed,ns,nt,d,shift,bw,B", KMM_CASES)
def test_kmm_matches_qp_reference(qp, seed, ns, nt, d, shift, bw, B):
    xs, xt = make_shift(seed, ns, nt, d, shift)
    sigma = float(tllab.median_bandwidth(xs, xt)) if bw == "median" else bw
    ref, K, kappa, eps = kmm_reference(qp, xs, xt, sigma, B)
    res = kmm_weights(xs, xt, bandwidth=bw, B=B, return_info=True)
    assert res.converged and res.solver == "newton-ipm"
    assert_near_optimum(res, K, kappa, ref)
    assert_feasible(res.weights.numpy(), B, eps, ns)


def _random_kmm_problem(seed):
    """Dimension 1-11, sizes 50-600, bandwidth 0.2-4x the median (sometimes two), Gaussian
    or Laplacian, B and eps binding or not: the range where the solver has to work."""
    rng = np.random.default_rng(seed)
    d, ns, nt = int(rng.integers(1, 12)), int(rng.integers(50, 601)), int(rng.integers(50, 601))
    xs = rng.normal(size=(ns, d))
    xt = rng.normal(size=(nt, d)) * rng.uniform(0.3, 1.2) + rng.uniform(0, 2) / math.sqrt(d)
    kernel = "laplacian" if rng.random() < 0.2 else "gaussian"
    bw = [float(tllab.median_bandwidth(xs, xt)) * rng.uniform(0.2, 4)]
    if rng.random() < 0.2:
        bw.append(3 * bw[0])
    B = float(rng.choice([1000.0, 20.0, 5.0, 2.0]))
    eps = None if rng.random() < 0.5 else float(rng.choice([0.0, 0.01, 0.1, 0.5]))
    if eps is not None and B < 1 - eps:
        B = 2.0
    return xs, xt, bw, kernel, B, eps


@pytest.mark.parametrize("seed", range(12))
def test_kmm_matches_qp_on_random_problems(qp, seed):
    xs, xt, bw, kernel, B, eps = _random_kmm_problem(1000 + seed)
    ref, K, kappa, eps_used = kmm_reference(qp, xs, xt, bw, B, eps, kernel)
    for dtype in (torch.float64, torch.float32):
        a, b = torch.tensor(xs, dtype=dtype), torch.tensor(xt, dtype=dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # not converging would warn
            res = kmm_weights(a, b, bandwidth=bw, B=B, eps=eps, kernel=kernel,
                              return_info=True)
        assert res.converged and res.weights.dtype == dtype
        assert_near_optimum(res, K, kappa, ref, dtype)
        assert_feasible(res.weights.double().numpy(), B, eps_used, len(xs))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("as_torch", [False, True])
def test_kmm_dtypes_devices_inputs(qp, device, dtype, as_torch):
    xs, xt = make_shift(5, 400, 300, 4, 0.8)
    ref, K, kappa, eps = kmm_reference(qp, xs, xt, 2.0, 1000.0)
    if as_torch:
        a = torch.tensor(xs, dtype=dtype, device=device)
        b = torch.tensor(xt, dtype=dtype, device=device)
    else:
        if device.type != "cpu":
            pytest.skip("numpy inputs always land on the CPU")
        a, b = xs.astype(np.float32 if dtype == torch.float32 else np.float64), xt
        dtype = torch.float64 if dtype == torch.float64 else torch.float32
        b = b.astype(a.dtype)
    res = kmm_weights(a, b, bandwidth=2.0, return_info=True)
    w = res.weights
    assert w.dtype == dtype and w.device.type == device.type and w.shape == (400,)
    assert_near_optimum(res, K, kappa, ref, dtype)
    assert_feasible(w.double().cpu().numpy(), 1000.0, eps, 400)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kmm_tiled_equals_dense(qp, dtype):
    """Forced on and off, the kernel cache gives the same optimum (small blocks, so that
    the tiled products visit many tiles)."""
    xs, xt = make_shift(6, 350, 250, 3, 0.7)
    ref, K, kappa, _ = kmm_reference(qp, xs, xt, 1.5, 1000.0)
    a, b = torch.tensor(xs, dtype=dtype), torch.tensor(xt, dtype=dtype)
    f = {}
    for cache in (True, False):
        res = kmm_weights(a, b, bandwidth=1.5, cache_kernel=cache, block_size=100,
                          return_info=True)
        assert res.dense is cache and res.solver == "newton-ipm" and res.converged
        assert_near_optimum(res, K, kappa, ref, dtype)
        f[cache] = objective(res.weights.double().numpy(), K, kappa)
    assert abs(f[True] - f[False]) <= KMM_REL_TOL[dtype] * abs(f[True])


def test_kmm_float32_tiled_and_cached_solve_one_problem():
    """float32 inputs: the tiled products, the face copies and a cached K hold the same
    float32 kernel values accumulated in float64, so both paths solve one problem (a
    mismatch between the factorised block and the tiled products stalled the interior
    point and left the two 4e-8 apart)."""
    rng = np.random.default_rng(3)
    n = 800
    xs = torch.tensor(rng.normal(size=(n, 10)), dtype=torch.float32)
    xt = torch.tensor(rng.normal(size=(n, 10)) * 0.8 + 0.3, dtype=torch.float32)
    res = {}
    for cache, budget in ((True, n * n * 12), (False, n * n * 8)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res[cache] = kmm_weights(xs, xt, bandwidth=3.0, cache_kernel=cache,
                                     memory_budget=budget, return_info=True)
        assert (res[cache].dense, res[cache].solver) == (cache, "newton-ipm")
    f_c, f_t = res[True].objective, res[False].objective
    assert abs(f_t - f_c) <= 1e-10 * abs(f_c), (f_t - f_c) / abs(f_c)
    assert res[False].n_iter <= 2 * res[True].n_iter


def test_kmm_first_order_solver_below_one_matrix(qp):
    """A budget below one float64 n_s x n_s matrix selects the first-order cycles: their
    stall rule is a heuristic, documented to stop up to ~1e-5 relative above the optimum."""
    xs, xt = make_shift(12, 300, 200, 3, 0.8)
    ref, K, kappa, eps = kmm_reference(qp, xs, xt, 1.5, 1000.0)
    res = kmm_weights(xs, xt, bandwidth=1.5, memory_budget=300 * 300 * 8 - 1,
                      return_info=True)
    assert (res.solver, res.dense) == ("first-order", False)
    f, f_ref = objective(res.weights.numpy(), K, kappa), objective(ref, K, kappa)
    assert -REF_SLACK * abs(f_ref) <= f - f_ref <= 1e-4 * abs(f_ref)
    assert f - res.gap * abs(f) <= f_ref + REF_SLACK * abs(f_ref)
    assert_feasible(res.weights.numpy(), 1000.0, eps, 300)


def test_kmm_upper_bound_binds(qp):
    # A narrow target sitting on a few source points: the unconstrained weights there are
    # large, so a small B must be active at the optimum.
    xs, xt = make_shift(7, 400, 300, 2, 1.5, scale=0.3)
    B = 3.0
    ref, K, kappa, eps = kmm_reference(qp, xs, xt, 0.7, B)
    assert ref.max() >= B - 1e-6  # the construction really makes B active
    res = kmm_weights(xs, xt, bandwidth=0.7, B=B, return_info=True)
    w = res.weights.numpy()
    assert_feasible(w, B, eps, 400)
    assert (w >= B - 1e-6).sum() >= 1
    assert_near_optimum(res, K, kappa, ref)
    loose = kmm_weights(xs, xt, bandwidth=0.7, B=1000.0).numpy()
    assert loose.max() > 2 * B  # so B changed the solution


@pytest.mark.parametrize("eps", [0.1, 0.0])
def test_kmm_sum_constraint_binds(qp, eps):
    # Target away from the source with a small bandwidth: kappa is small, the weights want
    # to shrink, so the lower slab bound n_s (1 - eps) is active (eps = 0: an equality).
    xs, xt = make_shift(8, 300, 200, 2, 2.0, scale=0.5)
    ref, K, kappa, _ = kmm_reference(qp, xs, xt, 0.7, 1000.0, eps=eps)
    assert ref.sum() <= 300 * (1 - eps) + 1e-4  # active at the reference optimum
    res = kmm_weights(xs, xt, bandwidth=0.7, eps=eps, return_info=True)
    assert float(res.weights.sum()) == pytest.approx(300 * (1 - eps), rel=1e-9)
    assert_near_optimum(res, K, kappa, ref)
    default = kmm_weights(xs, xt, bandwidth=0.7).numpy()
    assert default.sum() < 0.8 * 300  # the default slack lets the sum fall much further


def test_kmm_warns_when_not_converged():
    xs, xt = make_shift(9, 300, 200, 2, 1.0)
    with pytest.warns(RuntimeWarning, match="max_iter"):
        res = kmm_weights(xs, xt, bandwidth=1.0, max_iter=3, return_info=True)
    assert not res.converged
    assert_feasible(res.weights.numpy(), 1000.0, (math.sqrt(300) - 1) / math.sqrt(300), 300)


def test_box_slab_projection_is_exact():
    from tllab.reweight._kmm_solvers import _project_box_slab

    rng = np.random.default_rng(0)
    for _ in range(20):
        v = torch.tensor(rng.normal(size=50) * 3)
        B, lo, hi = 2.0, 10.0, 20.0
        p = _project_box_slab(v, B, lo, hi).numpy()
        # KKT of the projection: p = clamp(v - tau, 0, B) for one scalar tau with
        # tau = 0 if the slab is inactive, and sum(p) in [lo, hi].
        assert lo - 1e-9 <= p.sum() <= hi + 1e-9
        free = (p > 0) & (p < B)
        taus = (v.numpy() - p)[free]
        assert np.ptp(taus) < 1e-9
        tau = taus.mean()
        assert np.allclose(p, np.clip(v.numpy() - tau, 0, B), atol=1e-9)
        if lo + 1e-9 < p.sum() < hi - 1e-9:
            assert abs(tau) < 1e-9


@pytest.mark.parametrize("n", [40, 1300])
def test_inplace_cholesky_matches_numpy(n):
    from tllab.reweight._kmm_linalg import _chol_solve, _cholesky_inplace

    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, n // 2 + 3))
    a = x @ x.T + 1e-3 * np.eye(n)
    chol = _cholesky_inplace(torch.tensor(a))  # n = 1300: several 512-blocks
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(a), rtol=1e-8, atol=1e-10)
    b = rng.normal(size=(n, 2))
    np.testing.assert_allclose(_chol_solve(chol, torch.tensor(b)).numpy(),
                               np.linalg.solve(a, b), rtol=1e-6, atol=1e-8)
    a[0, 0] = -1.0  # not positive definite
    assert _cholesky_inplace(torch.tensor(a)) is None


# ----------------------------------------------------------------------- KMM memory budget
def test_kmm_budget_chooses_cache_and_solver():
    """The cache costs n_s^2 * itemsize bytes, the second-order solver n_s^2 * 8 at most:
    each choice flips exactly at its threshold."""
    xs, xt = make_shift(11, 200, 150, 3, 0.5)
    n2 = 200 * 200
    for dtype, item in ((torch.float64, 8), (torch.float32, 4)):
        a, b = torch.tensor(xs, dtype=dtype), torch.tensor(xt, dtype=dtype)
        for budget, dense, solver in [
            (n2 * (item + 8), True, "newton-ipm"),
            (n2 * (item + 8) - 1, False, "newton-ipm"),
            (n2 * 8, False, "newton-ipm"),
            (n2 * 8 - 1, False, "first-order"),
            (0, False, "first-order"),
        ]:
            res = kmm_weights(a, b, bandwidth=1.0, memory_budget=budget, return_info=True)
            assert (res.dense, res.solver, res.memory_budget) == (dense, solver, budget)
        # cache_kernel forces the cache; the solver still follows the budget
        res = kmm_weights(a, b, bandwidth=1.0, memory_budget=n2 * 8, cache_kernel=True,
                          return_info=True)
        assert (res.dense, res.solver) == (True, "first-order")
        res = kmm_weights(a, b, bandwidth=1.0, memory_budget=10**12, cache_kernel=False,
                          return_info=True)
        assert (res.dense, res.solver) == (False, "newton-ipm")


def test_kmm_default_budget_is_a_share_of_available_memory(monkeypatch):
    from tllab.reweight import kmm as kmm_module

    xs, xt = make_shift(11, 100, 80, 2, 0.5)
    monkeypatch.setattr(kmm_module, "_available_memory", lambda device: 7 * 2**20)
    res = kmm_weights(xs, xt, bandwidth=1.0, return_info=True)
    assert res.memory_budget == int(tllab.reweight.KMM_MEMORY_FRACTION * 7 * 2**20)
    assert tllab.reweight.kmm_memory_budget("cpu") == res.memory_budget
    monkeypatch.setattr(kmm_module, "_available_memory", lambda device: None)
    res = kmm_weights(xs, xt, bandwidth=1.0, return_info=True)
    assert res.memory_budget == tllab.reweight.KMM_FALLBACK_MEMORY
    monkeypatch.undo()
    avail = kmm_module._available_memory(torch.device("cpu"))
    assert avail is None or 0 < avail <= 2**50


_PEAK_SCRIPT = """
import ctypes, json, sys, numpy as np, torch, tllab
torch.set_num_threads(1)
n, budget = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
xs, xt = torch.tensor(rng.normal(size=(n, 5))), torch.tensor(rng.normal(size=(n, 5)) + 0.5)
tllab.kmm_weights(xs[:50], xt[:50], bandwidth=2.0)  # warm up torch's kernels
def status(key):
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(key))
ctypes.CDLL('libc.so.6').malloc_trim(0)
open('/proc/self/clear_refs', 'w').write('5')
base = status('VmRSS')
res = tllab.kmm_weights(xs, xt, bandwidth=2.0, memory_budget=budget, return_info=True)
print(json.dumps({'peak': (status('VmHWM') - base) * 1024, 'solver': res.solver,
                  'dense': res.dense}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("share", [1.0, 0.5, 0.0])
def test_kmm_respects_the_memory_budget(share):
    """Peak resident memory in a fresh process (n_s = 1500: a float64 K is 18 MB): within
    the budget plus O(block²) workspace, for each of the three solver paths.  glibc's
    dynamic mmap threshold is pinned so that freed blocks leave the resident set."""
    import json
    import subprocess

    n = 1500
    budget = int(share * n * n * 16)
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(n), str(budget)],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1",
                              "MALLOC_MMAP_THRESHOLD_": "65536"})
    res = json.loads(out.stdout.strip().splitlines()[-1])
    expected = {1.0: (True, "newton-ipm"), 0.5: (False, "newton-ipm"),
                0.0: (False, "first-order")}[share]
    assert (res["dense"], res["solver"]) == expected
    workspace = 3 * 1024 * 1024 * 8  # kernel tiles, panels and vectors: 25 MB
    assert res["peak"] <= budget + workspace, (res["peak"] / 2**20, budget / 2**20)
    if share > 0:  # and the budgeted matrices were really used
        assert res["peak"] >= 0.5 * budget


KMM_BAD = [
    ({"memory_budget": -1.0}, ValueError, "memory_budget"),
    ({"memory_budget": float("nan")}, ValueError, "memory_budget"),
    ({"memory_budget": "1GB"}, TypeError, "memory_budget"),
    ({"cache_kernel": 1}, TypeError, "cache_kernel"),
    ({"tol": -1e-7}, ValueError, "tol"),
    ({"kernel": "cosine"}, ValueError, "kernel"),
    ({"block_size": 0}, ValueError, "block_size"),
    ({"return_info": "yes"}, TypeError, "return_info"),
]


@pytest.mark.parametrize("kwargs,err,match", KMM_BAD)
def test_kmm_bad_options(kwargs, err, match):
    xs, xt = make_shift(13, 20, 15, 2, 0.5)
    with pytest.raises(err, match=match):
        kmm_weights(xs, xt, **kwargs)


# ----------------------------------------------------------------------- uLSIF, KLIEP
def test_ulsif_closed_form():
    rng = np.random.default_rng(1)
    xs, xt = rng.normal(size=(300, 3)), rng.normal(size=(80, 3)) + 0.4
    sigma, lam = 1.3, 0.05
    w = ulsif_weights(torch.tensor(xs), torch.tensor(xt), bandwidth=sigma, reg=lam,
                      n_basis=100).numpy()
    # n_t <= n_basis, so every target point is a centre.
    phi_s, phi_t = gram(xs, xt, [sigma]), gram(xt, xt, [sigma])
    H = phi_s.T @ phi_s / len(xs)
    h = phi_t.mean(0)
    alpha = np.maximum(np.linalg.solve(H + lam * np.eye(len(xt)), h), 0.0)
    np.testing.assert_allclose(w, phi_s @ alpha, rtol=1e-8, atol=1e-12)


def test_kliep_constraint_and_beats_constant():
    rng = np.random.default_rng(2)
    xs, xt = rng.normal(size=(500, 2)), rng.normal(size=(400, 2)) + 0.5
    w, ratio = kliep_weights(xs, xt, bandwidth=1.0, return_function=True)
    assert float(w.mean()) == pytest.approx(1.0, abs=1e-6)  # (1/n_s) sum w(x_i) = 1
    assert float(w.min()) >= 0.0
    # KLIEP maximises the mean target log-weight; the constant w = 1 is feasible with
    # objective 0, so the fit must do clearly better.
    assert float(ratio(xt).log().mean()) > 0.05
    np.testing.assert_allclose(ratio(xs).numpy(), w.numpy(), rtol=1e-10)


@pytest.mark.parametrize("sigma", [0.4, 1.0])
def test_kliep_reaches_the_scipy_optimum(sigma):
    """KLIEP's convex programme solved independently by SciPy's SLSQP (float64)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(12)
    xs, xt = rng.normal(size=(200, 2)), rng.normal(size=(60, 2)) * 0.8 + 0.7
    w, ratio = kliep_weights(xs, xt, bandwidth=sigma, tol=1e-7, max_iter=50000,
                             return_function=True)
    got = float(ratio(xt).log().mean())
    # n_t <= n_basis: every target point is a centre
    A, phi_s = gram(xt, xt, [sigma]), gram(xs, xt, [sigma])
    b = phi_s.mean(0)
    res = minimize(lambda a: -np.mean(np.log(A @ a)), np.full(60, 1.0 / b.sum()),
                   jac=lambda a: -A.T @ (1.0 / (A @ a)) / len(A), method="SLSQP",
                   bounds=[(1e-12, None)] * 60,
                   constraints=[{"type": "eq", "fun": lambda a: b @ a - 1.0,
                                 "jac": lambda a: b}],
                   options={"ftol": 1e-12, "maxiter": 2000})
    assert res.success, res.message
    assert got >= -res.fun - 1e-6  # not worse than SciPy's optimum ...
    assert got <= -res.fun + 1e-6  # ... nor better (a violated constraint would allow it)
    assert float(w.mean()) == pytest.approx(1.0, abs=1e-9)


def _shifted_gaussians(seed, n=600, d=5, shift=1.0, n_fresh=0):
    """N(0, I) against N(mu, I) with |mu| = shift; also fresh target points and the true
    log-ratio log p_t/p_s = mu.x - |mu|^2/2 as a function."""
    rng = np.random.default_rng(seed)
    mu = np.full(d, shift / np.sqrt(d))
    xs, xt = rng.normal(size=(n, d)), rng.normal(size=(n, d)) + mu
    fresh = rng.normal(size=(n_fresh, d)) + mu
    return xs, xt, fresh, lambda x: x @ mu - 0.5 * mu @ mu


def test_cv_bandwidth_ulsif_recovers_the_ratio_better_than_the_median():
    """5-D mean shift of one standard deviation: with the median heuristic uLSIF's ridge
    solution, clipped at 0, is far off; the bandwidth chosen by cross-validating uLSIF's own
    criterion (squared error to the ratio under p_s) must cut that error by 30 % or more on
    every seed (relative mean squared error against the true ratio at the source points)."""
    for seed in range(3):
        xs, xt, _, log_ratio = _shifted_gaussians(seed)
        true = np.exp(log_ratio(xs))
        e_med, e_cv = (float(np.mean((w.numpy() - true) ** 2) / np.mean(true**2))
                       for w in (ulsif_weights(xs, xt), ulsif_weights(xs, xt, bandwidth="cv")))
        assert e_cv < 0.7 * e_med, (seed, e_cv, e_med)


def test_cv_bandwidth_kliep_closes_the_likelihood_gap():
    """KLIEP maximises E_t log w; cross-validating that criterion must at least halve the
    gap to the true ratio's value on 20 000 fresh target points, on every seed (the
    median heuristic over-smooths: weights near uniform)."""
    for seed in range(3):
        xs, xt, fresh, log_ratio = _shifted_gaussians(seed, n_fresh=20000)
        best = float(np.mean(log_ratio(fresh)))
        ll = []
        for bw in ("median", "cv"):
            _, ratio = kliep_weights(xs, xt, bandwidth=bw, return_function=True)
            ll.append(float(ratio(fresh).clamp_min(1e-300).log().mean()))
        assert best - ll[1] < 0.5 * (best - ll[0]), (seed, best, ll)


@pytest.mark.parametrize("method", ["kliep", "ulsif"])
def test_select_ratio_bandwidth_result(method):
    xs, xt, _, _ = _shifted_gaussians(4, n=200)
    sel = select_ratio_bandwidth(xs, xt, method)
    k = int(np.argmin(sel.losses))
    assert sel.bandwidth == sel.candidates[k]
    med = float(tllab.median_bandwidth(xs, xt))
    np.testing.assert_allclose(sel.candidates,
                               [med * f for f in tllab.reweight.RATIO_CV_FACTORS], rtol=1e-12)
    assert all(np.isfinite(sel.losses))
    # the default "cv" bandwidth is this selection
    a = (kliep_weights if method == "kliep" else ulsif_weights)(xs, xt, bandwidth="cv")
    b = (kliep_weights if method == "kliep" else ulsif_weights)(xs, xt, bandwidth=sel.bandwidth)
    torch.testing.assert_close(a, b)


def test_select_ratio_bandwidth_bad_input():
    xs, xt, _, _ = _shifted_gaussians(0, n=30, d=2)
    with pytest.raises(ValueError, match="method"):
        select_ratio_bandwidth(xs, xt, "kmm")
    with pytest.raises(ValueError, match="n_folds"):
        select_ratio_bandwidth(xs, xt, n_folds=1)
    with pytest.raises(ValueError, match="candidates"):
        select_ratio_bandwidth(xs, xt, candidates=[0.0, 1.0])
    with pytest.raises(ValueError, match="at least 5 target points"):
        select_ratio_bandwidth(xs, xt[:3], n_folds=5)
    with pytest.raises(ValueError, match="same number of features"):
        select_ratio_bandwidth(xs, xt[:, :1])


# ----------------------------------------------------------------------- classifier
def test_classifier_recovers_gaussian_ratio_1d():
    rng = np.random.default_rng(3)
    n = 4000
    xs, xt = rng.normal(size=(n, 1)), rng.normal(size=(n, 1)) + 0.5
    w = classifier_weights(xs, xt).numpy()
    true_log = 0.5 * xs[:, 0] - 0.125  # log N(x; 0.5, 1) / N(x; 0, 1)
    central = np.abs(xs[:, 0]) < 2
    rmse = np.sqrt(np.mean((np.log(w) - true_log)[central] ** 2))
    # Each fold's logistic fit sees 2 000 + 2 000 points: the standard errors of its
    # intercept and slope are about sqrt(4 / 4000) ~ 0.03, so the RMS error of the
    # log-ratio over the source is ~ 0.045; 0.1 is about two standard errors.  A missing
    # or wrong prior correction (log(n_s/n_t) = 0 here, but a wrong sign of the logit
    # flips the slope) would give errors ~ 1.
    assert rmse < 0.1


def test_classifier_recovers_gaussian_ratio_2d_unequal_sizes():
    rng = np.random.default_rng(4)
    mu = np.array([0.5, -0.5])
    xs, xt = rng.normal(size=(6000, 2)), rng.normal(size=(2000, 2)) + mu
    w = classifier_weights(xs, xt).numpy()
    true_log = xs @ mu - 0.5 * mu @ mu
    central = np.linalg.norm(xs, axis=1) < 2
    rmse = np.sqrt(np.mean((np.log(w) - true_log)[central] ** 2))
    # Same argument with 1 000 target points per fold (SE ~ sqrt(1/1000 + 1/3000) ~ 0.037
    # per coefficient, three coefficients).  Unequal sizes check that no spurious
    # log(n_s / n_t) = log 3 ~ 1.1 offset appears: the loss is class-balanced.
    assert rmse < 0.15
    assert abs(np.mean(np.log(w) - true_log)) < 0.1


# ----------------------------------------------------------------------- all estimators
def test_estimators_correlate_with_true_ratio():
    rng = np.random.default_rng(5)
    mu = np.array([0.6, 0.6])
    xs, xt = rng.normal(size=(700, 2)), rng.normal(size=(700, 2)) + mu
    true = np.exp(xs @ mu - 0.5 * mu @ mu)
    for name, w in {
        "kmm": kmm_weights(xs, xt, bandwidth="median", B=50.0),
        "kliep": kliep_weights(xs, xt),
        # uLSIF is sensitive to sigma and lambda (Kanamori et al. pick them by LOOCV);
        # the median heuristic (1.74 here) oversmooths, so use a CV-sized choice.
        "ulsif": ulsif_weights(xs, xt, bandwidth=1.0, reg=0.01),
        "classifier": classifier_weights(xs, xt),
    }.items():
        w = w.numpy()
        assert w.shape == (700,) and np.all(w >= 0), name
        if name == "kmm":
            # KMM matches kernel mean embeddings, not pointwise ratios: at its optimum the
            # weights are sparse (most of them 0 in two dimensions) and rough point by
            # point, so test what it does promise: weighted source averages of smooth
            # functions land on the target's, far closer than the unweighted ones.
            for fn in (lambda z: z, lambda z: z**2, np.cos):
                before = np.abs(fn(xs).mean(0) - fn(xt).mean(0)).max()
                after = np.abs((w[:, None] * fn(xs)).sum(0) / w.sum() - fn(xt).mean(0)).max()
                assert after < 0.1 * before, (name, before, after)
            continue
        r = np.corrcoef(w, true)[0, 1]
        assert r > 0.85, (name, r)


# ----------------------------------------------------------------------- weight tools
def test_effective_sample_size_formula(device):
    rng = np.random.default_rng(6)
    w = rng.exponential(size=200)
    ess = effective_sample_size(torch.tensor(w, device=device))
    assert ess.device.type == device.type and ess.ndim == 0
    assert float(ess) == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)
    assert float(effective_sample_size(np.ones(17))) == pytest.approx(17.0)
    assert float(effective_sample_size(3.0 * w)) == pytest.approx(float(ess), rel=1e-12)


def test_flatten_and_clip():
    w = np.array([0.25, 1.0, 4.0, 16.0])
    f = flatten_weights(w, 0.5).numpy()
    np.testing.assert_allclose(f, np.sqrt(w) / np.sqrt(w).mean())
    np.testing.assert_allclose(flatten_weights(w, 0.0).numpy(), np.ones(4))
    np.testing.assert_allclose(flatten_weights(w, 1.0).numpy(), w / w.mean())
    # flattening raises the ESS
    assert float(effective_sample_size(f)) > float(effective_sample_size(w))
    np.testing.assert_allclose(clip_weights(w, 2.0).numpy(), [0.25, 1.0, 2.0, 2.0])
    c = clip_weights(w, 2.0, normalize=True).numpy()
    np.testing.assert_allclose(c, np.array([0.25, 1, 2, 2]) / 1.3125)


def test_importance_weighted_risk_formula():
    rng = np.random.default_rng(7)
    loss, w = rng.random(50), rng.exponential(size=50)
    assert float(importance_weighted_risk(loss, w)) == pytest.approx(np.mean(w * loss))
    assert float(importance_weighted_risk(loss, w, normalize=True)) == pytest.approx(
        np.sum(w * loss) / np.sum(w))


def _ols(x_tr, y_tr, w_tr, x_te):
    X = torch.cat([torch.ones(len(x_tr), 1, dtype=x_tr.dtype), x_tr], 1)
    coef = torch.linalg.lstsq(X, y_tr.unsqueeze(1)).solution
    return (torch.cat([torch.ones(len(x_te), 1, dtype=x_te.dtype), x_te], 1) @ coef)[:, 0]


def test_iwcv_is_unbiased_for_target_risk():
    """Source N(0,1), target N(0.5,1), y = x² + noise, misspecified linear OLS.

    With the true ratio, IWCV's expectation equals the target risk of OLS fitted on
    (K−1)/K of n source points (Sugiyama et al., 2007, Thm. 1).  We average R
    repetitions of IWCV and, independently, the target risk of OLS fitted on fresh
    source samples of that size (evaluated on a large target sample), and require the
    two means to agree within 4 standard errors; plain CV, which estimates the *source*
    risk, must be far off (the test can fail).
    """
    rng = np.random.default_rng(8)
    n, k, R = 200, 5, 150
    xt_big = rng.normal(size=(20000, 1)) + 0.5
    yt_big = xt_big[:, 0] ** 2 + 0.3 * rng.normal(size=20000)
    iw, plain, target = [], [], []
    for _ in range(R):
        xs = rng.normal(size=(n, 1))
        ys = xs[:, 0] ** 2 + 0.3 * rng.normal(size=n)
        w = np.exp(0.5 * xs[:, 0] - 0.125)
        seed = int(rng.integers(1 << 30))
        iw.append(float(iwcv_score(_ols, xs, ys, w, n_folds=k, seed=seed,
                                   weighted_fit=False)))
        plain.append(float(iwcv_score(_ols, xs, ys, np.ones(n), n_folds=k, seed=seed,
                                      weighted_fit=False)))
        x_tr = rng.normal(size=(n * (k - 1) // k, 1))
        y_tr = x_tr[:, 0] ** 2 + 0.3 * rng.normal(size=len(x_tr))
        pred = _ols(torch.tensor(x_tr), torch.tensor(y_tr), None, torch.tensor(xt_big))
        target.append(float(np.mean((pred.numpy() - yt_big) ** 2)))
    iw, plain, target = map(np.asarray, (iw, plain, target))
    se = np.sqrt(iw.var(ddof=1) / R + target.var(ddof=1) / R)
    assert abs(iw.mean() - target.mean()) < 4 * se
    assert abs(plain.mean() - target.mean()) > 6 * se


def test_iwcv_with_sklearn_picks_hyperparameter():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(9)
    xs = rng.normal(size=(300, 2))
    ys = xs @ np.array([1.0, -2.0]) + 0.1 * rng.normal(size=300)
    w = np.exp(xs[:, 0] - 0.5)
    good = float(iwcv_score(Ridge(alpha=0.01), xs, ys, w))
    bad = float(iwcv_score(Ridge(alpha=1e4), xs, ys, w))
    assert good < bad


def _rows(sub, full):
    """Indices in ``full`` of the rows of ``sub`` (the rows of ``full`` are distinct)."""
    sub = np.asarray(sub)
    return np.array([int(np.flatnonzero((full == r).all(1))[0]) for r in sub])


def test_iwcv_zero_one_against_fold_by_fold_reference():
    """A constant-0 classifier: the zero-one loss of point i is 1[y_i != 0], so the IWCV risk
    is (1/K) Σ_k mean_{i in F_k} w_i 1[y_i != 0] over the folds the estimator was scored on
    (recorded by the callable, recomputed here in NumPy)."""
    rng = np.random.default_rng(19)
    xs = rng.normal(size=(103, 2))  # 103 = 5 * 20 + 3: unequal folds
    ys = (xs[:, 0] + 0.3 * rng.normal(size=103) > 0) * 1.0
    w = rng.exponential(size=103)
    folds = []

    def zeros(x_tr, y_tr, w_tr, x_te):
        folds.append(_rows(x_te.numpy(), xs))
        return torch.zeros(len(x_te))

    got = float(iwcv_score(zeros, xs, ys, w, loss="zero_one", n_folds=5, seed=4))
    assert len(folds) == 5 and sorted(np.concatenate(folds).tolist()) == list(range(103))
    want = np.mean([np.mean(w[f] * (ys[f] != 0)) for f in folds])
    assert got == pytest.approx(want, rel=1e-12)
    assert got != pytest.approx(np.mean(w * (ys != 0)), rel=1e-6)  # unequal folds matter


class _SpyLinearRegression:
    """A scikit-learn style estimator recording what ``fit`` receives (class-level log,
    since iwcv_score clones the estimator for every fold)."""

    calls: list = []

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y, sample_weight=None):
        from sklearn.linear_model import LinearRegression

        type(self).calls.append((np.array(X), None if sample_weight is None
                                 else np.array(sample_weight)))
        self.model_ = LinearRegression().fit(X, y, sample_weight=sample_weight)
        return self

    def predict(self, X):
        return self.model_.predict(X)


def _iwcv_reference(xs, ys, w, train_sets, weighted):
    """IWCV of weighted (or plain) least squares with an intercept, folds given, in NumPy."""
    risks = []
    for tr in train_sets:
        te = np.setdiff1d(np.arange(len(xs)), tr)
        X = np.column_stack([np.ones(len(tr)), xs[tr]])
        sw = np.sqrt(w[tr]) if weighted else np.ones(len(tr))
        coef = np.linalg.lstsq(X * sw[:, None], ys[tr] * sw, rcond=None)[0]
        pred = np.column_stack([np.ones(len(te)), xs[te]]) @ coef
        risks.append(np.mean(w[te] * (pred - ys[te]) ** 2))
    return float(np.mean(risks))


def test_iwcv_weights_reach_the_fit():
    """weighted_fit=True (the default) passes the training folds' weights to fit, and the
    score is that of importance-weighted least squares (NumPy reference); with
    weighted_fit=False no weights reach fit and the score is the plain fit's.  The two differ
    clearly here (a misspecified line under covariate shift), so dropping sample_weight
    cannot pass."""
    rng = np.random.default_rng(23)
    xs = rng.normal(size=(160, 1))
    ys = xs[:, 0] ** 2 + 0.1 * rng.normal(size=160)
    w = np.exp(xs[:, 0] - 0.5)  # N(0,1) source, N(1,1) target
    spy = _SpyLinearRegression()
    for weighted in (True, False):
        _SpyLinearRegression.calls = []
        kw = {} if weighted else {"weighted_fit": False}
        got = float(iwcv_score(spy, xs, ys, w, n_folds=4, seed=1, **kw))
        calls = _SpyLinearRegression.calls
        assert len(calls) == 4
        train_sets = [_rows(X, xs) for X, _ in calls]
        for tr, (_, sw) in zip(train_sets, calls, strict=True):
            if weighted:
                assert sw is not None
                np.testing.assert_array_equal(sw, w[tr])
            else:
                assert sw is None
        assert got == pytest.approx(_iwcv_reference(xs, ys, w, train_sets, weighted),
                                    rel=1e-9)
        if weighted:
            weighted_score = got
    plain = _iwcv_reference(xs, ys, w, train_sets, False)
    assert abs(weighted_score - plain) > 0.05 * plain

    # the callable form receives the same weights (ones when weighted_fit=False)
    seen = []

    def fit_predict(x_tr, y_tr, w_tr, x_te):
        seen.append((_rows(x_tr.numpy(), xs), w_tr.numpy().copy()))
        return torch.zeros(len(x_te), dtype=x_te.dtype)

    iwcv_score(fit_predict, xs, ys, w, n_folds=4, seed=1)
    iwcv_score(fit_predict, xs, ys, w, n_folds=4, seed=1, weighted_fit=False)
    for tr, w_tr in seen[:4]:
        np.testing.assert_array_equal(w_tr, w[tr])
    for _, w_tr in seen[4:]:
        np.testing.assert_array_equal(w_tr, np.ones(len(w_tr)))


# ----------------------------------------------------------------------- bad inputs
XS = np.random.default_rng(10).normal(size=(20, 2))
XT = np.random.default_rng(11).normal(size=(15, 2))
NAN = XS.copy()
NAN[3, 1] = np.nan

BAD = [
    (kmm_weights, (XS, XT[:, :1]), {}, ValueError, "xs and xt"),
    (kmm_weights, (NAN, XT), {}, ValueError, "xs"),
    (kmm_weights, (XS, XT), {"B": 0.0}, ValueError, "B"),
    (kmm_weights, (XS, XT), {"B": -1.0}, ValueError, "B"),
    (kmm_weights, (XS, XT), {"B": 0.01, "eps": 0.5}, ValueError, "B=0.01"),
    (kmm_weights, (XS, XT), {"eps": 1.0}, ValueError, "eps"),
    (kmm_weights, (XS, XT), {"eps": -0.1}, ValueError, "eps"),
    (kmm_weights, (XS[:0], XT), {}, ValueError, "xs"),
    (kmm_weights, (XS, XT[:0]), {}, ValueError, "xt"),
    (kmm_weights, (XS, XT), {"bandwidth": 0.0}, ValueError, "bandwidth"),
    (kmm_weights, (XS, XT), {"bandwidth": -2.0}, ValueError, "bandwidth"),
    (kmm_weights, (XS, XT), {"bandwidth": "mean"}, ValueError, "bandwidth"),
    (kmm_weights, (XS, XT), {"tol": 0.0}, ValueError, "tol"),
    (kmm_weights, (XS, XT), {"max_iter": 0}, ValueError, "max_iter"),
    (kmm_weights, (XS, XT), {"cache_kernel": "yes"}, TypeError, "cache_kernel"),
    (kmm_weights, (XS[:, 0], XT), {}, ValueError, "xs"),
    (kmm_weights, ("abc", XT), {}, TypeError, "xs"),
    (kliep_weights, (XS, XT), {"n_basis": 0}, ValueError, "n_basis"),
    (kliep_weights, (XS, NAN), {}, ValueError, "xt"),
    (ulsif_weights, (XS, XT), {"reg": 0.0}, ValueError, "reg"),
    (ulsif_weights, (XS, XT), {"bandwidth": 0.0}, ValueError, "bandwidth"),
    (classifier_weights, (XS, XT), {"model": "svm"}, ValueError, "model"),
    (classifier_weights, (XS, XT), {"n_folds": 1}, ValueError, "n_folds"),
    (effective_sample_size, ([1.0, -1.0],), {}, ValueError, "w"),
    (effective_sample_size, (np.ones((2, 2)),), {}, ValueError, "w"),
    (effective_sample_size, ([0.0, 0.0],), {}, ValueError, "w"),
    (effective_sample_size, ([1.0, np.nan],), {}, ValueError, "w"),
    (flatten_weights, ([1.0, 2.0], -1.0), {}, ValueError, "gamma"),
    (clip_weights, ([1.0, 2.0], 0.0), {}, ValueError, "max_weight"),
    (importance_weighted_risk, ([1.0, 2.0], [1.0]), {}, ValueError, "losses and w"),
    (importance_weighted_risk, ([1.0, np.inf], [1.0, 1.0]), {}, ValueError, "losses"),
    (iwcv_score, (_ols, XS, XS[:, 0], np.ones(20)), {"n_folds": 1}, ValueError, "n_folds"),
    (iwcv_score, (_ols, XS, XS[:5, 0], np.ones(20)), {}, ValueError, "ys"),
    (iwcv_score, (_ols, XS, XS[:, 0], np.ones(5)), {}, ValueError, "w"),
    (iwcv_score, (_ols, XS, XS[:, 0], np.ones(20)), {"loss": "hinge"}, ValueError, "loss"),
    (iwcv_score, (42, XS, XS[:, 0], np.ones(20)), {}, TypeError, "estimator"),
    # an estimator that predicts NaN must not give a NaN risk silently
    (iwcv_score, (lambda a, b, c, d: torch.full((len(d),), torch.nan), XS, XS[:, 0],
                  np.ones(20)), {}, ValueError, "estimator returned non-finite predictions"),
    (iwcv_score, (_ols, XS, XS[:, 0], np.ones(20)), {"loss": lambda p, y: p * torch.inf},
     ValueError, "loss returned non-finite values"),
    # half precision: a TypeError naming the argument (sums of weights overflow at 65504)
    (effective_sample_size, (torch.ones(3, dtype=torch.float16),), {}, TypeError,
     "w must be float32 or float64; got torch.float16"),
    (flatten_weights, (torch.ones(3, dtype=torch.bfloat16), 0.5), {}, TypeError,
     "w must be float32 or float64"),
    (importance_weighted_risk, ([1.0, 2.0], torch.ones(2, dtype=torch.float16)), {},
     TypeError, "w must be float32 or float64"),
    (kmm_weights, (XS.astype(np.float16), XT), {}, TypeError, "xs must be float32 or float64"),
    (ulsif_weights, (XS, XT.astype(np.float16)), {}, TypeError, "xt must be float32 or float64"),
]


@pytest.mark.parametrize("fn,args,kwargs,err,match", BAD,
                         ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs(fn, args, kwargs, err, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(err, match=match):
            fn(*args, **kwargs)
