#!/usr/bin/env python3
"""Fetch the JavaScript the built book needs into ``_vendor/`` so that it works offline.

By default the HTML book loads MathJax, require.js, the ipywidgets embed manager and (in
matplotlib's animation player) Font Awesome 4 from CDNs; an offline reader then sees raw
TeX, no widgets and blank player buttons. This script downloads pinned
versions of those npm packages with ``npm pack`` (the npm registry's own client), checks
each tarball against its pinned sha512 integrity, and unpacks only the files a page needs
into ``_vendor/<name>-<version>/``. ``_ext/offline_assets.py`` then points the build at
them and copies them into the HTML output.

Idempotent: when ``_vendor/manifest.json`` already describes the pinned versions and
every listed file is present, nothing is fetched. Standard library only, so it runs before
the virtual environment exists.

Usage::

    python3 tools/vendor_js.py             # fetch if needed; fail when npm is missing
    python3 tools/vendor_js.py --optional  # as above, but only warn (exit 0) when npm is
                                           # missing or the registry cannot be reached
    python3 tools/vendor_js.py --force     # fetch again even if present
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "_vendor"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def _mathjax_wanted(path: str) -> bool:
    # The combined component, the CHTML fonts it loads at run time, and the TeX/MathML
    # extensions that `autoload`/`\require` may fetch. Not the other combined components,
    # the speech-rule engine (3.9 MB, only for the opt-in explorer) or the sources.
    return path in {"LICENSE", "es5/tex-mml-chtml.js"} or path.startswith(
        (
            "es5/output/chtml/fonts/woff-v2/",
            "es5/input/tex/extensions/",
            "es5/input/mml/extensions/",
        )
    )


def _requirejs_wanted(path: str) -> bool:
    return path == "require.js"  # the licence is in its header


def _html_manager_wanted(path: str) -> bool:
    # embed-amd.js bundles @jupyter-widgets/base, controls and output; its Font Awesome
    # fonts sit next to it (webpack public path = the script's folder). Every current
    # browser takes the woff2/woff/ttf entries; .eot and .svg are for IE / old Safari.
    p = PurePosixPath(path)
    return path in {"LICENSE", "dist/embed-amd.js"} or (
        p.parent == PurePosixPath("dist") and p.suffix in {".woff2", ".woff", ".ttf"}
    )


def _font_awesome_wanted(path: str) -> bool:
    # matplotlib's `Animation.to_jshtml()` (the static fallback of the explorers) links
    # Font Awesome 4's CSS from maxcdn for its player buttons; 4.7 is the last 4.x.
    p = PurePosixPath(path)
    return path in {"README.md", "css/font-awesome.min.css"} or (
        p.parent == PurePosixPath("fonts") and p.suffix in {".woff2", ".woff", ".ttf"}
    )


# name -> npm package, version, sha512 integrity (as `npm view <pkg>@<v> dist.integrity`
# prints it), the file a page loads, and which package files to keep.
# @jupyter-widgets/html-manager 1.0.15 is the release that goes with ipywidgets 8.1.9
# (@jupyter-widgets/controls 5.0.13 / base 6.0.12, protocol 2.0.0); myst-nb's default
# `nb_ipywidgets_js` loads 1.0.6 and require.js 2.3.4 from CDNs.
PACKAGES = {
    "mathjax": {
        "npm": "mathjax",
        "version": "3.2.2",
        "integrity": "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsj"
        "KPZGJvtRZM1vO+geW0OhGw==",
        "entry": "es5/tex-mml-chtml.js",
        "wanted": _mathjax_wanted,
    },
    "requirejs": {
        "npm": "requirejs",
        "version": "2.3.7",
        "integrity": "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaU"
        "hBa0JPVHJ0pyBkM1z+pDsw==",
        "entry": "require.js",
        "wanted": _requirejs_wanted,
    },
    "html-manager": {
        "npm": "@jupyter-widgets/html-manager",
        "version": "1.0.15",
        "integrity": "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvF"
        "i//SABeNz1yp47bCrJ3CQA==",
        "entry": "dist/embed-amd.js",
        "wanted": _html_manager_wanted,
    },
    "font-awesome": {
        "npm": "font-awesome",
        "version": "4.7.0",
        "integrity": "sha512-U6kGnykA/6bFmg1M/oT9EkFeIYv7JlX3bozwQJWiiLz6L0w3F5vBVPxHlwyX/vtN"
        "q1ckcpRKOB9f2Qal/VtFpg==",
        "entry": "css/font-awesome.min.css",
        "wanted": _font_awesome_wanted,
    },
}


class VendorError(RuntimeError):
    """A problem the user can fix (no npm, no network, bad tarball)."""


def _dirname(name: str, spec: dict) -> str:
    return f"{name}-{spec['version']}"


def _pinned_summary() -> dict:
    return {
        name: {"npm": s["npm"], "version": s["version"], "integrity": s["integrity"]}
        for name, s in PACKAGES.items()
    }


def is_current(vendor: Path = VENDOR) -> bool:
    """True when ``vendor`` holds exactly the pinned packages with all their files."""
    try:
        manifest = json.loads((vendor / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("format") != MANIFEST_FORMAT:
        return False
    packages = manifest.get("packages", {})
    for name, pinned in _pinned_summary().items():
        entry = packages.get(name, {})
        if any(entry.get(k) != v for k, v in pinned.items()):
            return False
        base = vendor / entry.get("dir", "")
        files = entry.get("files", [])
        if entry.get("entry") not in files:
            return False
        if not all((base / f).is_file() for f in files):
            return False
    return True


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            "npm was not found on PATH. It is needed once to fetch MathJax, require.js, "
            "the ipywidgets embed manager and Font Awesome 4 into _vendor/ for an offline "
            "book. Install Node.js with npm (e.g. `apt-get install npm`) and run "
            "`make vendor`; without it the book still builds, but loads those files from "
            "CDNs (no math or widgets offline)."
        )
    return npm


def _sri_sha512(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def _npm_pack(npm: str, spec: dict, dest: Path) -> Path:
    ref = f"{spec['npm']}@{spec['version']}"
    cmd = [npm, "pack", "--json", "--silent", "--ignore-scripts", ref]
    try:
        proc = subprocess.run(
            cmd,
            cwd=dest,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise VendorError(f"`npm pack {ref}` timed out (no access to the npm registry?)") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise VendorError(
            f"`npm pack {ref}` failed (exit {proc.returncode}); is the npm registry "
            f"reachable?\n{tail}"
        )
    tarballs = list(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        raise VendorError(f"`npm pack {ref}` produced {len(tarballs)} tarballs in {dest}")
    tgz = tarballs[0]
    got = _sri_sha512(tgz)
    if got != spec["integrity"]:
        raise VendorError(
            f"{ref}: tarball integrity {got} does not match the pinned {spec['integrity']}"
        )
    return tgz


def _extract(tgz: Path, wanted, target: Path) -> list[str]:
    """Unpack the wanted regular files of an npm tarball (prefix ``package/``)."""
    files = []
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or len(parts) < 2 or ".." in parts:
                continue
            rel = PurePosixPath(*parts[1:]).as_posix()
            if not wanted(rel):
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            with src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            files.append(rel)
    return sorted(files)


def vendor(vendor_dir: Path = VENDOR, force: bool = False) -> bool:
    """Populate ``vendor_dir``; returns False when it was already current."""
    if not force and is_current(vendor_dir):
        return False
    npm = _npm()
    vendor_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".vendor-", dir=vendor_dir.parent) as tmp:
        staging = Path(tmp) / "_vendor"
        staging.mkdir()
        manifest = {"format": MANIFEST_FORMAT, "packages": {}}
        for name, spec in PACKAGES.items():
            print(f"vendor_js: fetching {spec['npm']}@{spec['version']}", flush=True)
            packdir = Path(tmp) / f"pack-{name}"
            packdir.mkdir()
            tgz = _npm_pack(npm, spec, packdir)
            dirname = _dirname(name, spec)
            files = _extract(tgz, spec["wanted"], staging / dirname)
            if spec["entry"] not in files:
                raise VendorError(f"{spec['npm']}@{spec['version']}: {spec['entry']} missing")
            manifest["packages"][name] = {
                "npm": spec["npm"],
                "version": spec["version"],
                "integrity": spec["integrity"],
                "dir": dirname,
                "entry": spec["entry"],
                "files": files,
            }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        # Swap in the complete tree only at the end: an interrupted run leaves no half
        # _vendor/ behind that the build would take for a good one.
        old = Path(tmp) / "old"
        if vendor_dir.exists():
            os.replace(vendor_dir, old)
        os.replace(staging, vendor_dir)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--optional", action="store_true",
                        help="only warn (exit 0) when npm or the registry is unavailable")
    parser.add_argument("--force", action="store_true", help="fetch even if up to date")
    parser.add_argument("--check", action="store_true",
                        help="exit 0 if _vendor/ is current, 1 otherwise; fetch nothing")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if is_current() else 1
    try:
        changed = vendor(force=args.force)
    except VendorError as exc:
        level = "warning" if args.optional else "error"
        print(f"vendor_js: {level}: {exc}", file=sys.stderr)
        if args.optional:
            print("vendor_js: continuing without _vendor/ (the book will use CDNs)",
                  file=sys.stderr)
            return 0
        return 1
    size = sum(f.stat().st_size for f in VENDOR.rglob("*") if f.is_file())
    state = "fetched" if changed else "up to date"
    print(f"vendor_js: _vendor/ {state} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
