"""Argument validation: the bad-input table over the public functions, and the helpers of
tllab._checks used by all of them.

Contract (tllab/_checks.py): ``TypeError`` for the wrong kind of object, ``ValueError`` for a
value of the right kind that is not acceptable, and the message names the argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tllab
from tllab import (
    crossfit_log_ratio,
    fit_domain_classifier,
    js_divergence,
    js_divergence_samples,
    kernel_matrix,
    kernel_matvec,
    kernel_sum,
    kl_divergence,
    median_bandwidth,
    mmd2,
    mmd_test,
    proxy_a_distance,
    seed_everything,
)
from tllab._checks import (
    check_batch,
    check_choice,
    check_int,
    check_labels,
    check_positive_scalars,
    check_probabilities,
    check_real,
    check_sample_pair,
    check_samples,
    check_seeds,
)

_rng = np.random.default_rng(0)
X = _rng.normal(size=(10, 3))
Y = _rng.normal(size=(8, 3)) + 1.0
P = np.array([0.2, 0.3, 0.5])
Q = np.array([0.1, 0.6, 0.3])


def _with(a, index, value):
    a = np.array(a, dtype=np.float64)
    a[index] = value
    return a


# (id, thunk, exception, regex the message must match: it names the argument)
BAD_INPUTS = [
    # ---- sample matrices: shapes
    ("mmd2-feature-mismatch", lambda: mmd2(X, Y[:, :2]), ValueError,
     r"x and y must have the same number of features; got 3 and 2"),
    ("kernel_matrix-feature-mismatch", lambda: kernel_matrix(X, Y[:, :1]), ValueError,
     r"x and y must have the same number of features"),
    ("mmd_test-feature-mismatch", lambda: mmd_test(X[:, :2], Y), ValueError,
     r"x and y must have the same number of features"),
    ("mmd2-x-1d", lambda: mmd2(X[:, 0], Y), ValueError, r"x must be 2-D.*reshape"),
    ("mmd2-y-1d", lambda: mmd2(X, Y[0]), ValueError, r"y must be 2-D.*reshape"),
    ("kernel_matvec-x-1d", lambda: kernel_matvec(X[:, 0], np.ones(10)), ValueError,
     r"x must be 2-D"),
    ("js_samples-y-1d", lambda: js_divergence_samples(X[:, :1], Y[:, 0]), ValueError,
     r"y must be 2-D"),
    ("median-x-1d", lambda: median_bandwidth(X[:, 0]), ValueError, r"x must be 2-D"),
    ("mmd2-x-3d", lambda: mmd2(X.reshape(10, 3, 1), Y), ValueError,
     r"x must be 2-D.*shape \(10, 3, 1\)"),
    ("kernel_sum-y-3d", lambda: kernel_sum(X, Y.reshape(2, 4, 3)), ValueError, r"y must be 2-D"),
    ("mmd2-x-scalar", lambda: mmd2(np.float64(1.0), Y), ValueError, r"x must be 2-D"),
    ("mmd2-no-features", lambda: mmd2(np.zeros((5, 0)), np.zeros((5, 0))), ValueError,
     r"x must have at least one feature"),
    # ---- sample matrices: too few rows
    ("mmd2-x-empty", lambda: mmd2(np.empty((0, 3)), Y), ValueError,
     r"x must have at least 2 sample"),
    ("mmd2-y-empty", lambda: mmd2(X, np.empty((0, 3))), ValueError,
     r"y must have at least 2 sample"),
    ("kernel_sum-x-empty", lambda: kernel_sum(np.empty((0, 3))), ValueError,
     r"x must have at least 1 sample"),
    ("kernel_matrix-y-empty", lambda: kernel_matrix(X, np.empty((0, 3))), ValueError,
     r"y must have at least 1 sample"),
    ("mmd2-x-one-row", lambda: mmd2(X[:1], Y), ValueError, r"x must have at least 2 sample"),
    ("mmd2-linear-y-one-row", lambda: mmd2(X, Y[:1], estimator="linear"), ValueError,
     r"y must have at least 2 sample"),
    ("mmd2-biased-y-one-row", lambda: mmd2(X, Y[:1], estimator="biased"), ValueError,
     r"y must have at least 2 sample"),
    ("mmd_test-y-one-row", lambda: mmd_test(X, Y[:1]), ValueError, r"y must have at least 2"),
    ("js_kde-x-one-row", lambda: js_divergence_samples(X[:1], Y), ValueError,
     r"x must have at least 2"),
    ("median-x-one-row", lambda: median_bandwidth(X[:1]), ValueError, r"x must have at least 2"),
    ("median-pair-y-empty", lambda: median_bandwidth(X[:1], np.empty((0, 3))), ValueError,
     r"y must have at least 1 sample"),
    ("crossfit-too-few-for-folds", lambda: crossfit_log_ratio(X[:2], Y, n_folds=3), ValueError,
     r"x must have at least 3"),
    # ---- sample matrices: non-finite values and wrong kinds
    ("mmd2-x-nan", lambda: mmd2(_with(X, (2, 1), np.nan), Y), ValueError,
     r"x must be finite; found 1 NaN and 0 inf"),
    ("mmd2-y-inf", lambda: mmd2(X, _with(Y, (0, 0), -np.inf)), ValueError,
     r"y must be finite; found 0 NaN and 1 inf"),
    ("kernel_sum-x-nan", lambda: kernel_sum(_with(X, (0, 0), np.nan)), ValueError,
     r"x must be finite"),
    ("mmd_test-y-nan", lambda: mmd_test(X, _with(Y, (1, 1), np.nan)), ValueError,
     r"y must be finite"),
    ("js_samples-y-inf", lambda: js_divergence_samples(X, _with(Y, (3, 2), np.inf)), ValueError,
     r"y must be finite"),
    ("median-x-nan", lambda: median_bandwidth(_with(X, (4, 0), np.nan)), ValueError,
     r"x must be finite"),
    ("pad-x-inf", lambda: proxy_a_distance(_with(X, (0, 1), np.inf), Y), ValueError,
     r"x must be finite"),
    # half precision: refused with the reason, not torch's NotImplementedError from cdist
    ("mmd2-x-float16", lambda: mmd2(torch.ones(5, 3, dtype=torch.float16), Y), TypeError,
     r"x must be float32 or float64; got torch.float16.*x.float\(\)"),
    ("median-x-float16", lambda: median_bandwidth(np.ones((5, 2), dtype=np.float16)), TypeError,
     r"x must be float32 or float64; got torch.float16"),
    ("mmd_test-y-bfloat16", lambda: mmd_test(X, torch.tensor(Y, dtype=torch.bfloat16)),
     TypeError, r"y must be float32 or float64; got torch.bfloat16"),
    ("kernel_sum-x-float16", lambda: kernel_sum(torch.ones(4, 2, dtype=torch.float16)),
     TypeError, r"x must be float32 or float64"),
    ("js-p-float16", lambda: js_divergence(torch.tensor(P, dtype=torch.float16), Q), TypeError,
     r"p must be float32 or float64"),
    ("js_samples-x-float16", lambda: js_divergence_samples(X.astype(np.float16), Y), TypeError,
     r"x must be float32 or float64"),
    ("pad-x-float16", lambda: proxy_a_distance(X.astype(np.float16), Y), TypeError,
     r"x must be float32 or float64"),
    ("mmd2-x-string", lambda: mmd2("abc", Y), TypeError, r"x must be an array-like"),
    ("mmd2-y-none", lambda: mmd2(X, None), TypeError, r"y must be an array-like"),
    ("mmd2-x-strings", lambda: mmd2([["a", "b"], ["c", "d"]], Y[:, :2]), TypeError,
     r"x must be a numeric array-like"),
    # complex input must be refused, not silently cast to its real part
    ("mmd2-x-complex", lambda: mmd2(X + 1j, Y), TypeError, r"x must be real-valued"),
    ("js-p-complex", lambda: js_divergence(P + 0j, Q), TypeError, r"p must be real-valued"),
    # ---- probability vectors
    ("kl-p-negative", lambda: kl_divergence([-0.1, 0.6, 0.5], Q), ValueError,
     r"p must be non-negative"),
    ("js-q-negative", lambda: js_divergence(P, [0.5, 0.7, -0.2]), ValueError,
     r"q must be non-negative"),
    ("js-q-not-normalised", lambda: js_divergence(P, [1.0, 2.0, 3.0]), ValueError,
     r"q must sum to 1.*normalize=True"),
    ("kl-p-not-normalised", lambda: kl_divergence([0.2, 0.2, 0.2], Q), ValueError,
     r"p must sum to 1"),
    ("js-p-nan", lambda: js_divergence([np.nan, 0.5, 0.5], Q), ValueError, r"p must be finite"),
    ("kl-q-inf", lambda: kl_divergence(P, [np.inf, 0.0, 0.0]), ValueError, r"q must be finite"),
    ("js-shape-mismatch", lambda: js_divergence(P, [0.5, 0.5]), ValueError,
     r"p and q must have the same shape; got \(3,\) and \(2,\)"),
    ("kl-batch-vs-vector", lambda: kl_divergence(np.tile(P, (2, 1)), Q), ValueError,
     r"p and q must have the same shape"),
    ("kl-p-empty", lambda: kl_divergence([], []), ValueError, r"p must not be empty"),
    ("js-p-scalar", lambda: js_divergence(1.0, 1.0), ValueError,
     r"p must have at least one dimension"),
    ("js-dim-out-of-range", lambda: js_divergence(P, Q, dim=2), ValueError,
     r"dim=2 is out of range for p"),
    ("js-normalize-zero-sum", lambda: js_divergence([0.0, 0.0], [1.0, 2.0], normalize=True),
     ValueError, r"p must have a positive sum"),
    ("js-p-string", lambda: js_divergence("abc", Q), TypeError, r"p must be an array-like"),
    ("js-base-one", lambda: js_divergence(P, Q, base=1), ValueError, r"base must be positive"),
    ("js-base-zero", lambda: js_divergence(P, Q, base=0), ValueError, r"base must be > 0"),
    ("kl-base-negative", lambda: kl_divergence(P, Q, base=-2), ValueError, r"base must be > 0"),
    ("kl-base-nan", lambda: kl_divergence(P, Q, base=float("nan")), ValueError,
     r"base must be finite"),
    ("js-base-string", lambda: js_divergence(P, Q, base="2"), TypeError,
     r"base must be a real number"),
    # ---- bandwidths
    ("mmd2-bw-zero", lambda: mmd2(X, Y, bandwidth=0.0), ValueError,
     r"bandwidth must be positive and finite; got 0.0"),
    ("mmd2-bw-negative", lambda: mmd2(X, Y, bandwidth=-1), ValueError,
     r"bandwidth must be positive"),
    ("mmd2-bw-nan", lambda: mmd2(X, Y, bandwidth=float("nan")), ValueError,
     r"bandwidth must be positive and finite"),
    ("mmd2-bw-inf", lambda: mmd2(X, Y, bandwidth=np.inf), ValueError,
     r"bandwidth must be positive and finite"),
    ("mmd2-bw-list-with-negative", lambda: mmd2(X, Y, bandwidth=[1.0, -2.0]), ValueError,
     r"bandwidth must be positive"),
    ("mmd2-bw-empty-list", lambda: mmd2(X, Y, bandwidth=[]), ValueError,
     r"bandwidth must not be empty"),
    ("mmd2-bw-unknown-string", lambda: mmd2(X, Y, bandwidth="silverman"), ValueError,
     r"bandwidth must be one of \('median',\); got 'silverman'"),
    ("mmd2-bw-string-in-list", lambda: mmd2(X, Y, bandwidth=[1.0, "2"]), TypeError,
     r"bandwidth must be a positive number"),
    ("mmd2-bw-bool", lambda: mmd2(X, Y, bandwidth=True), TypeError,
     r"bandwidth must be a positive number"),
    ("mmd2-bw-tensor-nan", lambda: mmd2(X, Y, bandwidth=torch.tensor([1.0, float("nan")])),
     ValueError, r"bandwidth must be positive and finite"),
    ("kernel_sum-bw-nan", lambda: kernel_sum(X, bandwidth=np.nan), ValueError,
     r"bandwidth must be positive"),
    ("kernel_matrix-bw-string", lambda: kernel_matrix(X, bandwidth="auto"), ValueError,
     r"bandwidth must be one of"),
    ("kernel_matvec-bw-zero", lambda: kernel_matvec(X, np.ones(10), bandwidth=0), ValueError,
     r"bandwidth must be positive"),
    ("mmd_test-bw-negative", lambda: mmd_test(X, Y, bandwidth=-0.5), ValueError,
     r"bandwidth must be positive"),
    ("js_kde-bw-negative", lambda: js_divergence_samples(X, Y, bandwidth=-1.0), ValueError,
     r"bandwidth must be positive"),
    ("js_kde-bw-nan", lambda: js_divergence_samples(X, Y, bandwidth=float("nan")), ValueError,
     r"bandwidth must be positive"),
    ("js_kde-bw-list", lambda: js_divergence_samples(X, Y, bandwidth=[0.5, 1.0]), ValueError,
     r"one bandwidth"),
    ("js_kde-bw-string", lambda: js_divergence_samples(X, Y, bandwidth="scott"), TypeError,
     r"bandwidth must be a positive number"),
    ("js_kde-zero-spread", lambda: js_divergence_samples(np.ones((5, 2)), np.ones((4, 2))),
     ValueError, r"zero spread; pass an explicit bandwidth"),
    ("median-all-coincide", lambda: median_bandwidth(np.ones((6, 2))), ValueError,
     r"median pairwise distance is 0.*bandwidth"),
    ("mmd2-median-all-coincide", lambda: mmd2(np.ones((4, 2)), np.ones((3, 2))), ValueError,
     r"median pairwise distance is 0.*bandwidth"),
    # the reason must be the right one: tiny float32 data are fine (their distances used to
    # underflow to "coincide"), coinciding tiny points do coincide, and a median beyond the
    # dtype's range is refused as such (it used to come back as inf)
    ("median-tiny-float32-coincide", lambda: median_bandwidth(
        torch.tensor([[1e-30], [1e-30], [1e-30], [1e-30], [2e-30]])), ValueError,
     r"more than half of the pairs coincide"),
    ("median-float32-overflows", lambda: median_bandwidth(
        torch.tensor([[-3e38], [3e38], [-3e38], [3e38]])), ValueError,
     r"median pairwise distance, 6e\+38, is not representable in torch.float32"),
    ("mmd2-median-float32-overflows", lambda: mmd2(torch.tensor([[-3e38], [3e38]]),
                                                   torch.tensor([[-3e38], [3e38]])), ValueError,
     r"not representable in torch.float32"),
    ("kernel_sum-float32-centred-overflow", lambda: kernel_sum(
        torch.tensor([[-3.4e38], [3.4e38], [3.4e38]]), bandwidth=1.0), ValueError,
     r"the samples overflow their dtype once centred"),
    # ---- names of kernels, estimators, methods, models
    ("mmd2-unknown-kernel", lambda: mmd2(X, Y, kernel="rbf"), ValueError,
     r"kernel must be one of \('gaussian', 'laplacian'\); got 'rbf'"),
    ("mmd2-kernel-not-string", lambda: mmd2(X, Y, kernel=None), TypeError,
     r"kernel must be one of"),
    ("kernel_sum-unknown-kernel", lambda: kernel_sum(X, kernel="Gaussian"), ValueError,
     r"kernel must be one of"),
    ("kernel_matrix-unknown-kernel", lambda: kernel_matrix(X, kernel="poly"), ValueError,
     r"kernel must be one of"),
    ("mmd_test-unknown-kernel", lambda: mmd_test(X, Y, kernel="cosine"), ValueError,
     r"kernel must be one of"),
    ("mmd2-unknown-estimator", lambda: mmd2(X, Y, estimator="quadratic"), ValueError,
     r"estimator must be one of \('unbiased', 'biased', 'linear'\)"),
    ("mmd_test-linear-estimator", lambda: mmd_test(X, Y, estimator="linear"), ValueError,
     r"estimator must be one of \('unbiased', 'biased'\)"),
    ("js_samples-unknown-method", lambda: js_divergence_samples(X, Y, method="knn"), ValueError,
     r"method must be one of"),
    ("js_samples-unknown-model", lambda: js_divergence_samples(X, Y, method="classifier",
                                                               model="svm"), ValueError,
     r"model must be one of"),
    ("crossfit-unknown-model", lambda: crossfit_log_ratio(X, Y, model="tree"), ValueError,
     r"model must be one of \('logistic', 'mlp'\)"),
    ("pad-unknown-model", lambda: proxy_a_distance(X, Y, model="forest"), ValueError,
     r"model must be one of"),
    # ---- integers: permutations, seeds, sizes
    ("mmd_test-zero-permutations", lambda: mmd_test(X, Y, n_permutations=0), ValueError,
     r"n_permutations must be >= 1; got 0"),
    ("mmd_test-negative-permutations", lambda: mmd_test(X, Y, n_permutations=-5), ValueError,
     r"n_permutations must be >= 1"),
    ("mmd_test-float-permutations", lambda: mmd_test(X, Y, n_permutations=99.0), TypeError,
     r"n_permutations must be an int"),
    ("mmd_test-bool-permutations", lambda: mmd_test(X, Y, n_permutations=True), TypeError,
     r"n_permutations must be an int"),
    ("mmd_test-float-seed", lambda: mmd_test(X, Y, seed=1.5), TypeError, r"seed must be an int"),
    ("mmd_test-string-seed", lambda: mmd_test(X, Y, seed="0"), TypeError, r"seed must be an int"),
    ("mmd_test-none-seed", lambda: mmd_test(X, Y, seed=None), TypeError, r"seed must be an int"),
    ("mmd_test-negative-seed", lambda: mmd_test(X, Y, seed=-1), ValueError, r"seed must be >= 0"),
    ("mmd_test-batch-zero", lambda: mmd_test(X, Y, batch_size=0), ValueError,
     r"batch_size must be >= 1"),
    ("mmd2-block-zero", lambda: mmd2(X, Y, block_size=0), ValueError, r"block_size must be >= 1"),
    ("mmd2-block-float", lambda: mmd2(X, Y, block_size=2.0), TypeError,
     r"block_size must be an int"),
    ("kernel_sum-block-negative", lambda: kernel_sum(X, block_size=-3), ValueError,
     r"block_size must be >= 1"),
    ("js_hist-bins-zero", lambda: js_divergence_samples(X, Y, method="histogram", bins=0),
     ValueError, r"bins must be >= 1"),
    ("js_hist-bins-float", lambda: js_divergence_samples(X, Y, method="histogram", bins=2.5),
     TypeError, r"bins must be an int"),
    ("js_hist-too-many-cells", lambda: js_divergence_samples(
        np.zeros((4, 8)) + np.arange(4)[:, None], np.ones((4, 8)), method="histogram", bins=20),
     ValueError, r"bins=20 in d=8"),
    ("js_classifier-float-seed", lambda: js_divergence_samples(X, Y, method="classifier",
                                                               seed=0.5), TypeError,
     r"seed must be an int"),
    ("js_classifier-one-fold", lambda: js_divergence_samples(X, Y, method="classifier",
                                                             n_folds=1), ValueError,
     r"n_folds must be >= 2"),
    ("crossfit-one-fold", lambda: crossfit_log_ratio(X, Y, n_folds=1), ValueError,
     r"n_folds must be >= 2"),
    ("crossfit-string-seed", lambda: crossfit_log_ratio(X, Y, seed="1"), TypeError,
     r"seed must be an int"),
    ("pad-negative-seed", lambda: proxy_a_distance(X, Y, seed=-2), ValueError,
     r"seed must be >= 0"),
    ("fit-max-iter-zero", lambda: fit_domain_classifier(X, Y, max_iter=0), ValueError,
     r"max_iter must be >= 1"),
    ("fit-weight-decay-negative", lambda: fit_domain_classifier(X, Y, weight_decay=-1e-3),
     ValueError, r"weight_decay must be >= 0"),
    ("fit-hidden-float", lambda: fit_domain_classifier(X, Y, model="mlp", hidden=8.0), TypeError,
     r"hidden must be an int"),
    ("median-max-samples-one", lambda: median_bandwidth(X, max_samples=1), ValueError,
     r"max_samples must be >= 2"),
    ("median-float-seed-subsampled", lambda: median_bandwidth(X, max_samples=5, seed=0.5),
     TypeError, r"seed must be an int"),
    # A bad seed must not depend on the data size to be noticed: with 10 points and the
    # default max_samples=2000 the seed is unused *today*, but the same call on a larger
    # pool would raise, so the argument check belongs at the top (GUIDE, section 8).
    ("median-float-seed-small-pool", lambda: median_bandwidth(X, seed=0.5), TypeError,
     r"seed must be an int"),
    ("seed_everything-float", lambda: seed_everything(1.5), TypeError, r"seed"),
    ("seed_everything-string", lambda: seed_everything("3"), TypeError, r"seed"),
    ("seed_everything-bool", lambda: seed_everything(True), TypeError, r"seed"),
    # A negative int is the right kind with an unacceptable value: ValueError, as for the
    # seed of every other public function (mmd_test, crossfit_log_ratio, median_bandwidth).
    ("seed_everything-negative", lambda: seed_everything(-1), ValueError, r"seed"),
    # ---- flags that need y=None, and the vector of kernel_matvec
    ("kernel_sum-exclude-diag-with-y", lambda: kernel_sum(X, Y, exclude_diagonal=True),
     ValueError, r"exclude_diagonal=True needs y=None"),
    ("kernel_matvec-zero-diag-with-y", lambda: kernel_matvec(X, np.ones(8), Y,
                                                             zero_diagonal=True), ValueError,
     r"zero_diagonal=True needs y=None"),
    ("kernel_matvec-v-wrong-length", lambda: kernel_matvec(X, np.ones(9)), ValueError,
     r"v must have shape \(10,\) or \(10, p\); got \(9,\)"),
    ("kernel_matvec-v-wrong-length-y", lambda: kernel_matvec(X, np.ones(10), Y), ValueError,
     r"v must have shape \(8,\)"),
    ("kernel_matvec-v-3d", lambda: kernel_matvec(X, np.ones((10, 2, 2))), ValueError,
     r"v must have shape"),
    ("kernel_matvec-v-nan", lambda: kernel_matvec(X, _with(np.ones(10), 3, np.nan)), ValueError,
     r"v must be finite"),
]


@pytest.mark.parametrize("thunk, exc, match", [c[1:] for c in BAD_INPUTS],
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input(thunk, exc, match):
    with pytest.raises(exc, match=match):
        thunk()


def test_bad_input_ids_unique():
    ids = [c[0] for c in BAD_INPUTS]
    assert len(ids) == len(set(ids))


# ----------------------------------------------------------------------------- accepted
def test_normalize_true_accepts_counts():
    counts = np.array([[3, 0, 1], [10, 10, 0]])
    p = check_probabilities(counts, normalize=True)
    np.testing.assert_allclose(p.numpy(), counts / counts.sum(1, keepdims=True), rtol=1e-7)
    q = check_probabilities(torch.tensor([2.0, 6.0]), dim=0, normalize=True)
    np.testing.assert_allclose(q.numpy(), [0.25, 0.75])
    # the same counts without normalize=True are refused (see the bad-input table)
    with pytest.raises(ValueError, match="p must sum to 1"):
        check_probabilities(counts)


def test_probabilities_tolerance_depends_on_dtype():
    off = np.array([0.5, 0.5 + 5e-5])  # off by 5e-5: fine in float32 (1e-4), not float64 (1e-6)
    check_probabilities(off.astype(np.float32))
    with pytest.raises(ValueError, match="within 1e-06"):
        check_probabilities(off)
    check_probabilities(off, atol=1e-4)


def test_check_samples_returns_float_tensor():
    t = check_samples(np.arange(6).reshape(3, 2))  # integers -> the default float dtype
    assert t.dtype == torch.get_default_dtype() and t.shape == (3, 2)
    t32 = check_samples(np.ones((2, 2), dtype=np.float32))
    assert t32.dtype == torch.float32
    t64 = check_samples([[1.0, 2.0]])
    assert t64.shape == (1, 2)
    src = torch.ones(2, 2, dtype=torch.float64)
    assert check_samples(src) is src  # no copy of a valid tensor


def test_check_sample_pair_promotes_dtype(device):
    a = torch.ones(3, 2, dtype=torch.float32, device=device)
    b = np.zeros((4, 2), dtype=np.float64)
    ta, tb = check_sample_pair(a, b)
    assert ta.dtype == tb.dtype == torch.float64
    assert ta.device == tb.device == a.device
    ta, tb = check_sample_pair(b, a)
    assert ta.device == tb.device == a.device


def test_check_positive_scalars_forms():
    assert check_positive_scalars(2, "bw") == [2.0]
    assert check_positive_scalars(np.float32(0.5), "bw") == [0.5]
    assert check_positive_scalars([1, 2.5], "bw") == [1.0, 2.5]
    assert check_positive_scalars((0.1,), "bw") == [pytest.approx(0.1)]
    assert check_positive_scalars(np.array([[1.0, 3.0]]), "bw") == [1.0, 3.0]
    assert check_positive_scalars(torch.tensor(4.0), "bw") == [4.0]
    with pytest.raises(TypeError, match="bw must be"):
        check_positive_scalars(None, "bw")


def test_check_choice_int_real():
    assert check_choice("a", "opt", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"opt must be one of \('a', 'b'\); got 'c'"):
        check_choice("c", "opt", ("a", "b"))
    assert check_int(np.int64(7), "k") == 7 and isinstance(check_int(np.int64(7), "k"), int)
    with pytest.raises(TypeError, match="k must be an int"):
        check_int(np.float64(7.0), "k")
    with pytest.raises(ValueError, match="k must be >= 3; got 2"):
        check_int(2, "k", min_value=3)
    assert check_real(torch.tensor(0.25), "r") == 0.25
    assert check_real(1, "r", low=1) == 1.0
    with pytest.raises(ValueError, match="r must be > 1"):
        check_real(1, "r", low=1, low_inclusive=False)
    with pytest.raises(ValueError, match="r must be < 2"):
        check_real(2.0, "r", high=2.0, high_inclusive=False)
    with pytest.raises(ValueError, match="r must be <= 2"):
        check_real(2.5, "r", high=2.0)
    with pytest.raises(ValueError, match="r must be finite"):
        check_real(math.inf, "r")
    with pytest.raises(TypeError, match="r must be a real number"):
        check_real(None, "r")


def test_valid_edge_inputs_accepted():
    """The smallest inputs each estimator documents as valid must not raise."""
    two = np.array([[0.0], [1.0]])
    assert torch.isfinite(mmd2(two, two + 0.5, bandwidth=1.0))
    assert torch.isfinite(mmd2(two, two + 0.5, bandwidth=1.0, estimator="linear"))
    assert float(kernel_sum(two[:1], bandwidth=1.0)) == 1.0
    assert kernel_matrix(two[:1], two[1:], bandwidth=1.0).shape == (1, 1)
    assert float(median_bandwidth(two[:1], two[1:])) == 1.0
    res = mmd_test(two, two + 0.5, n_permutations=1, bandwidth=1.0)
    assert 0 < res.p_value <= 1
    assert tllab.kl_divergence([1.0], [1.0]).item() == 0.0


# ------------------------------------------------ check_batch and check_labels: the shared checks
# of the deep-learning entry points (finetune, adapt, selective, one_vs_rest_logistic).
# Distinctive argument names, so a message that names the wrong argument cannot match.
_BATCH_BAD = [
    ("none", None, {}, TypeError, r"imgs must be an array-like"),
    ("string", "pixels", {}, TypeError, r"imgs must be an array-like"),
    ("dict", {"a": 1}, {}, TypeError, r"imgs must be an array-like"),
    ("ragged", [[1.0, 2.0], [3.0]], {}, TypeError, r"imgs must be a numeric array-like"),
    ("objects", [[object()]], {}, TypeError, r"imgs must be a numeric array-like"),
    ("complex", np.ones((3, 2), dtype=complex), {}, TypeError, r"imgs must be real-valued"),
    ("scalar", 3.0, {}, ValueError, r"imgs must have shape \(n_samples, ...\)"),
    ("1-d", np.ones(5), {}, ValueError, r"imgs must have shape .*got shape \(5,\)"),
    ("empty", np.ones((0, 3)), {}, ValueError, r"imgs must have at least 1 sample.*empty"),
    ("too-few", np.ones((1, 3)), {"min_samples": 2}, ValueError,
     r"imgs must have at least 2 sample\(s\); got 1"),
    ("no-features", np.ones((4, 0)), {}, ValueError, r"imgs must have at least one feature"),
    ("no-pixels", np.ones((4, 3, 0, 2)), {}, ValueError, r"imgs must have at least one feature"),
    ("nan", _with(np.ones((2, 2, 2)), (1, 0, 1), np.nan), {}, ValueError,
     r"imgs must be finite; found 1 NaN and 0 inf"),
    ("inf", torch.full((2, 3), -math.inf), {}, ValueError, r"imgs must be finite"),
]


@pytest.mark.parametrize(("x", "kwargs", "exc", "match"), [c[1:] for c in _BATCH_BAD],
                         ids=[c[0] for c in _BATCH_BAD])
def test_check_batch_refuses(x, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        check_batch(x, "imgs", **kwargs)


def test_check_batch_accepts(device):
    from_list = check_batch([[1, 2], [3, 4], [5, 6]], "imgs")
    assert from_list.shape == (3, 2) and from_list.dtype == torch.get_default_dtype()
    assert from_list.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    images = np.arange(2 * 1 * 3 * 3, dtype=np.uint8).reshape(2, 1, 3, 3)
    t = check_batch(images, "imgs")
    assert t.shape == (2, 1, 3, 3) and t.is_floating_point()
    np.testing.assert_array_equal(t.numpy(), images.astype(np.float64))
    f32 = check_batch(np.ones((2, 3), dtype=np.float32), "imgs")
    assert f32.dtype == torch.float32  # a floating dtype is kept
    src = torch.rand(4, 3, 2, device=device)
    out = check_batch(src, "imgs", min_samples=4)
    assert out.device == src.device and torch.equal(out, src)
    moved = check_batch(images, "imgs", device=device, dtype=torch.float64)
    assert moved.device.type == device.type and moved.dtype == torch.float64


_LABELS_BAD = [
    ("none", None, {}, TypeError, r"labels must be an array-like of class labels"),
    ("string", "0110", {}, TypeError, r"labels must be an array-like of class labels"),
    ("objects", [object(), object()], {}, TypeError, r"labels must be an array-like"),
    ("bool", np.array([True, False, True]), {}, TypeError,
     r"labels must hold integer class labels.*torch.bool"),
    ("bool-tensor", torch.tensor([True, False]), {}, TypeError, r"labels must hold integer"),
    ("complex", np.array([0, 1], dtype=complex), {}, TypeError, r"labels must hold integer"),
    ("scalar", 1, {}, ValueError, r"labels must be 1-D"),
    ("column", np.zeros((3, 1), dtype=int), {}, ValueError,
     r"labels must be 1-D.*\(3, 1\).*reshape\(-1\)"),
    ("2-d", np.zeros((2, 3), dtype=int), {}, ValueError, r"labels must be 1-D"),
    ("too-short", [0, 1], {"n": 3}, ValueError,
     r"labels must have one label per sample of feats: expected shape \(3,\), got \(2,\)"),
    ("too-long", np.zeros(4, dtype=int), {"n": 3}, ValueError, r"labels must have one label"),
    ("fractional", [0.0, 1.5, 1.0], {}, ValueError,
     r"labels must hold integer class labels 0, 1, 2, \.\.\.; got 1.5"),
    ("nan", np.array([0.0, np.nan]), {}, ValueError, r"labels must hold integer class labels"),
    ("inf", torch.tensor([math.inf, 0.0]), {}, ValueError, r"labels must hold integer"),
    ("negative", [0, -2, 1], {}, ValueError,
     r"labels must be non-negative class indices; smallest is -2"),
    ("negative-float", np.array([-1.0, 0.0]), {}, ValueError, r"labels must be non-negative"),
]


@pytest.mark.parametrize(("y", "kwargs", "exc", "match"), [c[1:] for c in _LABELS_BAD],
                         ids=[c[0] for c in _LABELS_BAD])
def test_check_labels_refuses(y, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        check_labels(y, "labels", x_name="feats", **kwargs)


@pytest.mark.parametrize(
    "y",
    [
        [2, 0, 1, 1],
        np.array([2, 0, 1, 1], dtype=np.int32),
        np.array([2, 0, 1, 1], dtype=np.uint8),
        np.array([2.0, 0.0, 1.0, 1.0]),
        np.array([2.0, 0.0, 1.0, 1.0], dtype=np.float32),
        torch.tensor([2, 0, 1, 1], dtype=torch.int16),
    ],
    ids=["list", "int32", "uint8", "float64-integral", "float32-integral", "int16-tensor"],
)
def test_check_labels_accepts(y):
    t = check_labels(y, "labels", 4)
    assert t.dtype == torch.long and t.device.type == "cpu"
    assert t.tolist() == [2, 0, 1, 1]


def test_check_labels_device_and_length(device):
    y = torch.tensor([1.0, 0.0, 3.0], device=device)
    t = check_labels(y, "labels", 3)  # a tensor stays on its device
    assert t.device == y.device and t.dtype == torch.long and t.tolist() == [1, 0, 3]
    moved = check_labels(np.array([1, 0]), "labels", device=device)  # n=None: any length
    assert moved.device.type == device.type and moved.tolist() == [1, 0]
    assert check_labels([], "labels", 0).shape == (0,)  # no labels for no samples


_SEEDS_BAD = [
    ("string", "01", {}, TypeError, r"seeds must be a sequence of ints; got str"),
    ("bare-int", 5, {}, TypeError, r"seeds must be a sequence of ints; got int"),
    ("generator", (s for s in range(2)), {}, TypeError, r"seeds must be a sequence"),
    ("float-entry", [0, 1.0], {}, TypeError, r"seeds must be an int; got 1.0"),
    ("bool-entry", [True], {}, TypeError, r"seeds must be an int"),
    ("negative", [0, -1], {}, ValueError, r"seeds must be >= 0; got -1"),
    ("empty", [], {}, ValueError, r"seeds must not be empty"),
    ("too-few", [3], {"min_count": 2, "why": "a variance needs repetitions"}, ValueError,
     r"seeds must hold at least 2 seeds \(a variance needs repetitions\); got 1"),
]


@pytest.mark.parametrize(("seeds", "kwargs", "exc", "match"), [c[1:] for c in _SEEDS_BAD],
                         ids=[c[0] for c in _SEEDS_BAD])
def test_check_seeds_refuses(seeds, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        check_seeds(seeds, **kwargs)


@pytest.mark.parametrize(
    "seeds",
    [[4, 0, 7], (4, 0, 7), np.array([4, 0, 7]), torch.tensor([4, 0, 7])],
    ids=["list", "tuple", "numpy", "tensor"],
)
def test_check_seeds_accepts(seeds):
    out = check_seeds(seeds, min_count=3)
    assert out == [4, 0, 7] and all(type(s) is int for s in out)
    assert check_seeds(range(3, 6)) == [3, 4, 5]
