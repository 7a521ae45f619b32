r"""Transfer component analysis (Pan, Tsang, Kwok & Yang, 2011), exact and with landmarks.

TCA looks for ``k`` directions in a kernel feature space along which the source and target
means coincide while the pooled data keep their variance.  With the kernel matrix ``K`` of the
pooled sample ``Z = [x_s; x_t]`` (``N = n + m`` points), ``L = e eᵀ`` with ``e_i = 1/n`` on
source points and ``-1/m`` on target points (so ``tr(Wᵀ K L K W)`` is the squared MMD of the
embedded domains), and the centring matrix ``H = I - 11ᵀ/N``, it solves

``min_W  tr(Wᵀ K L K W) + μ tr(Wᵀ W)   s.t.   Wᵀ K H K W = I``,

i.e. ``W`` holds the ``k`` leading generalised eigenvectors of ``(K H K, K L K + μ I)``.  The
embedding of a point ``x`` is ``k(x, Z) W``.

Two solvers:

* **exact** (``n_landmarks=None``): the ``N x N`` problem, ``O(N²)`` memory and ``O(N³)``
  time; for up to a few thousand points.  ``K L K + μ I`` is a rank-one update of ``μ I``, so
  the problem becomes one symmetric eigendecomposition.
* **landmarks** (``n_landmarks=r``): the Nyström approximation ``K ≈ Φ Φᵀ`` with
  ``Φ = K(Z, landmarks) K(landmarks, landmarks)^{-1/2}`` (``N x r``, ``r`` landmarks drawn
  at random from both domains in proportion to their sizes).  TCA with a kernel ``Φ Φᵀ`` is
  *exactly* an ``r x r`` generalised eigenproblem in the feature space (the minimum-norm
  ``W = Φ (ΦᵀΦ)^{-1} P``), whose matrices are accumulated tile by tile: ``O(N r d + N r²)``
  time and ``O(r² + block · r)`` memory, never ``N x N``.  Use it beyond ~3 000 points or
  whenever ``N²`` floats do not fit; a few hundred landmarks usually give the exact
  embedding's accuracy (see the tests and the benchmark).

The linear kernel ``k(x, y) = (x - z̄)·(y - z̄)`` (``z̄`` the pooled mean) has the explicit
feature map ``x - z̄``, so it is always solved exactly by the ``d x d`` feature-space problem,
for any ``N``.
"""

from __future__ import annotations

import math

import torch

from .._checks import check_choice, check_int, check_real
from ..kernels import _block, _tile, kernel_matvec, resolve_bandwidth
from ._common import FittedAligner, check_n_components

__all__ = ["TCA", "TCA_KERNELS", "EXACT_MAX_SAMPLES"]

TCA_KERNELS = ("linear", "gaussian")
#: Largest pooled sample ``N = n + m`` the exact Gaussian solver accepts (about 1 GB of
#: float64 ``N x N`` matrices and minutes of ``O(N³)`` work on two cores).
EXACT_MAX_SAMPLES = 6000
_RTOL = 1e-10


def _domain_vector(n: int, m: int, device) -> torch.Tensor:
    """``e``: ``1/n`` on the source points, ``-1/m`` on the target points (float64)."""
    return torch.cat([torch.full((n,), 1.0 / n, dtype=torch.float64, device=device),
                      torch.full((m,), -1.0 / m, dtype=torch.float64, device=device)])


def _feature_space_solve(g, s1, se, n_total: int, mu: float, k: int) -> torch.Tensor:
    r"""TCA for an explicit feature map ``Φ`` (``N x q``) from ``ΦᵀΦ``, ``Φᵀ1`` and ``Φᵀe``.

    In the eigenbasis ``ΦᵀΦ = V Σ Vᵀ`` (directions with ``Σ ≈ 0`` carry no data and are
    dropped) the problem reads ``max tr(Pᵀ A P)`` s.t. ``Pᵀ B P = I`` with
    ``A = Σ - a aᵀ / N`` (``a = Vᵀ Φᵀ 1``) and ``B = v vᵀ + μ Σ⁻¹`` (``v = Vᵀ Φᵀ e``).
    Returns the projection ``V P`` (``q x k``).
    """
    vals, vecs = torch.linalg.eigh(0.5 * (g + g.T))
    keep = vals > _RTOL * float(vals.max().clamp_min(0.0))
    if int(keep.sum()) < k:
        raise ValueError(f"n_components={k} exceeds the rank of the feature space "
                         f"({int(keep.sum())}); use fewer components or more landmarks")
    sig, v_basis = vals[keep], vecs[:, keep]
    a = v_basis.T @ s1
    v = v_basis.T @ se
    amat = torch.diag(sig) - torch.outer(a, a) / n_total
    bmat = torch.outer(v, v) + torch.diag(mu / sig)
    chol = torch.linalg.cholesky(0.5 * (bmat + bmat.T))
    left = torch.linalg.solve_triangular(chol, amat, upper=False)
    s = torch.linalg.solve_triangular(chol, left.T, upper=False)  # L⁻¹ A L⁻ᵀ
    evals, evecs = torch.linalg.eigh(0.5 * (s + s.T))
    q = evecs[:, torch.argsort(evals, descending=True)[:k]]
    p = torch.linalg.solve_triangular(chol.T, q, upper=True)       # L⁻ᵀ Q
    return v_basis @ p


