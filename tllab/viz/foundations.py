r"""Figures, tables and the explorer of the foundations chapter.

:func:`foundations_explorer` is the live explorer (ipywidgets: rotation of the target, label
budget, a source with concept shift); :func:`explorer_jshtml` its kernel-free fallback, an
animation over the rotations of :data:`~tllab.studies.foundations.transfer.EXPLORER_ROTATIONS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import check_int, check_real
from ..studies.foundations import (
    BUDGETS,
    EXPLORER_ROTATIONS,
    BoundRow,
    ExplorerState,
    FamilyResult,
    LearningCurve,
    RelationResult,
    explorer_state,
)
from .figures import Table, grid_jshtml, markdown_table
from .widgets import parameter_explorer

__all__ = [
    "family_table",
    "bound_table",
    "plot_learning_curves",
    "plot_relations",
    "plot_bound",
    "plot_explorer_state",
    "foundations_explorer",
    "explorer_jshtml",
]


def _pm(values: np.ndarray, digits: int = 3) -> str:
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def family_table(rows: Sequence[FamilyResult]) -> Table:
    r"""The table of :func:`~tllab.studies.foundations.transfer.family_study`: mean ± sd over seeds.

    Parameters
    ----------
    rows : sequence of FamilyResult

    Returns
    -------
    Table

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.foundations import FamilyResult
    >>> from tllab.viz import foundations as view
    >>> row = FamilyResult("model", "digits", "accuracy", np.array([0.5, 0.7]), np.array([0.8]))
    >>> print(view.family_table([row]))
    | family: setting | metric | no transfer | transfer |
    |:---|:---|---:|---:|
    | model: digits | accuracy | 0.600 ± 0.100 | 0.800 ± 0.000 |
    """
    if isinstance(rows, FamilyResult) or not all(isinstance(r, FamilyResult) for r in rows):
        raise TypeError("rows must be a sequence of FamilyResult")
    return markdown_table(
        ["family: setting", "metric", "no transfer", "transfer"],
        [[f"{r.family}: {r.setting}", r.metric, _pm(r.without), _pm(r.with_transfer)]
         for r in rows],
        align=["left", "left", "right", "right"])


def _shift_name(row: BoundRow) -> str:
    return "no shift" if row.cause == "none" else f"{row.cause} {row.severity:g}"


def bound_table(rows: Sequence[BoundRow]) -> Table:
    r"""The terms of the bound per shift (mean ± sd over seeds for the bound and the truth).

    Parameters
    ----------
    rows : sequence of BoundRow
        From :func:`~tllab.studies.foundations.bound.bound_study`.

    Returns
    -------
    Table
        Columns: shift, ½·PAD, ``λ̂``, bound ``ε_s + ½·PAD + λ̂``, real target error.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.foundations import BoundRow
    >>> from tllab.viz import foundations as view
    >>> z = np.array([0.1, 0.1])
    >>> print(view.bound_table([BoundRow("drift", 1.0, z, 2 * z, z, 3 * z)]))
    | shift | ½·PAD | λ̂ | bound | target error |
    |:---|---:|---:|---:|---:|
    | drift 1 | 0.100 | 0.100 | 0.300 ± 0.000 | 0.300 ± 0.000 |
    """
    if isinstance(rows, BoundRow) or not all(isinstance(r, BoundRow) for r in rows):
        raise TypeError("rows must be a sequence of BoundRow")
    return markdown_table(
        ["shift", "½·PAD", "λ̂", "bound", "target error"],
        [[_shift_name(r), f"{0.5 * r.pad.mean():.3f}", f"{r.lam.mean():.3f}", _pm(r.bound),
          _pm(r.target_error)] for r in rows])


def _curve_axes(ax, curve: LearningCurve, *, legend: bool = True, budget: int | None = None):
    b = curve.budgets
    for values, label, color, marker in ((curve.target_only, "target only", "C0", "o"),
                                         (curve.transfer, "transfer (prior = source)", "C3",
                                          "s")):
        mean, sd = values.mean(0), values.std(0)
        ax.plot(b, mean, marker=marker, ms=4, color=color, label=label)
        ax.fill_between(b, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)
    src = curve.source_only
    ax.axhline(src.mean(), color="k", ls="--", lw=1, label="source model only")
    if budget is not None:
        ax.axvline(budget, color="0.5", lw=6, alpha=0.25)
    ax.set_xscale("log")
    ax.set_xticks(b)
    ax.set_xticklabels([str(int(v)) for v in b])
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("labelled target images per class")
    ax.set_ylabel("target accuracy (mean ± sd)")
    if legend:
        ax.legend(fontsize=7, loc="lower right")


def plot_learning_curves(curves: Sequence[LearningCurve], titles: Sequence[str] | None = None):
    r"""Target-only against transfer learning curves, one panel per curve.

    Parameters
    ----------
    curves : sequence of LearningCurve
        From :func:`~tllab.studies.foundations.transfer.learning_curve`.
    titles : sequence of str, optional
        Panel titles; default: the rotation (and "concept shift").

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> from tllab.viz import foundations as view
    >>> lc = study.learning_curve(0.0, budgets=[1, 2], seeds=[0], progress=False)
    >>> len(view.plot_learning_curves([lc]).axes)
    1
    """
    import matplotlib.pyplot as plt

    curves = list(curves)
    if not curves or not all(isinstance(c, LearningCurve) for c in curves):
        raise TypeError("curves must be a non-empty sequence of LearningCurve")
    if titles is None:
        titles = [f"target rotated {c.rotation:g}°" + (", source concept-shifted"
                                                         if c.concept_shift else "")
                  for c in curves]
    titles = list(titles)
    if len(titles) != len(curves):
        raise ValueError(f"titles must have {len(curves)} entries; got {len(titles)}")
    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 3.4), sharey=True,
                             squeeze=False)
    for i, (ax, c, t) in enumerate(zip(axes[0], curves, titles, strict=True)):
        _curve_axes(ax, c, legend=i == 0)
        ax.set_title(t, fontsize=9)
        if i:
            ax.set_ylabel("")
    fig.tight_layout()
    return fig


def plot_relations(result: RelationResult):
    r"""Correlation of the class means (entities) and of their distances (relations).

    Parameters
    ----------
    result : RelationResult
        From :func:`~tllab.studies.foundations.relations.relation_study`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> from tllab.viz import foundations as view
    >>> len(view.plot_relations(study.relation_study([0.0, 45.0], seeds=[0])).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(result, RelationResult):
        raise TypeError(f"result must be a RelationResult; got {type(result).__name__}")
    fig, ax = plt.subplots(figsize=(5.5, 3.0))
    for values, label, color in ((result.entities, "class-mean images (entities)", "C0"),
                                 (result.relations, "distances between classes (relations)",
                                  "C3")):
        ax.errorbar(result.rotations, values.mean(0), yerr=values.std(0), marker="o", ms=4,
                    capsize=3, color=color, label=label)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("rotation of the target digits (degrees)")
    ax.set_ylabel("correlation with the source")
    ax.set_ylim(-0.3, 1.05)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def plot_bound(rows: Sequence[BoundRow]):
    r"""The bound's terms stacked per shift, against the real target error.

    Parameters
    ----------
    rows : sequence of BoundRow

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.foundations import BoundRow
    >>> from tllab.viz import foundations as view
    >>> z = np.array([0.1, 0.2])
    >>> len(view.plot_bound([BoundRow("none", 0.0, z, z, z, z)]).axes)
    1
    """
    import matplotlib.pyplot as plt

    rows = list(rows)
    if not rows or not all(isinstance(r, BoundRow) for r in rows):
        raise TypeError("rows must be a non-empty sequence of BoundRow")
    fig, ax = plt.subplots(figsize=(9, 3.4))
    x = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    for values, label, color in (([r.source_error for r in rows], "source error ε_s", "C0"),
                                 ([0.5 * r.pad for r in rows], "½ · proxy A-distance", "C1"),
                                 ([r.lam for r in rows], "λ̂ (needs target labels)", "C2")):
        mean = np.array([v.mean() for v in values])
        ax.bar(x, mean, 0.6, bottom=bottom, color=color, alpha=0.75, label=label)
        bottom = bottom + mean
    err = np.array([r.target_error.mean() for r in rows])
    sd = np.array([r.target_error.std() for r in rows])
    ax.errorbar(x, err, yerr=sd, fmt="D", color="k", ms=5, capsize=3,
                label="real target error ε_t")
    ax.axhline(1.0, color="k", lw=0.8, ls=":")
    ax.set_xticks(x)
    ax.set_xticklabels([_shift_name(r) for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("error")
    ax.legend(fontsize=7, loc="upper left", ncols=2)
    ax.set_ylim(0, 1.75)
    fig.tight_layout()
    return fig


def plot_explorer_state(state: ExplorerState, fig=None):
    r"""Draw an :class:`~tllab.studies.foundations.transfer.ExplorerState`: target digits (left),
    learning curves with the chosen budget highlighted (right).

    Parameters
    ----------
    state : ExplorerState
    fig : matplotlib.figure.Figure, optional
        Cleared and redrawn (used by the animation); a new 9×3.4 in figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> from tllab.viz import foundations as view
    >>> len(view.plot_explorer_state(study.explorer_state(0.0, 1, seeds=[0])).axes)
    9
    """
    import matplotlib.pyplot as plt

    if not isinstance(state, ExplorerState):
        raise TypeError(f"state must be an ExplorerState; got {type(state).__name__}")
    if fig is None:
        fig = plt.figure(figsize=(9, 3.4))
    fig.clear()
    grid = fig.add_gridspec(2, 6, width_ratios=[1, 1, 1, 1, 1.1, 5.5])
    for k in range(8):
        ax = fig.add_subplot(grid[k // 4, k % 4])
        ax.imshow(state.examples[k], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.axes[0].set_title(f"target digits, turned {state.rotation:g}°", fontsize=9, loc="left")
    ax = fig.add_subplot(grid[:, 5])
    c = state.curve
    _curve_axes(ax, c, budget=state.budget)
    j = int(np.flatnonzero(c.budgets == state.budget)[0])
    gain = c.transfer[:, j] - c.target_only[:, j]
    source = "renamed-label source" if c.concept_shift else "clean source"
    ax.set_title(f"{source}; at {state.budget}/class transfer − target only = "
                 f"{gain.mean():+.3f} ± {gain.std():.3f}", fontsize=8)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.16, top=0.88, wspace=0.1)
    return fig


def foundations_explorer(rotation: float = 15.0, budget: int = 2, concept_shift: bool = False):
    r"""Live explorer: turn the target digits, change the label budget, rename source labels.

    The picture shows eight target digits and the learning curves of
    :func:`~tllab.studies.foundations.transfer.explorer_state` (five seeds; a new rotation costs
    about a second).  The default (15°, two labels per class, clean source) is where transfer
    helps most clearly; turning the target further makes the same prior harmful.  Needs
    ``ipywidgets``.

    Parameters
    ----------
    rotation : float, default=15.0
        One of :data:`~tllab.studies.foundations.transfer.EXPLORER_ROTATIONS`.
    budget : int, default=2
        One of :data:`~tllab.studies.foundations.transfer.BUDGETS`.
    concept_shift : bool, default=False

    Returns
    -------
    ipywidgets.VBox
        From :func:`~tllab.viz.widgets.parameter_explorer`.

    Examples
    --------
    >>> from tllab.viz import foundations as view
    >>> ui = view.foundations_explorer()  # doctest: +SKIP
    """
    import ipywidgets as widgets

    rotation = check_real(rotation, "rotation")
    if rotation not in EXPLORER_ROTATIONS:
        raise ValueError(f"rotation must be one of {EXPLORER_ROTATIONS}; got {rotation}")
    budget = check_int(budget, "budget", min_value=1)
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}; got {budget}")
    if not isinstance(concept_shift, bool):
        raise TypeError(f"concept_shift must be a bool; got {concept_shift!r}")
    style = {"description_width": "initial"}
    controls = {
        "rotation": widgets.SelectionSlider(
            options=[(f"{r:g}°", r) for r in EXPLORER_ROTATIONS], value=rotation,
            description="target rotation", style=style, continuous_update=False),
        "budget": widgets.SelectionSlider(
            options=list(BUDGETS), value=budget, description="labels per class", style=style,
            continuous_update=False),
        "concept_shift": widgets.Checkbox(value=concept_shift,
                                          description="source labels renamed (concept shift)",
                                          style=style),
    }
    return parameter_explorer(explorer_state, plot_explorer_state, controls, figsize=(9, 3.4))


def explorer_jshtml(rotations: Sequence[float] = EXPLORER_ROTATIONS, *, budget: int = 2,
                    dpi: int = 80, **kwargs: Any) -> str:
    r"""HTML (with JavaScript controls) stepping through target rotations; no kernel needed.

    Parameters
    ----------
    rotations : sequence of float, default=EXPLORER_ROTATIONS
    budget : int, default=2
        The highlighted label budget.
    dpi : int, default=80
    **kwargs
        Passed to :func:`~tllab.studies.foundations.transfer.explorer_state` (``concept_shift``,
        ``tau``, ``seeds``).

    Returns
    -------
    str
        Display it with ``IPython.display.HTML``.

    Examples
    --------
    >>> from tllab.viz import foundations as view
    >>> view.explorer_jshtml([0.0, 90.0], budget=1, seeds=[0]).count("data:image/png;base64")
    2
    """
    rots = [check_real(r, "rotations") for r in rotations]
    if not rots:
        raise ValueError("rotations must not be empty")
    states = [explorer_state(r, budget, **kwargs) for r in rots]
    return grid_jshtml(states, plot_explorer_state, figsize=(9, 3.4),
                       dpi=check_int(dpi, "dpi", min_value=10), interval=1000)
