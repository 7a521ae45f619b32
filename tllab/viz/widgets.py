"""A generic live explorer: sliders bound to a function that draws a figure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._checks import check_int
from .figures import figure_to_png

__all__ = [
    "parameter_explorer",
]


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
    >>> import ipywidgets as w
    >>> from tllab import viz
    >>> def draw(a, fig):
    ...     fig.add_subplot().plot([0, 1], [0, a])
    >>> ui = viz.parameter_explorer(lambda a: a, draw, {"a": w.FloatSlider(value=1.0)})
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
    # Columns wrap under each other on a narrow screen (a phone), instead of running off it.
    column = widgets.Layout(min_width="0", max_width="100%")
    box = widgets.HBox([widgets.VBox(items[i:i + per], layout=column)
                        for i in range(0, len(items), per)],
                       layout=widgets.Layout(flex_flow="row wrap", max_width="100%"))
    return widgets.VBox([box, image])
