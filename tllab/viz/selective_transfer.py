r"""Figures, tables and the explorer of the selective-transfer chapter.

:func:`selective_explorer` is the live explorer (ipywidgets); :func:`explorer_jshtml` its
kernel-free fallback, an animation over a small precomputed grid of shift strengths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import check_choice, check_int, check_real
from ..studies.selective_transfer import (
    ExplorerState,
    GateStudy,
    GateSweep,
    MetricStudy,
    MultiTaskStudy,
    SelectionStudy,
    explorer_state,
)
from .figures import Table, grid_jshtml, markdown_table
from .widgets import parameter_explorer

__all__ = [
    "pm",
    "gate_table",
    "plot_gates_vs_truth",
    "plot_gate_levels",
    "selection_table",
    "plot_selection",
    "multitask_table",
    "metric_table",
    "plot_metric_embeddings",
    "plot_explorer_state",
    "selective_explorer",
    "explorer_jshtml",
]

_KEEP, _DROP = "C0", "C3"  # transferable / domain-specific


def pm(values, digits: int = 3) -> str:
    """``"mean ± sd"`` of an array (population sd), rounded.

    Examples
    --------
    >>> from tllab.viz import selective_transfer as view
    >>> view.pm([0.8, 0.9])
    '0.850 ± 0.050'
    """
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.{digits}f} ± {v.std():.{digits}f}"


def _check(obj, cls, name):
    if not isinstance(obj, cls):
        raise TypeError(f"{name} must be a {cls.__name__}; got {type(obj).__name__}")


def _label(config) -> str:
    kind, penalty = config
    return f"{kind} gate, λ = {penalty:g}"


def gate_table(study: GateStudy) -> Table:
    r"""Gate AUC against the truth and target accuracy (mean ± sd over seeds).

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> res = study.gate_study([0], kinds=["sigmoid"], penalties=[1.0], n=200, n_test=500,
    ...                        progress=False, n_steps=100)
    >>> view.gate_table(res).header
    ['model', 'gate AUC', 'target accuracy']
    """
    _check(study, GateStudy, "study")
    rows = [["no gate (all features)", "–", pm(study.plain_accuracy)]]
    rows += [[_label(c), pm(study.auc[c]), pm(study.target_accuracy[c])] for c in study.auc]
    rows.append(["transferable features only", "–", pm(study.oracle_accuracy)])
    return markdown_table(["model", "gate AUC", "target accuracy"], rows)


def plot_gates_vs_truth(study: GateStudy, configs: Sequence | None = None):
    r"""Learned gates per feature (mean ± sd over seeds), coloured by the truth.

    One panel per ``(kind, penalty)`` configuration (default: all of the study's).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> res = study.gate_study([0], kinds=["sigmoid"], penalties=[1.0], n=200, n_test=500,
    ...                        progress=False, n_steps=100)
    >>> len(view.plot_gates_vs_truth(res).axes)
    1
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    _check(study, GateStudy, "study")
    configs = list(study.gates) if configs is None else list(configs)
    for c in configs:
        if c not in study.gates:
            raise ValueError(f"configs: {c!r} is not in the study; have {list(study.gates)}")
    ncol = min(2, len(configs))
    nrow = -(-len(configs) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.1 * ncol, 2.5 * nrow), squeeze=False)
    truth = study.transferable
    colours = [_KEEP if t else _DROP for t in truth]
    idx = np.arange(1, truth.size + 1)
    for ax, c in zip(axes.flat, configs, strict=False):
        g = study.gates[c]
        ax.bar(idx, g.mean(0), yerr=g.std(0), color=colours, capsize=2)
        if c[0] == "softmax":
            ax.axhline(1.0, color="k", lw=0.6, ls=":")
        ax.set_title(f"{_label(c)}: AUC {study.auc[c].mean():.2f}", fontsize=8)
        ax.set_xticks(idx)
        ax.set_xlabel("feature", fontsize=8)
        ax.set_ylabel("gate", fontsize=8)
    for ax in list(axes.flat)[len(configs):]:
        ax.axis("off")
    axes.flat[0].legend(handles=[Patch(color=_KEEP, label="transferable"),
                                 Patch(color=_DROP, label="domain-specific")], fontsize=7)
    fig.tight_layout()
    return fig


