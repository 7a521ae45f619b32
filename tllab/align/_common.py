"""Linear algebra and bookkeeping shared by the shallow aligners (CORAL, SA, TCA).

Small ``d x d`` (or ``r x r``) problems are solved in float64 on the inputs' device with
symmetric eigendecompositions; the results are cast back to the inputs' dtype when applied.
"""

from __future__ import annotations

import torch

from .._checks import check_choice, check_int, check_sample_pair, check_samples

DOMAINS = ("source", "target")


def covariance64(x: torch.Tensor, mean: torch.Tensor | None = None) -> torch.Tensor:
    """Unbiased covariance ``(x - mean)ᵀ (x - mean) / (n - 1)`` in float64."""
    x = x.to(torch.float64)
    xc = x - (x.mean(0) if mean is None else mean.to(torch.float64))
    return xc.T @ xc / (x.shape[0] - 1)


def sym_power(c: torch.Tensor, power: float, name: str) -> torch.Tensor:
    """``c^power`` of a symmetric positive-definite matrix through ``eigh``.

    Raises a ValueError naming ``name`` when ``c`` is not positive definite (for negative
    powers) or has a negative eigenvalue beyond rounding.
    """
    vals, vecs = torch.linalg.eigh(0.5 * (c + c.T))
    top = float(vals.abs().max()) if vals.numel() else 0.0
    tol = 1e3 * torch.finfo(vals.dtype).eps * max(top, 1e-300)
    if float(vals.min()) < -tol or (power < 0 and float(vals.min()) <= tol):
        raise ValueError(
            f"{name} is singular (smallest eigenvalue {float(vals.min()):.3g}); "
            "use a positive reg"
        )
    return (vecs * vals.clamp_min(0.0).pow(power)) @ vecs.T


def top_eigenvectors(c: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` leading eigenpairs of a symmetric matrix, largest eigenvalue first."""
    vals, vecs = torch.linalg.eigh(0.5 * (c + c.T))
    order = torch.argsort(vals, descending=True)[:k]
    return vals[order], vecs[:, order]


def check_pair(xs, xt, min_samples: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    return check_sample_pair(xs, xt, ("xs", "xt"), min_samples=min_samples)


def check_n_components(n_components, limit: int, why: str) -> int:
    k = check_int(n_components, "n_components", min_value=1)
    if k > limit:
        raise ValueError(f"n_components must be <= {limit} ({why}); got {k}")
    return k


class FittedAligner:
    """Common behaviour: the fitted check and the validation of data to transform."""

    _fitted_attr = "n_features_in_"

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(xs, xt) "
                             "first")

    def _check_x(self, x, domain: str | None = None) -> torch.Tensor:
        self._check_fitted()
        if domain is not None:
            check_choice(domain, "domain", DOMAINS)
        x = check_samples(x, "x")
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"x must have {self.n_features_in_} features, as in fit; got "
                             f"{x.shape[1]}")
        return x

    def fit(self, xs, xt):
        """Fit the map on a source sample ``xs`` (n, d) and a target sample ``xt`` (m, d).

        Returns
        -------
        self
        """
        self._fit(*check_pair(xs, xt))
        return self

    def transform(self, x, domain: str = "source") -> torch.Tensor:
        """Map ``x`` (n, d), drawn from ``domain`` ("source" or "target"), into the aligned
        representation; the result is on ``x``'s device, in ``x``'s dtype."""
        return self._apply(self._check_x(x, domain), domain)

    def fit_transform(self, xs, xt) -> tuple[torch.Tensor, torch.Tensor]:
        """Fit on ``(xs, xt)`` and return both samples in the aligned representation."""
        xs, xt = check_pair(xs, xt)
        self._fit(xs, xt)
        return self._apply(xs, "source"), self._apply(xt, "target")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._params)
        return f"{type(self).__name__}({args})"
