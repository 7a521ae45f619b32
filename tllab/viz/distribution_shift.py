r"""Figures and explorers of the distribution-shift chapter.

Each ``plot_*`` function returns its ``matplotlib.figure.Figure``; in a notebook the figure is
shown once, as PNG.  :func:`shift_explorer` is the live explorer (ipywidgets) and
:func:`shift_explorer_jshtml` its kernel-free fallback.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._checks import check_choice, check_int, check_real
from ..studies.distribution_shift import shift_explorer_state
from .figures import _new_figure, _np, grid_jshtml, precompute_grid
from .widgets import _ipywidgets, parameter_explorer

__all__ = [
    "plot_shift_kinds",
    "plot_digit_domains",
    "plot_js_study",
    "plot_mmd_witness",
    "plot_mmd_estimators",
    "plot_bandwidth_curve",
    "plot_permutation_test",
    "plot_power_curve",
    "plot_shift_explorer_state",
    "plot_digit_experiment",
    "SHIFT_EXPLORER_DEFAULTS",
    "shift_explorer",
    "shift_explorer_jshtml",
]


def plot_shift_kinds(pairs: Mapping[str, Sequence], *, boundaries: Mapping[str, Callable]
                     | None = None):
    """Source (top row) and target (bottom row) of labelled 2-D samples, one column each.

    Parameters
    ----------
    pairs : mapping of str to DomainPair
        Column title → ``(xs, ys, xt, yt)`` with 2-D inputs and integer labels.
    boundaries : mapping of str to callable, optional
        Column title → ``f(grid_x, domain)`` returning ``(x1, x2)`` arrays of a decision
        boundary to draw (``domain`` is ``"source"`` or ``"target"``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import distribution_shift as view
    >>> fig = view.plot_shift_kinds({"covariate": tllab.data.covariate_shift(50)})
    >>> len(fig.axes)
    2
    """
    if not isinstance(pairs, Mapping) or not pairs:
        raise TypeError("pairs must be a non-empty mapping of titles to (xs, ys, xt, yt)")
    boundaries = dict(boundaries or {})
    k = len(pairs)
    fig = _new_figure((3.0 * k, 5.4))
    axes = fig.subplots(2, k, squeeze=False, sharex="col", sharey="col")
    markers = ["o", "^", "s", "D"]
    for j, (title, pair) in enumerate(pairs.items()):
        xs, ys, xt, yt = (_np(a) for a in pair)
        both = np.vstack([xs, xt])
        lo, hi = both.min(0) - 0.3, both.max(0) + 0.3
        for i, (x, y, name) in enumerate(((xs, ys, "source"), (xt, yt, "target"))):
            ax = axes[i, j]
            for c in np.unique(np.concatenate([ys, yt])):
                sel = y == c
                ax.scatter(x[sel, 0], x[sel, 1], s=7, alpha=0.6, color=f"C{int(c)}",
                           marker=markers[int(c) % 4], lw=0, label=f"y = {int(c)}")
            if title in boundaries:
                b1, b2 = boundaries[title](np.linspace(lo[0], hi[0], 200), name)
                ax.plot(b1, b2, "k--", lw=1)
            ax.set_xlim(lo[0], hi[0])
            ax.set_ylim(lo[1], hi[1])
            ax.set_title(f"{title}: {name}  (n = {len(y)})", fontsize=9)
            if j == 0:
                ax.set_ylabel("$x_2$")
            if i == 1:
                ax.set_xlabel("$x_1$")
        axes[0, j].legend(fontsize=7, loc="upper left", markerscale=1.5)
    fig.tight_layout()
    return fig


def plot_digit_domains(rows: Mapping[str, Any], *, labels: Sequence[int] | None = None):
    """A grid of 8×8 digit images: one row per domain, the same images in each column.

    Parameters
    ----------
    rows : mapping of str to array-like of shape (k, 8, 8) or (k, 64)
        Row title → images.
    labels : sequence of int, optional
        Digit shown in each column (as column titles).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch, tllab
    >>> from tllab.viz import distribution_shift as view
    >>> fig = view.plot_digit_domains({"blank": torch.zeros(3, 8, 8)})
    >>> len(fig.axes)
    3
    """
    if not isinstance(rows, Mapping) or not rows:
        raise TypeError("rows must be a non-empty mapping of titles to image batches")
    imgs = {name: _np(v).reshape(len(v), 8, 8) for name, v in rows.items()}
    k = max(len(v) for v in imgs.values())
    fig = _new_figure((0.75 * k + 1.4, 0.85 * len(imgs) + 0.3))
    axes = fig.subplots(len(imgs), k, squeeze=False)
    for i, (name, batch) in enumerate(imgs.items()):
        for j in range(k):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(batch):
                ax.imshow(batch[j], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            if j == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
            if i == 0 and labels is not None and j < len(labels):
                ax.set_title(str(int(labels[j])), fontsize=9)
    fig.subplots_adjust(left=0.2, right=0.99, top=0.9, bottom=0.02, wspace=0.08, hspace=0.08)
    return fig


def _band(ax, x, values, label, color, marker="o"):
    mean, sd = values.mean(-1), values.std(-1)
    ax.plot(x, mean, marker=marker, color=color, label=label, ms=4)
    ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)


def plot_js_study(by_size: dict, by_dim: dict | None = None):
    """Sample JS estimates (mean ± sd over repetitions) against sample size and dimension.

    Parameters
    ----------
    by_size : dict
        Output of :func:`~tllab.studies.distribution_shift.estimators.js_estimation_study` with one
        dimension
        and several sizes.
    by_dim : dict, optional
        Output with one size and several dimensions (a second panel).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> from tllab.viz import distribution_shift as view
    >>> out = study.js_estimation_study([20, 40], methods=["kde"], n_reps=2)
    >>> len(view.plot_js_study(out).axes)
    1
    """
    k = 1 if by_dim is None else 2
    fig = _new_figure((4.4 * k, 3.3))
    axes = fig.subplots(1, k, squeeze=False)[0]
    panels = [(by_size, "sizes", "sample size n (each sample)")]
    if by_dim is not None:
        panels.append((by_dim, "dims", "dimension d"))
    for ax, (out, key, xlabel) in zip(axes, panels, strict=True):
        x = np.asarray(out[key])
        for c, (method, est) in enumerate(out["estimates"].items()):
            vals = est[:, 0, :] if key == "dims" else est[0]
            _band(ax, x, vals, method, f"C{c}")
        ax.axhline(out["truth"], color="k", lw=1, ls="--", label="true JS")
        ax.axhline(math.log(2), color="gray", lw=0.8, ls=":", label="ln 2 (maximum)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [str(v) for v in x])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("JS estimate (nats)")
        if key == "sizes":
            d = out["dims"][0]
            ax.set_title(f"d = {d}: estimate against n", fontsize=9)
        else:
            ax.set_title(f"n = {out['sizes'][0]}: estimate against d", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_mmd_witness(x, y, points, witness):
    """Two 1-D samples (histograms) and the MMD witness function between them.

    Parameters
    ----------
    x, y : array-like of shape (n, 1) and (m, 1)
    points : array-like of shape (k, 1)
        Where the witness was evaluated.
    witness : array-like of shape (k,)
        From :func:`~tllab.studies.distribution_shift.references.mmd_witness`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch, tllab
    >>> from tllab.studies import distribution_shift as study
    >>> from tllab.viz import distribution_shift as view
    >>> x, y = torch.randn(50, 1), torch.randn(50, 1) + 1
    >>> t = torch.linspace(-3, 4, 50)[:, None]
    >>> fig = view.plot_mmd_witness(x, y, t, study.mmd_witness(x, y, t))
    >>> len(fig.axes)
    2
    """
    x, y, t, w = (_np(a).reshape(-1) for a in (x, y, points, witness))
    fig = _new_figure((6.5, 3.0))
    ax = fig.subplots()
    bins = np.linspace(t.min(), t.max(), 30)
    ax.hist(x, bins=bins, density=True, alpha=0.35, color="C0", label="sample x (source)")
    ax.hist(y, bins=bins, density=True, alpha=0.35, color="C1", label="sample y (target)")
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    ax2 = ax.twinx()
    ax2.plot(t, w, "k", lw=1.5, label="witness $\\hat\\mu_x - \\hat\\mu_y$")
    ax2.axhline(0, color="gray", lw=0.6)
    lim = 1.1 * np.abs(w).max()
    ax2.set_ylim(-lim, lim)
    ax2.set_ylabel("witness")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_mmd_estimators(null: dict, alt: dict | None = None):
    """Histograms of the three MMD² estimators over repeated draws.

    Parameters
    ----------
    null : dict
        :func:`~tllab.studies.distribution_shift.estimators.mmd_estimator_study` output without
        shift.
    alt : dict, optional
        The same with a shift (second panel).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> from tllab.viz import distribution_shift as view
    >>> fig = view.plot_mmd_estimators(study.mmd_estimator_study(10, n_reps=20))
    >>> len(fig.axes)
    1
    """
    studies = [null] if alt is None else [null, alt]
    fig = _new_figure((4.6 * len(studies), 3.2))
    axes = fig.subplots(1, len(studies), squeeze=False)[0]
    for ax, out in zip(axes, studies, strict=True):
        # The range of the two quadratic estimators; the much wider linear one is clipped.
        lo = min(np.percentile(out["unbiased"], 0.5), 0.0)
        hi = np.percentile(out["biased"], 99.5)
        pad = 0.05 * (hi - lo)
        bins = np.linspace(lo - pad, hi + pad, 40)
        for c, e in enumerate(("unbiased", "biased", "linear")):
            vals = np.clip(out[e], bins[0], bins[-1]) if e == "linear" else out[e]
            ax.hist(vals, bins=bins, alpha=0.45, color=f"C{c}", density=True,
                    label="linear (wider; clipped)" if e == "linear" else e,
                    histtype="stepfilled" if e != "linear" else "step", lw=1.2)
        ax.axvline(out["truth"], color="k", ls="--", lw=1, label="true MMD²")
        ax.axvline(0, color="gray", lw=0.6)
        ax.set_xlabel("MMD² estimate")
        ax.set_ylabel("density")
        ax.set_title(f"shift δ = {out['delta']:g}, n = {out['n']}, σ = {out['bandwidth']:g}",
                     fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_bandwidth_curve(bandwidths, curve, *, median: float | None = None):
    """MMD² of one pair of samples against the kernel bandwidth (log scale).

    Parameters
    ----------
    bandwidths : array-like
    curve : array-like
        From :func:`~tllab.studies.distribution_shift.references.mmd_bandwidth_curve`.
    median : float, optional
        The median-heuristic bandwidth, marked by a vertical line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import distribution_shift as view
    >>> fig = view.plot_bandwidth_curve([0.1, 1, 10], [0.0, 0.2, 0.01], median=1.0)
    >>> len(fig.axes)
    1
    """
    b, c = _np(bandwidths).reshape(-1), _np(curve).reshape(-1)
    fig = _new_figure((4.6, 3.0))
    ax = fig.subplots()
    ax.plot(b, c, "o-", ms=3, color="C0", label="unbiased MMD²")
    if median is not None:
        median = check_real(median, "median", low=0.0, low_inclusive=False)
        ax.axvline(median, color="C3", ls="--", lw=1, label=f"median heuristic σ = {median:.2f}")
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("bandwidth σ")
    ax.set_ylabel("MMD²")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_permutation_test(result, *, ax=None, title: str | None = None):
    """The permutation null distribution of an MMD test with its observed statistic.

    Parameters
    ----------
    result : MMDTestResult
        From :func:`tllab.mmd_test`.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (a new figure otherwise).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch, tllab
    >>> from tllab.viz import distribution_shift as view
    >>> res = tllab.mmd_test(torch.randn(30, 1), torch.randn(30, 1) + 1, n_permutations=50)
    >>> len(view.plot_permutation_test(res).axes)
    1
    """
    if ax is None:
        fig = _new_figure((4.6, 3.0))
        ax = fig.subplots()
    else:
        fig = ax.figure
    _draw_null(ax, _np(result.null).reshape(-1), float(result.statistic),
               title or f"permutation test: p = {result.p_value:.3g}")
    if len(fig.axes) == 1:
        fig.tight_layout()
    return fig


def _draw_null(ax, null: np.ndarray, obs: float, title: str) -> None:
    bins = np.linspace(min(null.min(), obs), max(null.max(), obs) + 1e-12, 30)
    ax.hist(null, bins=bins, color="C7", alpha=0.7, label=f"{len(null)} relabellings (H0)")
    ax.axvline(obs, color="C3", lw=2, label=f"observed {obs:.4f}")
    ax.set_xlabel("MMD² (unbiased)")
    ax.set_ylabel("count")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def plot_power_curve(out: dict):
    """Rejection rate of the MMD test against sample size, with and without shift.

    Parameters
    ----------
    out : dict
        From :func:`~tllab.studies.distribution_shift.testing.mmd_power_curve`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, tllab
    >>> from tllab.viz import distribution_shift as view
    >>> out = {"sizes": [10, 20], "power": np.array([0.2, 0.6]),
    ...        "false_alarm": np.array([0.05, 0.0]), "alpha": 0.05, "n_reps": 20}
    >>> len(view.plot_power_curve(out).axes)
    1
    """
    n = np.asarray(out["sizes"])
    fig = _new_figure((4.6, 3.0))
    ax = fig.subplots()
    ax.plot(n, out["power"], "o-", color="C3", label="power (shifted target)")
    ax.plot(n, out["false_alarm"], "s-", color="C0", label="false alarms (no shift)")
    ax.axhline(out["alpha"], color="gray", ls="--", lw=1, label=f"level α = {out['alpha']:g}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(n, [str(v) for v in n])
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("sample size n (each sample)")
    ax.set_ylabel(f"rejection rate ({out['n_reps']} runs)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_shift_explorer_state(state, fig=None):
    """Draw a :class:`~tllab.studies.distribution_shift.experiments.ShiftExplorerState`.

    The two samples and the test's null.

    Parameters
    ----------
    state : ShiftExplorerState
    fig : matplotlib.figure.Figure, optional
        Cleared and redrawn (the explorer and its animation reuse one figure).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> from tllab.viz import distribution_shift as view
    >>> fig = view.plot_shift_explorer_state(study.shift_explorer_state(mean=1.0))
    >>> len(fig.axes)
    2
    """
    fig = _new_figure((8.0, 3.2), fig)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    ax1.scatter(state.xs[:, 0], state.xs[:, 1], s=6, color="C0", alpha=0.6, lw=0,
                label="source")
    ax1.scatter(state.xt[:, 0], state.xt[:, 1], s=6, color="C1", alpha=0.6, lw=0,
                marker="^", label="target")
    ax1.set_xlim(-3.5, 4.5)
    ax1.set_ylim(-3.0, 3.0)
    ax1.set_aspect("equal")
    ax1.set_xlabel("$x_1$")
    ax1.set_ylabel("$x_2$")
    p = state.params
    ax1.set_title(f"mean {p['mean']:+.2f}, spread {p['spread']:.2f}, "
                  f"rotation {p['rotation']:.0f}°, noise {p['noise']:.2f}", fontsize=8)
    ax1.legend(fontsize=7, loc="upper left")
    verdict = "shift detected" if state.p_value <= 0.05 else "no evidence of shift"
    ax1.text(0.98, 0.03, f"JS ({state.js_method}) = {state.js:.3f} nats\n"
             f"MMD² = {state.mmd2:.4f}\np = {state.p_value:.3f}: {verdict}",
             transform=ax1.transAxes, ha="right", va="bottom", fontsize=7,
             bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
    _draw_null(ax2, np.asarray(state.null), state.mmd2,
               f"MMD permutation test: p = {state.p_value:.3f}")
    fig.tight_layout()
    return fig


def plot_digit_experiment(rows: Sequence):
    """Target accuracy, MMD² and proxy A-distance against severity, one line per cause.

    Parameters
    ----------
    rows : sequence of DigitShiftRow
        From :func:`~tllab.studies.distribution_shift.experiments.digit_shift_experiment`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> from tllab.viz import distribution_shift as view
    >>> rows = [study.DigitShiftRow("drift", 0.0, 0.97, 0.0, 0.0),
    ...         study.DigitShiftRow("drift", 1.0, 0.40, 0.2, 1.9)]
    >>> len(view.plot_digit_experiment(rows).axes)
    3
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must not be empty")
    causes = list(dict.fromkeys(r.cause for r in rows))
    fig = _new_figure((10.0, 3.0))
    axes = fig.subplots(1, 3)
    fields = (("accuracy", "target accuracy"), ("mmd2", "MMD² (source vs target)"),
              ("pad", "proxy A-distance"))
    for ax, (field, label) in zip(axes, fields, strict=True):
        for c, cause in enumerate(causes):
            sub = [r for r in rows if r.cause == cause]
            ax.plot([r.severity for r in sub], [getattr(r, field) for r in sub], "o-",
                    color=f"C{c}", ms=4, label=cause)
        ax.set_xlabel("severity")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    axes[2].set_ylim(-0.1, 2.1)
    fig.tight_layout()
    return fig


#: The explorer's default target, moved by half a standard deviation along ``x_1``: a
#: change hard to see in a scatter plot of 150 points, with a JS estimate near 0, yet
#: detected by the MMD permutation test.
SHIFT_EXPLORER_DEFAULTS: dict[str, float] = {"mean": 0.5, "spread": 1.0, "rotation": 0.0,
                                             "noise": 0.0}


def shift_explorer(
    mean: float = SHIFT_EXPLORER_DEFAULTS["mean"],
    spread: float = SHIFT_EXPLORER_DEFAULTS["spread"],
    rotation: float = SHIFT_EXPLORER_DEFAULTS["rotation"],
    noise: float = SHIFT_EXPLORER_DEFAULTS["noise"],
    *,
    js_method: str = "kde",
    n: int = 150,
    n_permutations: int = 200,
    seed: int = 0,
):
    r"""Live explorer: move the target's mean, spread, rotation or noise; watch JS and MMD.

    Each change redraws both samples (:func:`~tllab.data.toy.gaussian_shift_pair`), the JS estimate,
    the unbiased MMD² and the permutation test's null distribution and p-value
    (:func:`~tllab.studies.distribution_shift.experiments.shift_explorer_state`).  With ``n = 150``
    and 200
    permutations a redraw takes well under a second on a laptop CPU.  The default target
    (:data:`SHIFT_EXPLORER_DEFAULTS`) is a shift that the eye barely sees and the test
    detects.  Needs ``ipywidgets``.

    Parameters
    ----------
    mean, spread, rotation, noise : float
        Initial target transform (see :func:`~tllab.data.toy.gaussian_shift_pair`).
    js_method : {"kde", "histogram"}, default="kde"
        Initial JS estimator (a dropdown).
    n : int, default=150
    n_permutations : int, default=200
    seed : int, default=0

    Returns
    -------
    ipywidgets.VBox
        As :func:`~tllab.viz.widgets.parameter_explorer`.

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import distribution_shift as view
    >>> ui = view.shift_explorer()
    >>> bytes(ui.children[1].value[:4])
    b'\x89PNG'
    """
    widgets = _ipywidgets()
    n = check_int(n, "n", min_value=4)
    n_permutations = check_int(n_permutations, "n_permutations", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    js_method = check_choice(js_method, "js_method", ("kde", "histogram"))
    style = {"description_width": "initial"}
    slider = dict(style=style, continuous_update=False)
    controls = {
        "mean": widgets.FloatSlider(value=check_real(mean, "mean"), min=-2.0, max=2.0,
                                    step=0.1, description="target mean", **slider),
        "spread": widgets.FloatSlider(value=check_real(spread, "spread", low=0.0,
                                                       low_inclusive=False),
                                      min=0.5, max=2.0, step=0.05, description="spread",
                                      **slider),
        "rotation": widgets.FloatSlider(value=check_real(rotation, "rotation"), min=-90.0,
                                        max=90.0, step=5.0, description="rotation (°)",
                                        **slider),
        "noise": widgets.FloatSlider(value=check_real(noise, "noise", low=0.0), min=0.0,
                                     max=1.0, step=0.05, description="sensor noise", **slider),
        "js_method": widgets.Dropdown(options=["kde", "histogram"], value=js_method,
                                      description="JS estimator", style=style),
    }

    def compute(**values):
        return shift_explorer_state(**values, n=n, n_permutations=n_permutations, seed=seed)

    return parameter_explorer(compute, lambda state, fig: plot_shift_explorer_state(state, fig),
                              controls, columns=2)


def shift_explorer_jshtml(
    parameter: str = "mean",
    values: Sequence[float] | None = None,
    *,
    dpi: int = 100,
    interval: int = 900,
    **fixed: Any,
) -> str:
    r"""Kernel-free fallback of :func:`shift_explorer`: an animation over one parameter.

    The states are precomputed (:func:`~tllab.viz.figures.precompute_grid`) for each value of
    ``parameter`` with the other parameters at :data:`SHIFT_EXPLORER_DEFAULTS` (or
    ``fixed``), then rendered with :func:`~tllab.viz.figures.grid_jshtml`.

    Parameters
    ----------
    parameter : {"mean", "spread", "rotation", "noise"}, default="mean"
    values : sequence of float, optional
        Default for ``"mean"``: 0, 0.2, ..., 1.6 (9 frames); for the others 9 values
        spanning the slider's range.
    dpi : int, default=100
    interval : int, default=900
        Milliseconds per frame.
    **fixed
        Other arguments of
        :func:`~tllab.studies.distribution_shift.experiments.shift_explorer_state` (target
        parameters, ``n``, ``n_permutations``, ``js_method``, ``seed``).

    Returns
    -------
    str
        HTML with JavaScript controls; show it with ``IPython.display.HTML``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import distribution_shift as view
    >>> html = view.shift_explorer_jshtml("rotation", [0.0, 45.0])
    >>> html.count("data:image/png;base64")
    2
    """
    parameter = check_choice(parameter, "parameter", ("mean", "spread", "rotation", "noise"))
    if values is None:
        values = {"mean": np.linspace(0.0, 1.6, 9), "spread": np.linspace(0.6, 1.8, 9),
                  "rotation": np.linspace(0.0, 90.0, 9), "noise": np.linspace(0.0, 0.8, 9)
                  }[parameter]
    values = [round(check_real(v, "values"), 6) for v in values]
    kwargs = {**SHIFT_EXPLORER_DEFAULTS, **fixed}
    kwargs.pop(parameter, None)

    def state(v, **kw):
        return shift_explorer_state(**{parameter: v}, **kw)

    states = precompute_grid(state, values, **kwargs)
    return grid_jshtml(states, lambda s, fig: plot_shift_explorer_state(s, fig),
                       figsize=(8.0, 3.2), dpi=dpi, interval=interval)
