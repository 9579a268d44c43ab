"""Issue 26 (tour, low): code lines ran off the right edge of their cell in almost every notebook,
in solutions the answer itself ("...replace("restartPolicy: OnFailure", "resta…").

JupyterLab at a 1280 px wide window, with its file browser open (the default), shows 106 characters
of a code line: measured on the tour's screenshots (/tmp/tour-kind, 00-your-lab-cluster-p02: the
107th character of `lab.apply(pod.replace(...` is cut at the cell's edge, 7.8 px a character). The
limit leaves a margin for other fonts and a scrollbar. Markdown cells wrap, so only code is held to it;
exercises/ is generated from solutions/ and is checked as generated."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 100
NOTEBOOKS = sorted(p for folder in ("labs", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb")
                   if ".backup-" not in p.name)


def long_lines(path: Path, limit: int = LIMIT) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return [f"{cell.get('id')} ({len(line)}): {line[:60]}..." for cell in cells if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines() if len(line) > limit]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_code_line_runs_off_the_cell(path):
    assert long_lines(path) == [], f"{path.name}: code lines longer than {LIMIT} characters"


def test_the_check_sees_a_long_line(tmp_path):
    nb = {"cells": [{"cell_type": "code", "id": "c", "source": ["x = 1\n", "y = '" + "a" * LIMIT + "'"]},
                    {"cell_type": "markdown", "id": "m", "source": ["b" * 300]}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert [line.split(" ")[0] for line in long_lines(path)] == ["c"]
