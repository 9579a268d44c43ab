"""Exercise notebooks generated from the solution notebooks: one hand-written source.

In solutions/*.ipynb, code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the answer;
in the exercise it becomes a TODO with each answered name set to ``None`` (so the notebook still
runs and its check reports "not solved yet"). Code between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS`` is dropped, and so is Markdown between ``<!-- BEGIN SOLUTION -->`` and
``<!-- END SOLUTION -->``. Outputs are cleared.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import re
import subprocess
import textwrap
from pathlib import Path

import nbformat

from kjlab.errors import KjlabError
from kjlab.paths import REPO_DIR

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MD_SOLUTION = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->\n?", re.S)
BANNER = ("> *Exercise notebook, generated from `solutions/{name}`. Write your answers where it says "
          "`TODO`, then run the check cell: it runs your answer on the lab cluster and explains the verdict.*\n\n")


def _placeholder(block: list[str], indent: str) -> list[str]:
    """The TODO that replaces an answer block: every name the block defines, set to None."""
    source = textwrap.dedent("".join(block))
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise KjlabError(f"a solution block is not valid Python: {e}", "fix the solution notebook") from None
    lines = [f"{indent}# TODO: your answer here\n"]
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = ", ".join(a.arg for a in node.args.args)
            lines.append(f"{indent}# write: def {node.name}({args}): ...\n")
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                # plain names only: `doc["spec"] = ...` changes a name, it does not define one
                for n in ([t] if isinstance(t, ast.Name) else t.elts if isinstance(t, ast.Tuple) else []):
                    if isinstance(n, ast.Name):
                        names.append(n.id)
    # The last name a block defines is its answer; helpers before it need no placeholder.
    answer = names[-1] if names else None
    if answer:
        lines.append(f"{indent}{answer} = None\n")
    return lines


def strip_code(source: str) -> str | None:
    """The exercise version of a code cell's source; None when nothing is left of it."""
    out, block, mode, indent = [], [], None, ""
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            mode, block, indent = "solution", [], line[: len(line) - len(line.lstrip())]
            continue
        if stripped == END and mode == "solution":
            out += _placeholder(block, indent)
            mode = None
            continue
        if stripped == BEGIN_HIDDEN:
            mode = "hidden"
            continue
        if stripped == END_HIDDEN and mode == "hidden":
            mode = None
            continue
        if mode == "solution":
            block.append(line)
        elif mode is None:
            out.append(line)
    if mode is not None:
        raise KjlabError(f"a '{BEGIN if mode == 'solution' else BEGIN_HIDDEN}' marker has no end", "close the block")
    text = "".join(out).rstrip("\n")
    return text if text.strip() else None


def generate(solution: dict, name: str) -> dict:
    """The exercise notebook (nbformat JSON) for one solution notebook."""
    nb = copy.deepcopy(solution)
    cells = []
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code":
            source = strip_code(source)
            if source is None:
                continue
            cell["outputs"], cell["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            source = MD_SOLUTION.sub("", source)
            if not source.strip():
                continue  # it held only the solution's explanation: an empty cell shows JupyterLab's placeholder
        cell["source"] = source
        cells.append(cell)
    first_md = next((c for c in cells if c["cell_type"] == "markdown"), None)
    if first_md is not None:
        first_md["source"] = first_md["source"] + "\n\n" + BANNER.format(name=name).rstrip("\n")
    nb["cells"] = cells
    return nb


def dumps(nb: dict) -> str:
    """Serialise like nbformat does (1-space indent, sources as line lists), so diffs stay small."""
    return nbformat.writes(nbformat.from_dict(nb)) + "\n"


def _git_head_version(path: Path) -> str | None:
    try:
        rel = path.relative_to(REPO_DIR)
    except ValueError:
        return None  # outside the repo: nothing committed to compare with
    out = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=REPO_DIR, capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else None


def build(check: bool = False, solutions: Path | None = None, exercises: Path | None = None) -> list[str]:
    """Write exercises/ from solutions/. With ``check``, write nothing and return the stale files.

    A learner's changed exercise notebook (one that differs from the committed version) is kept
    as ``NAME.backup-<time>.ipynb`` before it is replaced.
    """
    solutions = solutions or REPO_DIR / "solutions"
    exercises = exercises or REPO_DIR / "exercises"
    changed = []
    for path in sorted(solutions.glob("*.ipynb")):
        solution = json.loads(path.read_text())
        text = dumps(generate(solution, path.name))
        target = exercises / path.name
        current = target.read_text() if target.exists() else None
        if current == text:
            continue
        changed.append(str(target.relative_to(exercises.parent)))
        if check:
            continue
        exercises.mkdir(exist_ok=True)
        if current is not None and current != _git_head_version(target):
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            backup = target.with_name(f"{target.stem}.backup-{stamp}.ipynb")
            backup.write_text(current)
            print(f"kept your changes in {backup.name}")
        nbformat.validate(nbformat.reads(text, as_version=4))
        target.write_text(text)
    return changed
