"""pytest hooks shared by the doctests in ``tllab/`` and the tests in ``tests/``.

``tests/conftest.py`` holds the fixtures and helpers of the test suite, which doctests do not
see.  Test modules import those helpers as ``from conftest import ROOT``: pytest imports the
deeper ``tests/conftest.py`` after this file, so the name ``conftest`` resolves to it there.
"""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a doctest or test drew, so that they do not pile up in memory."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
