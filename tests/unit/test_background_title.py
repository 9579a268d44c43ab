"""Issue 26 (tour, low): a background run's dashboard kept the title "(running in the background)"
in the snapshot left after the run had ended; the title now says how it ended."""

import threading

import pytest

from kjlab import interrupts, lab as lab_module
from kjlab.widgets.dashboard import JobDashboard


@pytest.fixture
def boards(monkeypatch):
    """Background's dashboards, built as _dashboard does but without a notebook to display in."""
    made = []

    def dashboard(scenario, policy, manifest=None, note=""):
        board = JobDashboard(title=f"job · {scenario}{note}", job_name="job")
        made.append(board)
        return board

    monkeypatch.setattr(lab_module, "_dashboard", dashboard)
    return made


def run_in_background(monkeypatch, outcome):
    release = threading.Event()

    def run(**kwargs):
        release.wait(5)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(lab_module.scenarios, "run", run)
    background = lab_module.Background(dashboard=True, scenario="failjob", namespace="lab-t")
    return background, release


@pytest.mark.parametrize("outcome, said", [("a result", "finished"),
                                           (interrupts.Stopped(), "stopped before it finished"),
                                           (RuntimeError("boom"), "ended with an error")])
def test_the_title_says_running_while_it_runs_and_how_it_ended_after(monkeypatch, boards, outcome, said):
    background, release = run_in_background(monkeypatch, outcome)
    board = boards[0]
    assert board.title == "job · failjob (running in the background)"
    assert "(running in the background)" in board.widget.value
    release.set()
    background._thread.join(5)
    assert background.done
    assert board.title == f"job · failjob (ran in the background, {said})"
    assert "running in the background" not in board.snapshot_html()


def test_finish_keeps_the_title_when_none_is_given():
    board = JobDashboard(title="failjob", job_name="failjob")
    board.finish()
    assert board.title == "failjob" and "failjob" in board.snapshot_html()
