r"""Subspace alignment (Fernando et al., 2013): rotate the source's PCA basis onto the target's.

Each domain gets its own ``k``-dimensional PCA basis, ``P_s`` and ``P_t`` (``d x k``,
orthonormal columns).  Source points are projected on ``P_s`` and then mapped by
``M = P_sᵀ P_t``, the least-squares solution of ``min_M ||P_s M - P_t||_F``; target points
are projected on ``P_t``.  Both land in the target's ``k``-dimensional coordinates.
"""

from __future__ import annotations

import torch

from ._common import FittedAligner, check_n_components, covariance64, top_eigenvectors

__all__ = ["SubspaceAlignment", "subspace_alignment"]


class SubspaceAlignment(FittedAligner):
    r"""Subspace alignment (Fernando et al., 2013), scikit-learn style.

    ``fit(xs, xt)`` takes the ``n_components`` leading eigenvectors of each domain's
    covariance (PCA on the centred data) and ``M = P_sᵀ P_t``.
    ``transform(x, domain="source")`` returns ``(x - μ_s) P_s M``; with ``domain="target"``
    it returns ``(x - μ_t) P_t``.  The result does not depend on the signs eigensolvers give
    the eigenvectors (a flipped column of ``P_s`` or ``P_t`` flips ``M`` accordingly).

    Parameters
    ----------
    n_components : int
        Dimension ``k`` of the subspaces, ``1 <= k <= min(d, n - 1, m - 1)``.

    After ``fit``: ``mean_source_`` and ``mean_target_``, ``basis_source_`` and
    ``basis_target_`` (``P_s`` and ``P_t``, ``d x k``, float64), ``alignment_`` (``M``,
    ``k x k``) and ``n_features_in_``.

    Examples
    --------
    >>> import torch
    >>> from tllab.align import SubspaceAlignment
    >>> xs = torch.randn(200, 5); xt = torch.randn(150, 5) * 2 + 1
    >>> zs, zt = SubspaceAlignment(2).fit_transform(xs, xt)
    >>> zs.shape, zt.shape
    (torch.Size([200, 2]), torch.Size([150, 2]))
    """

    _params = ("n_components",)

    def __init__(self, n_components: int) -> None:
        self.n_components = check_n_components(n_components, 10**9, "")

    def _fit(self, xs: torch.Tensor, xt: torch.Tensor) -> None:
        d = xs.shape[1]
        k = check_n_components(self.n_components, min(d, xs.shape[0] - 1, xt.shape[0] - 1),
                               "the features and each sample size minus one")
        self.mean_source_ = xs.mean(0)
        self.mean_target_ = xt.mean(0)
        _, self.basis_source_ = top_eigenvectors(covariance64(xs), k)
        _, self.basis_target_ = top_eigenvectors(covariance64(xt), k)
        self.alignment_ = self.basis_source_.T @ self.basis_target_
        self.n_features_in_ = d

    def _apply(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        """``(x - μ_s) P_s M`` for source data, ``(x - μ_t) P_t`` for target data."""
        if domain == "source":
            proj, mean = self.basis_source_ @ self.alignment_, self.mean_source_
        else:
            proj, mean = self.basis_target_, self.mean_target_
        return (x - mean.to(device=x.device, dtype=x.dtype)) @ proj.to(device=x.device,
                                                                         dtype=x.dtype)


def subspace_alignment(xs, xt, n_components: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Both samples in the aligned coordinates: ``SubspaceAlignment(k).fit_transform(xs, xt)``.

    Parameters
    ----------
    xs : array-like of shape (n, d)
    xt : array-like of shape (m, d)
    n_components : int

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Shapes ``(n, k)`` and ``(m, k)``.

    Examples
    --------
    >>> import torch
    >>> from tllab.align import subspace_alignment
    >>> zs, zt = subspace_alignment(torch.randn(50, 4), torch.randn(60, 4), 3)
    >>> zs.shape[1], zt.shape[1]
    (3, 3)
    """
    return SubspaceAlignment(n_components).fit_transform(xs, xt)
