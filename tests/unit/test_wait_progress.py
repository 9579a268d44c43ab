"""What a background run's line says while it waits (lab 07's minutes-long back-off), fed with a
run recorded on the cluster; the expected times come from the recorded rows and the formula in
the controller's source (pkg/controller/job/backoff_utils.go), not from the line."""

from pathlib import Path

from kjlab import examples
from kjlab.runs import saved as saved_runs
from kjlab.view.dashboard_model import DashboardModel
from kjlab.view.progress import waiting_for

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def _first_wave(rows):
    """The rows up to the moment every pod of the first wave has failed, and that moment."""
    spec = examples.render("backoff-cap")["spec"]
    failed, fed = set(), []
    for row in rows:
        fed.append(row)
        if row["kind"] == "pod" and row.get("phase") == "Failed" and row["name"] not in failed:
            failed.add(row["name"])
            if len(failed) == spec["parallelism"]:
                return fed, row["t"]
    raise AssertionError("the recording has no full first wave")


def test_the_back_off_wait_says_what_it_waits_for_and_when_it_ends():
    data = saved_runs.load(RUNS / "backoff-cap.json")
    rows, last_failure = _first_wave(data["rows"])
    model = DashboardModel(job_name=data["summary"]["job"])
    # the rows up to the Job's own status update that counts the wave (active 0)
    for row in data["rows"]:
        model.feed(row)
        if row["t"] > last_failure and model.counters()["active"] == 0 and model.counters()["failed"]:
            break
    n = model.counters()["failed"]
    backoff = min(10 * 2 ** (n - 1), 600)
    now = last_failure + 300
    line = waiting_for(model, now)
    assert "back-off" in line and f"{n} failure(s)" in line, line
    assert "capped at 600 s" in line                      # 7 failures: 640 s by the formula
    assert f"next pod due at about {last_failure + backoff:.0f} s" in line, line
    assert f"({last_failure + backoff - now:.0f} s from now)" in line
    # the line keeps moving: a later moment gives a later, different line
    assert waiting_for(model, now + 5) != line


def test_while_pods_run_it_says_so_and_nothing_once_finished():
    data = saved_runs.load(RUNS / "backoff-cap.json")
    model = DashboardModel(job_name=data["summary"]["job"])
    for row in data["rows"]:
        model.feed(row)
        if model.counters()["active"]:
            assert "active pod(s) to end" in waiting_for(model, row["t"])
            break
    for row in data["rows"]:
        model.feed(row)
    assert waiting_for(model, 10_000) == ""               # the Job has Failed: nothing to wait for
