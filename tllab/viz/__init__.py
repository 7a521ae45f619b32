"""Views: figures, animations and live explorers.

Generic pieces are here (:func:`~tllab.viz.figures.figure_to_png`,
:func:`~tllab.viz.figures.precompute_grid`, :func:`~tllab.viz.figures.grid_animation`,
:func:`~tllab.viz.figures.grid_jshtml`, :func:`~tllab.viz.widgets.parameter_explorer`,
:func:`~tllab.viz.figures.markdown_table`); each chapter's figures
and explorers are in their own module, e.g. ``from tllab.viz import distribution_shift``.
Views may import studies and the core library; nothing below imports a view.
"""

from .figures import figure_to_png, grid_animation, grid_jshtml, markdown_table, precompute_grid
from .widgets import parameter_explorer

__all__ = [
    "figure_to_png",
    "grid_animation",
    "grid_jshtml",
    "markdown_table",
    "parameter_explorer",
    "precompute_grid",
]
