"""Divergences between distributions: KL, Jensen–Shannon, MMD and the proxy A-distance.

Probability-vector divergences (:func:`~tllab.kl_divergence`,
:func:`~tllab.js_divergence`) work on batches along ``dim``.  Sample-based ones take
two samples of shape ``(n, d)`` and ``(m, d)``; the sizes may differ.  MMD uses the
kernel conventions of :mod:`tllab.kernels` and never builds an ``n x m`` matrix.  Inputs are
float32 or float64 of any magnitude (distances are formed scale-safely, see
:mod:`tllab.kernels`), so the normalised divergences, the MMD test with the median bandwidth
and the proxy A-distance do not depend on the unit of the data.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._checks import (
    check_choice,
    check_int,
    check_positive_scalars,
    check_probabilities,
    check_real,
    check_sample_pair,
)
from ._scale import pow2_scale
from .classifier import crossfit_log_ratio
from .kernels import (
    KERNELS,
    _block,
    _centre,
    _kernel_matvec_centred,
    _kernel_sum_centred,
    _paired_kernel,
    log_gaussian_rowsums,
    resolve_bandwidth,
)

__all__ = [
    "kl_divergence",
    "js_divergence",
    "js_divergence_samples",
    "mmd2",
    "mmd_test",
    "MMDTestResult",
    "proxy_a_distance",
    "MMD_ESTIMATORS",
    "JS_METHODS",
]

MMD_ESTIMATORS = ("unbiased", "biased", "linear")
JS_METHODS = ("histogram", "kde", "classifier")
_LN2 = math.log(2.0)


def _check_prob_pair(p, q, dim, normalize):
    p_in, q_in = p, q
    p = check_probabilities(p, "p", dim=dim, normalize=normalize)
    q = check_probabilities(q, "q", dim=dim, normalize=normalize)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape; got {tuple(p.shape)} and "
                         f"{tuple(q.shape)}")
    if p.device != q.device:  # an array-like follows the tensor's device
        if not isinstance(q_in, torch.Tensor):
            q = q.to(p.device)
        elif not isinstance(p_in, torch.Tensor):
            p = p.to(q.device)
        else:
            raise ValueError(
                f"p and q must be on the same device; got {p.device} and {q.device}")
    dtype = torch.promote_types(p.dtype, q.dtype)
    return p.to(dtype), q.to(dtype)


def _log_base(base):
    if base is None:
        return 1.0
    base = check_real(base, "base", low=0.0, low_inclusive=False)
    if base == 1.0:
        raise ValueError("base must be positive and different from 1; got 1.0")
    return math.log(base)


def kl_divergence(p, q, dim: int = -1, *, base: float | None = None,
                  normalize: bool = False) -> torch.Tensor:
    """Kullback–Leibler divergence ``KL(p || q) = sum_i p_i log(p_i / q_i)``.

    Terms with ``p_i = 0`` contribute 0; a term with ``p_i > 0`` and ``q_i = 0`` makes the
    divergence ``+inf`` (the true value, returned as such rather than NaN).

    Parameters
    ----------
    p, q : array-like
        Probability vectors along ``dim`` (same shape; other dimensions are a batch).
        Entries must be finite and non-negative and sum to 1, unless ``normalize=True``
        (then each vector is divided by its sum).
    dim : int, default=-1
    base : float, optional
        Logarithm base; natural log (nats) by default, ``base=2`` gives bits.
    normalize : bool, default=False

    Returns
    -------
    torch.Tensor
        Shape of ``p`` without ``dim``; on the input's device.

    Examples
    --------
    >>> import tllab
    >>> round(float(tllab.kl_divergence([0.5, 0.5], [0.9, 0.1])), 4)
    0.5108
    """
    p, q = _check_prob_pair(p, q, dim, normalize)
    scale = _log_base(base)
    terms = torch.xlogy(p, p) - torch.xlogy(p, q)
    terms = torch.where((p > 0) & (q == 0), torch.full_like(terms, torch.inf), terms)
    return terms.sum(dim) / scale


def js_divergence(p, q, dim: int = -1, base: float | None = None, *,
                  normalize: bool = False) -> torch.Tensor:
    """Jensen–Shannon divergence ``JS(p, q) = ½ KL(p || m) + ½ KL(q || m)``, ``m = (p+q)/2``.

    This is the divergence, not the distance: it equals
    ``scipy.spatial.distance.jensenshannon(p, q) ** 2``.  It is symmetric, always finite,
    zero exactly when ``p = q``, and at most ``ln 2`` (at most 1 with ``base=2``).

    Parameters
    ----------
    p, q : array-like
        Probability vectors along ``dim``; see :func:`kl_divergence` for the checks.
    dim : int, default=-1
    base : float, optional
        Logarithm base; natural log by default.
    normalize : bool, default=False
        Divide each vector by its sum first (to pass counts).

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> import tllab
    >>> round(float(tllab.js_divergence([0.2, 0.3, 0.5], [0.1, 0.4, 0.5])), 5)
    0.01208
    """
    p, q = _check_prob_pair(p, q, dim, normalize)
    scale = _log_base(base)
    m = 0.5 * (p + q)
    js = 0.5 * (torch.xlogy(p, p) - torch.xlogy(p, m) + torch.xlogy(q, q) - torch.xlogy(q, m))
    return js.sum(dim).clamp_min(0.0) / scale


def _hist_js(x, y, bins):
    d = x.shape[1]
    if bins ** d > 10**7:
        raise ValueError(
            f"method='histogram' with bins={bins} in d={d} dimensions needs {bins}^{d} cells; "
            "use fewer bins, method='kde' or method='classifier'"
        )
    z = torch.cat([x, y])
    lo, hi = z.min(0).values, z.max(0).values
    width = torch.where(hi > lo, (hi - lo) / bins, torch.ones_like(hi))

    def cell(s):
        idx = ((s - lo) / width).floor().long().clamp_(0, bins - 1)
        strides = bins ** torch.arange(d - 1, -1, -1, device=s.device)
        return (idx * strides).sum(1)

    cx = torch.bincount(cell(x), minlength=bins ** d).to(x.dtype)
    cy = torch.bincount(cell(y), minlength=bins ** d).to(x.dtype)
    keep = (cx + cy) > 0
    return js_divergence(cx[keep] / x.shape[0], cy[keep] / y.shape[0])


def _js_from_log_ratio(lx, ly):
    """JS from ``log p/q`` at the points of p (lx) and of q (ly): ln 2 − ½E_p[…] − ½E_q[…]."""
    return (_LN2 - 0.5 * torch.nn.functional.softplus(-lx).mean()
            - 0.5 * torch.nn.functional.softplus(ly).mean())


def _scott_bandwidth(x, y) -> float:
    """Scott's rule on the pooled sample: mean feature sd times ``(n + m)^(-1/(d + 4))``."""
    n, d = x.shape[0] + y.shape[0], x.shape[1]
    z = torch.cat([x, y])
    c = pow2_scale(z, name="x and y")  # so that the squares inside std cannot overflow
    pooled_sd = z.std(0).mean() if c == 1.0 else (z / c).std(0).mean() * c
    return float(pooled_sd) * n ** (-1.0 / (d + 4))


