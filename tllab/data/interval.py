r"""Covariate shift on the interval [−1, 1]: Beta laws with a bounded, known density ratio.

The generalisation chapter's regression problem.  Inputs follow a Beta law stretched to
``[−1, 1]`` (``x = 2u − 1``, ``u ~ Beta(a, b)``): by default a bell-shaped source
``Beta(2, 2)`` and a target ``Beta(6, 2)`` piled up near the right end, where the source is
thin.  Their ratio ``w(x) = p_t(x)/p_s(x) = 7u⁴`` is bounded (by 7), so importance weighting
is well posed.  Labels are ``y = f(x) + ε`` on both domains.

Expectations under either law are computed exactly (for polynomials) by Gauss–Jacobi
quadrature, :func:`beta_law_quadrature`, instead of noisy test-set averages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from .._checks import check_int, check_real, check_vector
from ._common import _check_dtype
from .covariate import ShiftData

__all__ = [
    "INTERVAL_SHIFT",
    "wiggly_function",
    "beta_law_quadrature",
    "beta_density_ratio",
    "make_interval_shift_regression",
]


INTERVAL_SHIFT = {"source": (2.0, 2.0), "target": (6.0, 2.0), "noise": 0.3}
"""Default laws (Beta parameters ``(a, b)`` on [−1, 1]) and label-noise sd of the problem."""


def wiggly_function(x) -> torch.Tensor:
    r"""``f(x) = x/2 + 0.8 sin(6x) exp(−4(x + 0.3)²)``: wiggles in the middle, calm on the right.

    The wiggles sit where the default source law has most of its mass; near ``x = 1``, where
    the default target lives, ``f`` is almost the straight line ``x/2``.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> [round(v, 4) for v in tllab.data.wiggly_function([0.0, 1.0]).tolist()]
    [0.0, 0.4997]
    """
    x = check_vector(x, "x")
    return 0.5 * x + 0.8 * torch.sin(6.0 * x) * torch.exp(-4.0 * (x + 0.3) ** 2)


def _check_law(law, name: str) -> tuple[float, float]:
    if isinstance(law, (str, bytes)) or not isinstance(law, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a pair (a, b) of Beta parameters; got {law!r}")
    if len(law) != 2:
        raise ValueError(f"{name} must be a pair (a, b) of Beta parameters; got {len(law)} "
                         "values")
    return (check_real(law[0], f"{name}[0]", low=0.0, low_inclusive=False),
            check_real(law[1], f"{name}[1]", low=0.0, low_inclusive=False))


def beta_law_quadrature(a: float, b: float, n_nodes: int = 60, *,
                        dtype: torch.dtype = torch.float64,
                        device: torch.device | str | None = None):
    r"""Gauss–Jacobi nodes and weights for the law of ``x = 2u − 1``, ``u ~ Beta(a, b)``.

    ``Σ_j weights_j g(nodes_j) = E[g(x)]`` exactly when ``g`` is a polynomial of degree
    ``< 2·n_nodes``, and to high accuracy for smooth ``g``.  The weights are positive and
    sum to 1.

    Parameters
    ----------
    a, b : float > 0
    n_nodes : int >= 1, default=60
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Nodes in ``(−1, 1)`` and weights, each of shape ``(n_nodes,)``.

    Examples
    --------
    >>> import tllab
    >>> x, w = tllab.data.beta_law_quadrature(2.0, 2.0, 5)
    >>> round(float(w.sum()), 12), round(float((w * x**2).sum()), 12)  # Var = 4·ab/((a+b)²(a+b+1))
    (1.0, 0.2)
    """
    from scipy.special import roots_jacobi

    a, b = _check_law((a, b), "(a, b)")
    n_nodes = check_int(n_nodes, "n_nodes", min_value=1)
    dtype = _check_dtype(dtype)
    nodes, weights = roots_jacobi(n_nodes, b - 1.0, a - 1.0)  # weight (1−x)^(b−1) (1+x)^(a−1)
    weights = weights / weights.sum()
    return (torch.as_tensor(nodes, dtype=dtype, device=device),
            torch.as_tensor(weights, dtype=dtype, device=device))


def beta_density_ratio(x, source: Sequence[float] = (2.0, 2.0),
                       target: Sequence[float] = (6.0, 2.0)) -> torch.Tensor:
    r"""The density ratio ``p_t(x) / p_s(x)`` of two Beta laws on [−1, 1].

    With ``u = (x + 1)/2``: ``w = [B(a_s, b_s) / B(a_t, b_t)] · u^(a_t − a_s) (1 − u)^(b_t − b_s)``
    (``B`` the Beta function); for the defaults ``w = 7u⁴``.

    Parameters
    ----------
    x : array-like of shape (n, 1) or (n,)
        Points in ``[−1, 1]`` (where the source has its support).  At an end point where
        the source density vanishes and the target's does not, the ratio is ``inf``.
    source, target : (float, float)
        Beta parameters ``(a, b)``.

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> [round(v, 6) for v in tllab.data.beta_density_ratio([[1.0], [0.0], [-1.0]]).tolist()]
    [7.0, 0.4375, 0.0]
    """
    from scipy.special import betaln

    x = check_vector(x, "x")
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if bool(((x < -1) | (x > 1)).any()):
        raise ValueError("x must lie in [-1, 1], the support of the source law")
    a_s, b_s = _check_law(source, "source")
    a_t, b_t = _check_law(target, "target")
    u = (x + 1.0) / 2.0
    log_c = float(betaln(a_s, b_s) - betaln(a_t, b_t))
    return torch.exp(log_c + torch.xlogy(torch.tensor(a_t - a_s, dtype=u.dtype), u)
                     + torch.xlogy(torch.tensor(b_t - b_s, dtype=u.dtype), 1.0 - u))


def make_interval_shift_regression(
    n_source: int = 50,
    n_target: int = 50,
    *,
    source: Sequence[float] = (2.0, 2.0),
    target: Sequence[float] = (6.0, 2.0),
    noise: float = 0.3,
    function: Callable | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> ShiftData:
    r"""A regression problem on [−1, 1] under covariate shift between two Beta laws.

    ``x_s = 2u − 1`` with ``u ~ Beta(source)``, ``x_t`` likewise with ``Beta(target)``, and on
    both domains ``y = f(x) + ε``, ``ε ~ N(0, noise²)``; ``f`` defaults to
    :func:`wiggly_function`.  Draws use NumPy's generator seeded by ``seed`` (the same numbers
    on every device).

    Parameters
    ----------
    n_source, n_target : int >= 1, default=50
    source, target : (float, float), default (2, 2) and (6, 2)
    noise : float >= 0, default=0.3
    function : callable, optional
        Regression function, tensor of shape ``(n,)`` in and out.
    seed : int >= 0, default=0
    device : torch.device or str, optional
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    ShiftData
        ``xs`` of shape ``(n_source, 1)``, ``ys`` of shape ``(n_source,)``, ``xt``, ``yt``.

    Examples
    --------
    >>> import tllab
    >>> data = tllab.data.make_interval_shift_regression(2000, 2000, seed=0)
    >>> round(float(data.xs.mean()), 1), round(float(data.xt.mean()), 1)  # 2·E[u] − 1
    (0.0, 0.5)
    """
    n_source = check_int(n_source, "n_source", min_value=1)
    n_target = check_int(n_target, "n_target", min_value=1)
    a_s, b_s = _check_law(source, "source")
    a_t, b_t = _check_law(target, "target")
    noise = check_real(noise, "noise", low=0.0)
    seed = check_int(seed, "seed", min_value=0)
    dtype = _check_dtype(dtype)
    if function is not None and not callable(function):
        raise TypeError(f"function must be callable; got {type(function).__name__}")
    f = function or wiggly_function
    rng = np.random.default_rng(seed)
    xs = torch.as_tensor(2.0 * rng.beta(a_s, b_s, n_source) - 1.0)
    xt = torch.as_tensor(2.0 * rng.beta(a_t, b_t, n_target) - 1.0)
    es = torch.as_tensor(rng.standard_normal(n_source))
    et = torch.as_tensor(rng.standard_normal(n_target))
    ys = torch.as_tensor(f(xs)).reshape(-1) + noise * es
    yt = torch.as_tensor(f(xt)).reshape(-1) + noise * et
    return ShiftData(xs[:, None].to(device=device, dtype=dtype),
                     ys.to(device=device, dtype=dtype),
                     xt[:, None].to(device=device, dtype=dtype),
                     yt.to(device=device, dtype=dtype))
