"""Notebooks are committed without outputs, with stable metadata and a parameters cell."""

import json
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parameters_cell_first_code_cell(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0].get("metadata", {}).get("tags", [])
    source = "".join(code[0]["source"])
    for name in ("FAST", "NAMESPACE", "CONTEXT"):
        assert f"{name} =" in source
