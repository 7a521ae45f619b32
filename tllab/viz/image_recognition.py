r"""Figures, tables and the explorer of the image-recognition chapter.

:func:`image_recognition_explorer` is the live explorer (ipywidgets: frozen blocks, learning
rate, labels per class); :func:`explorer_jshtml` its kernel-free fallback, an animation over a
small precomputed grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import check_int
from ..studies.image_recognition import (
    AdaptStudy,
    ExplorerState,
    FinetuneStudy,
    Report,
    explorer_state,
)
from .figures import Table, grid_animation, markdown_table
from .widgets import parameter_explorer

__all__ = [
    "STRATEGY_LABELS",
    "ADAPT_LABELS",
    "plot_domains",
    "plot_layers",
    "plot_finetune_study",
    "finetune_table",
    "adaptation_table",
    "per_class_table",
    "plot_confusions",
    "plot_explorer_state",
    "image_recognition_explorer",
    "explorer_jshtml",
]

#: Display names of the fine-tuning strategies.
STRATEGY_LABELS = {
    "linear_probe": "linear probe",
    "partial": "freeze 2 blocks",
    "discriminative": "discriminative LRs",
    "l2sp": "L2-SP",
    "full": "full fine-tuning",
    "scratch": "from scratch",
}

#: Display names of the unsupervised adaptations.
ADAPT_LABELS = {
    "pretrained": "source model (no adaptation)",
    "adabn": "AdaBN",
    "source_only": "more source training (control)",
    "coral": "Deep CORAL",
    "mmd": "MMD (DDC)",
    "dann": "DANN",
}


def _budget(b) -> str:
    return "all" if b is None else str(b)


def _image_grid(ax, images: np.ndarray, rows: int, cols: int, *, cmap="gray_r",
                vmin=0.0, vmax=1.0, gap: float = 0.15):
    """Draw ``rows × cols`` small images into one axis, separated by a white gap."""
    h, w = images.shape[-2:]
    g = max(1, int(round(gap * h)))
    canvas = np.full((rows * (h + g) - g, cols * (w + g) - g), np.nan)
    for k, img in enumerate(images[:rows * cols]):
        r, c = divmod(k, cols)
        canvas[r * (h + g):r * (h + g) + h, c * (w + g):c * (w + g) + w] = img
    import matplotlib

    cm = matplotlib.colormaps[cmap].with_extremes(bad="white")
    ax.imshow(canvas, cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)


def plot_domains(xs, ys, xt, yt, *, per_class: int = 2):
    r"""Rendered source digits above real handwritten target digits, ``per_class`` each.

    Parameters
    ----------
    xs, ys, xt, yt : array-like
        Images ``(n, [1,] h, w)`` in ``[0, 1]`` and labels of the two domains.
    per_class : int, default=2

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch
    >>> from tllab.viz import image_recognition as view
    >>> x, y = torch.rand(20, 8, 8), torch.arange(20) % 10
    >>> len(view.plot_domains(x, y, x, y).axes)
    2
    """
    import matplotlib.pyplot as plt

    per_class = check_int(per_class, "per_class", min_value=1)

    def pick(x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y)
        x = x.reshape(x.shape[0], *x.shape[-2:])
        out = [x[np.flatnonzero(y == d)[r]] for r in range(per_class) for d in range(10)]
        return np.stack(out)

    fig, axes = plt.subplots(2, 1, figsize=(8, 0.9 * per_class * 2 + 0.6))
    for ax, (x, y, title) in zip(axes, [(xs, ys, "source: rendered from fonts"),
                                        (xt, yt, "target: handwritten (scikit-learn)")],
                                 strict=True):
        _image_grid(ax, pick(x, y), per_class, 10)
        ax.set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def plot_layers(filters: np.ndarray, maps_source: list, maps_target: list, *,
                images: tuple | None = None, n_maps: int = 6):
    r"""First-layer filters, and the feature maps of a source and a target image per block.

    Parameters
    ----------
    filters : array of shape (c, 3, 3)
        From :func:`~tllab.studies.image_recognition.first_layer_filters`.
    maps_source, maps_target : list of arrays (c, h, w)
        From :func:`~tllab.studies.image_recognition.feature_maps`, one per block.
    images : (array, array), optional
        The source and the target input image, drawn under the filters.
    n_maps : int, default=6
        Channels shown per block (the first ones).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.viz import image_recognition as view
    >>> maps = [np.random.rand(4, 8, 8), np.random.rand(4, 4, 4)]
    >>> fig = view.plot_layers(np.random.randn(4, 3, 3), maps, maps, n_maps=3,
    ...                        images=(np.random.rand(8, 8), np.random.rand(8, 8)))
    >>> len(fig.axes)
    7
    """
    import matplotlib.pyplot as plt

    n_maps = check_int(n_maps, "n_maps", min_value=1)
    filters = np.asarray(filters, dtype=float)
    n_blocks = len(maps_source)
    rows = 2 * n_blocks
    fig = plt.figure(figsize=(8.5, 1.1 + 0.75 * rows))
    grid = fig.add_gridspec(rows, 2, width_ratios=[1.0, 2.6])
    n_top = rows - 2 if images is not None else rows
    ax = fig.add_subplot(grid[:n_top, 0])
    lim = float(np.abs(filters).max())
    cols = 4
    _image_grid(ax, filters, -(-filters.shape[0] // cols), cols, cmap="RdBu_r", vmin=-lim,
                vmax=lim, gap=0.34)
    ax.set_title("block 0: 3×3 filters\n(red +, blue −)", fontsize=9)
    if images is not None:
        for k, (img, who) in enumerate(zip(images, ("source input", "target input"),
                                           strict=True)):
            ax = fig.add_subplot(grid[rows - 2 + k, 0])
            _image_grid(ax, np.asarray(img, dtype=float).reshape(1, *np.shape(img)[-2:]), 1, 1)
            ax.set_ylabel(who, fontsize=8, rotation=0, ha="right", va="center")
    for b in range(n_blocks):
        for k, (maps, who) in enumerate([(maps_source, "source"), (maps_target, "target")]):
            ax = fig.add_subplot(grid[2 * b + k, 1])
            m = np.asarray(maps[b], dtype=float)[:n_maps]
            top = float(max(np.asarray(maps_source[b])[:n_maps].max(),
                            np.asarray(maps_target[b])[:n_maps].max(), 1e-9))
            _image_grid(ax, m, 1, m.shape[0], cmap="magma", vmin=0.0, vmax=top, gap=0.2)
            ax.set_ylabel(f"block {b}\n{who}", fontsize=8, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def _mean_sd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sd = a.std(axis=-1, ddof=1) if a.shape[-1] > 1 else np.zeros(a.shape[:-1])
    return a.mean(axis=-1), sd


def plot_finetune_study(study: FinetuneStudy):
    r"""Target accuracy (mean ± sd over seeds) against labelled target images per class.

    One line per strategy; the pretrained model's accuracy (no target label) as a dashed
    line.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.image_recognition import FinetuneStudy
    >>> from tllab.viz import image_recognition as view
    >>> acc = np.random.default_rng(0).uniform(0.7, 0.9, (2, 3, 2))
    >>> s = FinetuneStudy(("full", "scratch"), (1, 5, None), (10, 50, 899), (0, 1), acc, 0.7,
    ...                   None, None)
    >>> len(view.plot_finetune_study(s).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(study, FinetuneStudy):
        raise TypeError("study must be a FinetuneStudy")
    per_class = np.asarray(study.n_labelled, dtype=float) / 10
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for i, label in enumerate(study.labels):
        m, sd = _mean_sd(study.accuracy[i])
        style = dict(ls="--", color="0.35") if label == "scratch" else dict(color=f"C{i}")
        ax.errorbar(per_class * (1 + 0.025 * (i - 2.5)), m, yerr=sd, marker="o", ms=4,
                    capsize=2, lw=1.5, label=STRATEGY_LABELS.get(label, label), **style)
    ax.axhline(study.source_only, color="k", ls=":", lw=1.2,
               label="source model, no target label")
    ax.set_xscale("log")
    ax.set_xticks(per_class)
    ax.set_xticklabels([f"{_budget(b)}\n({n})" for b, n in zip(study.budgets, study.n_labelled,
                                                                 strict=True)])
    ax.set_xlabel("labelled target images per class (total)")
    ax.set_ylabel("target test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower right", ncol=2)
    fig.tight_layout()
    return fig


def finetune_table(study: FinetuneStudy) -> Table:
    r"""Accuracy in percent, mean ± sd over seeds: one row per strategy, one column per budget.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.image_recognition import FinetuneStudy
    >>> from tllab.viz import image_recognition as view
    >>> acc = np.array([[[0.80, 0.82], [0.90, 0.92]]])
    >>> s = FinetuneStudy(("full",), (1, None), (10, 899), (0, 1), acc, 0.7, None, None)
    >>> print(view.finetune_table(s))
    | strategy | 1 | all |
    |:---|---:|---:|
    | full fine-tuning | 81.0 ± 1.4 | 91.0 ± 1.4 |
    """
    if not isinstance(study, FinetuneStudy):
        raise TypeError("study must be a FinetuneStudy")
    rows = []
    for i, label in enumerate(study.labels):
        m, sd = _mean_sd(100 * study.accuracy[i])
        rows.append([STRATEGY_LABELS.get(label, label)]
                    + [f"{a:.1f} ± {s:.1f}" for a, s in zip(m, sd, strict=True)])
    return markdown_table(["strategy", *(_budget(b) for b in study.budgets)], rows)


def adaptation_table(study: AdaptStudy) -> Table:
    r"""Target accuracy in percent (mean ± sd over seeds) of each unsupervised adaptation.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.image_recognition import AdaptStudy
    >>> from tllab.viz import image_recognition as view
    >>> print(view.adaptation_table(AdaptStudy(("adabn",), (0, 1), np.array([[0.7, 0.7]]))))
    | method | target accuracy (%) |
    |:---|---:|
    | AdaBN | 70.0 ± 0.0 |
    """
    if not isinstance(study, AdaptStudy):
        raise TypeError("study must be an AdaptStudy")
    rows = []
    for label, acc in zip(study.labels, study.accuracy, strict=True):
        m, sd = _mean_sd(100 * np.asarray(acc)[None])
        rows.append([ADAPT_LABELS.get(label, label), f"{m[0]:.1f} ± {sd[0]:.1f}"])
    return markdown_table(["method", "target accuracy (%)"], rows)


def per_class_table(before: Report, after: Report) -> Table:
    r"""Per-class recall and F1 before and after transfer (percent), and the macro averages.

    Examples
    --------
    >>> from tllab.studies.image_recognition import classification_report
    >>> from tllab.viz import image_recognition as view
    >>> r = classification_report([0, 1, 1], [0, 1, 0], n_classes=2)
    >>> print(view.per_class_table(r, r))
    | digit | recall before | recall after | F1 before | F1 after |
    |:---|---:|---:|---:|---:|
    | 0 | 100 | 100 | 67 | 67 |
    | 1 | 50 | 50 | 67 | 67 |
    | macro | 75 | 75 | 67 | 67 |
    """
    rows = [[str(c), f"{100 * before.recall[c]:.0f}", f"{100 * after.recall[c]:.0f}",
             f"{100 * before.f1[c]:.0f}", f"{100 * after.f1[c]:.0f}"]
            for c in range(len(before.recall))]
    rows.append(["macro", f"{100 * before.macro_recall:.0f}", f"{100 * after.macro_recall:.0f}",
                 f"{100 * before.macro_f1:.0f}", f"{100 * after.macro_f1:.0f}"])
    return markdown_table(["digit", "recall before", "recall after", "F1 before", "F1 after"],
                          rows)


def _confusion(ax, cm: np.ndarray, title: str, *, show_counts: bool = True) -> None:
    cm = np.asarray(cm)
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    if show_counts:
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xticks(range(cm.shape[1]))
    ax.set_yticks(range(cm.shape[0]))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.set_title(title, fontsize=9)


def plot_confusions(before: Report, after: Report, *, titles=("before", "after")):
    r"""The two confusion matrices side by side (counts; colour = share of the true class).

    Examples
    --------
    >>> from tllab.studies.image_recognition import classification_report
    >>> from tllab.viz import image_recognition as view
    >>> r = classification_report([0, 1, 1], [0, 1, 0], n_classes=2)
    >>> len(view.plot_confusions(r, r).axes)
    2
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.5, 4.0))
    for ax, rep, title in zip(axes, (before, after), titles, strict=True):
        _confusion(ax, rep.confusion, f"{title}: accuracy {rep.accuracy:.3f}")
    fig.tight_layout()
    return fig


def plot_explorer_state(state: ExplorerState, fig=None):
    r"""One explorer picture: per-class recall (source model vs fine-tuned) and the
    fine-tuned model's confusion matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.image_recognition import ExplorerState
    >>> from tllab.viz import image_recognition as view
    >>> s = ExplorerState(1, 1e-3, 5, 0.9, 0.7, np.full(10, 0.9), np.full(10, 0.7),
    ...                   np.eye(10, dtype=int))
    >>> len(view.plot_explorer_state(s).axes)
    2
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(8.5, 3.4))
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1.0]})
    d = np.arange(len(state.recall))
    ax1.bar(d - 0.2, state.source_recall, 0.4, color="0.6",
            label=f"source model ({state.source_accuracy:.3f})")
    ax1.bar(d + 0.2, state.recall, 0.4, color="C0",
            label=f"fine-tuned ({state.accuracy:.3f})")
    ax1.set_xticks(d)
    ax1.set_ylim(0, 1.05)
    ax1.set_xlabel("digit")
    ax1.set_ylabel("recall on the target test set")
    ax1.legend(fontsize=7, loc="lower left")
    ax1.set_title(f"{state.n_frozen} frozen block(s), lr {state.lr:g}, "
                  f"{state.per_class} label(s)/class", fontsize=9)
    _confusion(ax2, state.confusion, "fine-tuned: confusion", show_counts=False)
    fig.tight_layout()
    return fig