class TCA(FittedAligner):
    r"""Transfer component analysis (Pan et al., 2011), scikit-learn style.

    See the module description for the optimisation problem and the two solvers.
    ``fit(xs, xt)`` solves it; ``transform(x)`` embeds any points (of either domain: the
    map is shared) as ``k(x, Z) W``; ``fit_transform(xs, xt)`` returns both embeddings.

    Parameters
    ----------
    n_components : int
        Number ``k`` of transfer components.
    kernel : {"linear", "gaussian"}, default="linear"
        Linear on the pooled-centred data, or Gaussian ``exp(-||x - y||² / (2σ²))``.
    bandwidth : "median", float or list of float, default="median"
        σ of the Gaussian kernel (the median pooled distance by default; a list sums
        kernels).
    mu : float, default=1.0
        Positive weight ``μ`` of ``tr(WᵀW)``: larger values keep more of the data's
        variance, smaller ones match the domain means more strictly.
    n_landmarks : int, optional
        Gaussian kernel only: use the Nyström solver with this many landmarks
        (``1 <= r <= N``).  Needed when ``N > EXACT_MAX_SAMPLES``.
    seed : int, default=0
        Seed of the landmark draw.
    block_size : int, optional
        Rows per kernel tile in the landmark solver and in ``transform``.

    After ``fit``: ``mean_`` (the pooled mean ``z̄``) and ``n_features_in_``; for the linear
    kernel ``projection_`` (``d x k``; the embedding is ``(x - z̄) @ projection_``); for the
    Gaussian kernel ``bandwidth_`` (the σ used), ``support_`` (the pooled sample, exact solver,
    or the landmarks) and ``coef_`` (the embedding is ``k(x, support_) @ coef_``).

    Examples
    --------
    >>> import torch
    >>> from tllab.align import TCA
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(200, 3, generator=g, dtype=torch.float64)
    >>> xt = torch.randn(200, 3, generator=g, dtype=torch.float64) + torch.tensor([2.0, 0, 0])
    >>> zs, zt = TCA(2).fit_transform(xs, xt)
    >>> bool((zs.mean(0) - zt.mean(0)).norm() < 0.1 * (xs.mean(0) - xt.mean(0)).norm())
    True
    >>> zs, zt = TCA(2, kernel="gaussian", n_landmarks=100).fit_transform(xs, xt)
    >>> zs.shape
    torch.Size([200, 2])
    """

    _params = ("n_components", "kernel", "bandwidth", "mu", "n_landmarks", "seed")

    def __init__(self, n_components: int, kernel: str = "linear", bandwidth="median",
                 mu: float = 1.0, n_landmarks: int | None = None, seed: int = 0,
                 block_size: int | None = None) -> None:
        self.n_components = check_n_components(n_components, 10**9, "")
        self.kernel = check_choice(kernel, "kernel", TCA_KERNELS)
        self.bandwidth = bandwidth
        self.mu = check_real(mu, "mu", low=0.0, low_inclusive=False)
        if n_landmarks is not None:
            n_landmarks = check_int(n_landmarks, "n_landmarks", min_value=1)
            if self.kernel == "linear":
                raise ValueError("n_landmarks applies to kernel='gaussian'; the linear kernel "
                                 "is always solved exactly in the feature space")
        self.n_landmarks = n_landmarks
        self.seed = check_int(seed, "seed", min_value=0)
        self.block_size = None if block_size is None else check_int(block_size, "block_size",
                                                                    min_value=1)

    def _fit(self, xs: torch.Tensor, xt: torch.Tensor) -> None:
        n, m = xs.shape[0], xt.shape[0]
        k = self.n_components
        z = torch.cat([xs, xt])
        device = z.device
        self.mean_ = z.to(torch.float64).mean(0)
        e = _domain_vector(n, m, device)
        for attr in ("projection_", "support_", "coef_", "bandwidth_"):
            self.__dict__.pop(attr, None)
        if self.kernel == "linear":
            phi = z.to(torch.float64) - self.mean_
            self.projection_ = _feature_space_solve(phi.T @ phi, phi.sum(0), phi.T @ e,
                                                    n + m, self.mu, k)
        else:
            self.bandwidth_ = resolve_bandwidth(self.bandwidth, xs, xt)
            if self.n_landmarks is None:
                self._fit_exact(z, e, k)
            else:
                self._fit_landmarks(z, n, m, e, k)
        self.n_features_in_ = xs.shape[1]

    def _gram(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Kernel tile ``k(a_i, b_j)`` in float64 from points centred on ``mean_``."""
        a = a.to(torch.float64) - self.mean_
        b = b.to(torch.float64) - self.mean_
        return _tile(a, b, (a * a).sum(1), (b * b).sum(1), "gaussian", self.bandwidth_)

    def _fit_exact(self, z: torch.Tensor, e: torch.Tensor, k: int) -> None:
        big_n = z.shape[0]
        if big_n > EXACT_MAX_SAMPLES:
            gb = 4 * 8 * big_n**2 / 1e9
            raise ValueError(
                f"the exact TCA needs N x N matrices for N = n + m = {big_n} (about {gb:.1f} GB "
                f"and O(N^3) time; the limit is EXACT_MAX_SAMPLES = {EXACT_MAX_SAMPLES}); "
                "pass n_landmarks (a few hundred) for the Nyström solver"
            )
        if k > big_n - 1:
            raise ValueError(f"n_components must be <= N - 1 = {big_n - 1}; got {k}")
        kmat = self._gram(z, z)
        u = kmat @ e
        s = float(u @ u)
        c = (math.sqrt(self.mu / (self.mu + s)) - 1.0) / s if s > 0 else 0.0

        def b_inv_sqrt(a):  # (μ I + u uᵀ)^{-1/2} @ a
            return (a + c * torch.outer(u, u @ a)) / math.sqrt(self.mu)

        ones = kmat.sum(1)
        khk = kmat @ kmat - torch.outer(ones, ones) / big_n
        s_mat = b_inv_sqrt(b_inv_sqrt(khk).T)
        vals, vecs = torch.linalg.eigh(0.5 * (s_mat + s_mat.T))
        self.coef_ = b_inv_sqrt(vecs[:, torch.argsort(vals, descending=True)[:k]])
        self.support_ = z

    def _landmark_index(self, n: int, m: int) -> torch.Tensor:
        r = self.n_landmarks
        if r > n + m:
            raise ValueError(f"n_landmarks must be <= n + m = {n + m}; got {r}")
        gen = torch.Generator().manual_seed(self.seed)
        r_s = min(n, max(1 if r > 1 else 0, round(r * n / (n + m))))
        r_s = max(r_s, r - m)
        src = torch.randperm(n, generator=gen)[:r_s]
        tgt = torch.randperm(m, generator=gen)[:r - r_s] + n
        return torch.cat([src, tgt])

    def _fit_landmarks(self, z, n, m, e, k) -> None:
        marks = z[self._landmark_index(n, m).to(z.device)]
        krr = self._gram(marks, marks)
        vals, vecs = torch.linalg.eigh(0.5 * (krr + krr.T))
        keep = vals > _RTOL * float(vals.max())
        t = vecs[:, keep] / vals[keep].sqrt()          # K_rr^{-1/2} on its range
        q = t.shape[1]
        g = torch.zeros(q, q, dtype=torch.float64, device=z.device)
        s1 = torch.zeros(q, dtype=torch.float64, device=z.device)
        se = torch.zeros(q, dtype=torch.float64, device=z.device)
        block = _block(self.block_size, z.device)
        for i0 in range(0, z.shape[0], block):
            phi = self._gram(z[i0:i0 + block], marks) @ t
            g += phi.T @ phi
            s1 += phi.sum(0)
            se += phi.T @ e[i0:i0 + block]
        self.coef_ = t @ _feature_space_solve(g, s1, se, n + m, self.mu, k)
        self.support_ = marks

    def transform(self, x, domain: str | None = None) -> torch.Tensor:
        """Embed ``x`` (either domain: the map is shared, ``domain`` is only checked) on the
        ``k`` transfer components; on ``x``'s device, in ``x``'s dtype."""
        return self._apply(self._check_x(x, domain), domain)

    def _apply(self, x: torch.Tensor, domain: str | None) -> torch.Tensor:
        if self.kernel == "linear":
            proj = self.projection_.to(x.device)
            return ((x.to(torch.float64) - self.mean_.to(x.device)) @ proj).to(x.dtype)
        out = kernel_matvec(x.to(torch.float64), self.coef_.to(x.device),
                            self.support_.to(device=x.device, dtype=torch.float64),
                            bandwidth=self.bandwidth_, block_size=self.block_size)
        return out.to(x.dtype)
