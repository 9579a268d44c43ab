"""Notebooks are committed without outputs, with stable metadata and a parameters cell."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for folder in ("labs", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb")
                   if ".backup-" not in p.name)


def test_there_are_labs():
    assert len([p for p in NOTEBOOKS if p.parent.name == "labs"]) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_clean(path):
    nb = json.loads(path.read_text())
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}, f"{path.name}: extra metadata {set(nb['metadata'])}"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, f"{path.name}: outputs in {cell['id']}"
        assert set(cell.get("metadata", {})) <= {"tags"}, f"{path.name}: cell metadata {cell.get('metadata')}"


PARAMETERS = ("FAST", "NAMESPACE", "CONTEXT", "BACKOFF_RESET")  # BACKOFF_RESET: lab 13's 12-minute step


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parameters_cell_carries_what_the_notebook_uses(path):
    """papermill's parameters cell comes first and defines exactly the parameters the notebook
    reads: none missing (a test's value would not reach the code), none dead."""
    nb = json.loads(path.read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    body = "\n".join(code[1:] if tagged else code)
    used = {name for name in PARAMETERS if re.search(rf"\b{name}\b", body)}
    if not tagged:
        assert not used, f"{path.name} uses {sorted(used)} but has no parameters cell"
        return
    assert nb["cells"].index(tagged[0]) == next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    defined = set(re.findall(r"^(\w+) =", code[0], re.M))
    assert defined == used, f"{path.name}: parameters cell defines {sorted(defined)}, the notebook uses {sorted(used)}"