def plot_gate_levels(sweep: GateSweep):
    r"""Level and spread of the transferable features' gates against the number shifted.

    Left: their mean gate (mean ± sd over seeds), with ``d / (d − k)``, the softmax
    budget shared by the ``d − k`` kept features; right: their coefficient of variation.

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> sw = study.gate_level_sweep([0, 5], [0], n=100, progress=False, n_steps=20)
    >>> len(view.plot_gate_levels(sw).axes)
    2
    """
    import matplotlib.pyplot as plt

    _check(sweep, GateSweep, "sweep")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 2.9))
    k = sweep.n_shifted
    for i, kind in enumerate(sweep.kept_mean):
        m, cv = sweep.kept_mean[kind], sweep.kept_cv[kind]
        ax1.errorbar(k, m.mean(1), yerr=m.std(1), marker="o", ms=4, capsize=2, color=f"C{i}",
                     label=f"{kind} gate")
        ax2.errorbar(k, cv.mean(1), yerr=cv.std(1), marker="o", ms=4, capsize=2,
                     color=f"C{i}", label=f"{kind} gate")
    kk = np.linspace(k.min(), k.max(), 100)
    ax1.plot(kk, sweep.n_features / (sweep.n_features - kk), "k:", lw=1, label="d / (d − k)")
    ax1.set_xlabel("shifted features k")
    ax1.set_ylabel("mean gate, transferable")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("shifted features k")
    ax2.set_ylabel("sd / mean of their gates")
    ax2.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


_SELECTION_LABELS = {
    "all": "all source points",
    "weighted": "all, ratio weights in the loss",
    "selected_ratio": "selected by ratio",
    "selected_similarity": "selected by similarity",
    "relevant_only": "relevant points only (oracle)",
}


def selection_table(study: SelectionStudy) -> Table:
    r"""Target accuracy of each training set (mean ± sd over seeds).

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> res = study.selection_study([0], fractions=[0.5], progress=False)
    >>> len(view.selection_table(res).rows)
    5
    """
    _check(study, SelectionStudy, "study")
    return markdown_table(["training set", "target accuracy"],
                          [[_SELECTION_LABELS[m], pm(v)] for m, v in study.accuracy.items()])


def _line(ax, coef, xlim, **kw):
    b, w1, w2 = coef
    xs = np.array(xlim)
    ax.plot(xs, -(b + w1 * xs) / w2, **kw)


def plot_selection(study: SelectionStudy):
    r"""The first seed's selection and fitted boundaries, and accuracy against the fraction kept.

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> res = study.selection_study([0], fractions=[0.5, 1.0], progress=False)
    >>> len(view.plot_selection(res).axes)
    2
    """
    import matplotlib.pyplot as plt

    _check(study, SelectionStudy, "study")
    d, kept = study.first, study.first_mask
    xs, ys = d.xs.cpu().numpy(), d.ys.cpu().numpy()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.6, 3.5), width_ratios=(1.25, 1))
    xt = d.xt.cpu().numpy()
    ax1.scatter(xt[:, 0], xt[:, 1], s=4, color="0.75", label="target (unlabelled)")
    for cls, marker in ((0, "o"), (1, "^")):
        on, off = kept & (ys == cls), ~kept & (ys == cls)
        ax1.scatter(xs[on, 0], xs[on, 1], s=10, marker=marker, color="C0",
                    label=f"kept, class {cls}")
        ax1.scatter(xs[off, 0], xs[off, 1], s=10, marker=marker, facecolors="none",
                    edgecolors="C3", lw=0.6, label=f"dropped, class {cls}")
    xlim = (-3.0, 6.0)
    _line(ax1, study.first_coefs["all"], xlim, color="C3", lw=1.5, label="fit on all")
    _line(ax1, study.first_coefs["selected_ratio"], xlim, color="C0", lw=1.5,
          label="fit on kept")
    ax1.set_xlim(*xlim)
    ax1.set_ylim(-3.5, 3.5)
    ax1.set_xlabel("$x_1$")
    ax1.set_ylabel("$x_2$")
    ax1.legend(fontsize=6, loc="lower right", ncol=2)
    f, c = study.fractions, study.curve
    ax2.plot(f, c.mean(0), "o-", color="C0", ms=4, label="keep top fraction (ratio)")
    ax2.fill_between(f, c.mean(0) - c.std(0), c.mean(0) + c.std(0), color="C0", alpha=0.2)
    rel = study.accuracy["relevant_only"].mean()
    ax2.axhline(rel, color="k", ls=":", lw=1, label="relevant points only")
    ax2.set_xlabel("fraction of the source kept")
    ax2.set_ylabel("target accuracy")
    ax2.legend(fontsize=7, loc="lower center")
    fig.tight_layout()
    return fig


