"""Each lab module names its notebook in its docstring, and says the topic, not a lab number, elsewhere:
numbers live in notebook file names, which move when labs are reordered."""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_MODULES = sorted(p for p in (REPO / "kjlab" / "labs").glob("*.py") if p.name != "__init__.py")
NOTEBOOK = re.compile(r"labs/\d{2}-[a-z0-9-]+\.ipynb")


def test_there_are_lab_modules():
    assert len(LAB_MODULES) >= 10


@pytest.mark.parametrize("path", LAB_MODULES, ids=lambda p: p.stem)
def test_a_lab_module_names_an_existing_notebook(path):
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    named = NOTEBOOK.findall(docstring)
    assert named, f"{path.name}'s docstring names no notebook (labs/NN-name.ipynb)"
    assert all((REPO / n).is_file() for n in named), f"{path.name} names a notebook that does not exist: {named}"


@pytest.mark.parametrize("path", LAB_MODULES, ids=lambda p: p.stem)
def test_a_lab_module_says_the_topic_not_a_number(path):
    bare = re.compile(r"\b(labs?|exercises?) ?\d{2}\b", re.IGNORECASE)
    assert [line for line in path.read_text().splitlines() if bare.search(line)] == []
