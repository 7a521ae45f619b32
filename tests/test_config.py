"""_config.yml and _toc.yml say what we mean.

Jupyter Book 1 accepts unknown or misspelt keys without a word (its JSON schema allows
additional properties, and `yaml_to_sphinx` reads only the keys it knows), so these tests
pin the keys used and check each against what Jupyter Book 1.0.4 actually reads.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, toc_entries, toc_source

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

# The keys _config.yml uses. Adding a key is fine: add it here too, after checking that
# Jupyter Book reads it (jupyter_book/config.py: yaml_to_sphinx).
TOP_LEVEL_KEYS = {
    "title", "author", "copyright", "logo", "only_build_toc_files", "exclude_patterns",
    "execute", "parse", "bibtex_bibfiles", "html", "launch_buttons", "sphinx",
}
# Per section, every key Jupyter Book 1.0.4's yaml_to_sphinx reads (not only those used).
SECTION_KEYS = {
    "execute": {"execute_notebooks", "cache", "exclude_patterns", "timeout", "run_in_temp",
                "allow_errors", "raise_on_error", "show_tb", "stderr_output", "eval_regex"},
    "parse": {"myst_enable_extensions", "myst_extended_syntax", "myst_substitutions",
              "myst_url_schemes"},
    "html": {"favicon", "baseurl", "comments", "use_multitoc_numbering", "navbar_footer_text",
             "extra_footer", "home_page_in_navbar", "announcement", "google_analytics_id",
             "analytics", "use_repository_button", "use_edit_page_button",
             "use_issues_button"},
    # passed to sphinx-book-theme as a whole; these are the keys it reads
    "launch_buttons": {"notebook_interface", "binderhub_url", "jupyterhub_url", "thebe",
                       "colab_url", "deepnote_url"},
    "sphinx": {"extra_extensions", "local_extensions", "recursive_update", "config"},
}
# myst-parser 3.0's optional syntax extensions
MYST_EXTENSIONS = {
    "amsmath", "attrs_image", "attrs_inline", "attrs_block", "colon_fence", "deflist",
    "dollarmath", "fieldlist", "html_admonition", "html_image", "linkify", "replacements",
    "smartquotes", "strikethrough", "substitution", "tasklist",
}
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
KEYPREFIX = re.compile(r"^:keyprefix:\s*(\S+)", re.MULTILINE)  # of a {bibliography}
BIB_ENTRY = re.compile(r"^\s*@(\w+)\s*[{(]\s*([^,\s]+)\s*,", re.MULTILINE)


def chapter_files() -> list[Path]:
    return sorted(p for p in (ROOT / "chapters").rglob("*")
                  if p.suffix in {".md", ".ipynb"} and ".ipynb_checkpoints" not in p.parts)


def markdown_text(path: Path) -> str:
    """The Markdown of a chapter: the file itself, or a notebook's markdown cells."""
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in nb["cells"] if c["cell_type"] == "markdown")


def bib_keys() -> list[str]:
    keys = []
    for name in CONFIG["bibtex_bibfiles"]:
        text = (ROOT / name).read_text(encoding="utf-8")
        keys += [k for kind, k in BIB_ENTRY.findall(text)
                 if kind.lower() not in {"comment", "string", "preamble"}]
    return keys


# ---------------------------------------------------------------- _config.yml


def test_top_level_keys_are_exactly_those_we_use():
    assert set(CONFIG) == TOP_LEVEL_KEYS


@pytest.mark.parametrize("section", sorted(SECTION_KEYS))
def test_section_keys_are_read_by_jupyter_book(section):
    unknown = set(CONFIG.get(section) or {}) - SECTION_KEYS[section]
    assert not unknown, f"{section}: keys Jupyter Book would silently ignore: {unknown}"


def test_build_renders_stored_outputs_only():
    # the string "off", not YAML's boolean off
    assert CONFIG["execute"]["execute_notebooks"] == "off"
    assert CONFIG["only_build_toc_files"] is True


def test_myst_extensions_exist():
    unknown = set(CONFIG["parse"]["myst_enable_extensions"]) - MYST_EXTENSIONS
    assert not unknown


def test_sphinx_section():
    sphinx = CONFIG["sphinx"]
    # without it, `sphinx: config:` replaces nested dicts (html_theme_options, ...) whole
    assert sphinx["recursive_update"] is True
    assert "extra_extensions" not in sphinx, (
        "sphinx.config.extensions replaces the extension list, so extra_extensions would be "
        "ignored: list extensions in sphinx.config.extensions"
    )
    for name, path in sphinx["local_extensions"].items():
        assert (ROOT / path / f"{name}.py").is_file(), f"local extension {name} not in {path}/"
    assert "mathjax_path" not in sphinx["config"], (
        "mathjax_path is set by _ext/offline_assets.py (local copy or the CDN default)"
    )
    assert "html_static_path" not in sphinx["config"], (
        "Jupyter Book adds every .js file in a static path to every page"
    )


