"""The structure docs/ARCHITECTURE.md describes, checked on the source: imports go one way
(app -> geo; inside geo from a wing to the wings below it), no import circles, no module over
~800 lines, no environment reads or Dash in geo/, no Dash private API, pages never import pages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 800

# Low to high: a module may import its own wing and the wings below it, never above.
GEO_LAYERS = {
    "geo.errors": 0,
    "geo.writing": 0,
    "geo.resources": 0,
    "geo.progress": 0,
    "geo.spatial": 1,
    "geo.ssda903": 2,
    "geo.measures": 3,
    "geo.coverage": 4,
    "geo.disclosure": 5,
    "geo.demo": 6,
}


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in (("geo", "geo"), ("app", "app"), ("geo.resources", "data")):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Modules imported anywhere in the file (function bodies too), except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _internal(name: str) -> str | None:
    """The project module ``name`` refers to (a module, or a package's ``__init__``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


GRAPH = {
    mod: {m for m in map(_internal, _imports(path)) if m and m != mod}
    for mod, path in MODULES.items()
}


def _layer(mod: str) -> int | None:
    for prefix, level in GEO_LAYERS.items():
        if mod == prefix or mod.startswith(prefix + "."):
            return level
    return None


def test_geo_never_imports_app_and_wings_import_downwards():
    wrong = []
    for mod, deps in GRAPH.items():
        if not mod.startswith("geo") or mod == "geo":
            continue
        for dep in deps:
            if dep.startswith("app"):
                wrong.append(f"{mod} -> {dep} (geo must not import app)")
                continue
            lm, ld = _layer(mod), _layer(dep)
            if lm is not None and ld is not None and ld > lm:
                wrong.append(f"{mod} (layer {lm}) -> {dep} (layer {ld})")
    assert not wrong, "imports running up a layer:\n" + "\n".join(sorted(wrong))


def test_no_import_circles():
    # Tarjan's strongly connected components over the module graph.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH.get(v, ()):
            # A package's face (__init__) re-exporting its own modules is not a circle.
            if v in MODULES and w != v and v.startswith(w + "."):
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import circles: {cycles}"


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_module_size(mod):
    lines = len(MODULES[mod].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[mod]} has {lines} lines (split it: ~{MAX_LINES} max)"


def test_geo_reads_no_environment_and_knows_no_dash():
    for mod, path in MODULES.items():
        if not mod.startswith("geo"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "os.environ" not in text and "getenv(" not in text, f"{path} reads the environment"
        deps = _imports(path)
        assert not {d for d in deps if d.split(".")[0] in {"dash", "flask", "plotly"}}, path


def test_environment_is_read_in_settings_only():
    for mod, path in MODULES.items():
        if mod == "app.settings":
            continue
        text = path.read_text(encoding="utf-8")
        assert "os.environ" not in text and "getenv(" not in text, f"{path} reads the environment"


def test_no_dash_private_api():
    for _mod, path in MODULES.items():
        deps = _imports(path)
        private = {d for d in deps if d.startswith("dash.") and "._" in "." + d.split(".", 1)[1]}
        assert not private, f"{path} imports Dash internals {private}"
        assert "GLOBAL_CALLBACK" not in path.read_text(encoding="utf-8"), path


def test_pages_never_import_pages():
    for mod, deps in GRAPH.items():
        if mod.startswith("app.pages."):
            assert not {d for d in deps if d.startswith("app.pages.")}, mod


def test_html_reports_need_no_matplotlib():
    # The HTML renderer took its palette from the PDF renderer (matplotlib); both now read
    # app.style.
    seen: set[str] = set()
    todo = ["app.reports.html"]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo += [d for d in GRAPH.get(m, ()) if d not in seen]
        assert "matplotlib" not in {d.split(".")[0] for d in _imports(MODULES[m])}, m