def image_recognition_explorer(model, n_frozen: int = 1, lr: float = 1e-3, per_class: int = 5):
    r"""Live explorer: fine-tune the source model with a choice of frozen blocks, learning
    rate and label budget; see per-class recall and the confusion matrix move.

    Each change trains one model (about a second on a CPU).  The default (1 frozen block,
    lr 1e-3, 5 labels per class) already repairs most of the source model's worst classes.
    Needs ``ipywidgets``.

    Parameters
    ----------
    model : SmallCNN
        The pretrained source model (left unchanged).
    n_frozen, lr, per_class
        The initial control values.

    Returns
    -------
    ipywidgets.VBox
        The controls and an ``ipywidgets.Image`` with the current picture (PNG).

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import image_recognition as view
    >>> model = tllab.models.load_source_cnn(device="cpu")
    >>> ui = view.image_recognition_explorer(model, n_frozen=3, per_class=1)
    >>> bytes(ui.children[1].value[:4])
    b'\x89PNG'
    """
    try:
        import ipywidgets as widgets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("image_recognition_explorer needs ipywidgets; use explorer_jshtml() "
                          "for a static version") from err

    style = {"description_width": "initial"}
    n_blocks = len(model.blocks)
    controls = {
        "n_frozen": widgets.IntSlider(value=check_int(n_frozen, "n_frozen", min_value=0),
                                      min=0, max=n_blocks, description="frozen blocks",
                                      style=style, continuous_update=False),
        "lr": widgets.Dropdown(options=[3e-4, 1e-3, 3e-3, 1e-2], value=lr,
                               description="learning rate", style=style),
        "per_class": widgets.Dropdown(options=[1, 2, 5, 10, 50], value=per_class,
                                      description="labels per class", style=style),
    }
    return parameter_explorer(lambda **kw: explorer_state(model, **kw), plot_explorer_state,
                              controls, figsize=(8.5, 3.4), dpi=90, columns=3)