def test_extensions_are_jupyter_books_without_thebe():
    from jupyter_book.config import get_default_sphinx_config

    default = get_default_sphinx_config()["extensions"]
    expected = [e for e in default if e != "sphinx_thebe"]
    expected += ["sphinxcontrib.bibtex", "sphinx.ext.autodoc", "sphinx.ext.napoleon",
                 *CONFIG["sphinx"]["local_extensions"]]
    assert CONFIG["sphinx"]["config"]["extensions"] == expected
    assert CONFIG["launch_buttons"].get("thebe") is False


def test_excluded_from_the_build():
    patterns = set(CONFIG["exclude_patterns"])
    # hidden folders such as .pytest_cache are not covered by only_build_toc_files
    assert {"_build", ".venv", "_vendor", ".*", "**/.*"} <= patterns


# ---------------------------------------------------------------- _toc.yml


def test_toc_format_and_files_exist():
    assert TOC["format"] == "jb-book"
    entries = toc_entries()
    assert len(entries) == len(set(entries)), "a page is listed twice in _toc.yml"
    missing = [e for e in entries if toc_source(e) is None]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_chapter_is_in_the_toc():
    listed = {toc_source(e) for e in toc_entries()}
    stray = [p.relative_to(ROOT).as_posix() for p in chapter_files() if p not in listed]
    assert not stray, f"not in _toc.yml (so not built, with only_build_toc_files): {stray}"


# ---------------------------------------------------------------- bibliography


def test_bibtex_files_exist_and_keys_unique():
    for name in CONFIG["bibtex_bibfiles"]:
        assert (ROOT / name).is_file(), name
    keys = bib_keys()
    assert keys, "no entries found in the bibliography"
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"duplicate BibTeX keys: {duplicates}"


def test_every_cited_key_is_in_the_bibliography():
    known = set(bib_keys())
    missing = {}
    for path in chapter_files():
        text = markdown_text(path)
        # `{cite:p}`a, b`` or with a label: `{cite:t}`text <key>``
        cited = {re.sub(r"^.*<(.+)>$", r"\1", k.strip()) for group in CITE.findall(text)
                 for k in group.split(",")}
        # a page's bibliography may set `:keyprefix: iw-`, cited as `iw-<key>`
        prefixes = ["", *KEYPREFIX.findall(text)]
        unknown = sorted(k for k in cited
                         if not any(k.startswith(p) and k[len(p):] in known for p in prefixes))
        if unknown:
            missing[path.relative_to(ROOT).as_posix()] = unknown
    assert not missing, f"cited but not in {CONFIG['bibtex_bibfiles']}: {missing}"


def test_static_refresh_finds_edited_static_files(tmp_path):
    """_ext/static_refresh.py: an edited, new or missing static file makes Sphinx rebuild (it
    would otherwise skip copying _static/ when no page changed); copies as new as their
    source, and rendered templates (*_t), do not."""
    import importlib.util
    import os

    spec = importlib.util.spec_from_file_location("static_refresh",
                                                  ROOT / "_ext" / "static_refresh.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    src, out = tmp_path / "_static", tmp_path / "_build" / "html"
    (src / "css").mkdir(parents=True)
    (out / "_static" / "css").mkdir(parents=True)
    for name in ("tllab.css", "css/extra.css", "layout.js_t"):
        (src / name).write_text("a")
    assert mod.stale_static_files(tmp_path, ["_static"], out) == [src / "css/extra.css",
                                                                  src / "tllab.css"]
    for name in ("tllab.css", "css/extra.css"):  # copied with their times, as Sphinx does
        (out / "_static" / name).write_text("a")
        t = (src / name).stat().st_mtime
        os.utime(out / "_static" / name, (t, t))
    assert mod.stale_static_files(tmp_path, ["_static"], out) == []
    t = (src / "tllab.css").stat().st_mtime
    os.utime(src / "tllab.css", (t + 10, t + 10))  # edited after the last build
    assert mod.stale_static_files(tmp_path, ["_static"], out) == [src / "tllab.css"]
    # an absolute entry (extensions add their own static folders) and a single file
    assert mod.stale_static_files("/elsewhere", [str(src / "tllab.css")], out) == [
        src / "tllab.css"]
