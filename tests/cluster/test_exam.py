"""A 2-task exam on the cluster through the `kjlab exam` commands: one task solved with kubectl in a
shell set up by `kjlab practice env`, the other answered wrong; the report's scores and the wrong
task's explanation are read from `kjlab exam finish --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kjlab.exam import session as exam_session
from kjlab.practice import registry

pytestmark = pytest.mark.usefixtures("practice_namespaces_removed")

KJLAB = str(Path(sys.executable).with_name("kjlab"))
TOPICS = ["cronjobs", "deployments"]
WANTED = {"deploy-undo", "cronjob-run-now"}


def _seed_drawing(wanted: set[str]) -> str:
    """The first seed whose 2-task draw over TOPICS is ``wanted`` (the draw depends on the whole bank,
    so a fixed seed changed its tasks when tasks were added)."""
    from kjlab.exam import scoring

    for seed in range(1000):
        drawn = scoring.draw(registry.all_tasks(), "kwok", 2, seed, tuple(TOPICS))
        if {d.task_id for d in drawn.tasks} == wanted:
            return str(seed)
    raise AssertionError(f"no seed below 1000 draws {wanted}")


def _kjlab(*args, check=True):
    done = subprocess.run([KJLAB, *args], capture_output=True, text=True, timeout=180, env=os.environ.copy())
    assert not check or done.returncode == 0, done.stderr
    return done


def _learner_types(commands: str, tmp_path) -> None:
    """As a learner: eval "$(kjlab practice env)", then kubectl -- in the exam's current namespace."""
    env = _kjlab("practice", "env", "--shell", "sh").stdout
    typed = subprocess.run(["bash", "-e", "-c", f"{env}\n{commands}"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert typed.returncode == 0, typed.stderr


def test_exam_grades_a_solved_and_a_wrong_task(lab, tmp_path):
    assert exam_session.running() is None, "an exam is running in this state dir: kjlab exam finish first"
    try:
        _kjlab("exam", "start", "--minutes", "10", "--tasks", "2", "--topics", *TOPICS, "--seed", _seed_drawing(WANTED))
        state = exam_session.running()
        first, second = (registry.get(t["task"]) for t in state["tasks"])
        assert {first.id, second.id} == WANTED  # the exam draws as scoring.draw does
        assert _kjlab("exam", "start", "--tasks", "1", check=False).stderr.count("\n") == 2  # refused: error + fix
        solved, wrong = (first, second) if first.id == "deploy-undo" else (second, first)
        _kjlab("exam", "task", str([first, second].index(solved) + 1))
        _learner_types("kubectl rollout undo deployment/web", tmp_path)
        _kjlab("exam", "task", str([first, second].index(wrong) + 1))
        _learner_types('kubectl create job nightly-manual --image=bash:5 -- sh -c "sleep 2"', tmp_path)
        status = _kjlab("exam", "status").stdout
        assert f"* {[first, second].index(wrong) + 1}  {wrong.id}" in status
        rep = json.loads(_kjlab("exam", "finish", "--json").stdout)
    finally:
        if exam_session.running():
            (exam_session.exam_dir() / "current.json").unlink()
    rows = {r["task"]: r for r in rep["rows"]}
    assert (rows[solved.id]["points"], rows[wrong.id]["points"]) == (solved.minutes, 0)
    assert (rep["summary"]["points"], rep["summary"]["of"]) == (solved.minutes, solved.minutes + wrong.minutes)
    assert any("no owner reference" in line for line in rows[wrong.id]["explanation"]), rows[wrong.id]
    assert rows[solved.id]["seconds"] > 0 and rows[wrong.id]["seconds"] > 0
    page = (exam_session.exam_dir() / rep["id"] / "report.html").read_text()
    assert "no owner reference" in page and "<svg" in page
    assert "exam is running" not in _kjlab("practice", "list").stderr