def _kde_js(x, y, bandwidth, block_size):
    n, m = x.shape[0], y.shape[0]
    if bandwidth is None:
        h = _scott_bandwidth(x, y)
        if h <= 0:
            raise ValueError("the pooled sample has zero spread; pass an explicit bandwidth")
    else:
        h = check_positive_scalars(bandwidth, "bandwidth")
        if len(h) != 1:
            raise ValueError("method='kde' takes one bandwidth; got a list")
        h = h[0]
    kw = dict(bandwidth=h, block_size=block_size)
    # The Gaussian normalising constants cancel in p / q because both KDEs share h.
    lpx = log_gaussian_rowsums(x, exclude_diagonal=True, **kw) - math.log(n - 1)
    lqx = log_gaussian_rowsums(x, y, **kw) - math.log(m)
    lqy = log_gaussian_rowsums(y, exclude_diagonal=True, **kw) - math.log(m - 1)
    lpy = log_gaussian_rowsums(y, x, **kw) - math.log(n)
    lx, ly = lpx - lqx, lpy - lqy
    if not (bool(torch.isfinite(lx).all()) and bool(torch.isfinite(ly).all())):
        raise ValueError(
            f"KDE bandwidth {h:.3g} is too small for these samples (a density underflowed "
            "to zero); pass a larger bandwidth"
        )
    return _js_from_log_ratio(lx, ly)


