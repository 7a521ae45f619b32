r"""Reusable pieces for figures and kernel-free animated explorers.

* :func:`precompute_grid` evaluates a function of one parameter over a grid of values;
* :func:`grid_animation` turns those precomputed states and a ``draw(state, fig)`` function
  into a matplotlib animation, and :func:`grid_jshtml` into the HTML of ``to_jshtml()``: a
  player with buttons that moves in a static web page, no kernel needed;
* :func:`figure_to_png` renders a figure to PNG bytes (what the live explorers show).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from .._checks import check_choice, check_int

__all__ = [
    "Table",
    "markdown_table",
    "figure_to_png",
    "precompute_grid",
    "grid_animation",
    "grid_jshtml",
]


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _new_figure(figsize, fig=None):
    import matplotlib.pyplot as plt

    if fig is None:
        return plt.figure(figsize=figsize)
    fig.clear()
    return fig


def figure_to_png(fig, *, dpi: int | None = None, close: bool = True) -> bytes:
    """Render a matplotlib figure to PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, optional
        Resolution; the figure's own when None.
    close : bool, default=True
        Close the figure afterwards (so a notebook does not display it a second time).

    Returns
    -------
    bytes
        Starting with the PNG signature ``b"\\x89PNG"``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from tllab import viz
    >>> viz.figure_to_png(plt.figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi if dpi is None else check_int(dpi, "dpi",
                                                                            min_value=1))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buf.getvalue()


def precompute_grid(fn: Callable[..., Any], values: Sequence[Any], **fixed: Any) -> list:
    """Evaluate ``fn(value, **fixed)`` for every value of a parameter grid.

    The states of a kernel-free explorer: compute them once, then draw one frame per
    state with :func:`grid_animation`.

    Parameters
    ----------
    fn : callable
        Function of the varying parameter (first positional argument).
    values : sequence
        The grid; must not be empty.
    **fixed
        Keyword arguments passed unchanged to every call.

    Returns
    -------
    list
        ``[fn(v, **fixed) for v in values]``, in order.

    Examples
    --------
    >>> from tllab import viz
    >>> viz.precompute_grid(pow, [1, 2, 3], exp=2)
    [1, 4, 9]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray,
                                                                   torch.Tensor)):
        raise TypeError(f"values must be a sequence; got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError("values must not be empty")
    return [fn(v, **fixed) for v in values]


def grid_animation(states: Sequence[Any], draw: Callable[[Any, Any], Any], *,
                   figsize: tuple[float, float] = (8.0, 3.2), dpi: int = 100,
                   interval: int = 800):
    """An animation with one frame per precomputed state.

    Parameters
    ----------
    states : sequence
        E.g. from :func:`precompute_grid`.  Keep it short (about a dozen frames): every
        frame is embedded as a PNG image in the HTML.
    draw : callable
        ``draw(state, fig)`` draws one state into the (cleared) figure ``fig``.
    figsize : (float, float), default=(8, 3.2)
    dpi : int, default=100
        Resolution of the frames; modest values keep the embedded HTML small.
    interval : int, default=800
        Milliseconds between frames when playing.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its figure is closed (so it is not displayed as a still); render it with
        ``to_jshtml()`` (or :func:`grid_jshtml`) before it is garbage-collected.

    Examples
    --------
    >>> from tllab import viz
    >>> def draw(a, fig):
    ...     fig.clear(); fig.add_subplot().plot([0, 1], [0, a])
    >>> anim = viz.grid_animation([1.0, 2.0], draw)
    >>> html = anim.to_jshtml()
    >>> html.count("data:image/png;base64")
    2
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    states = list(states)
    if not states:
        raise ValueError("states must not be empty")
    if not callable(draw):
        raise TypeError(f"draw must be callable; got {type(draw).__name__}")
    dpi = check_int(dpi, "dpi", min_value=10)
    interval = check_int(interval, "interval", min_value=1)
    fig = plt.figure(figsize=figsize, dpi=dpi)
    draw(states[0], fig)

    def update(i):
        draw(states[i], fig)
        return fig.axes

    anim = FuncAnimation(fig, update, frames=len(states), interval=interval, blit=False)
    plt.close(fig)
    return anim


def grid_jshtml(states: Sequence[Any], draw: Callable[[Any, Any], Any], *,
                default_mode: str = "loop", **kwargs: Any) -> str:
    """HTML with JavaScript controls for :func:`grid_animation`; no kernel needed.

    Parameters
    ----------
    states, draw
        As in :func:`grid_animation`.
    default_mode : {"loop", "once", "reflect"}, default="loop"
    **kwargs
        ``figsize``, ``dpi``, ``interval`` of :func:`grid_animation`.

    Returns
    -------
    str
        Show it with ``IPython.display.HTML``.

    Examples
    --------
    >>> from tllab import viz
    >>> def draw(a, fig):
    ...     fig.clear(); fig.add_subplot().axhline(a)
    >>> viz.grid_jshtml([0.0, 1.0, 2.0], draw).count("data:image/png;base64")
    3
    """
    if default_mode not in ("loop", "once", "reflect"):
        raise ValueError(f"default_mode must be 'loop', 'once' or 'reflect'; got {default_mode!r}")
    return grid_animation(states, draw, **kwargs).to_jshtml(default_mode=default_mode)


class Table:
    """A small result table that renders as one HTML table in the book and as text elsewhere.

    Built by :func:`markdown_table`; ``str(table)`` gives the Markdown source.
    """

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[Any]],
                 align: Sequence[str]) -> None:
        self.header = [str(h) for h in header]
        self.rows = [[str(c) for c in r] for r in rows]
        self.align = list(align)

    def __str__(self) -> str:
        marks = {"left": ":---", "right": "---:", "center": ":---:"}
        lines = ["| " + " | ".join(self.header) + " |",
                 "|" + "|".join(marks[a] for a in self.align) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        def cells(tag: str, values: Sequence[str]) -> str:
            return "".join(f'<{tag} style="text-align:{a}">{html.escape(v)}</{tag}>'
                           for a, v in zip(self.align, values, strict=True))

        body = "".join(f"<tr>{cells('td', r)}</tr>" for r in self.rows)
        return ('<div class="tllab-table"><table>'
                f"<thead><tr>{cells('th', self.header)}</tr></thead>"
                f"<tbody>{body}</tbody></table></div>")

    def _repr_markdown_(self) -> str:
        return str(self)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *,
                   align: Sequence[str] | None = None) -> Table:
    """A result table shown as one table (HTML in a notebook or the book, Markdown as text).

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : sequence of sequences
        The cells, already formatted (anything is converted with ``str``).
    align : sequence of {"left", "right", "center"}, optional
        One per column; default: first column left, the others right.

    Returns
    -------
    Table
        Displays as an HTML table; ``str()`` gives the Markdown source.

    Examples
    --------
    >>> print(markdown_table(["method", "ESS"], [["KMM", "12.5"]]))
    | method | ESS |
    |:---|---:|
    | KMM | 12.5 |
    """
    header = list(header)
    if not header:
        raise ValueError("header must name at least one column")
    rows = [list(r) for r in rows]
    for i, r in enumerate(rows):
        if len(r) != len(header):
            raise ValueError(f"rows[{i}] has {len(r)} cells; the header has {len(header)}")
    if align is None:
        align = ["left"] + ["right"] * (len(header) - 1)
    align = [check_choice(a, "align", ("left", "right", "center")) for a in align]
    if len(align) != len(header):
        raise ValueError(f"align must have {len(header)} entries; got {len(align)}")
    return Table(header, rows, align)