def multitask_table(study: MultiTaskStudy) -> Table:
    r"""Main-task accuracy learned alone and with the auxiliary task (mean ± sd).

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> res = study.multitask_study([20], [0], n_test=200, progress=False, n_steps=50)
    >>> view.multitask_table(res).header
    ['main-task labels', 'single-task', 'multi-task']
    """
    _check(study, MultiTaskStudy, "study")
    return markdown_table(["main-task labels", "single-task", "multi-task"],
                          [[str(m), pm(s), pm(t)] for m, s, t in
                           zip(study.n_main, study.single, study.multi, strict=True)])


_METRIC_LABELS = {
    "pixels": "pixels, source as reference",
    "pixels_plus_target": "pixels, source + labelled target",
    "embedding_source": "embedding trained on source",
    "embedding_cross": "embedding, cross-domain triplets",
}


def metric_table(study: MetricStudy) -> Table:
    r"""Nearest-neighbour accuracy on the target, per representation (mean ± sd).

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> res = study.metric_study([0], progress=False, n_steps=5)
    >>> len(view.metric_table(res).rows)
    4
    """
    _check(study, MetricStudy, "study")
    return markdown_table(["representation", "1-NN target accuracy"],
                          [[_METRIC_LABELS[m], pm(v)] for m, v in study.accuracy.items()])


def plot_metric_embeddings(study: MetricStudy):
    r"""Source and target digits in pixel space and in the cross-domain embedding (2-D PCA).

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> res = study.metric_study([0], progress=False, n_steps=5)
    >>> len(view.plot_metric_embeddings(res).axes)
    2
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    _check(study, MetricStudy, "study")
    ys, yq = study.labels
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    titles = {"pixels": "pixels", "embedding_cross": "cross-domain embedding"}
    for ax, (name, (ps, pq)) in zip(axes, study.embeddings.items(), strict=True):
        ax.scatter(ps[:, 0], ps[:, 1], c=ys, cmap="tab10", s=5, vmin=0, vmax=9)
        ax.scatter(pq[:, 0], pq[:, 1], c=yq, cmap="tab10", s=9, marker="x", lw=0.6,
                   vmin=0, vmax=9)
        ax.set_title(f"{titles[name]} (2-D PCA)", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Line2D([], [], ls="", marker="o", ms=4, color="0.4", label="source"),
               Line2D([], [], ls="", marker="x", ms=5, color="0.4", label="target")]
    axes[0].legend(handles=handles, fontsize=7, title="colour: digit", title_fontsize=7)
    fig.tight_layout()
    return fig


def plot_explorer_state(state: ExplorerState, fig=None):
    r"""Draw one :class:`~tllab.studies.selective_transfer.gates.ExplorerState`.

    Left: the learned gates coloured by the truth, with each feature's discrepancy ``D_j``
    (black dots, right axis); right: target accuracy without a gate, with it, and with the
    transferable features only.

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> from tllab.viz import selective_transfer as view
    >>> fig = view.plot_explorer_state(study.explorer_state(n=200, n_test=300))
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    _check(state, ExplorerState, "state")
    if fig is None:
        fig = plt.figure(figsize=(8.4, 3.2))
    else:
        fig.clear()
    ax1, ax3 = fig.subplots(1, 2, width_ratios=(1.6, 1))
    idx = np.arange(1, state.gates.size + 1)
    ax1.bar(idx, state.gates, color=[_KEEP if t else _DROP for t in state.transferable])
    ax1.set_ylim(0, max(1.05, 1.1 * float(state.gates.max())))
    ax1.set_xticks(idx)
    ax1.set_xlabel("feature (blue: transferable, red: domain-specific)", fontsize=8)
    ax1.set_ylabel(f"{state.kind} gate")
    ax2 = ax1.twinx()
    ax2.plot(idx, state.discrepancy, "ko", ms=3)
    ax2.set_ylim(0, max(0.3, 1.1 * float(state.discrepancy.max())))
    ax2.set_ylabel("discrepancy $D_j$ (dots)", fontsize=8)
    auc = "–" if np.isnan(state.auc) else f"{state.auc:.2f}"
    ax1.set_title(f"k = {state.n_shifted} shifted by {state.shift:g}, λ = {state.penalty:g}: "
                  f"gate AUC {auc}", fontsize=8)
    acc = [state.plain_accuracy, state.gated_accuracy, state.oracle_accuracy]
    bars = ax3.bar(["no gate", "gated", "oracle"], np.nan_to_num(acc),
                   color=["0.6", "C0", "0.3"])
    for b, a in zip(bars, acc, strict=True):
        ax3.text(b.get_x() + b.get_width() / 2, 0.02 if np.isnan(a) else a + 0.01,
                 "–" if np.isnan(a) else f"{a:.2f}", ha="center", fontsize=8)
    ax3.set_ylim(0, 1.05)
    ax3.axhline(0.5, color="k", lw=0.6, ls=":")
    ax3.set_ylabel("target accuracy")
    fig.tight_layout()
    return fig


