"""The HTML book builds with zero warnings and has a page for every _toc.yml entry.

The build itself is the session fixture ``built_book`` (tests/conftest.py), shared with
tests/test_browser.py.
"""

import re

import pytest

from conftest import toc_entries, toc_html

pytestmark = pytest.mark.book

# Sphinx prints "path:line: WARNING: ..." / "ERROR: ..."; Jupyter Book prints its own boxed
# "Warning: Validation errors in config" and tracebacks of failed extensions.
PROBLEM = re.compile(r"\bWARNING\b|\bERROR\b|\bCRITICAL\b|Validation errors|Traceback \(")


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def test_build_succeeds(built_book):
    assert built_book.returncode == 0, (
        f"`{' '.join(built_book.command)}` exited {built_book.returncode}:\n"
        f"{_tail(built_book.output)}"
    )


def test_build_has_no_warnings(built_book):
    problems = [line for line in built_book.output.splitlines() if PROBLEM.search(line)]
    assert not problems, "the book build reported:\n" + "\n".join(problems)


def test_every_toc_page_is_built(built_book):
    missing = [toc_html(e) for e in toc_entries() if not (built_book.html / toc_html(e)).is_file()]
    assert not missing, f"no HTML for {missing} in {built_book.html}"
    assert (built_book.html / "index.html").is_file(), "no root index.html (redirect)"


def test_vendored_js_is_not_in_static(built_book):
    # Jupyter Book injects every .js under a static path into every page; the vendored
    # MathJax / widget files must live in <html>/_vendor/ instead (see _ext/offline_assets).
    static = built_book.html / "_static"
    stray = [p.name for p in static.rglob("*.js")
             if p.name in {"tex-mml-chtml.js", "require.js", "embed-amd.js"}]
    assert not stray, f"vendored scripts copied into _static/: {stray}"
