r"""CORAL: correlation alignment by whitening the source and re-colouring it as the target.

Sun, Feng & Saenko (2016) align the second moments of two domains with one linear map:

``A = C_s^{-1/2} C_t^{1/2}``,  ``C_s = cov(x_s) + reg·I``,  ``C_t = cov(x_t) + reg·I``,

so that ``Aᵀ C_s A = C_t``: the whitened-then-re-coloured source has the (regularised)
covariance of the target.  A classifier trained on the transformed source is then applied to
the untouched target.  Matrix square roots come from symmetric eigendecompositions.
"""

from __future__ import annotations

import torch

from .._checks import check_real
from ._common import FittedAligner, covariance64, sym_power

__all__ = ["CORAL", "coral"]


class CORAL(FittedAligner):
    r"""Correlation alignment (Sun et al., 2016), scikit-learn style.

    ``fit(xs, xt)`` computes the unbiased covariances, adds ``reg`` to their diagonals and
    forms ``A = C_s^{-1/2} C_t^{1/2}``.  ``transform(x, domain="source")`` returns
    ``(x - μ_s) A + μ_t`` (``center=True``: first and second moments aligned, the result in
    the target's coordinates) or ``x A`` (``center=False``: Algorithm 1 of the paper, meant
    for features already standardised per domain).  Target data are returned unchanged.

    With ``reg > 0`` the transformed source covariance satisfies
    ``cov(x_s A) + reg·AᵀA = cov(x_t) + reg·I`` exactly, so it equals the target's up to
    the regulariser's share; ``reg → 0`` (full-rank covariances) gives equality.

    Parameters
    ----------
    reg : float, default=1.0
        Non-negative ridge added to both covariances (the paper's choice is 1 for
        standardised features).  0 needs full-rank covariances.
    center : bool, default=True

    After ``fit``: ``mean_source_`` and ``mean_target_`` (the two means), ``matrix_`` (``A``,
    ``d x d``, float64 on the fit data's device) and ``n_features_in_``.

    Examples
    --------
    >>> import torch
    >>> from tllab.align import CORAL
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(500, 3, generator=g, dtype=torch.float64)
    >>> xt = torch.randn(400, 3, generator=g, dtype=torch.float64) @ torch.tensor(
    ...     [[2.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.3]], dtype=torch.float64)
    >>> zs, zt = CORAL(reg=1e-9).fit_transform(xs, xt)
    >>> torch.allclose(zs.T.cov(), xt.T.cov(), atol=1e-6)
    True
    """

    _params = ("reg", "center")

    def __init__(self, reg: float = 1.0, center: bool = True) -> None:
        self.reg = check_real(reg, "reg", low=0.0)
        if not isinstance(center, bool):
            raise TypeError(f"center must be a bool; got {center!r}")
        self.center = center

    def _fit(self, xs: torch.Tensor, xt: torch.Tensor) -> None:
        d = xs.shape[1]
        eye = torch.eye(d, dtype=torch.float64, device=xs.device)
        self.mean_source_ = xs.mean(0)
        self.mean_target_ = xt.mean(0)
        cs = covariance64(xs) + self.reg * eye
        ct = covariance64(xt) + self.reg * eye
        self.matrix_ = (sym_power(cs, -0.5, "the source covariance")
                        @ sym_power(ct, 0.5, "the target covariance"))
        self.n_features_in_ = d

    def _apply(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        """Source data are mapped with ``A``; target data are returned as they are."""
        if domain == "target":
            return x
        a = self.matrix_.to(device=x.device, dtype=x.dtype)
        if not self.center:
            return x @ a
        mu_s = self.mean_source_.to(device=x.device, dtype=x.dtype)
        mu_t = self.mean_target_.to(device=x.device, dtype=x.dtype)
        return (x - mu_s) @ a + mu_t


def coral(xs, xt, reg: float = 1.0, center: bool = True) -> torch.Tensor:
    """The CORAL-aligned source sample, ``CORAL(reg, center).fit(xs, xt).transform(xs)``.

    Parameters
    ----------
    xs : array-like of shape (n, d)
    xt : array-like of shape (m, d)
    reg : float, default=1.0
    center : bool, default=True

    Returns
    -------
    torch.Tensor of shape (n, d)

    Examples
    --------
    >>> import torch
    >>> from tllab.align import coral
    >>> xs = torch.randn(300, 2, dtype=torch.float64); xt = 3 * torch.randn(300, 2).double()
    >>> bool(coral(xs, xt).std(0).min() > 2)
    True
    """
    return CORAL(reg, center).fit(xs, xt).transform(xs)