def selective_explorer(n_shifted: int = 4, shift: float = 1.5, kind: str = "sigmoid",
                       penalty: float = 1.0):
    r"""Live explorer: how many features shift and how far, the gate kind and ``λ``.

    Each change redraws a fresh :func:`~tllab.studies.selective_transfer.gates.explorer_state`
    (about a second).  The default (4 of 10 features moved by 1.5, sigmoid gates, λ = 1)
    shows the gates closing exactly the domain-specific features.  Needs ``ipywidgets``.

    Returns
    -------
    ipywidgets.VBox
        The controls and an ``ipywidgets.Image`` holding the current picture (PNG).

    Examples
    --------
    >>> from tllab.viz import selective_transfer as view
    >>> ui = view.selective_explorer()  # doctest: +SKIP
    """
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    controls = {
        "n_shifted": widgets.IntSlider(value=check_int(n_shifted, "n_shifted", min_value=0),
                                       min=0, max=9, description="shifted features k",
                                       style=style, continuous_update=False),
        "shift": widgets.FloatSlider(value=check_real(shift, "shift"), min=0.0, max=3.0,
                                     step=0.25, description="shift on the target",
                                     style=style, continuous_update=False),
        "kind": widgets.Dropdown(options=["sigmoid", "softmax"],
                                 value=check_choice(kind, "kind", ("sigmoid", "softmax")),
                                 description="gate", style=style),
        "penalty": widgets.FloatSlider(value=check_real(penalty, "penalty", low=0.0), min=0.0,
                                       max=3.0, step=0.25, description="penalty λ",
                                       style=style, continuous_update=False),
    }
    return parameter_explorer(explorer_state, plot_explorer_state, controls,
                              figsize=(8.4, 3.2), dpi=90, columns=2)


def explorer_jshtml(shifts: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.5), *,
                    dpi: int = 80, **kwargs: Any) -> str:
    r"""Kernel-free fallback of the explorer: one frame per shift strength.

    Parameters
    ----------
    shifts : sequence of float
        The shift of the domain-specific features in each frame.
    dpi : int, default=80
    **kwargs
        Other arguments of :func:`~tllab.studies.selective_transfer.gates.explorer_state`
        (``n_shifted``, ``kind``, ``penalty``, ...).

    Returns
    -------
    str
        HTML with JavaScript controls; display it with ``IPython.display.HTML``.

    Examples
    --------
    >>> from tllab.viz import selective_transfer as view
    >>> view.explorer_jshtml([0.5, 2.0], n=200, n_test=300).count("data:image/png;base64")
    2
    """
    values = [check_real(s, "shifts") for s in shifts]
    if not values:
        raise ValueError("shifts must not be empty")
    states = [explorer_state(shift=s, **kwargs) for s in values]
    return grid_jshtml(states, plot_explorer_state, figsize=(8.4, 3.2), dpi=dpi, interval=900)
