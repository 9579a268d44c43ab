"""The CLI's live status line, fed with a run recorded on the cluster."""

import io
import json
from pathlib import Path

from kjlab.progress import RunProgress

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def test_a_line_per_change_when_not_on_a_terminal():
    data = json.loads((RUNS / "failjob-policy.json").read_text())
    out = io.StringIO()
    progress = RunProgress(data["summary"]["job"], stream=out)
    for row in data["rows"]:
        progress.row(row)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == len(set(lines)) >= 3           # only changes are printed
    assert lines[-1].strip().startswith("Failed · active 0")
    assert "failed 2 (backoffLimit 6)" in lines[-1]
    assert any(line.strip().startswith("Running") for line in lines)