def js_divergence_samples(
    x,
    y,
    method: str = "kde",
    *,
    bins: int = 20,
    bandwidth: float | None = None,
    model: str = "logistic",
    weight_decay: float = 1e-3,
    n_folds: int = 2,
    seed: int = 0,
    block_size: int | None = None,
) -> torch.Tensor:
    """Estimate the Jensen–Shannon divergence (natural log) between the laws of two samples.

    No estimator is unbiased; each errs in a known direction:

    * ``"histogram"``: bins the pooled range into ``bins`` equal cells per feature and
      applies :func:`js_divergence` to the two histograms.  Binning can only *lower* the
      divergence (data-processing inequality), while sampling noise *raises* it: two
      samples of one law still get a positive value that shrinks roughly like
      ``cells / (n + m)``.  Practical for ``d <= 3``.
    * ``"kde"`` (default): Gaussian kernel density estimates with a shared bandwidth
      (Scott's rule on the pooled sample unless given), evaluated leave-one-out at the
      sample points: ``JS = ln 2 - ½ mean_x log(1 + q/p) - ½ mean_y log(1 + p/q)``.
      Smoothing biases towards 0; noise in the density ratio biases upwards at small
      ``n``; the curse of dimension makes it unreliable beyond a handful of features.
    * ``"classifier"``: a class-balanced domain classifier (:mod:`tllab.classifier`)
      estimates ``log p/q``; evaluated out-of-fold, the same formula gives a *lower*
      bound in expectation (any classifier short of Bayes-optimal under-estimates JS),
      so it can even be negative when the samples are indistinguishable.  Scales to many
      features, but with few points per feature an over-fitted classifier scores the
      held-out folds worse than chance and the estimate falls well below 0 (e.g. about
      -0.25 for two samples of 200 points in 64 dimensions): raise ``weight_decay``.

    Parameters
    ----------
    x, y : array-like of shape (n, d) and (m, d)
    method : {"kde", "histogram", "classifier"}, default="kde"
    bins : int, default=20
        Cells per feature for ``"histogram"``.
    bandwidth : float, optional
        KDE bandwidth for ``"kde"``; Scott's rule when None.
    model : {"logistic", "mlp"}, default="logistic"
        Classifier for ``"classifier"``.
    weight_decay : float, default=1e-3
        L2 penalty of that classifier (see :func:`fit_domain_classifier`).
    n_folds : int, default=2
        Cross-fitting folds for ``"classifier"``.
    seed : int, default=0
    block_size : int, optional
        Tile edge for ``"kde"``.

    Returns
    -------
    torch.Tensor
        0-d tensor in nats (``<= ln 2`` up to estimation error).

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(500, 1, generator=g); y = torch.randn(500, 1, generator=g) + 3
    >>> 0.5 < float(tllab.js_divergence_samples(x, y)) <= 0.7
    True
    """
    method = check_choice(method, "method", JS_METHODS)
    x, y = check_sample_pair(x, y, min_samples=2)
    with torch.no_grad():
        if method == "histogram":
            return _hist_js(x, y, check_int(bins, "bins", min_value=1))
        if method == "kde":
            return _kde_js(x, y, bandwidth, block_size)
        lx, ly = crossfit_log_ratio(x, y, n_folds=n_folds, seed=seed, model=model,
                                    weight_decay=weight_decay)
        return _js_from_log_ratio(lx, ly)


