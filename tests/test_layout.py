"""The package's layers: core library → data → chapter studies → views, imported one way only.

``tllab`` (core: kernels, divergences, reweighting, learners) and ``tllab.data`` never import a
study or a view; ``tllab.studies`` never imports a view; modules stay small enough to read.
"""

import ast
from pathlib import Path

import pytest

import tllab

PACKAGE = Path(tllab.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 650

#: which layers each layer may import (besides itself)
ALLOWED = {
    "core": {"core"},
    "data": {"core"},
    "studies": {"core", "data"},
    "viz": {"core", "data", "studies"},
}


def _layer(dotted: str) -> str:
    parts = dotted.split(".")
    if len(parts) > 1 and parts[1] in ("data", "studies", "viz"):
        return parts[1]
    return "core"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, source: str | None = None) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    source = path.read_text(encoding="utf-8") if source is None else source
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("tllab"):
                found |= {target} if node.module else {f"{target}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tllab")}
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def _violations(path: Path, source: str | None = None) -> list[str]:
    layer = _layer(_module_name(path))
    allowed = ALLOWED[layer] | {layer}
    if path == PACKAGE / "__init__.py":
        allowed = allowed | {"data"}  # `import tllab` also gives the tllab.data namespace
    return sorted(t for t in _imports(path, source) if _layer(t) not in allowed)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_never_import_higher_ones(path):
    bad = _violations(path)
    assert not bad, f"{_module_name(path)} imports {bad} from a higher layer"


@pytest.mark.parametrize(
    ("where", "source", "bad"),
    [
        ("data/toy.py", "from ..viz import figures", ["tllab.viz"]),
        ("data/toy.py", "from ..studies.distribution_shift import gaussian_js",
         ["tllab.studies.distribution_shift"]),
        ("kernels.py", "from .data import toy", ["tllab.data"]),
        ("reweight/kmm.py", "import tllab.viz", ["tllab.viz"]),
        ("studies/instance_weighting.py", "from ..viz.figures import markdown_table",
         ["tllab.viz.figures"]),
        ("viz/figures.py", "from ..studies import distribution_shift", []),
        ("studies/instance_weighting.py", "from ..reweight import kmm_weights", []),
    ],
)
def test_the_layer_rule_catches_violations(where, source, bad):
    assert _violations(PACKAGE / where, source) == bad


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines; split it by concept"


def test_core_namespace_is_small_and_exported_names_exist():
    assert 25 <= len(tllab.__all__) <= 45
    for name in tllab.__all__:
        assert hasattr(tllab, name), name
    import tllab.studies.distribution_shift as a
    import tllab.studies.instance_weighting as b
    import tllab.viz as v

    for mod in (tllab.data, tllab.reweight, tllab.models, a, b, v):
        missing = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert not missing, f"{mod.__name__}.__all__ lists missing names {missing}"


def test_import_tllab_does_not_import_the_views():
    import subprocess
    import sys

    code = "import sys, tllab; print(any(m.startswith('tllab.viz') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
