"""Shared fixtures: deterministic threads and seeds, and the devices to test on."""

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import settings

torch.set_num_threads(2)

# Property tests draw the same examples on every run, so that CI cannot turn red by chance;
# HYPOTHESIS_PROFILE=explore draws fresh ones (run it locally when changing the code).
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The CUDA variants are always collected, and reported as SKIPPED (with the reason) where no
# GPU is present, so that a CPU run shows what it did not check instead of hiding it.
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                  reason="CUDA variant: no GPU here")),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """Every device: CPU always, CUDA when a GPU is available (skipped, visibly, otherwise)."""
    return torch.device(request.param)


@pytest.fixture
def single_thread():
    """One intra-op thread for the test: loops of many tiny torch calls (statistical
    repetitions, L-BFGS on small models) run ~10x slower with 2 OpenMP threads when the
    cores are shared with other work, and gain nothing from a second thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def rng():
    """A fresh NumPy generator; the seed is fixed so failures reproduce."""
    import numpy as np

    return np.random.default_rng(12345)


# --- The HTML book: _toc.yml pages and one build per session (test_book, test_browser) ---

ROOT = Path(__file__).resolve().parent.parent


def toc_entries(node=None) -> list[str]:
    """Every ``file`` named in ``_toc.yml``, root first, as written there (no suffix)."""
    if node is None:
        node = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
        return [node["root"], *toc_entries({k: v for k, v in node.items() if k != "root"})]
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                found.extend(toc_entries(child))
    return found


def toc_source(entry: str) -> Path | None:
    """The source file of a _toc.yml entry (suffix given or .md/.ipynb), or None."""
    path = ROOT / entry
    candidates = [path] if path.suffix in {".md", ".ipynb"} else [
        path.with_name(path.name + suffix) for suffix in (".md", ".ipynb")
    ]
    return next((p for p in candidates if p.is_file()), None)


def toc_html(entry: str) -> str:
    """The HTML path, relative to the output folder, of a _toc.yml entry."""
    stem = entry.rsplit(".", 1)[0] if entry.endswith((".md", ".ipynb")) else entry
    return f"{stem}.html"


@dataclass
class BookBuild:
    """Result of ``jupyter-book build . -W -n --keep-going`` into a temporary folder."""

    html: Path
    returncode: int
    output: str
    seconds: float
    command: list[str]


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> BookBuild:
    """Build the book once per session, from scratch, outside the working tree's _build.

    A fresh output folder means every page is read again, so warnings that an incremental
    build into _build/ would not repeat for unchanged pages are seen too.
    """
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(ROOT),
           "-W", "-n", "--keep-going", "--path-output", str(out)]
    env = {**os.environ, "NO_COLOR": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=1200)
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)  # Jupyter Book colours even in a pipe
    return BookBuild(html=out / "_build" / "html", returncode=proc.returncode,
                     output=output, seconds=time.perf_counter() - start, command=cmd)