def explorer_jshtml(model, frames: Sequence[tuple[int, int]] = tuple(
        (k, b) for b in (1, 10) for k in (0, 1, 2, 3)), *, lr: float = 1e-3,
        dpi: int = 80, **kwargs: Any) -> str:
    r"""Kernel-free fallback of the explorer: one frame per ``(n_frozen, per_class)`` pair.

    Parameters
    ----------
    model : SmallCNN
    frames : sequence of (int, int), default=frozen blocks 0–3 for 1 and 10 labels/class
    lr : float, default=1e-3
    dpi : int, default=80
    **kwargs
        Passed to :func:`~tllab.studies.image_recognition.explorer_state`.

    Returns
    -------
    str
        HTML with JavaScript controls; display it with ``IPython.display.HTML``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import image_recognition as view
    >>> model = tllab.models.load_source_cnn(device="cpu")
    >>> view.explorer_jshtml(model, [(3, 1), (2, 1)], steps=2).count("data:image/png;base64")
    2
    """
    frames = [(check_int(k, "n_frozen", min_value=0), check_int(b, "per_class", min_value=1))
              for k, b in frames]
    if not frames:
        raise ValueError("frames must not be empty")
    states = [explorer_state(model, k, lr, b, **kwargs) for k, b in frames]
    anim = grid_animation(states, plot_explorer_state, figsize=(8.5, 3.4),
                          dpi=check_int(dpi, "dpi", min_value=10), interval=1200)
    return anim.to_jshtml(default_mode="loop")
