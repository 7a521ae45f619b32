r"""Figures, the comparison table and the explorer of the feature-alignment chapter.

:func:`feature_alignment_explorer` is the live explorer (ipywidgets: rotation angle of the
target, weight λ of the alignment term, method); :func:`explorer_jshtml` its kernel-free
fallback, an animation over a small precomputed grid of angles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._checks import check_choice, check_int, check_real
from ..studies.feature_alignment import (
    METHOD_LABELS,
    ExplorerState,
    MethodSummary,
    explorer_state,
)
from .figures import Table, _np, grid_animation, markdown_table
from .widgets import parameter_explorer

__all__ = [
    "mean_sd",
    "comparison_table",
    "plot_domains",
    "plot_shallow_maps",
    "plot_decision_grids",
    "plot_label_shift",
    "plot_semi_supervised",
    "plot_explorer_state",
    "feature_alignment_explorer",
    "explorer_animation",
    "explorer_jshtml",
]

_SRC, _TGT = "C0", "C1"


def mean_sd(a) -> str:
    """``"mean ± sd"`` (sample sd over seeds) with three decimals, for tables.

    Examples
    --------
    >>> from tllab.viz import feature_alignment as view
    >>> view.mean_sd([0.8, 0.9])
    '0.850 ± 0.071'
    """
    a = np.asarray(a, dtype=float)
    return f"{a.mean():.3f} ± {a.std(ddof=1) if a.size > 1 else 0.0:.3f}"


def comparison_table(rows: Sequence[MethodSummary]) -> Table:
    r"""One row per method: target accuracy and proxy A-distance (mean ± sd over seeds),
    mean time.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.feature_alignment import MethodSummary
    >>> from tllab.viz import feature_alignment as view
    >>> row = MethodSummary("coral", np.array([0.8, 0.9]), np.array([1.0, 1.0]),
    ...                     np.array([0.5, 0.7]), np.array([0.2, 0.4]))
    >>> print(view.comparison_table([row]))
    | method | target accuracy | proxy A-distance | time (s) |
    |:---|---:|---:|---:|
    | CORAL | 0.850 ± 0.071 | 0.600 ± 0.141 | 0.3 |
    """
    if isinstance(rows, MethodSummary) or not all(isinstance(r, MethodSummary) for r in rows):
        raise TypeError("rows must be a sequence of MethodSummary")
    return markdown_table(
        ["method", "target accuracy", "proxy A-distance", "time (s)"],
        [[METHOD_LABELS[r.method], mean_sd(r.accuracy), mean_sd(r.pad),
          f"{np.mean(r.seconds):.1f}"] for r in rows])


def _scatter_pair(ax, zs, ys, zt, yt, *, title=None, alpha=0.6):
    zs, ys, zt, yt = (_np(a) for a in (zs, ys, zt, yt))
    for c, marker in ((0, "o"), (1, "s")):
        ax.scatter(*zs[ys == c].T, s=7, marker=marker, color=_SRC, alpha=alpha, lw=0,
                   label=f"source, class {c}")
        ax.scatter(*zt[yt == c].T, s=9, marker=marker, facecolor="none", edgecolor=_TGT,
                   alpha=alpha, lw=0.6, label=f"target, class {c}")
    if title:
        ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_domains(pair, *, grid: dict | None = None, method: str = "source_only"):
    r"""The rotated moons: source (filled, blue) and target (hollow, orange), with a
    decision boundary when ``grid`` (from
    :func:`~tllab.studies.feature_alignment.decision_grids`) is given.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    _scatter_pair(ax, *pair)
    if grid is not None:
        g = grid["grid"]
        ax.contour(g[..., 0], g[..., 1], grid[method], levels=[0.5], colors="k", linewidths=1)
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_shallow_maps(maps: dict, pair):
    r"""Before/after: the two domains raw and after CORAL, subspace alignment and TCA.

    ``maps`` comes from :func:`~tllab.studies.feature_alignment.shallow_maps`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    titles = {"none": "raw inputs", "coral": "CORAL (source re-coloured)",
              "subspace": "subspace alignment", "tca": "TCA (2 components)"}
    fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
    ys, yt = pair[1], pair[3]
    for ax, key in zip(axes, ("none", "coral", "subspace", "tca"), strict=True):
        zs, zt = maps[key]
        _scatter_pair(ax, zs, ys, zt, yt, title=titles[key])
    axes[0].legend(fontsize=6, loc="lower left", frameon=False)
    fig.tight_layout()
    return fig


def plot_decision_grids(grids: dict, pair, methods: Sequence[str], accuracies: dict):
    r"""Decision boundaries (``P = 1/2``) of several trained networks over the target.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    methods = list(methods)
    fig, axes = plt.subplots(1, len(methods), figsize=(min(9, 2.3 * len(methods)), 2.5))
    axes = np.atleast_1d(axes)
    g = grids["grid"]
    for ax, m in zip(axes, methods, strict=True):
        _scatter_pair(ax, *pair, alpha=0.35)
        ax.contourf(g[..., 0], g[..., 1], grids[m], levels=[0, 0.5, 1], colors=[_SRC, _TGT],
                    alpha=0.08)
        ax.contour(g[..., 0], g[..., 1], grids[m], levels=[0.5], colors="k", linewidths=1)
        ax.set_title(f"{METHOD_LABELS[m]}\ntarget acc {accuracies[m]:.3f}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_label_shift(out: dict, methods: Sequence[str], priors: Sequence[float]):
    r"""Target accuracy per method and target class proportion, one dot per seed.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 2.8))
    width = 0.8 / len(methods)
    for j, m in enumerate(methods):
        for i, p in enumerate(priors):
            acc = out[(m, p)].accuracy
            x = i + (j - (len(methods) - 1) / 2) * width
            ax.scatter(np.full(acc.size, x), acc, s=12, color=f"C{j}",
                       label=METHOD_LABELS[m] if i == 0 else None)
            ax.plot([x - width / 3, x + width / 3], [acc.mean()] * 2, color=f"C{j}", lw=2)
    ax.set_xticks(range(len(priors)), [f"{p:.0%} class 1" for p in priors])
    ax.set_ylabel("target accuracy")
    ax.set_xlabel("target class proportions (source: 50%)")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_semi_supervised(out: dict, methods: Sequence[str], counts: Sequence[int]):
    r"""Target accuracy (mean ± sd over seeds) against the number of labelled target points.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 2.8))
    for j, m in enumerate(methods):
        mean = np.array([out[(m, k)].accuracy.mean() for k in counts])
        sd = np.array([out[(m, k)].accuracy.std(ddof=1) for k in counts])
        ax.errorbar(counts, mean, yerr=sd, marker="o", capsize=3, color=f"C{j}",
                    label=METHOD_LABELS[m])
    ax.set_xlabel("labelled target points")
    ax.set_ylabel("target accuracy")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_explorer_state(state: ExplorerState, fig=None):
    r"""Draw an :class:`~tllab.studies.feature_alignment.ExplorerState`: the source-only
    boundary (left) and the adapted one (right) over the rotated target.

    Examples
    --------
    >>> from tllab.studies import feature_alignment as study
    >>> from tllab.viz import feature_alignment as view
    >>> fig = view.plot_explorer_state(study.explorer_state(20.0, epochs=2))
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    if not isinstance(state, ExplorerState):
        raise TypeError(f"state must be an ExplorerState; got {type(state).__name__}")
    if fig is None:
        fig = plt.figure(figsize=(8, 3.4))
    fig.clear()
    axes = fig.subplots(1, 2)
    g = state.grid
    pair = (state.xs, state.ys, state.xt, state.yt)
    titles = (f"source only: target acc {state.accuracy_source_only:.3f}",
              f"{METHOD_LABELS[state.method]}, λ = {state.weight:g}: target acc "
              f"{state.accuracy:.3f}")
    for ax, prob, title in zip(axes, (state.prob_source_only, state.prob), titles, strict=True):
        _scatter_pair(ax, *pair, alpha=0.45)
        ax.contourf(g[..., 0], g[..., 1], prob, levels=[0, 0.5, 1], colors=[_SRC, _TGT],
                    alpha=0.08)
        ax.contour(g[..., 0], g[..., 1], prob, levels=[0.5], colors="k", linewidths=1)
        ax.set_title(title, fontsize=9)
        ax.set_aspect("equal")
    fig.suptitle(f"target rotated by {state.angle:g}°", fontsize=10)
    fig.tight_layout()
    return fig


def feature_alignment_explorer(angle: float = 40.0, weight: float = 1.0, method: str = "dann"):
    r"""Live explorer: rotate the target moons, change λ and the method, watch the boundary.

    Each change retrains two small networks (about a second).  Needs ``ipywidgets``.

    Returns
    -------
    ipywidgets.VBox

    Examples
    --------
    >>> from tllab.viz import feature_alignment as view
    >>> ui = view.feature_alignment_explorer()  # doctest: +SKIP
    """
    import ipywidgets as widgets

    method = check_choice(method, "method", ("deep_coral", "mmd", "dann"))
    style = {"description_width": "initial"}
    controls = {
        "angle": widgets.FloatSlider(value=check_real(angle, "angle"), min=0.0, max=90.0,
                                     step=10.0, description="rotation (°)", style=style,
                                     continuous_update=False),
        "weight": widgets.FloatLogSlider(value=check_real(weight, "weight", low=0.0,
                                                          low_inclusive=False),
                                         base=10, min=-2, max=1, step=0.5,
                                         description="weight λ", style=style,
                                         continuous_update=False),
        "method": widgets.Dropdown(options=[(METHOD_LABELS[m], m) for m in
                                            ("deep_coral", "mmd", "dann")],
                                   value=method, description="alignment", style=style),
    }
    return parameter_explorer(explorer_state, plot_explorer_state, controls, figsize=(8, 3.4),
                              dpi=90, columns=2)


def explorer_animation(angles: Sequence[float] = (0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0), *,
                       weight: float = 1.0, method: str = "dann", dpi: int = 80):
    r"""Kernel-free fallback of the explorer: one frame per rotation angle.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Render it with ``to_jshtml()`` or :func:`explorer_jshtml`.
    """
    angles = [check_real(a, "angles") for a in angles]
    if not angles:
        raise ValueError("angles must not be empty")
    dpi = check_int(dpi, "dpi", min_value=10)
    states = [explorer_state(a, weight, method) for a in angles]
    return grid_animation(states, plot_explorer_state, figsize=(8, 3.4), dpi=dpi, interval=900)


def explorer_jshtml(angles: Sequence[float] = (0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0), *,
                    weight: float = 1.0, method: str = "dann", dpi: int = 80) -> str:
    r"""HTML player of :func:`explorer_animation` (works in a static page).

    Examples
    --------
    >>> from tllab.viz import feature_alignment as view
    >>> html = view.explorer_jshtml([0.0, 30.0])  # doctest: +SKIP
    """
    anim = explorer_animation(angles, weight=weight, method=method, dpi=dpi)
    return anim.to_jshtml(default_mode="once")
