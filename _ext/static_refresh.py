"""Rebuild after an edit of ``_static/``: Sphinx copies the static files only when it writes
some page, so an incremental build after editing ``_static/tllab.css`` alone ("no targets are
out of date") would keep serving the old stylesheet.

On ``env-get-outdated`` this marks every page outdated whenever a file of
``html_static_path`` is missing from ``<outdir>/_static`` or newer than its copy there (Sphinx
copies the modification time along with the file). Sphinx then writes the pages, whose links
carry the new files' checksums (``tllab.css?v=…``, so browsers do not keep a cached copy), and
copies the static files.
"""

from __future__ import annotations

from pathlib import Path


def stale_static_files(confdir, static_paths, outdir) -> list[Path]:
    """Files of the ``static_paths`` (relative to ``confdir``) that ``outdir/_static`` lacks or
    holds an older copy of.  Jinja templates (``*_t``) are rendered under another name and
    are left out."""
    out = Path(outdir) / "_static"
    stale = []
    for entry in static_paths:
        root = Path(confdir) / entry
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            if f.name.endswith("_t"):
                continue
            copy = out / (f.name if f == root else f.relative_to(root))
            if not copy.exists() or copy.stat().st_mtime < f.stat().st_mtime:
                stale.append(f)
    return stale


def _outdated(app, env, added, changed, removed) -> list[str]:
    if stale_static_files(app.confdir, app.config.html_static_path, app.outdir):
        return sorted(env.found_docs)
    return []


def setup(app):
    app.connect("env-get-outdated", _outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
