"""Open every page of the built book in headless Chromium, offline, and check what a reader sees.

Served by a stdlib HTTP server on 127.0.0.1; every request to any other host is recorded
and aborted, so the check behaves as on a machine without internet even where there is
one. Per page: HTTP 200, no console errors or uncaught exceptions, no failed or non-local
requests, math typeset by MathJax (no raw TeX left, no MathJax errors), every image
decoded, and on pages whose notebook stores widget state, every widget view rendered.

Skips, saying why, when Playwright or Chromium is missing, or when the offline assets
were not vendored (`make vendor` needs npm once) -- except where the check is required
(``TLLAB_REQUIRE_BROWSER=1``, set by ``.ci/run``): there each of these is a failure.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import threading
from pathlib import Path

import pytest

from conftest import ROOT, toc_entries, toc_html, toc_source

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TLLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TIMEOUT_MS = 20_000


def _vendor_is_current() -> bool:
    spec = importlib.util.spec_from_file_location("vendor_js", ROOT / "tools" / "vendor_js.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.is_current()


def browser_required() -> bool:
    """Whether a missing prerequisite fails the check instead of skipping it (CI)."""
    return os.environ.get("TLLAB_REQUIRE_BROWSER", "") == "1"


def unavailable(reason: str):
    """Skip the browser check with ``reason``, or fail with it where the check is required."""
    if browser_required():
        pytest.fail(f"browser check required (TLLAB_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"browser check skipped: {reason}")


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no Playwright-managed browsers)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package `playwright` is not installed")
    if not Path(CHROMIUM).is_file():
        unavailable(f"no Chromium at {CHROMIUM} "
                    "(Debian: apt-get install chromium; or set TLLAB_CHROMIUM)")
    if not _vendor_is_current():
        unavailable("MathJax/widget JavaScript not vendored in _vendor/ "
                    "(run `make vendor`, which needs npm once), so pages would need CDNs")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def server(browser, built_book):
    """Base URL of a local HTTP server for the built HTML (random free port)."""
    if not (built_book.html / "index.html").is_file():
        pytest.fail(f"the book build produced no HTML:\n{built_book.output[-3000:]}")
    handler = functools.partial(_QuietHandler, directory=str(built_book.html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def expected_widget_views(entry: str) -> int:
    """How many widget views of the notebook have stored state (0 for Markdown pages)."""
    src = toc_source(entry)
    if src is None or src.suffix != ".ipynb":
        return 0
    nb = json.loads(src.read_text(encoding="utf-8"))
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    views = [out["data"][WIDGET_VIEW]["model_id"]
             for cell in nb["cells"] if cell["cell_type"] == "code"
             for out in cell.get("outputs", [])
             if WIDGET_VIEW in out.get("data", {})]
    return sum(1 for model_id in views if model_id in state)


# Text nodes outside code, scripts and typeset math that still look like TeX.
RAW_TEX_JS = r"""() => {
  const skip = new Set(["SCRIPT", "STYLE", "PRE", "CODE", "TEXTAREA", "MJX-CONTAINER",
                        "MJX-ASSISTIVE-MML", "MATH"]);
  const raw = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$/;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName.toUpperCase())) return NodeFilter.FILTER_REJECT;
      }
      return raw.test(node.textContent) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
    }});
  while (walker.nextNode() && found.length < 5) found.push(walker.currentNode.textContent.trim());
  return found;
}"""

MATH_JS = """() => {
  const math = [...document.querySelectorAll(".math")];
  return {
    math: math.length,
    untypeset: math.filter(el => !el.querySelector("mjx-container"))
                   .slice(0, 5).map(el => el.textContent.trim().slice(0, 80)),
    containers: document.querySelectorAll("mjx-container").length,
    errors: [...document.querySelectorAll("mjx-merror")]
              .slice(0, 5).map(el => el.getAttribute("data-mjx-error") || el.textContent),
  };
}"""

IMAGES_JS = """async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(img => { img.loading = "eager";
                                      return img.decode().catch(() => null); }));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => img.getAttribute("src"));
}"""

WIDGETS_JS = """() => {
  const views = [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')];
  const rendered = views.filter(s => {
    const prev = s.previousElementSibling;
    return prev && prev.classList.contains("widget-subarea")
        && prev.querySelector(".jupyter-widgets");
  });
  return {views: views.length, rendered: rendered.length,
          widgets: document.querySelectorAll(".jupyter-widgets").length};
}"""


PAGES = toc_entries()

PHONE = {"width": 390, "height": 844}  # an iPhone 12-15 viewport in CSS pixels

# Elements of the article that stick out to the right of the viewport, unless a scrollable
# or clipping container (a wide table, long display math) that itself fits holds them.
OVERFLOW_JS = """() => {
  const W = window.innerWidth, out = [];
  const contained = el => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(a).overflowX)
          && a.getBoundingClientRect().right <= W + 1) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll("article *")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > W + 1 && !contained(el)) {
      out.push(`${el.tagName.toLowerCase()}.${String(el.className).slice(0, 50)}`
               + ` (right edge ${Math.round(r.right)} px)`);
      if (out.length >= 8) break;
    }
  }
  return {page: document.documentElement.scrollWidth, viewport: W, overflowing: out};
}"""


@pytest.mark.parametrize("entry", PAGES)
def test_page(browser, server, entry):
    context = browser.new_context()  # fresh storage: every page as on a first visit
    problems: list[str] = []
    outside: list[str] = []

    def local_only(route):
        if route.request.url.startswith((server, "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: m.type == "error" and problems.append(
        f"console error: {m.text} ({m.location.get('url', '')})"))
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("requestfailed", lambda r: problems.append(
        f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(
        f"HTTP {r.status}: {r.url}"))
    try:
        url = server + toc_html(entry)
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, f"{url}: {response}"

        math = page.evaluate(MATH_JS)
        if math["math"]:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            math = page.evaluate(MATH_JS)
            assert math["containers"] > 0, f"{entry}: MathJax rendered nothing"
            assert not math["untypeset"], f"{entry}: math not typeset: {math['untypeset']}"
            assert not math["errors"], f"{entry}: MathJax errors: {math['errors']}"

        expected = expected_widget_views(entry)
        if expected:
            try:
                page.wait_for_function(
                    f"() => ({WIDGETS_JS})().rendered >= {expected}", timeout=TIMEOUT_MS)
            except Exception:  # report the counts below instead of a bare timeout
                pass
            widgets = page.evaluate(WIDGETS_JS)
            assert widgets["views"] >= expected, (
                f"{entry}: {expected} widget views with state in the notebook, "
                f"{widgets['views']} in the HTML")
            assert widgets["rendered"] >= expected, f"{entry}: widgets not rendered: {widgets}"

        broken = page.evaluate(IMAGES_JS)
        assert not broken, f"{entry}: images that did not load: {broken}"

        raw = page.evaluate(RAW_TEX_JS)
        assert not raw, f"{entry}: raw TeX left in the page: {raw}"

        page.wait_for_load_state("networkidle")  # late requests (fonts) are seen too
        assert not outside, f"{entry}: requests to other hosts (offline they fail): {outside}"
        assert not problems, f"{entry}:\n" + "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("entry", PAGES)
def test_page_fits_a_phone(browser, server, entry):
    """At 390 px nothing runs off the screen: explorers wrap, animations and figures scale,
    wide tables and long formulas scroll inside their own box."""
    context = browser.new_context(viewport=PHONE)
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith((server, "data:")) else route.abort())
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(server + toc_html(entry), wait_until="load")
        if page.evaluate(MATH_JS)["math"]:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        expected = expected_widget_views(entry)
        if expected:
            page.wait_for_function(f"() => ({WIDGETS_JS})().rendered >= {expected}")
        page.evaluate(IMAGES_JS)
        fit = page.evaluate(OVERFLOW_JS)
        assert fit["page"] <= fit["viewport"] + 1 and not fit["overflowing"], (
            f"{entry} at {PHONE['width']} px: {fit}")
    finally:
        context.close()
