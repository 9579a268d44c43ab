"""The CLI's live status line, fed with a run recorded on the cluster."""

import io
from pathlib import Path

from kjlab.view.progress import RunProgress
from kjlab.runs import saved as saved_runs

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def test_a_line_per_change_when_not_on_a_terminal():
    data = saved_runs.load(RUNS / "failjob-policy.json")
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


def test_each_step_is_said_once_in_words():
    data = saved_runs.load(RUNS / "config-issue-policy.json")
    out = io.StringIO()
    progress = RunProgress(data["summary"]["job"], stream=out)
    for row in data["rows"]:
        progress.row(row)
    lines = out.getvalue().splitlines()
    steps = [line for line in lines if line.strip().startswith("kjlab:")]
    recorded = [r for r in data["rows"] if r["kind"] == "step"]
    assert len(steps) == len(recorded) >= 2                     # create, patch, delete ... each once
    assert not any("kjlab:" in line for line in lines if not line.strip().startswith("kjlab:"))
    assert steps[0].strip().startswith("kjlab: created job/")
