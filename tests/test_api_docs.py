"""The API reference page documents every public name of tllab."""

import re

import tllab
from conftest import ROOT

API_PAGE = ROOT / "chapters" / "api.md"


def _documented() -> tuple[set[str], set[str]]:
    text = API_PAGE.read_text(encoding="utf-8")
    names = set(re.findall(r"^\.\. auto(?:function|class|data):: tllab\.(\w+)\s*$", text, re.M))
    modules = set(re.findall(r"^\.\. automodule:: (tllab\.\w+)\n\s+:members:", text, re.M))
    return names, modules


def _home_module(name: str) -> str:
    """The tllab submodule that defines ``name`` (constants have no ``__module__``)."""
    for module in vars(tllab).values():
        if getattr(module, "__name__", "").startswith("tllab.") and name in getattr(
            module, "__all__", ()
        ):
            return module.__name__
    return getattr(getattr(tllab, name), "__module__", "tllab")


def test_every_public_name_is_on_the_api_page():
    names, modules = _documented()
    missing = [
        name for name in tllab.__all__
        if name not in names and _home_module(name) not in modules
    ]
    assert not missing, f"add these to chapters/api.md: {missing}"


def test_every_public_name_has_a_docstring_with_an_example():
    lacking = []
    for name in tllab.__all__:
        obj = getattr(tllab, name)
        if not callable(obj) or isinstance(obj, type):
            continue  # constants and result types document themselves in the API page
        doc = obj.__doc__ or ""
        if "Examples" not in doc and ">>>" not in doc:
            lacking.append(name)
    assert not lacking, f"public functions without an Examples section: {lacking}"


def test_every_layer_module_is_on_the_api_page():
    """Data, studies and views are documented module by module (``:members:``), down to the
    modules of a chapter's package."""
    import pkgutil

    text = API_PAGE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. automodule:: ([\w.]+)\n\s+:members:", text, re.M))
    expected = set()
    for package in ("tllab.data", "tllab.studies", "tllab.viz"):
        pkg = __import__(package, fromlist=["_"])
        expected |= {m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.")
                     if not m.ispkg and not m.name.rsplit(".", 1)[-1].startswith("_")}
    assert expected, "no layer modules found"
    assert not expected - documented, f"add to chapters/api.md: {sorted(expected - documented)}"
