"""Serve MathJax and the ipywidgets JavaScript from the book itself, not from CDNs.

``tools/vendor_js.py`` (``make vendor``) unpacks pinned npm packages into ``_vendor/``
and describes them in ``_vendor/manifest.json``. When that manifest is present and every
file it lists exists, this extension

* points ``mathjax_path`` (Sphinx) and ``nb_ipywidgets_js`` (myst-nb) at local copies,
  unless ``_config.yml`` sets them to something other than their CDN defaults, and
* rewrites the Font Awesome 4 stylesheet link that matplotlib's ``to_jshtml()`` animations
  carry in their stored output to the local copy, and
* copies the listed files to ``<html output>/_vendor/`` when an HTML build finishes.

The files deliberately do not go through ``html_static_path``: Jupyter Book adds every
``.js`` file found in a static path to every page, which would load all of MathJax's
extensions everywhere. Sphinx resolves a relative script path against ``_static/``, so
the pages refer to ``_static/../_vendor/...``; browsers normalise that to ``_vendor/...``.

Without ``_vendor/`` the pages load the scripts from the CDN defaults. Either way, pages
with widgets get a small inline script that fixes two problems of embedded ipywidgets
(see ``WIDGET_FIXES_JS``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

VENDOR_DIR = "_vendor"  # in the source folder and in the HTML output
MANIFEST = "manifest.json"
REQUIRED = ("mathjax", "requirejs", "html-manager", "font-awesome")
# matplotlib's Animation.to_jshtml() output links this stylesheet for its player buttons
FONT_AWESOME_CDN = re.compile(
    r"https?://maxcdn\.bootstrapcdn\.com/font-awesome/[0-9.]+/css/font-awesome(?:\.min)?\.css")
# Sphinx adds this prefix to relative script paths; step out of it to the output root.
FROM_STATIC = f"../{VENDOR_DIR}"


def load_manifest(srcdir: str | Path) -> dict | None:
    """The ``_vendor`` manifest when it is complete, else None (with the reason logged)."""
    vendor = Path(srcdir) / VENDOR_DIR
    path = vendor / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        packages = manifest["packages"]
        for name in REQUIRED:
            entry = packages[name]
            missing = [f for f in entry["files"] if not (vendor / entry["dir"] / f).is_file()]
            if missing or entry["entry"] not in entry["files"]:
                logger.info(f"[offline_assets] {VENDOR_DIR}/{entry['dir']} is incomplete "
                            f"(missing {missing[:3]}); run `make vendor`. Using CDNs.")
                return None
    except (ValueError, KeyError, TypeError) as exc:
        logger.info(f"[offline_assets] unreadable {path} ({exc!r}); using CDNs")
        return None
    return manifest


def _local(entry: dict) -> str:
    return f"{FROM_STATIC}/{entry['dir']}/{entry['entry']}"


def configure(app: Sphinx, config: Config) -> None:
    """config-inited: swap the CDN URLs for the vendored files when they are there."""
    manifest = load_manifest(app.srcdir)
    app.offline_assets_manifest = manifest  # type: ignore[attr-defined]
    if manifest is None:
        logger.info(f"[offline_assets] no complete {VENDOR_DIR}/ (run `make vendor`): "
                    "MathJax and widget JavaScript load from CDNs")
        return
    packages = manifest["packages"]

    from sphinx.ext.mathjax import MATHJAX_URL

    if config.mathjax_path == MATHJAX_URL:
        config.mathjax_path = _local(packages["mathjax"])
    else:
        logger.info(f"[offline_assets] keeping mathjax_path={config.mathjax_path!r} "
                    "set in the configuration")

    from myst_nb.core.config import ipywidgets_js_factory

    default_js = ipywidgets_js_factory()
    if config.nb_ipywidgets_js == default_js:
        # The embed manager bundles @jupyter-widgets/base, controls and output; only
        # third-party widget modules would still be looked up on this CDN.
        cdn = next(
            (kw["data-jupyter-widgets-cdn"] for kw in default_js.values()
             if "data-jupyter-widgets-cdn" in kw),
            "https://cdn.jsdelivr.net/npm/",
        )
        # No `crossorigin`/`integrity` attributes: same-origin files, and `crossorigin`
        # would block the scripts when a page is opened from file://.
        config.nb_ipywidgets_js = {
            _local(packages["requirejs"]): {},
            _local(packages["html-manager"]): {"data-jupyter-widgets-cdn": cdn},
        }
    else:
        logger.info("[offline_assets] keeping nb_ipywidgets_js set in the configuration")
    versions = ", ".join(f"{e['npm']}@{e['version']}" for e in packages.values())
    logger.info(f"[offline_assets] serving {versions} from {VENDOR_DIR}/")


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    """build-finished: copy the vendored files into ``<outdir>/_vendor/``."""
    manifest = getattr(app, "offline_assets_manifest", None)
    if exception is not None or manifest is None or app.builder.format != "html":
        return
    src_root = Path(app.srcdir) / VENDOR_DIR
    out_root = Path(app.outdir) / VENDOR_DIR
    copied = 0
    for entry in manifest["packages"].values():
        for rel in entry["files"]:
            src = src_root / entry["dir"] / rel
            dst = out_root / entry["dir"] / rel
            st = src.stat()
            if dst.is_file() and dst.stat().st_size == st.st_size \
                    and dst.stat().st_mtime >= st.st_mtime:
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            copied += 1
    logger.info(f"[offline_assets] copied {copied} file(s) to {out_root}")


# Two fixes for pages with embedded ipywidgets (with or without _vendor/):
# 1. embed-amd.js sets its webpack public path (where its Font Awesome fonts are) from the
#    AMD module URL that require.js derives from the module name, i.e. relative to the page
#    ("chapters/@jupyter-widgets/html-manager/dist/..."), which 404s. Map that name to the
#    folder the script really came from. embed-amd.js computes the URL while it runs, so
#    the mapping must exist before: as the config object that require.js reads when loaded.
# 2. @jupyter-widgets/base typesets widget labels with MathJax 2's `MathJax.Hub.Queue`; with
#    MathJax 3 that throws "Cannot read properties of undefined (reading 'Queue')". Give
#    MathJax 3 a minimal `Hub.Queue` that typesets the element with MathJax 3's API.
WIDGET_FIXES_JS = """\
(function () {
  var cfg = {paths: {"@jupyter-widgets/html-manager/dist": %(dist)s}};
  if (typeof window.require === "function" && window.require.config) {
    window.require.config(cfg);
  } else {
    window.require = cfg;  // read by require.js when it loads
  }
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || !mj.startup || mj.Hub) { return; }
    mj.Hub = {Queue: function (cmd) {
      var el = Array.isArray(cmd) ? cmd[2] : undefined;
      mj.startup.promise
        .then(function () { return mj.typesetPromise(el ? [el] : undefined); })
        .catch(function (err) { console.warn("MathJax typeset of a widget failed", err); });
    }};
  });
})();"""


def add_widget_fixes(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree) -> None:
    """html-page-context (after myst-nb's): add WIDGET_FIXES_JS to pages with widgets."""
    if app.builder.format != "html" or doctree is None:
        return
    from myst_nb.sphinx_ import NbMetadataCollector

    try:
        js_files = NbMetadataCollector.get_js_files(app.env, pagename)
    except KeyError:
        return
    if "ipywidgets_state" not in js_files:
        return
    embed = next((uri for uri, _ in js_files.values()
                  if uri and uri.split("?")[0].endswith("/embed-amd.js")), None)
    if embed is None:
        return
    if "://" in embed:
        dist = embed.rsplit("/", 1)[0]
    else:  # Sphinx serves relative script paths from _static/; make it page-relative
        dist = context["pathto"](f"_static/{embed}", 1).rsplit("/", 1)[0]
    # Page-local: Sphinx resets the script list before each page's html-page-context.
    # Priority 499 puts it before require.js and embed-amd.js (myst-nb uses the default 500).
    app.add_js_file(None, body=WIDGET_FIXES_JS % {"dist": json.dumps(dist)}, priority=499)


def localise_output_links(app: Sphinx, pagename: str, templatename: str, context: dict,
                          doctree) -> None:
    """html-page-context: point CDN links inside stored notebook outputs at _vendor/."""
    manifest = getattr(app, "offline_assets_manifest", None)
    body = context.get("body")
    if manifest is None or not body or "maxcdn.bootstrapcdn.com" not in body:
        return
    entry = manifest["packages"]["font-awesome"]
    local = context["pathto"](f"{VENDOR_DIR}/{entry['dir']}/{entry['entry']}", 1)
    context["body"] = FONT_AWESOME_CDN.sub(local, body)


def setup(app: Sphinx) -> dict:
    # After myst_nb and sphinx.ext.mathjax have registered their config values.
    app.connect("config-inited", configure, priority=800)
    # After myst-nb's add_per_page_html_resources (priority 500) added the widget scripts.
    app.connect("html-page-context", add_widget_fixes, priority=600)
    app.connect("html-page-context", localise_output_links)
    app.connect("build-finished", copy_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
