"""Kernels, the median bandwidth heuristic, and tiled kernel sums.

Conventions (used everywhere in :mod:`tllab` and in the book):

* Gaussian kernel ``k(x, y) = exp(-||x - y||^2 / (2 sigma^2))`` with ``bandwidth=sigma``.
* Laplacian kernel ``k(x, y) = exp(-||x - y|| / sigma)`` with ``bandwidth=sigma``.
* A list of bandwidths means the *sum* of the kernels (a multi-kernel), so ``k(x, x)``
  equals the number of bandwidths.

The tiled functions never hold a full ``n x m`` matrix: they visit ``block x block``
tiles, so memory is ``O((n + m) * d + block^2)`` whatever the sample sizes.  Their
gradients (first order) are computed in closed form over the same tiles, so the backward
pass needs no more memory than the forward one.

Every distance is formed here, scale-safely: the points are centred on the pooled mean and,
when their magnitude lies outside ``[2^-24, 2^24]``, divided by a power of two ``c`` (and
``σ`` with them) before anything is squared, so float32 data of order 1e20 or 1e-20 (float64:
1e154, 1e-160) give the same kernel values as data of order 1 instead of inf, NaN or zeros.
Dividing by a power of two is exact: ordinary data are computed exactly as without it.
Samples must be float32 or float64; half precision (float16, bfloat16) is refused with a
``TypeError`` (cast with ``x.float()``): it cannot resolve kernel values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ._checks import check_choice, check_int, check_positive_scalars, check_samples
from ._checks import check_sample_pair as _check_pair
from ._scale import pow2_scale

__all__ = [
    "KERNELS",
    "median_bandwidth",
    "resolve_bandwidth",
    "kernel_matrix",
    "kernel_sum",
    "kernel_matvec",
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_BLOCK_SIZE_ACCELERATOR",
]

KERNELS = ("gaussian", "laplacian")
#: Rows and columns of one kernel tile on the CPU (``block_size=None``): a few MB per tile,
#: near the GEMM + exp floor on two cores.
DEFAULT_BLOCK_SIZE = 1024
#: Tile size on an accelerator such as CUDA or MPS, whose GPUs need bigger tiles to be busy.
DEFAULT_BLOCK_SIZE_ACCELERATOR = 4096
_MEDIAN_MAX_SAMPLES = 2000


def median_bandwidth(x, y=None, *, max_samples: int = _MEDIAN_MAX_SAMPLES, seed: int = 0):
    """Median heuristic: the median Euclidean distance between distinct pooled points.

    ``sigma = median{ ||z_i - z_j|| : i < j }`` over the pooled sample ``z = x ∪ y``
    (Gretton et al., 2012), i.e. the median of the *unsquared* distances over distinct
    pairs, the zero self-distances excluded.  With the Gaussian convention above this
    gives ``k = exp(-d^2 / (2 median^2))``.  Pools larger than ``max_samples`` points are
    subsampled without replacement (seeded, so deterministic) to keep the cost bounded;
    the median of 2 000 points' ~2 million distances is accurate to about 1 %.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (m, d), optional
    max_samples : int, default=2000
        Largest pool used exactly; bigger pools are subsampled.
    seed : int, default=0
        Seed of the subsampling.

    Returns
    -------
    torch.Tensor
        0-d tensor on the input's device and dtype.

    Raises
    ------
    ValueError
        When the median is 0 (more than half of the pairs coincide) or not representable
        in the dtype (a float32 sample spread over more than ~1e38); data of any other
        magnitude, e.g. float32 values of order 1e20 or 1e-30, are handled exactly.

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.tensor([[0.0], [1.0], [3.0]])
    >>> float(tllab.median_bandwidth(x))  # distances 1, 3, 2
    2.0
    >>> round(float(tllab.median_bandwidth(x * 1e30)) / 1e30, 5)  # float32, no overflow
    2.0
    """
    if y is None:
        z = check_samples(x, "x", min_samples=2)
    else:
        x, y = _check_pair(x, y, min_samples=1)
        z = torch.cat([x, y])
        if z.shape[0] < 2:
            raise ValueError("x and y together must hold at least 2 samples")
    max_samples = check_int(max_samples, "max_samples", min_value=2)
    seed = check_int(seed, "seed", min_value=0)
    if z.shape[0] > max_samples:
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(z.shape[0], generator=gen)[:max_samples].to(z.device)
        z = z[idx]
    with torch.no_grad():
        zc, _, c = _rescaled(*_centre(z))
        dist = torch.cdist(zc, zc, compute_mode="donot_use_mm_for_euclid_dist")
        iu = torch.triu_indices(z.shape[0], z.shape[0], offset=1, device=z.device)
        med = _median(dist[iu[0], iu[1]])
    if float(med) <= 0:
        raise ValueError(
            "the median pairwise distance is 0 (more than half of the pairs coincide); "
            "pass an explicit positive bandwidth"
        )
    if c != 1.0:
        value = float(med) * c
        med = med * c
        if not 0.0 < float(med) < math.inf:
            raise ValueError(
                f"the median pairwise distance, {value:.3g}, is not representable in "
                f"{z.dtype}; rescale the data, use float64 or pass an explicit bandwidth"
            )
    return med


def _median(v: torch.Tensor) -> torch.Tensor:
    """Median of a 1-D tensor, the mean of the two middle values for an even count.

    ``torch.quantile`` refuses inputs beyond 2**24 elements; ``kthvalue`` has no limit.
    """
    k = v.numel()
    upper = v.kthvalue(k // 2 + 1).values
    if k % 2:
        return upper
    return (v.kthvalue(k // 2).values + upper) / 2


def resolve_bandwidth(bandwidth, x, y=None) -> list[float]:
    """Turn ``"median"``, a number or a list of numbers into a list of positive floats."""
    if isinstance(bandwidth, str):
        check_choice(bandwidth, "bandwidth", ("median",))
        return [float(median_bandwidth(x, y))]
    return check_positive_scalars(bandwidth, "bandwidth")


def _sq_dist_tile(xi, yj, sxi, syj, self_tile: bool = False) -> torch.Tensor:
    """``||x_i - y_j||²`` from centred points and their squared norms (no gradient).

    ``self_tile`` marks a tile on the diagonal of ``x`` against itself, whose diagonal is
    set to exactly 0 (the expansion leaves rounding error there, which the square root of
    the Laplacian kernel would amplify).
    """
    d2 = torch.addmm(syj.unsqueeze(0), xi, yj.T, beta=1.0, alpha=-2.0)
    d2.add_(sxi.unsqueeze(1)).clamp_(min=0.0)
    if self_tile:
        d2.diagonal().zero_()
    return d2


def _rescaled(x, y=None):
    """``(x / c, y / c, c)`` with ``c`` = :func:`~tllab._scale.pow2_scale` of the points.

    ``c = 1`` (nothing divided) for magnitudes in ``[2^-24, 2^24]``; beyond, the points'
    squared norms would overflow or underflow, and dividing by ``c`` (exact) prevents it.
    """
    c = pow2_scale(x, y, name="the samples")
    if c == 1.0:
        return x, y, 1.0
    return x / c, None if y is None else y / c, c


def _factors(kernel: str, bandwidths: Sequence[float], c: float, dtype) -> list[float]:
    """What multiplies the tile's base for each σ, on points divided by ``c``.

    Gaussian ``0.5 / (σ/c)²`` (the base is a squared distance), Laplacian ``1 / (σ/c)`` (a
    distance).  Capped at the dtype's largest number so that a zero distance still gives
    ``k = 1`` rather than ``0 · inf = NaN``; a factor that underflows to 0 gives ``k = 1``,
    which is what ``exp(-d²/(2σ²))`` is to working precision when σ dwarfs the data.
    """
    big = torch.finfo(dtype).max
    num = 1.0 if kernel == "laplacian" else 0.5
    out = []
    for s in bandwidths:
        r = s / c
        den = r if kernel == "laplacian" else r * r
        out.append(min(num / den, big) if den > 0 else big)
    return out


def _kernel_values(base: torch.Tensor, kernel: str, factors: Sequence[float],
                   inplace: bool) -> torch.Tensor:
    """``sum_k exp(-f_k · base)``, overwriting ``base`` when ``inplace`` (one factor).

    ``base`` holds distances for the Laplacian kernel and *squared* distances for the
    Gaussian one; ``factors`` come from :func:`_factors` (``kernel`` only documents which).
    """
    if len(factors) == 1:
        f = factors[0]
        return base.mul_(-f).exp_() if inplace else torch.exp(base * -f)
    out = torch.exp(base * -factors[0])
    for f in factors[1:]:
        out = out + torch.exp(base * -f)
    return out


def _exact_dist_tile(xi, yj) -> torch.Tensor:
    """``||x_i - y_j||`` from explicit differences (no cancellation; slower than a GEMM).

    The Laplacian kernel needs it: the norm expansion leaves an error of about
    ``eps * ||x||²`` in ``d²`` that the square root turns into ``sqrt(eps) * ||x||``
    (~1e-4 in float32) at coincident or nearly coincident points.
    """
    return torch.cdist(xi, yj, compute_mode="donot_use_mm_for_euclid_dist")


def _tile_values(xi, yj, sxi, syj, kernel: str, factors: Sequence[float],
                 self_tile: bool = False) -> torch.Tensor:
    """Kernel values of one tile of rescaled points (see :func:`_rescaled`), no grad."""
    if kernel == "laplacian":
        return _kernel_values(_exact_dist_tile(xi, yj), kernel, factors, inplace=True)
    return _kernel_values(_sq_dist_tile(xi, yj, sxi, syj, self_tile), kernel, factors,
                          inplace=True)


def _tile(xi, yj, sxi, syj, kernel: str, bandwidths: Sequence[float],
          self_tile: bool = False) -> torch.Tensor:
    """Kernel values of one tile from centred points, their squared norms and σ (no grad).

    Points outside the safe range are rescaled first and their norms recomputed, so
    ``sxi``/``syj`` may have overflowed (inf) without harm.
    """
    xs, ys, c = _rescaled(xi, yj)
    if c != 1.0:
        sxi, syj = (xs * xs).sum(1), (ys * ys).sum(1)
    return _tile_values(xs, ys, sxi, syj, kernel, _factors(kernel, bandwidths, c, xi.dtype),
                        self_tile)


def _paired_kernel(a, b, kernel: str, bandwidths: Sequence[float]) -> torch.Tensor:
    """``k(a_i, b_i)`` for each row ``i`` (differentiable; the differences are rescaled)."""
    diff, _, c = _rescaled(a - b)
    base = (diff * diff).sum(1)
    if kernel == "laplacian":
        base = base.sqrt()
    return _kernel_values(base, kernel, _factors(kernel, bandwidths, c, a.dtype), inplace=False)


def log_gaussian_rowsums(x, y=None, *, bandwidth: float, block_size: int | None = None,
                         exclude_diagonal: bool = False) -> torch.Tensor:
    """``log sum_j exp(-||x_i - y_j||^2 / (2 h^2))`` for every row ``i``, tiled and stable.

    The building block of Gaussian kernel density estimates in log space; with
    ``y=None`` and ``exclude_diagonal=True`` it gives leave-one-out sums.  Inputs must be
    validated 2-D tensors of the same dtype and device (internal helper, no grad).
    """
    block = _block(block_size, x.device)
    xc, yc, c = _rescaled(*_centre(x, y))
    yy = xc if yc is None else yc
    sx = (xc * xc).sum(1)
    sy = (yy * yy).sum(1)
    scale = -_factors("gaussian", [bandwidth], c, xc.dtype)[0]
    out = torch.full((xc.shape[0],), -torch.inf, dtype=xc.dtype, device=xc.device)
    with torch.no_grad():
        for i0 in range(0, xc.shape[0], block):
            i1 = min(i0 + block, xc.shape[0])
            for j0 in range(0, yy.shape[0], block):
                j1 = min(j0 + block, yy.shape[0])
                e = _sq_dist_tile(xc[i0:i1], yy[j0:j1], sx[i0:i1], sy[j0:j1]).mul_(scale)
                if exclude_diagonal and y is None and i0 == j0:
                    e.diagonal().fill_(-torch.inf)
                out[i0:i1] = torch.logaddexp(out[i0:i1], torch.logsumexp(e, dim=1))
    return out


def _tile_sum(xi, yj, sxi, syj, kernel, factors, self_tile: bool, drop_diagonal: bool):
    k = _tile_values(xi, yj, sxi, syj, kernel, factors, self_tile)
    s = k.sum()
    if drop_diagonal:
        s = s - k.diagonal().sum()
    return s


def _tile_dk_dd2(xi, yj, sxi, syj, kernel, factors, self_tile: bool) -> torch.Tensor:
    """``G = -dk/d(d²)`` on one tile (≥ 0), so that ``dk/dx_i = -2 G (x_i - y_j)``."""
    if kernel == "gaussian":
        d2 = _sq_dist_tile(xi, yj, sxi, syj, self_tile)
        g = torch.exp(d2 * -factors[0]).mul_(factors[0])
        for c in factors[1:]:
            g.add_(torch.exp(d2 * -c).mul_(c))
        return g
    dist = _exact_dist_tile(xi, yj)
    g = sum(torch.exp(dist * -f).mul_(0.5 * f) for f in factors)
    # The Laplacian kernel is not differentiable at coincident points: use 0 there.
    return torch.where(dist > 0, g / dist.clamp_min(torch.finfo(dist.dtype).tiny), 0.0)


def _tile_ranges(n, m, block, symmetric):
    for i0 in range(0, n, block):
        for j0 in range(i0 if symmetric else 0, m, block):
            yield i0, min(i0 + block, n), j0, min(j0 + block, m)


class _KernelSum(torch.autograd.Function):
    """Tiled ``sum_ij k(x_i, y_j)`` whose backward pass is tiled too (closed-form gradient)."""

    @staticmethod
    def forward(ctx, x, y, kernel, bandwidths, block, exclude_diagonal):
        symmetric = y is None
        x, y, c = _rescaled(x, y)
        factors = _factors(kernel, bandwidths, c, x.dtype)
        yy = x if symmetric else y
        sx = (x * x).sum(1)
        sy = sx if symmetric else (yy * yy).sum(1)
        total = x.new_zeros(())
        for i0, i1, j0, j1 in _tile_ranges(x.shape[0], yy.shape[0], block, symmetric):
            on_diag = symmetric and j0 == i0
            s = _tile_sum(x[i0:i1], yy[j0:j1], sx[i0:i1], sy[j0:j1], kernel, factors,
                          on_diag, on_diag and exclude_diagonal)
            total += s if (on_diag or not symmetric) else 2.0 * s
        ctx.save_for_backward(x, yy)
        ctx.config = (symmetric, kernel, factors, block, c)
        return total

    @staticmethod
    def backward(ctx, grad_out):
        x, yy = ctx.saved_tensors
        symmetric, kernel, factors, block, c = ctx.config
        need_x = ctx.needs_input_grad[0]
        need_y = (not symmetric) and ctx.needs_input_grad[1]
        sx = (x * x).sum(1)
        sy = sx if symmetric else (yy * yy).sum(1)
        gx = torch.zeros_like(x) if need_x else None
        gy = torch.zeros_like(yy) if need_y else None
        # In the symmetric sum each unordered pair {i, j} appears twice.
        fx = 4.0 if symmetric else 2.0
        for i0, i1, j0, j1 in _tile_ranges(x.shape[0], yy.shape[0], block, symmetric):
            xi, yj = x[i0:i1], yy[j0:j1]
            g = _tile_dk_dd2(xi, yj, sx[i0:i1], sy[j0:j1], kernel, factors,
                             symmetric and j0 == i0)
            if gx is not None:
                gx[i0:i1] -= fx * (xi * g.sum(1, keepdim=True) - g @ yj)
                if symmetric and j0 != i0:
                    gx[j0:j1] -= fx * (yj * g.sum(0).unsqueeze(1) - g.T @ xi)
            if gy is not None:
                gy[j0:j1] -= 2.0 * (yj * g.sum(0).unsqueeze(1) - g.T @ xi)
        # The sums depend on the inputs through x / c: d/dx = (1/c) d/d(x/c).
        gx = None if gx is None else gx * grad_out
        gy = None if gy is None else gy * grad_out
        if c != 1.0:
            gx = None if gx is None else gx / c
            gy = None if gy is None else gy / c
        return gx, gy, None, None, None, None


def _centre(x, y=None):
    """Centre on the pooled mean: distances are unchanged, float32 cancellation shrinks.

    The mean is taken of the rescaled pool (:func:`~tllab._scale.pow2_scale`), so that it
    cannot overflow.
    """
    with torch.no_grad():
        z = x if y is None else torch.cat([x, y])
        c = pow2_scale(z, name="the samples")
        mu = z.mean(0) if c == 1.0 else (z / c).mean(0) * c
    return (x - mu, None) if y is None else (x - mu, y - mu)


def _block(block_size, device: torch.device | None = None) -> int:
    """The tile edge: ``block_size`` if given, else a default suited to the device."""
    if block_size is None:
        on_accelerator = device is not None and torch.device(device).type != "cpu"
        return DEFAULT_BLOCK_SIZE_ACCELERATOR if on_accelerator else DEFAULT_BLOCK_SIZE
    return check_int(block_size, "block_size", min_value=1)


def _kernel_sum_centred(x, y, kernel, bandwidths, block, exclude_diagonal):
    return _KernelSum.apply(x, y, kernel, tuple(bandwidths), block, exclude_diagonal)


def kernel_sum(
    x,
    y=None,
    *,
    kernel: str = "gaussian",
    bandwidth=1.0,
    block_size: int | None = None,
    exclude_diagonal: bool = False,
) -> torch.Tensor:
    """Sum of ``k(x_i, y_j)`` over all pairs, computed tile by tile.

    With ``y=None`` the sum runs over ``x`` against itself, using symmetry to visit only
    half of the tiles; ``exclude_diagonal=True`` then drops the ``i = j`` terms.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (m, d), optional
    kernel : {"gaussian", "laplacian"}, default="gaussian"
    bandwidth : float, list of float or "median", default=1.0
    block_size : int, optional
        Tile edge; memory is ``O(block_size^2)`` beyond the inputs.
    exclude_diagonal : bool, default=False
        Only with ``y=None``.

    Returns
    -------
    torch.Tensor
        0-d tensor, differentiable with respect to the inputs.

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.zeros(3, 2)
    >>> float(tllab.kernel_sum(x, exclude_diagonal=True))  # 6 off-diagonal pairs, k = 1
    6.0
    """
    kernel = check_choice(kernel, "kernel", KERNELS)
    if y is None:
        x = check_samples(x, "x")
    else:
        if exclude_diagonal:
            raise ValueError("exclude_diagonal=True needs y=None (a sum of x against itself)")
        x, y = _check_pair(x, y)
    bandwidths = resolve_bandwidth(bandwidth, x, y)
    xc, yc = _centre(x, y)
    return _kernel_sum_centred(xc, yc, kernel, bandwidths, _block(block_size, x.device),
                               exclude_diagonal)


def _kernel_matvec_centred(x, y, v, kernel, bandwidths, block, zero_diagonal):
    symmetric = y is None
    x, y, c = _rescaled(x, y)
    factors = _factors(kernel, bandwidths, c, x.dtype)
    yy = x if symmetric else y
    sx = (x * x).sum(1)
    sy = sx if symmetric else (yy * yy).sum(1)
    out = v.new_zeros((x.shape[0],) + tuple(v.shape[1:]))
    n, m = x.shape[0], yy.shape[0]
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        for j0 in range(i0 if symmetric else 0, m, block):
            j1 = min(j0 + block, m)
            on_diag = symmetric and j0 == i0
            k = _tile_values(x[i0:i1], yy[j0:j1], sx[i0:i1], sy[j0:j1], kernel, factors,
                             on_diag)
            if on_diag:
                if zero_diagonal:
                    k.diagonal().zero_()
                out[i0:i1] += k @ v[i0:i1]
            elif symmetric:
                out[i0:i1] += k @ v[j0:j1]
                out[j0:j1] += k.T @ v[i0:i1]
            else:
                out[i0:i1] += k @ v[j0:j1]
    return out


@torch.no_grad()
def kernel_matvec(
    x,
    v,
    y=None,
    *,
    kernel: str = "gaussian",
    bandwidth=1.0,
    block_size: int | None = None,
    zero_diagonal: bool = False,
) -> torch.Tensor:
    """Product ``K(x, y) @ v`` without forming ``K`` (tiled; no gradients).

    Parameters
    ----------
    x : array-like of shape (n, d)
    v : array-like of shape (m,) or (m, p)
        ``m`` is the number of rows of ``y`` (of ``x`` when ``y`` is None).
    y : array-like of shape (m, d), optional
    kernel, bandwidth, block_size
        As in :func:`kernel_sum`.
    zero_diagonal : bool, default=False
        With ``y=None``, use ``K - diag(K)``.

    Returns
    -------
    torch.Tensor of shape (n,) or (n, p)

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.zeros(3, 1)
    >>> tllab.kernel_matvec(x, torch.ones(3)).tolist()
    [3.0, 3.0, 3.0]
    """
    kernel = check_choice(kernel, "kernel", KERNELS)
    if y is None:
        x = check_samples(x, "x")
        m = x.shape[0]
    else:
        if zero_diagonal:
            raise ValueError("zero_diagonal=True needs y=None (K of x against itself)")
        x, y = _check_pair(x, y)
        m = y.shape[0]
    if not isinstance(v, torch.Tensor):
        v = torch.as_tensor(v)
    v = v.to(device=x.device, dtype=x.dtype)
    if v.ndim not in (1, 2) or v.shape[0] != m:
        raise ValueError(f"v must have shape ({m},) or ({m}, p); got {tuple(v.shape)}")
    if not bool(torch.isfinite(v).all()):
        raise ValueError("v must be finite")
    bandwidths = resolve_bandwidth(bandwidth, x, y)
    xc, yc = _centre(x, y)
    vec = v.ndim == 1
    out = _kernel_matvec_centred(
        xc, yc, v.unsqueeze(1) if vec else v, kernel, bandwidths, _block(block_size, x.device),
        zero_diagonal
    )
    return out.squeeze(1) if vec else out


def kernel_matrix(x, y=None, *, kernel: str = "gaussian", bandwidth=1.0) -> torch.Tensor:
    """The full kernel matrix ``K[i, j] = k(x_i, y_j)``: for small samples and figures.

    Memory is ``n x m``; use :func:`kernel_sum` or :func:`kernel_matvec` for large samples.

    Examples
    --------
    >>> import torch, tllab
    >>> K = tllab.kernel_matrix(torch.tensor([[0.0], [1.0]]), bandwidth=1.0)
    >>> round(float(K[0, 1]), 4)  # exp(-1/2)
    0.6065
    """
    kernel = check_choice(kernel, "kernel", KERNELS)
    if y is None:
        x = check_samples(x, "x")
    else:
        x, y = _check_pair(x, y)
    bandwidths = resolve_bandwidth(bandwidth, x, y)
    xc, yc = _centre(x, y)
    if yc is None:
        yc = xc
    if torch.is_grad_enabled() and (xc.requires_grad or yc.requires_grad):
        xc, yc, c = _rescaled(xc, yc)
        factors = _factors(kernel, bandwidths, c, xc.dtype)
        d2 = ((xc.unsqueeze(1) - yc.unsqueeze(0)) ** 2).sum(-1)
        if kernel == "laplacian":  # a finite (zero) gradient at coincident points
            dist = torch.where(d2 > 0, torch.where(d2 > 0, d2, 1.0).sqrt(), 0.0)
            return _kernel_values(dist, kernel, factors, inplace=False)
        return _kernel_values(d2, kernel, factors, inplace=False)
    return _tile(xc, yc, (xc * xc).sum(1), (yc * yc).sum(1), kernel, bandwidths, y is None)
