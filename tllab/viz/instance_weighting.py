r"""Figures and explorers of the instance-weighting chapter.

:func:`instance_weighting_explorer` is the live explorer (ipywidgets); :func:`explorer_jshtml`
its kernel-free fallback, an animation over a small precomputed grid of target laws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .._checks import check_choice, check_int, check_real
from ..data.covariate import (
    SHIMODAIRA,
    ShiftData,
    cubic_function,
    gaussian_density_ratio,
)
from ..models.linear import polynomial_predict
from ..studies.instance_weighting import (
    METHOD_LABELS,
    ClassificationResult,
    ExplorerState,
    MethodResult,
    explorer_state,
)
from .figures import Table, grid_animation, markdown_table
from .widgets import parameter_explorer

__all__ = [
    "comparison_table",
    "plot_regression_fits",
    "plot_weights_comparison",
    "plot_flattening_curve",
    "plot_cv_selection",
    "plot_classification",
    "plot_explorer_state",
    "instance_weighting_explorer",
    "explorer_animation",
    "explorer_jshtml",
]


def comparison_table(rows: Sequence[MethodResult]) -> Table:
    r"""The table of :func:`~tllab.studies.instance_weighting.weights.compare_weighting_methods`.

    Parameters
    ----------
    rows : sequence of MethodResult

    Returns
    -------
    Table
        One row per method (rounded numbers); an HTML table in a notebook, Markdown as text.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> from tllab.viz import instance_weighting as view
    >>> data = tllab.data.make_covariate_shift_regression(200, 200)
    >>> print(view.comparison_table(study.compare_weighting_methods(data, ["uniform"])))
    | method | ESS | ratio err | slope | target risk |
    |:---|---:|---:|---:|---:|
    | uniform (no weighting) | 200.0 | 0.573 | 0.494 | 0.305 |
    """
    if isinstance(rows, MethodResult) or not all(isinstance(r, MethodResult) for r in rows):
        raise TypeError("rows must be a sequence of MethodResult")
    return markdown_table(
        ["method", "ESS", "ratio err", "slope", "target risk"],
        [[METHOD_LABELS[r.method], f"{r.ess:.1f}", f"{r.ratio_error:.3f}",
          f"{float(r.coef[1]):.3f}", f"{r.target_risk:.3f}"] for r in rows])


def plot_regression_fits(data: ShiftData, fits: dict, *, params: dict | None = None):
    r"""Source and target samples, the true function and several fitted polynomials.

    Parameters
    ----------
    data : ShiftData
    fits : dict
        ``{label: coef}`` of :func:`~tllab.weighted_least_squares` fits.
    params : dict, optional
        Default :data:`~tllab.data.covariate.SHIMODAIRA` (for the density panel).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import instance_weighting as view
    >>> data = tllab.data.make_covariate_shift_regression(100, 100)
    >>> ols = tllab.weighted_least_squares(data.xs, data.ys)
    >>> fig = view.plot_regression_fits(data, {"OLS": ols})
    >>> len(fig.axes)  # laws (with a twin axis for the ratio), data and fits
    3
    """
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    if not isinstance(fits, dict):
        raise TypeError(f"fits must be a dict {{label: coef}}; got {type(fits).__name__}")
    p = dict(SHIMODAIRA if params is None else params)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), width_ratios=(1, 1.4))
    grid = np.linspace(-1.2, 2.0, 300)
    ax1.fill_between(grid, norm.pdf(grid, p["mu_s"], p["sigma_s"]), alpha=0.35, color="C0",
                     label="source $p_s$")
    ax1.fill_between(grid, norm.pdf(grid, p["mu_t"], p["sigma_t"]), alpha=0.35, color="C1",
                     label="target $p_t$")
    axw = ax1.twinx()
    ratio = gaussian_density_ratio(grid[:, None], p["mu_s"], p["sigma_s"], p["mu_t"],
                                   p["sigma_t"]).numpy()
    axw.plot(grid, ratio, "k--", lw=1, label="$w = p_t/p_s$")
    axw.set_ylim(0, 1.1 * min(ratio.max(), 10))
    axw.set_ylabel("weight")
    ax1.set_xlabel("x")
    ax1.set_ylabel("density")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = axw.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper right")
    ax2.scatter(data.xs[:, 0].cpu(), data.ys.cpu(), s=6, color="C0", alpha=0.5,
                label="source (labelled)")
    ax2.scatter(data.xt[:, 0].cpu(), data.yt.cpu(), s=6, color="C1", alpha=0.5,
                label="target (labels unseen)")
    xg = torch.as_tensor(grid)[:, None]
    ax2.plot(grid, cubic_function(xg).numpy(), "k", lw=1, label="truth $-x+x^3$")
    for i, (label, coef) in enumerate(fits.items()):
        ax2.plot(grid, polynomial_predict(torch.as_tensor(coef).cpu(), xg).numpy(),
                 color=f"C{i + 2}", lw=2, label=label)
    ax2.set_ylim(-1.5, 2.5)
    ax2.set_xlim(grid[0], grid[-1])
    ax2.set_xlabel("x")
    ax2.set_ylabel("y")
    ax2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_weights_comparison(data: ShiftData, rows: Sequence[MethodResult], *,
                            params: dict | None = None):
    r"""Estimated weights at the source points against the true ratio, one panel per method.

    Parameters
    ----------
    data : ShiftData
    rows : sequence of MethodResult
        From :func:`~tllab.studies.instance_weighting.weights.compare_weighting_methods`;
        ``"uniform"`` and
        ``"true"`` rows are skipped.
    params : dict, optional
        Default :data:`~tllab.data.covariate.SHIMODAIRA`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> from tllab.viz import instance_weighting as view
    >>> data = tllab.data.make_covariate_shift_regression(100, 100)
    >>> rows = study.compare_weighting_methods(data, ["ulsif"])
    >>> len(view.plot_weights_comparison(data, rows).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    p = dict(SHIMODAIRA if params is None else params)
    shown = [r for r in rows if r.method not in ("uniform", "true")]
    if not shown:
        raise ValueError("rows must contain at least one estimated method")
    fig, axes = plt.subplots(1, len(shown), figsize=(2.3 * len(shown), 2.6), sharey=True,
                             squeeze=False)
    grid = np.linspace(-1.2, 2.0, 300)
    true = gaussian_density_ratio(grid[:, None], p["mu_s"], p["sigma_s"], p["mu_t"],
                                  p["sigma_t"]).numpy()
    true_src = gaussian_density_ratio(data.xs.cpu(), p["mu_s"], p["sigma_s"], p["mu_t"],
                                      p["sigma_t"])
    scale = float(true_src.mean())  # the rows are at mean 1 on the source sample
    xs = data.xs[:, 0].cpu().numpy()
    for ax, r in zip(axes[0], shown, strict=True):
        ax.plot(grid, true / scale, "k--", lw=1, label="true")
        ax.plot(xs, r.weights.cpu().numpy(), ".", ms=3, color="C3", label="estimate")
        ax.set_title(f"{METHOD_LABELS[r.method]}\nESS {r.ess:.0f}", fontsize=8)
        ax.set_xlabel("x")
        ax.set_xlim(-1.0, 2.0)
        ax.set_ylim(0, 8)
    axes[0, 0].set_ylabel("weight (mean 1 on source)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_flattening_curve(out: dict):
    r"""Target risk (mean ± sd over seeds) and ESS against the flattening ``γ``.

    Parameters
    ----------
    out : dict
        From :func:`~tllab.studies.instance_weighting.flattening.flattening_curve`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> from tllab.viz import instance_weighting as view
    >>> out = study.flattening_curve([0.0, 1.0], methods=["true"], seeds=[0, 1])
    >>> len(view.plot_flattening_curve(out).axes)
    2
    """
    import matplotlib.pyplot as plt

    if not isinstance(out, dict) or not {"gammas", "risk", "ess"} <= set(out):
        raise TypeError("out must be the dict returned by flattening_curve")
    g = out["gammas"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
    for i, (m, r) in enumerate(out["risk"].items()):
        ax1.errorbar(g + 0.008 * i, r.mean(0), yerr=r.std(0), marker="o", ms=4, capsize=3,
                     color=f"C{i + 3}", label=METHOD_LABELS[m])
        ax2.plot(g, out["ess"][m].mean(0), marker="o", ms=4, color=f"C{i + 3}",
                 label=METHOD_LABELS[m])
    ax1.set_xlabel("flattening γ  (weights $w^γ$)")
    ax1.set_ylabel("target risk (mean ± sd)")
    ax1.legend(fontsize=8)
    ax2.set_xlabel("flattening γ")
    ax2.set_ylabel("effective sample size")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_cv_selection(out: dict):
    r"""Ordinary CV, IWCV and the true target risk against ``γ`` (one data set).

    Parameters
    ----------
    out : dict
        From :func:`~tllab.studies.instance_weighting.flattening.cv_flattening_selection`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> from tllab.viz import instance_weighting as view
    >>> data = tllab.data.make_covariate_shift_regression(100, 100)
    >>> w = tllab.data.gaussian_density_ratio(data.xs, 0.5, 0.5, 0.0, 0.3)
    >>> out = study.cv_flattening_selection(data, w, [0.0, 0.5, 1.0])
    >>> len(view.plot_cv_selection(out).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(out, dict) or not {"gammas", "cv", "iwcv", "target"} <= set(out):
        raise TypeError("out must be the dict returned by cv_flattening_selection")
    g = out["gammas"]
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for key, label, color in (("cv", "ordinary CV (source risk)", "C0"),
                              ("iwcv", "IWCV (weighted)", "C3"),
                              ("target", "true target risk", "k")):
        ax.plot(g, out[key], marker="o", ms=4, color=color, label=label)
        j = int(np.argmin(out[key]))
        ax.plot(g[j], out[key][j], marker="*", ms=14, color=color, mec="w")
    ax.set_xlabel("flattening γ")
    ax.set_ylabel("estimated risk")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_classification(data: ShiftData, rows: Sequence[ClassificationResult], *,
                        curvature: float = 0.6):
    r"""Source and target points, the true (parabolic) boundary and the fitted lines.

    Parameters
    ----------
    data : ShiftData
        From :func:`~tllab.data.covariate.make_covariate_shift_classification`.
    rows : sequence of ClassificationResult
    curvature : float, default=0.6
        Of :func:`~tllab.data.covariate.class_probability`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> from tllab.viz import instance_weighting as view
    >>> data = tllab.data.make_covariate_shift_classification(100, 100)
    >>> rows = study.classification_experiment(data, ["uniform"], n_test=500)
    >>> len(view.plot_classification(data, rows).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    fig, ax = plt.subplots(figsize=(8.0, 4.0))
    xs, ys = data.xs.cpu().numpy(), data.ys.cpu().numpy()
    xt = data.xt.cpu().numpy()
    ax.scatter(xs[ys == 1, 0], xs[ys == 1, 1], s=8, marker="o", color="C0", alpha=0.6,
               label="source, y = 1")
    ax.scatter(xs[ys == 0, 0], xs[ys == 0, 1], s=8, marker="x", color="C0", alpha=0.6,
               label="source, y = 0")
    ax.scatter(xt[:, 0], xt[:, 1], s=6, color="C1", alpha=0.4, label="target (unlabelled)")
    u = np.linspace(-2.5, 3.0, 200)
    ax.plot(u, curvature * u**2, "k", lw=1.5, label="true boundary")
    for i, r in enumerate(rows):
        c = r.coef.cpu().numpy()
        if abs(c[2]) > 1e-12:
            ax.plot(u, -(c[0] + c[1] * u) / c[2], lw=2, color=f"C{i + 2}",
                    label=f"{METHOD_LABELS[r.method]}: target acc {r.target_accuracy:.3f}")
    ax.set_xlim(-2.5, 3.0)
    ax.set_ylim(-2.5, 3.0)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


def plot_explorer_state(state: ExplorerState, fig=None):
    r"""Draw one explorer state: laws and weights (left), data and fits (right).

    The state is an :class:`~tllab.studies.instance_weighting.explorer.ExplorerState`.

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
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> from tllab.viz import instance_weighting as view
    >>> fig = view.plot_explorer_state(study.explorer_state())
    >>> len(fig.axes)  # laws (with a twin axis for the weights), data and fits
    3
    """
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    if not isinstance(state, ExplorerState):
        raise TypeError(f"state must be an ExplorerState; got {type(state).__name__}")
    if fig is None:
        fig = plt.figure(figsize=(9, 3.4))
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2)
    grid = np.linspace(-1.2, 2.0, 300)
    p = SHIMODAIRA
    ps = norm.pdf(grid, p["mu_s"], p["sigma_s"])
    pt = norm.pdf(grid, state.mu_t, state.sigma_t)
    ax1.fill_between(grid, ps, alpha=0.3, color="C0", label="source $p_s$")
    ax1.fill_between(grid, pt, alpha=0.3, color="C1", label="target $p_t$")
    ax1.set_ylim(0, 3.0)
    ax1.set_xlabel("x")
    ax1.set_ylabel("density")
    axw = ax1.twinx()
    ratio = np.exp(np.log(pt) - np.log(ps))
    axw.plot(grid, ratio, "k--", lw=1, label="true $w = p_t/p_s$")
    order = np.argsort(state.xs)
    axw.plot(state.xs[order], state.weights[order], ".", color="C3", ms=3,
             label=f"weights ({METHOD_LABELS[state.method].split(' (')[0]}, γ={state.gamma:.2g})")
    axw.set_ylim(0, 8)
    axw.set_ylabel("weight")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = axw.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=7)
    ax1.set_title(f"target N({state.mu_t:.2f}, {state.sigma_t:.2f}²)   ESS = {state.ess:.0f}",
                  fontsize=9)
    sizes = 4 + 10 * state.weights
    ax2.scatter(state.xs, state.ys, s=sizes, color="C0", alpha=0.5, lw=0, label="source (size ∝ w)")
    lo, hi = state.mu_t - 2 * state.sigma_t, state.mu_t + 2 * state.sigma_t
    ax2.axvspan(lo, hi, color="C1", alpha=0.12, label="target ±2σ")
    xg = torch.as_tensor(grid)[:, None]
    ax2.plot(grid, cubic_function(xg).numpy(), "k", lw=1, label="truth $-x+x^3$")
    ax2.plot(grid, polynomial_predict(state.coef_plain, xg).numpy(), "C0", lw=2,
             label=f"unweighted (target risk {state.risk_plain:.3f})")
    ax2.plot(grid, polynomial_predict(state.coef_weighted, xg).numpy(), "C3", lw=2,
             label=f"weighted (target risk {state.risk_weighted:.3f})")
    ax2.set_xlim(grid[0], grid[-1])
    ax2.set_ylim(-1.5, 2.5)
    ax2.set_xlabel("x")
    ax2.set_ylabel("y")
    ax2.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    return fig


def instance_weighting_explorer(mu_t: float = 0.0, sigma_t: float = 0.3, gamma: float = 1.0,
                                method: str = "true"):
    r"""Live explorer: move the target law and the flattening, watch weights and fits.

    Sliders for the target mean and spread and for ``γ``, a menu for the ratio estimator.
    The default (Shimodaira's target ``N(0, 0.3²)``, the true ratio, ``γ = 1``) is the
    most telling picture: the unweighted line slopes the wrong way on the target while
    the weighted one follows the truth there.  Needs ``ipywidgets``.

    Parameters
    ----------
    mu_t, sigma_t, gamma : float
        Initial slider values.
    method : str, default="true"
        Initial estimator, one of ``"true"``, ``"kmm"``, ``"ulsif"``,
        ``"classifier_quadratic"``, ``"uniform"``.

    Returns
    -------
    ipywidgets.VBox
        The controls and an ``ipywidgets.Image`` holding the current picture as PNG (so
        the saved widget state shows it in a static page too).

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import instance_weighting as view
    >>> ui = view.instance_weighting_explorer()  # doctest: +SKIP
    """
    try:
        import ipywidgets as widgets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("instance_weighting_explorer needs ipywidgets; use "
                          "explorer_jshtml() for a static version") from err

    # KLIEP is left out: far from the source it can need its full max_iter (seconds).
    choices = ["true", "kmm", "ulsif", "classifier_quadratic", "uniform"]
    method = check_choice(method, "method", choices)
    style = {"description_width": "initial"}
    w_mu = widgets.FloatSlider(value=check_real(mu_t, "mu_t"), min=-0.6, max=1.2, step=0.05,
                               description="target mean μ_t", style=style,
                               continuous_update=False)
    w_sd = widgets.FloatSlider(value=check_real(sigma_t, "sigma_t", low=0.0,
                                                low_inclusive=False),
                               min=0.1, max=0.8, step=0.05, description="target sd σ_t",
                               style=style, continuous_update=False)
    w_g = widgets.FloatSlider(value=check_real(gamma, "gamma", low=0.0), min=0.0, max=1.0,
                              step=0.1, description="flattening γ", style=style,
                              continuous_update=False)
    w_m = widgets.Dropdown(options=[(METHOD_LABELS[c], c) for c in choices], value=method,
                           description="weights", style=style)
    controls = {"mu_t": w_mu, "sigma_t": w_sd, "gamma": w_g, "method": w_m}
    return parameter_explorer(explorer_state, plot_explorer_state, controls, figsize=(9, 3.4),
                              dpi=100, columns=2)


def explorer_animation(mu_values: Sequence[float] = tuple(np.round(np.linspace(-0.5, 1.0, 11), 2)),
                       *, sigma_t: float = 0.3, gamma: float = 1.0, method: str = "true",
                       dpi: int = 100):
    r"""Kernel-free fallback of the explorer: an animation over a grid of target means.

    One frame per value of ``mu_values`` (target ``N(μ, sigma_t²)``), precomputed with
    :func:`~tllab.studies.instance_weighting.explorer.explorer_state` and drawn with
    :func:`plot_explorer_state`.

    Parameters
    ----------
    mu_values : sequence of float, default=11 values from −0.5 to 1.0
    sigma_t, gamma : float
    method : str, default="true"
    dpi : int, default=100
        Resolution of the frames (keeps the embedded HTML small).

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its figure is closed (so it is not displayed twice); render it with
        ``to_jshtml()`` or :func:`explorer_jshtml`.

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import instance_weighting as view
    >>> anim = view.explorer_animation([0.0, 0.5])
    >>> len(list(anim.new_frame_seq()))
    2
    >>> html = anim.to_jshtml()  # render it (an unrendered animation warns when deleted)
    """
    mus = [check_real(m, "mu_values") for m in mu_values]
    if not mus:
        raise ValueError("mu_values must not be empty")
    dpi = check_int(dpi, "dpi", min_value=10)
    states = [explorer_state(m, sigma_t, gamma, method) for m in mus]
    return grid_animation(states, plot_explorer_state, figsize=(9, 3.4), dpi=dpi, interval=700)


def explorer_jshtml(mu_values: Sequence[float] = tuple(np.round(np.linspace(-0.5, 1.0, 11), 2)),
                    **kwargs: Any) -> str:
    r"""HTML (with JavaScript controls) of :func:`explorer_animation`; no kernel needed.

    Parameters
    ----------
    mu_values : sequence of float
    **kwargs
        Passed to :func:`explorer_animation`.

    Returns
    -------
    str
        Display it with ``IPython.display.HTML``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.viz import instance_weighting as view
    >>> html = view.explorer_jshtml([0.0, 0.5])
    >>> html.count("data:image/png;base64")
    2
    """
    return explorer_animation(mu_values, **kwargs).to_jshtml(default_mode="loop")