def _mmd_linear(x, y, kernel, bandwidths):
    """Linear-time unbiased MMD² for any n, m >= 2 (rows assumed in random order)."""
    n, m = x.shape[0], y.shape[0]
    hx, hy = 2 * (n // 2), 2 * (m // 2)
    kxx = _paired_kernel(x[0:hx:2], x[1:hx:2], kernel, bandwidths).mean()
    kyy = _paired_kernel(y[0:hy:2], y[1:hy:2], kernel, bandwidths).mean()
    idx = torch.arange(max(n, m), device=x.device)
    kxy = _paired_kernel(x[idx % n], y[idx % m], kernel, bandwidths).mean()
    return kxx + kyy - 2 * kxy


def mmd2(
    x,
    y,
    kernel: str = "gaussian",
    bandwidth="median",
    estimator: str = "unbiased",
    block_size: int | None = None,
) -> torch.Tensor:
    r"""Squared maximum mean discrepancy between the laws of ``x`` and ``y``.

    ``MMD² = E k(x, x') + E k(y, y') - 2 E k(x, y)`` for the kernel ``k``
    (Gretton et al., 2012).  Three estimators:

    * ``"unbiased"`` (U-statistic): ``1/(n(n-1)) sum_{i!=j} k(x_i,x_j) + 1/(m(m-1))
      sum_{i!=j} k(y_i,y_j) - 2/(nm) sum_{i,j} k(x_i,y_j)``.  Its mean is exactly MMD²,
      so when the laws are equal it is **negative about half of the time**; a small
      negative value means "no evidence of a difference", not an error.
    * ``"biased"`` (V-statistic): the same with the diagonals kept and ``1/n²``, ``1/m²``;
      always ``>= 0``, biased upwards by ``O(1/n + 1/m)``.
    * ``"linear"``: ``mean_i k(x_{2i}, x_{2i+1}) + mean_j k(y_{2j}, y_{2j+1}) - 2 mean_l
      k(x_{l mod n}, y_{l mod m})``: unbiased, ``O((n+m) d)`` time, larger variance; it
      assumes the rows are in random order.

    The quadratic estimators visit ``block_size x block_size`` tiles (memory
    ``O((n + m) d + block²)``, never ``n x m``) and are differentiable, so ``mmd2`` can
    serve as a training loss.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (m, d)
        ``m`` may differ from ``n``.  Both need at least 2 rows.
    kernel : {"gaussian", "laplacian"}, default="gaussian"
        Gaussian ``exp(-||x-y||² / (2σ²))`` or Laplacian ``exp(-||x-y|| / σ)``.
    bandwidth : "median", float or list of float, default="median"
        σ; a list sums the kernels; ``"median"`` uses :func:`median_bandwidth` on the
        pooled sample (computed without gradient).
    estimator : {"unbiased", "biased", "linear"}, default="unbiased"
    block_size : int, optional
        Tile edge (default :data:`tllab.kernels.DEFAULT_BLOCK_SIZE`).

    Returns
    -------
    torch.Tensor
        0-d tensor on the input's device and dtype.

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(300, 2, generator=g); y = torch.randn(200, 2, generator=g) + 1
    >>> float(tllab.mmd2(x, y, bandwidth=1.0)) > 0.1
    True
    """
    kernel = check_choice(kernel, "kernel", KERNELS)
    estimator = check_choice(estimator, "estimator", MMD_ESTIMATORS)
    x, y = check_sample_pair(x, y, min_samples=2)
    block = _block(block_size, x.device)
    bandwidths = resolve_bandwidth(bandwidth, x.detach(), y.detach())
    if estimator == "linear":
        return _mmd_linear(x, y, kernel, bandwidths)
    n, m = x.shape[0], y.shape[0]
    xc, yc = _centre(x, y)
    unbiased = estimator == "unbiased"
    kxx = _kernel_sum_centred(xc, None, kernel, bandwidths, block, unbiased)
    kyy = _kernel_sum_centred(yc, None, kernel, bandwidths, block, unbiased)
    kxy = _kernel_sum_centred(xc, yc, kernel, bandwidths, block, False)
    if unbiased:
        return kxx / (n * (n - 1)) + kyy / (m * (m - 1)) - 2 * kxy / (n * m)
    return kxx / n**2 + kyy / m**2 - 2 * kxy / (n * m)


class MMDTestResult(NamedTuple):
    """Outcome of :func:`mmd_test`."""

    statistic: torch.Tensor
    """The MMD² estimate on the observed split (0-d tensor)."""
    p_value: float
    """``(1 + #{null >= statistic}) / (1 + n_permutations)``; never 0."""
    null: torch.Tensor
    """The statistic under each random relabelling, shape ``(n_permutations,)``."""
    bandwidth: list
    """The bandwidth(s) used."""


def _labels_matrix(n, m, n_permutations, seed, device, dtype):
    """Column 0: the observed labels; then one random relabelling per column."""
    total = n + m
    gen = torch.Generator().manual_seed(seed)
    perms = torch.rand(n_permutations, total, generator=gen).argsort(dim=1)
    a = torch.zeros(n_permutations + 1, total, dtype=dtype)
    a[0, :n] = 1
    a[1:] = (perms < n).to(dtype)
    return a.T.contiguous().to(device)


def mmd_test(
    x,
    y,
    n_permutations: int = 500,
    seed: int = 0,
    *,
    kernel: str = "gaussian",
    bandwidth="median",
    estimator: str = "unbiased",
    block_size: int | None = None,
    batch_size: int = 256,
) -> MMDTestResult:
    """Permutation two-sample test of ``H0: law(x) = law(y)`` with the MMD² statistic.

    The pooled sample's labels are shuffled ``n_permutations`` times; each relabelling
    gives one draw of the statistic under ``H0``.  The p-value counts the observed
    statistic as one of the draws, ``p = (1 + #{null >= observed}) / (1 + P)``, so it is
    never 0 and the test is exact (its size is at most the level) for any ``P``.

    Permutations are batched on the device: the kernel tiles of the pooled sample are
    computed once per batch of ``batch_size`` relabellings and multiplied by the batch's
    label matrix, so memory is ``O((n + m) * batch_size + block²)``.

    Parameters
    ----------
    x, y : array-like of shape (n, d) and (m, d)
    n_permutations : int, default=500
        At least 1.
    seed : int, default=0
        Seed of the relabellings (deterministic on every device).
    kernel, bandwidth, estimator, block_size
        As in :func:`mmd2` (``estimator`` is ``"unbiased"`` or ``"biased"``).  The median
        bandwidth is computed once on the pooled sample, which relabelling leaves
        unchanged.
    batch_size : int, default=256
        Relabellings per pass over the kernel tiles.

    Returns
    -------
    MMDTestResult
        ``statistic``, ``p_value``, ``null`` and ``bandwidth``.

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(100, 2, generator=g); y = torch.randn(100, 2, generator=g) + 1
    >>> tllab.mmd_test(x, y, n_permutations=99).p_value
    0.01
    """
    kernel = check_choice(kernel, "kernel", KERNELS)
    estimator = check_choice(estimator, "estimator", ("unbiased", "biased"))
    n_permutations = check_int(n_permutations, "n_permutations", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    x, y = check_sample_pair(x, y, min_samples=2)
    x, y = x.detach(), y.detach()
    bandwidths = resolve_bandwidth(bandwidth, x, y)
    n, m = x.shape[0], y.shape[0]
    block = _block(block_size, x.device)
    z, _ = _centre(torch.cat([x, y]))
    labels = _labels_matrix(n, m, n_permutations, seed, z.device, z.dtype)
    kappa = float(len(bandwidths))  # k(z, z) for these stationary kernels
    with torch.no_grad():
        row_sums = _kernel_matvec_centred(z, None, z.new_ones(n + m, 1), kernel, bandwidths,
                                          block, True).squeeze(1)
        total = row_sums.sum()
        stats = []
        for c0 in range(0, n_permutations + 1, batch_size):
            a = labels[:, c0:c0 + batch_size]
            ka = _kernel_matvec_centred(z, None, a, kernel, bandwidths, block, True)
            s_aa = (a * ka).sum(0)                 # sum_{i != j} a_i a_j k_ij
            a_r = (a * row_sums.unsqueeze(1)).sum(0)
            s_ab = a_r - s_aa                      # sum_{i, j} a_i b_j k_ij
            s_bb = total - 2 * a_r + s_aa          # sum_{i != j} b_i b_j k_ij
            if estimator == "unbiased":
                st = s_aa / (n * (n - 1)) + s_bb / (m * (m - 1)) - 2 * s_ab / (n * m)
            else:
                st = (s_aa + n * kappa) / n**2 + (s_bb + m * kappa) / m**2 - 2 * s_ab / (n * m)
            stats.append(st)
        stats = torch.cat(stats)
    if not bool(torch.isfinite(stats).all()):
        raise ValueError(
            f"the MMD statistic of x and y is not finite ({int((~torch.isfinite(stats)).sum())} "
            "of the observed and permuted values); refusing to compute a p-value from it"
        )
    observed, null = stats[0], stats[1:]
    # Relabellings equal to the observed split must count as ">=" despite rounding.
    tol = 64 * torch.finfo(z.dtype).eps * max(1.0, float(stats.abs().max()))
    exceed = int((null >= observed - tol).sum())
    p_value = (1 + exceed) / (1 + n_permutations)
    return MMDTestResult(observed, p_value, null, bandwidths)


def proxy_a_distance(x, y, *, model: str = "logistic", n_folds: int = 2, seed: int = 0,
                     **classifier_kwargs) -> float:
    """Proxy A-distance ``2 (1 - 2 ε)`` (Ben-David et al., 2007) from a domain classifier.

    ``ε`` is the *balanced* out-of-fold error of a classifier telling ``x`` from ``y``
    (each point scored by a model that did not see it; the two domains weigh equally, so
    unequal sample sizes do not shift it).  About 2 means perfectly separable domains,
    about 0 indistinguishable ones; small negative values are estimation noise.

    Parameters
    ----------
    x, y : array-like of shape (n, d) and (m, d)
    model : {"logistic", "mlp"}, default="logistic"
    n_folds : int, default=2
    seed : int, default=0
    **classifier_kwargs
        Passed to :func:`tllab.fit_domain_classifier`.

    Returns
    -------
    float

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.randn(200, 2); y = torch.randn(200, 2) + 10
    >>> tllab.proxy_a_distance(x, y)
    2.0
    """
    lx, ly = crossfit_log_ratio(x, y, n_folds=n_folds, seed=seed, model=model,
                                **classifier_kwargs)
    err = 0.5 * (float((lx < 0).double().mean()) + float((ly >= 0).double().mean()))
    return 2.0 * (1.0 - 2.0 * err)
