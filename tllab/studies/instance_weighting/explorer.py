r"""The state behind the chapter's explorer."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..._checks import (
    check_choice,
    check_int,
    check_real,
)
from ...data._common import _generator
from ...data.covariate import (
    SHIMODAIRA,
    ShiftData,
    make_covariate_shift_regression,
)
from ...models.linear import (
    weighted_least_squares,
)
from ...reweight import (
    effective_sample_size,
    flatten_weights,
)
from .weights import WEIGHT_METHODS, estimate_weights, gaussian_target_risk

__all__ = [
    "ExplorerState",
    "explorer_state",
]


class ExplorerState(NamedTuple):
    """Everything one picture of the explorer shows (see :func:`explorer_state`)."""

    mu_t: float
    sigma_t: float
    gamma: float
    method: str
    xs: np.ndarray
    ys: np.ndarray
    xt: np.ndarray
    weights: np.ndarray
    """Flattened weights at the source points, mean 1."""
    coef_plain: np.ndarray
    coef_weighted: np.ndarray
    risk_plain: float
    risk_weighted: float
    ess: float


_EXPLORER_DATA: dict = {}


def _explorer_source(n_source: int, seed: int) -> ShiftData:
    key = (n_source, seed)
    if key not in _EXPLORER_DATA:
        _EXPLORER_DATA[key] = make_covariate_shift_regression(n_source, 1, seed=seed)
    return _EXPLORER_DATA[key]


def explorer_state(mu_t: float = 0.0, sigma_t: float = 0.3, gamma: float = 1.0,
                   method: str = "true", *, n_source: int = 200, n_target: int = 200,
                   seed: int = 0) -> ExplorerState:
    r"""Compute one state of the explorer: weights, plain and weighted lines, target risks.

    The source sample is Shimodaira's (fixed by ``seed``); the target law is
    ``N(mu_t, sigma_t²)`` and an unlabelled target sample of size ``n_target`` is drawn
    from it (for the estimated ratios).  The weights are flattened to ``w^γ``.

    Parameters
    ----------
    mu_t : float, default=0.0
    sigma_t : float > 0, default=0.3
    gamma : float >= 0, default=1.0
    method : str, default="true"
        One of :data:`~tllab.studies.instance_weighting.weights.WEIGHT_METHODS`.
    n_source, n_target : int, default=200
    seed : int, default=0

    Returns
    -------
    ExplorerState

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> s = study.explorer_state()
    >>> s.risk_weighted < s.risk_plain
    True
    """
    mu_t = check_real(mu_t, "mu_t")
    sigma_t = check_real(sigma_t, "sigma_t", low=0.0, low_inclusive=False)
    gamma = check_real(gamma, "gamma", low=0.0)
    method = check_choice(method, "method", WEIGHT_METHODS)
    n_target = check_int(n_target, "n_target", min_value=2)
    p = dict(SHIMODAIRA, mu_t=mu_t, sigma_t=sigma_t)
    src = _explorer_source(check_int(n_source, "n_source", min_value=2),
                           check_int(seed, "seed", min_value=0))
    g = _generator(seed + 1)
    xt = mu_t + sigma_t * torch.randn(n_target, 1, generator=g, dtype=torch.float64)
    w = flatten_weights(estimate_weights(src.xs, xt, method, true_params=p), gamma)
    coef_plain = weighted_least_squares(src.xs, src.ys)
    coef_w = weighted_least_squares(src.xs, src.ys, w)
    return ExplorerState(
        mu_t=mu_t, sigma_t=sigma_t, gamma=gamma, method=method,
        xs=src.xs[:, 0].numpy(), ys=src.ys.numpy(), xt=xt[:, 0].numpy(),
        weights=w.numpy(), coef_plain=coef_plain.numpy(), coef_weighted=coef_w.numpy(),
        risk_plain=gaussian_target_risk(coef_plain, mu_t, sigma_t),
        risk_weighted=gaussian_target_risk(coef_w, mu_t, sigma_t),
        ess=float(effective_sample_size(w)),
    )
