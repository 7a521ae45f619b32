r"""The MMD permutation test in repeated experiments: power, false alarms, bandwidth choice."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..._checks import (
    check_int,
    check_positive_scalars,
    check_real,
)
from ...divergence import mmd2, mmd_test
from ...kernels import median_bandwidth

__all__ = [
    "mmd_power_curve",
    "bandwidth_selection_size",
]


def mmd_power_curve(
    sizes: Sequence[int] = (10, 20, 40, 80, 160),
    *,
    delta: float = 0.5,
    dim: int = 2,
    n_reps: int = 40,
    n_permutations: int = 99,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict:
    r"""Rejection rate of the MMD permutation test against the sample size.

    For each ``n`` in ``sizes``, ``n_reps`` times: draw ``x ~ N(0, I_d)`` and
    ``y ~ N(δ e_1, I_d)`` of size ``n`` and run :func:`tllab.mmd_test` (median bandwidth,
    ``n_permutations`` relabellings); also run it on a pair drawn *without* shift.  The
    share of p-values ``<= alpha`` estimates the power (under the shift) and the size (the
    false-alarm rate, which the permutation test keeps at most ``alpha``).

    Parameters
    ----------
    sizes : sequence of int >= 2
    delta : float >= 0, default=0.5
    dim : int >= 1, default=2
    n_reps : int >= 1, default=40
    n_permutations : int >= 1, default=99
    alpha : float in (0, 1), default=0.05
    seed : int, default=0

    Returns
    -------
    dict
        ``"sizes"``, ``"power"`` and ``"false_alarm"`` (arrays over ``sizes``), ``"alpha"``,
        ``"n_reps"``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> out = study.mmd_power_curve([10, 80], delta=1.0, n_reps=5, n_permutations=19)
    >>> out["power"].shape
    (2,)
    """
    sizes = [check_int(s, "sizes", min_value=2) for s in sizes]
    if not sizes:
        raise ValueError("sizes must not be empty")
    delta = check_real(delta, "delta", low=0.0)
    dim = check_int(dim, "dim", min_value=1)
    n_reps = check_int(n_reps, "n_reps", min_value=1)
    n_permutations = check_int(n_permutations, "n_permutations", min_value=1)
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    g = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    power, false_alarm = np.zeros(len(sizes)), np.zeros(len(sizes))
    for a, n in enumerate(sizes):
        for r in range(n_reps):
            x, y, y0 = (torch.randn(n, dim, generator=g, dtype=torch.float64) for _ in range(3))
            y[:, 0] += delta
            power[a] += mmd_test(x, y, n_permutations, seed=r).p_value <= alpha
            false_alarm[a] += mmd_test(x, y0, n_permutations, seed=r).p_value <= alpha
    return {"sizes": sizes, "power": power / n_reps, "false_alarm": false_alarm / n_reps,
            "alpha": alpha, "n_reps": n_reps}


def bandwidth_selection_size(
    n: int = 50,
    *,
    dim: int = 2,
    factors: Sequence[float] = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
    n_reps: int = 200,
    n_permutations: int = 99,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict:
    r"""False-alarm rate of the MMD test when the bandwidth is tuned on the tested data.

    Under ``H0`` (both samples ``N(0, I_d)`` of size ``n``), ``n_reps`` times, the
    permutation test (:func:`tllab.mmd_test`) is run three ways:

    * ``"median"``: the median heuristic, which ignores the domain labels;
    * ``"selected"``: the bandwidth among ``factors × median`` that maximises MMD² on the
      *same* data, then the test on that data — the selection is not part of the
      permutation null, so the p-value is no longer valid;
    * ``"split"``: the bandwidth selected on the first half of each sample, the test on the
      second half (valid, with half the data).

    Parameters
    ----------
    n : int >= 4, default=50
    dim : int >= 1, default=2
    factors : sequence of float > 0
        Multiples of the median bandwidth searched by the selection.
    n_reps : int >= 1, default=200
    n_permutations : int >= 1, default=99
    alpha : float in (0, 1), default=0.05
    seed : int, default=0

    Returns
    -------
    dict
        ``"rate"``: the share of rejections at level ``alpha`` for each way, ``"alpha"``,
        ``"n_reps"``.

    Examples
    --------
    >>> from tllab.studies import distribution_shift as study
    >>> out = study.bandwidth_selection_size(20, n_reps=3, n_permutations=19)
    >>> sorted(out["rate"])
    ['median', 'selected', 'split']
    """
    n = check_int(n, "n", min_value=4)
    dim = check_int(dim, "dim", min_value=1)
    factors = check_positive_scalars(factors, "factors")
    n_reps = check_int(n_reps, "n_reps", min_value=1)
    n_permutations = check_int(n_permutations, "n_permutations", min_value=1)
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    g = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))

    def tuned(x, y):
        med = float(median_bandwidth(x, y))
        return max((float(mmd2(x, y, bandwidth=f * med)), f * med) for f in factors)[1]

    hits = {"median": 0, "selected": 0, "split": 0}
    h = n // 2
    for r in range(n_reps):
        x = torch.randn(n, dim, generator=g, dtype=torch.float64)
        y = torch.randn(n, dim, generator=g, dtype=torch.float64)
        p = {"median": mmd_test(x, y, n_permutations, seed=r).p_value,
             "selected": mmd_test(x, y, n_permutations, seed=r,
                                  bandwidth=tuned(x, y)).p_value,
             "split": mmd_test(x[h:], y[h:], n_permutations, seed=r,
                               bandwidth=tuned(x[:h], y[:h])).p_value}
        for way, pv in p.items():
            hits[way] += pv <= alpha
    return {"rate": {k: v / n_reps for k, v in hits.items()}, "alpha": alpha, "n_reps": n_reps}
