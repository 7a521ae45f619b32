r"""Figures and the explorer of the generalisation chapter.

Draws the results of :mod:`tllab.studies.generalization`: the bias–variance explorer (live
and as a kernel-free animation), the decomposition curves, bagging, ordinary against
importance-weighted cross-validation, augmented digits and the CNN remedies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import beta as _beta

from .._checks import check_int
from ..data.interval import INTERVAL_SHIFT
from ..studies.generalization import Curve, DigitRemedies, ExplorerState, explorer_state
from .figures import grid_jshtml, precompute_grid
from .widgets import parameter_explorer

__all__ = [
    "plot_explorer_state",
    "bias_variance_explorer",
    "explorer_jshtml",
    "plot_curve",
    "plot_bagging",
    "plot_selection",
    "plot_augmented_digits",
    "plot_digit_remedies",
]

_TERMS = (("error", "expected error", "k"), ("bias2", "bias²", "C0"),
          ("variance", "variance", "C3"))


def _law_density(law: str, x: np.ndarray) -> np.ndarray:
    a, b = INTERVAL_SHIFT[law]
    return _beta.pdf((x + 1) / 2, a, b) / 2


def plot_explorer_state(state: ExplorerState, fig=None):
    r"""Draw an :class:`~tllab.studies.generalization.bias_variance.ExplorerState`.

    Left: the two input laws, a few fits (thin), their average and ±1 sd band, the truth
    and one training set.  Right: bias², variance and noise on the source and target law.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> from tllab.viz import generalization as view
    >>> len(view.plot_explorer_state(study.explorer_state(3, 30, n_sets=10)).axes)
    3
    """
    import matplotlib.pyplot as plt

    if not isinstance(state, ExplorerState):
        raise TypeError(f"state must be an ExplorerState; got {type(state).__name__}")
    if fig is None:
        fig = plt.figure(figsize=(9, 3.4))
    fig.clear()
    ax, bars = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.1, 1]})
    g = state.grid
    dens = ax.twinx()
    for law, color in (("source", "C0"), ("target", "C1")):
        dens.fill_between(g, _law_density(law, g), color=color, alpha=0.15, lw=0,
                          label=f"{law} law")
    dens.set_ylim(0, 4.5)
    dens.set_yticks([])
    for f in state.fits:
        ax.plot(g, f, color="C2", lw=0.6, alpha=0.5)
    ax.fill_between(g, state.mean_fit - state.band, state.mean_fit + state.band, color="C2",
                    alpha=0.2, lw=0)
    ax.plot(g, state.mean_fit, color="C2", lw=2.2, label="average fit")
    ax.plot(g, state.truth, "k--", lw=1.3, label="truth f")
    ax.plot(state.x_one, state.y_one, ".", color="0.35", ms=3, label="one training set")
    ax.set_ylim(-1.6, 1.6)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zorder(dens.get_zorder() + 1)
    ax.patch.set_visible(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = dens.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower right", ncol=2)
    ax.set_title(f"degree {state.degree}, n = {state.n}: thin lines = fits to different "
                 "training sets", fontsize=8)
    pos = np.arange(2)
    bottom = np.zeros(2)
    for k, (label, color) in enumerate((("bias²", "C0"), ("variance", "C3"),
                                        ("noise", "0.6"))):
        vals = np.array([state.source[k], state.target[k]])
        bars.bar(pos, np.maximum(vals, 0), bottom=bottom, color=color, label=label, width=0.6)
        bottom += np.maximum(vals, 0)
    for p, total in zip(pos, bottom, strict=True):
        bars.text(p, total, f"{total:.3f}", ha="center", va="bottom", fontsize=8)
    bars.set_xticks(pos, ["source", "target"])
    bars.set_ylim(0, max(0.6, 1.15 * bottom.max()))
    bars.set_ylabel("expected squared error")
    bars.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def bias_variance_explorer(degree: int = 5, n: int = 50):
    r"""Live explorer: polynomial degree and training-set size → fits and decomposition.

    The default (degree 5, 50 points) shows the chapter's point: a fit that is fine on the
    source law has a much larger variance (and bias) on the target law, where the source
    is thin.  Needs ``ipywidgets``.

    Returns
    -------
    ipywidgets.VBox
        The controls and an ``ipywidgets.Image`` of the current picture.

    Examples
    --------
    >>> from tllab.viz import generalization as view
    >>> ui = view.bias_variance_explorer()  # doctest: +SKIP
    """
    from .widgets import _ipywidgets

    widgets = _ipywidgets()
    style = {"description_width": "initial"}
    w_deg = widgets.IntSlider(value=check_int(degree, "degree", min_value=0), min=0, max=10,
                              description="degree", style=style, continuous_update=False)
    w_n = widgets.SelectionSlider(options=[20, 30, 50, 100, 200, 500],
                                  value=check_int(n, "n", min_value=2),
                                  description="training points n", style=style,
                                  continuous_update=False)
    return parameter_explorer(explorer_state, plot_explorer_state,
                              {"degree": w_deg, "n": w_n}, figsize=(9, 3.4), dpi=100)


def explorer_jshtml(degrees: Sequence[int] = tuple(range(9)), *, n: int = 50,
                    n_sets: int = 100, dpi: int = 80) -> str:
    r"""Kernel-free fallback of the explorer: one frame per degree (``n`` and ``n_sets`` fixed).

    Examples
    --------
    >>> from tllab.viz import generalization as view
    >>> view.explorer_jshtml([1, 3], n=20).count("data:image/png;base64")
    2
    """
    degrees = [check_int(k, "degrees", min_value=0) for k in degrees]
    states = precompute_grid(lambda k: explorer_state(k, n, n_sets=n_sets), degrees)
    return grid_jshtml(states, plot_explorer_state, figsize=(9, 3.4), dpi=dpi, interval=900)


def _band(ax, x, values, color, label, style="-o", spread="sd"):
    m = values.mean(0)
    lo, hi = (values.min(0), values.max(0)) if spread == "range" else (m - values.std(0),
                                                                         m + values.std(0))
    ax.plot(x, m, style, color=color, ms=3.5, lw=1.4, label=label)
    ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)


def plot_curve(curve: Curve, *, xlabel: str, categorical: bool = False, log_y: bool = True):
    r"""Bias², variance and error on the source and the target law against the knob.

    Lines are means over seeds, bands the range over seeds (min to max: on a log scale a
    ±sd band can reach below zero).  Negative unbiased bias² estimates (possible when the
    bias is tiny) are drawn at 10⁻⁴.

    Parameters
    ----------
    curve : Curve
    xlabel : str
    categorical : bool, default=False
        Equally spaced positions labelled with the settings (for grids such as
        0, 0.01, 0.1, 1, …).
    log_y : bool, default=True

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> from tllab.viz import generalization as view
    >>> c = study.complexity_curve([1, 3], n_sets=10, seeds=[0, 1])
    >>> len(view.plot_curve(c, xlabel="degree").axes)
    2
    """
    import matplotlib.pyplot as plt

    if not isinstance(curve, Curve):
        raise TypeError(f"curve must be a Curve; got {type(curve).__name__}")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), sharey=True)
    x = np.arange(curve.settings.size) if categorical else curve.settings
    for ax, law in zip(axes, ("source", "target"), strict=True):
        terms = getattr(curve, law)
        for key, label, color in _TERMS:
            vals = getattr(terms, key)
            _band(ax, x, np.maximum(vals, 1e-4) if log_y else vals, color, label,
                  spread="range")
        ax.axhline(curve.noise, color="0.5", ls=":", lw=1, label="noise σ²")
        ax.set_title(f"evaluated on the {law} law", fontsize=9)
        ax.set_xlabel(xlabel)
        if categorical:
            ax.set_xticks(x, [f"{v:g}" for v in curve.settings])
        if log_y:
            ax.set_yscale("log")
    axes[0].set_ylabel("mean over training sets")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_bagging(curve: Curve, variance: dict):
    r"""Variance of the bagged trees against ``M`` with the prediction ``ρσ² + (1 − ρ)σ²/M``.

    Parameters
    ----------
    curve : Curve
        From :func:`~tllab.studies.generalization.bias_variance.bagging_curve`.
    variance : dict
        From :func:`~tllab.studies.generalization.bias_variance.ensemble_variance`.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> from tllab.viz import generalization as view
    >>> c = study.bagging_curve([1, 3], n_sets=5, seeds=[0])
    >>> len(view.plot_bagging(c, study.ensemble_variance(n_sets=5, seeds=[0])).axes)
    2
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.1), sharey=True)
    m = curve.settings
    grid = np.linspace(1, m.max(), 100)
    for ax, law in zip(axes, ("source", "target"), strict=True):
        terms = getattr(curve, law)
        _band(ax, m, terms.variance, "C3", "variance (measured)")
        _band(ax, m, terms.bias2 + curve.noise, "C0", "bias² + noise", style="-s")
        sigma2, rho = variance[law].mean(0)
        ax.plot(grid, rho * sigma2 + (1 - rho) * sigma2 / grid, "k--", lw=1,
                label=f"ρσ² + (1−ρ)σ²/M, ρ = {rho:.2f}")
        ax.set_title(f"bagged trees, {law} law", fontsize=9)
        ax.set_xlabel("members M")
        ax.set_ylim(0, None)
    axes[0].set_ylabel("mean over training sets")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_selection(sel: dict, ratio: str = "true"):
    r"""Ordinary CV and IWCV risk estimates against the exact source and target risks.

    Means over the data sets of :func:`~tllab.studies.generalization.selection.selection_study`.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> from tllab.viz import generalization as view
    >>> out = study.selection_study([1, 2], seeds=[0, 1], ratios=["true"])
    >>> len(view.plot_selection(out).axes)
    1
    """
    import matplotlib.pyplot as plt

    key = f"iwcv_{ratio}"
    if not isinstance(sel, dict) or key not in sel:
        raise TypeError(f"sel must be the dict of selection_study with ratio {ratio!r}")
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    d = sel["degrees"]
    for k, label, color, style in (("source_risk", "true source risk", "C0", "-"),
                                   ("cv", "ordinary CV", "C0", "--o"),
                                   ("target_risk", "true target risk", "C1", "-"),
                                   (key, f"IWCV ({ratio} ratio)", "C1", "--o")):
        ax.plot(d, np.median(sel[k], 0), style, color=color, ms=4, label=label)
    ax.set_xlabel("polynomial degree")
    ax.set_ylabel("risk (median over data sets)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_augmented_digits(images, labels, *, n: int = 6, copies: int = 3, rotation=30.0,
                          seed: int = 0):
    r"""A few digits (top row) and random rotations of them (rows below).

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import generalization as view
    >>> x, y = tllab.data.load_digits_domain("source", flatten=False)
    >>> len(view.plot_augmented_digits(x, y, n=3, copies=1).axes)
    6
    """
    import matplotlib.pyplot as plt

    from ..data.augment import augment_images

    n = check_int(n, "n", min_value=1)
    xa, ya = augment_images(images[:n], labels[:n], copies=copies, rotation=rotation,
                            seed=seed)
    fig, axes = plt.subplots(copies + 1, n, figsize=(1.1 * n, 1.15 * (copies + 1)),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.imshow(xa[i].cpu().numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if i < n:
            ax.set_title(f"label {int(ya[i])}", fontsize=7)
    axes[0, 0].set_ylabel("original", fontsize=7)
    for r in range(1, copies + 1):
        axes[r, 0].set_ylabel(f"copy {r}", fontsize=7)
    fig.tight_layout()
    return fig


def plot_digit_remedies(res: DigitRemedies):
    r"""Target accuracy against the rotation angle for each remedy (mean ± sd over seeds),
    and the seeds' disagreement.

    Examples
    --------
    >>> from tllab.studies.generalization import digits as study
    >>> from tllab.viz import generalization as view
    >>> res = study.digit_remedies(["baseline"], angles=[0, 30], seeds=[0, 1], epochs=2)
    >>> len(view.plot_digit_remedies(res).axes)
    2
    """
    import matplotlib.pyplot as plt

    if not isinstance(res, DigitRemedies):
        raise TypeError(f"res must be a DigitRemedies; got {type(res).__name__}")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
    for i, r in enumerate(res.remedies):
        acc = res.target_accuracy[r]
        ax.errorbar(res.angles + 0.6 * i, acc.mean(0), yerr=acc.std(0), marker="o", ms=4,
                    capsize=3, color=f"C{i}", label=r.replace("_", " "))
        ax2.plot(res.angles, res.disagreement_target[r], "-o", ms=4, color=f"C{i}",
                 label=r.replace("_", " "))
    ax.set_xlabel("rotation of the target digits (degrees)")
    ax.set_ylabel("target accuracy (mean ± sd)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    ax2.set_xlabel("rotation of the target digits (degrees)")
    ax2.set_ylabel("share labelled differently\nby two seeds")
    ax2.set_ylim(0, 1)
    fig.tight_layout()
    return fig
