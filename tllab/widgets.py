"""Live explorers (ipywidgets) and their kernel-free fallbacks.

:func:`parameter_explorer` is the generic piece: controls + a ``compute`` function from
control values to a state + a ``draw(state, fig)`` function; each change of a control
recomputes the state and shows the redrawn figure as a PNG in an ``ipywidgets.Image``
(so the stored widget state also shows the default picture in a static page).  The
fallback that still moves without a kernel is :func:`~tllab.plotting.grid_jshtml` over states
precomputed on a parameter grid.

Explorers of the book: :func:`shift_explorer` (distribution-shift chapter) with its
fallback :func:`shift_explorer_jshtml`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._checks import check_choice, check_int, check_real
from .plotting import figure_to_png, grid_jshtml, plot_shift_explorer_state, precompute_grid
from .shift_studies import shift_explorer_state

__all__ = [
    "parameter_explorer",
    "shift_explorer",
    "shift_explorer_jshtml",
    "SHIFT_EXPLORER_DEFAULTS",
]

#: The explorer's default target, moved by half a standard deviation along ``x_1``: a
#: change hard to see in a scatter plot of 150 points, with a JS estimate near 0, yet
#: detected by the MMD permutation test.
SHIFT_EXPLORER_DEFAULTS: dict[str, float] = {"mean": 0.5, "spread": 1.0, "rotation": 0.0,
                                             "noise": 0.0}


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the live explorers need ipywidgets (pip install ipywidgets); "
                          "the *_jshtml functions give a static version") from err
    return ipywidgets


def parameter_explorer(
    compute: Callable[..., Any],
    draw: Callable[[Any, Any], Any],
    controls: Mapping[str, Any],
    *,
    figsize: tuple[float, float] = (8.0, 3.2),
    dpi: int = 90,
    columns: int = 2,
):
    """A generic live explorer: controls → ``compute(**values)`` → ``draw(state, fig)``.

    Parameters
    ----------
    compute : callable
        Called with one keyword argument per control (its current value); returns a state.
    draw : callable
        ``draw(state, fig)`` draws the state into the cleared figure ``fig``.
    controls : mapping of str to ipywidgets value widget
        Keyword name → widget (``FloatSlider``, ``Dropdown``, ...).  Use
        ``continuous_update=False`` on sliders whose recomputation is not instant.
    figsize : (float, float), default=(8, 3.2)
    dpi : int, default=90
    columns : int, default=2
        The controls are laid out in this many columns.

    Returns
    -------
    ipywidgets.VBox
        ``children[0]``: the controls; ``children[1]``: an ``ipywidgets.Image`` with the
        current picture (PNG).  The picture is drawn once before returning.

    Examples
    --------
    >>> import ipywidgets as w, tllab
    >>> def draw(a, fig):
    ...     fig.add_subplot().plot([0, 1], [0, a])
    >>> ui = tllab.parameter_explorer(lambda a: a, draw, {"a": w.FloatSlider(value=1.0)})
    >>> bytes(ui.children[1].value[:4])
    b'\\x89PNG'
    """
    widgets = _ipywidgets()
    import matplotlib.pyplot as plt

    if not callable(compute) or not callable(draw):
        raise TypeError("compute and draw must be callable")
    if not isinstance(controls, Mapping) or not controls:
        raise TypeError("controls must be a non-empty mapping of names to widgets")
    for name, w in controls.items():
        if not isinstance(w, widgets.ValueWidget):
            raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget; "
                            f"got {type(w).__name__}")
    dpi = check_int(dpi, "dpi", min_value=10)
    columns = check_int(columns, "columns", min_value=1)
    image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="820px"))

    def redraw(*_):
        state = compute(**{name: w.value for name, w in controls.items()})
        fig = plt.figure(figsize=figsize, dpi=dpi)
        draw(state, fig)
        image.value = figure_to_png(fig)

    for w in controls.values():
        w.observe(redraw, names="value")
    redraw()
    items = list(controls.values())
    per = -(-len(items) // columns)
    box = widgets.HBox([widgets.VBox(items[i:i + per]) for i in range(0, len(items), per)])
    return widgets.VBox([box, image])


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

    Each change redraws both samples (:func:`~tllab.data.gaussian_shift_pair`), the JS estimate,
    the unbiased MMD² and the permutation test's null distribution and p-value
    (:func:`~tllab.shift_studies.shift_explorer_state`).  With ``n = 150`` and 200
    permutations a redraw takes well under a second on a laptop CPU.  The default target
    (:data:`SHIFT_EXPLORER_DEFAULTS`) is a shift that the eye barely sees and the test
    detects.  Needs ``ipywidgets``.

    Parameters
    ----------
    mean, spread, rotation, noise : float
        Initial target transform (see :func:`~tllab.data.gaussian_shift_pair`).
    js_method : {"kde", "histogram"}, default="kde"
        Initial JS estimator (a dropdown).
    n : int, default=150
    n_permutations : int, default=200
    seed : int, default=0

    Returns
    -------
    ipywidgets.VBox
        As :func:`parameter_explorer`.

    Examples
    --------
    >>> import tllab
    >>> ui = tllab.shift_explorer()
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
    dpi: int = 60,
    interval: int = 900,
    **fixed: Any,
) -> str:
    r"""Kernel-free fallback of :func:`shift_explorer`: an animation over one parameter.

    The states are precomputed (:func:`~tllab.plotting.precompute_grid`) for each value of
    ``parameter`` with the other parameters at :data:`SHIFT_EXPLORER_DEFAULTS` (or
    ``fixed``), then rendered with :func:`~tllab.plotting.grid_jshtml`.

    Parameters
    ----------
    parameter : {"mean", "spread", "rotation", "noise"}, default="mean"
    values : sequence of float, optional
        Default for ``"mean"``: 0, 0.2, ..., 1.6 (9 frames); for the others 9 values
        spanning the slider's range.
    dpi : int, default=60
    interval : int, default=900
        Milliseconds per frame.
    **fixed
        Other arguments of :func:`~tllab.shift_studies.shift_explorer_state` (target
        parameters, ``n``, ``n_permutations``, ``js_method``, ``seed``).

    Returns
    -------
    str
        HTML with JavaScript controls; show it with ``IPython.display.HTML``.

    Examples
    --------
    >>> import tllab
    >>> html = tllab.shift_explorer_jshtml("rotation", [0.0, 45.0])
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
