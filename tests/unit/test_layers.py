"""The package's shape: data flows one way (manifest -> ops -> cluster -> watch -> record ->
widgets / summary / checks), so no kjlab module imports one that imports it back, and none
hides such a cycle in a function-local import. Read from the source with ast, so the test sees
every import whether or not it runs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "kjlab"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _targets(node: ast.AST, current: str) -> list[str]:
    """The kjlab modules an import statement loads (a `from pkg import sub` names the submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "kjlab"]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "kjlab":
        subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
        return subs or [node.module]
    return []


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """(kjlab modules imported at module level, function-local kjlab imports as 'line: text')."""
    tree = ast.parse(path.read_text())
    current = _module_name(path)
    top, local = set(), []
    for node in tree.body:  # module level, including imports under `if`/`try` at the top
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
            top.update(_targets(sub, current))
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(fn):
                for target in _targets(sub, current):
                    local.append(f"{path.name}:{sub.lineno}: {target}")
    return top, local


def test_no_function_local_import_of_kjlab():
    local = [line for p in MODULES.values() for line in _imports(p)[1]]
    assert not local, "function-local kjlab imports (a cycle being dodged?):\n" + "\n".join(local)


def test_no_import_cycle():
    graph = {name: {t for t in _imports(path)[0] if t in MODULES and t != name} for name, path in MODULES.items()}
    # A package's __init__ importing its own submodules is how a package is built, not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not (MODULES[name].name == "__init__" and t.startswith(name + "."))}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


# Modules that compute from recorded data must not reach for the cluster, the notebook or the CLI.
PURE = {"kjlab.api.readers", "kjlab.api.printers", "kjlab.runs.result", "kjlab.api.policy", "kjlab.view.dashboard_model",
        "kjlab.widgets.timeline"}
UPWARD = {  # module -> what it must never import (directly or through others)
    "kjlab.runs.scenarios": {"kjlab.widgets", "kjlab.lab", "kjlab.cli", "kjlab.commands", "kjlab.checks"},
    "kjlab.checks": {"kjlab.widgets", "kjlab.lab", "kjlab.cli", "kjlab.commands"},
    "kjlab.runs.record": {"kjlab.runs.scenarios", "kjlab.widgets", "kjlab.checks"},
    # the one recorded session every lab builds on: it knows no lab, widget or check
    "kjlab.runs.session": {"kjlab.labs", "kjlab.runs.scenarios", "kjlab.widgets", "kjlab.checks", "kjlab.lab"},
    "kjlab.actions.ops": {"kjlab.runs.scenarios", "kjlab.runs.record", "kjlab.widgets", "kjlab.checks"},
    "kjlab.widgets": {"kjlab.lab", "kjlab.runs.scenarios", "kjlab.checks", "kjlab.cli", "kjlab.commands"},
}


def _closure(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for t in _imports(MODULES[todo.pop()])[0]:
            if t in MODULES and t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def test_data_flows_one_way():
    for name in PURE:
        reached = {m for m in _closure(name) if m.startswith(("kjlab.cluster", "kjlab.api.kube", "kjlab.lab",
                                                                 "kjlab.runs.scenarios", "kjlab.cli"))}
        assert not reached, f"{name} computes from recorded data, yet imports {sorted(reached)}"
    for name, banned in UPWARD.items():
        reached = {m for m in _closure(name) if any(m == b or m.startswith(b + ".") for b in banned)}
        assert not reached, f"{name} imports upward: {sorted(reached)}"


def test_the_cli_loads_only_what_parses_arguments():
    code = ("import sys, kjlab.cli; print(sorted(m for m in sys.modules if m.startswith(('kjlab', 'kubernetes', "
            "'pandas', 'IPython'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "kubernetes" not in loaded and "pandas" not in loaded and "IPython" not in loaded, loaded


# Folders are layers: a module imports only from its own folder or a lower one. Unlisted modules
# (errors, paths, files, interrupts, aliases, examples, the lazy package root) are the floor. The exam is
# made of practice tasks: it sits above them. jupyterlab (loaded by the Jupyter server) reads the floor.
LAYERS = {"jupyterlab": 1, "api": 1, "cluster": 2, "actions": 3, "runs": 4, "view": 5, "widgets": 6, "labs": 6,
          "checks": 7,
          "classroom": 8, "practice": 8, "exam": 9, "lab": 9, "commands": 9, "cli": 9}


def _layer(module: str) -> tuple[str, int]:
    folder = module.split(".")[1] if "." in module else ""
    return folder, LAYERS.get(folder, 0)


def test_folders_import_only_downward():
    upward = []
    for name, path in MODULES.items():
        folder, rank = _layer(name)
        for target in _imports(path)[0]:
            if target in MODULES:
                t_folder, t_rank = _layer(target)
                if t_folder != folder and t_rank >= rank and not rank == t_rank == 0:
                    upward.append(f"{name} ({folder or 'floor'}) -> {target} ({t_folder or 'floor'})")
    assert not upward, "imports that go up a layer (api < cluster < actions < runs < view < labs/widgets < checks " \
                       "< classroom < lab/cli):\n" + "\n".join(upward)


def test_the_layers_cover_every_folder():
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} - {"examples", "quiz"}
    assert folders <= set(LAYERS), f"folders with no layer: {sorted(folders - set(LAYERS))}"


# One home per lab: a lab's module (kjlab/labs/<topic>.py) and a topic's checks (kjlab/checks/<topic>.py)
# register themselves; no core module names them, so adding a lab changes no core file.
TOPIC_MODULES = ({p.stem for p in (PACKAGE / "labs").glob("*.py")}
                 | {p.stem for p in (PACKAGE / "checks").glob("*.py")}) - {"__init__", "access", "answers", "sandbox", "verdicts"}
CORE = [name for name in MODULES if not name.startswith(("kjlab.labs.", "kjlab.checks."))
        or name.split(".")[-1] in {"access", "answers", "sandbox", "verdicts"}]
CORE_EXEMPT = {"kjlab.aliases"}  # the old module names, kept for one release, map to the new ones


def _identifiers(path: Path) -> set[str]:
    found = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Name):
            found.add(n.id)
        elif isinstance(n, ast.Attribute):
            found.add(n.attr)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(n.name)
        elif isinstance(n, ast.arg):
            found.add(n.arg)
        elif isinstance(n, ast.keyword) and n.arg:
            found.add(n.arg)
        elif isinstance(n, ast.alias):
            found.update(n.name.split(".") + ([n.asname] if n.asname else []))
        elif isinstance(n, ast.ImportFrom) and n.module and not n.module.startswith("kjlab.practice.tasks."):
            found.update(n.module.split("."))  # (a practice task module sharing a lab's name is no lab)
    return found


def test_the_lists_are_not_empty():
    assert {"cronjobs", "disruptions", "termination"} <= TOPIC_MODULES
    assert {"kjlab.lab", "kjlab.checks", "kjlab.labs", "kjlab.runs.record", "kjlab.api.kube", "kjlab.commands"} <= set(CORE)


def test_no_core_module_names_a_lab():
    named = {name: sorted(_identifiers(MODULES[name]) & TOPIC_MODULES) for name in CORE if name not in CORE_EXEMPT}
    named = {k: v for k, v in named.items() if v}
    assert not named, f"core modules naming a lab or check module (register it from its own module instead): {named}"


def test_every_folder_of_modules_is_a_package():
    """setuptools' packages.find (pyproject) installs only folders with an __init__.py: a folder
    without one works in an editable install and is missing from a wheel."""
    missing = sorted(str(d.relative_to(PACKAGE.parent)) for d in {p.parent for p in PACKAGE.rglob("*.py")}
                     if not (d / "__init__.py").exists())
    assert not missing, f"folders without __init__.py: {missing}"
