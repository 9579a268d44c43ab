"""What a background run's line says while it waits (lab 07's minutes-long back-off), fed with a
run recorded on the cluster; the expected times come from the recorded rows and the formula in
the controller's source (pkg/controller/job/backoff_utils.go), not from the line."""

import datetime as dt
from pathlib import Path

from kjlab import examples
from kjlab.runs import saved as saved_runs
from kjlab.view.dashboard_model import DashboardModel
from kjlab.view.progress import waiting_for

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def _clock(row: dict, stamp: str) -> float:
    """An API timestamp (whole seconds) on the recording's clock (``t`` s since the run began)."""
    start = dt.datetime.fromisoformat(str(row["time"])) - dt.timedelta(seconds=row["t"])
    return (dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) - start).total_seconds()


def _first_wave(rows):
    """The rows up to the moment every pod of the first wave has failed, and when the last of them
    finished (its container's finishedAt, which the controller's back-off counts from)."""
    spec = examples.render("backoff-cap")["spec"]
    failed, fed, finished = set(), [], []
    for row in rows:
        fed.append(row)
        if row["kind"] == "pod" and row.get("phase") == "Failed" and row["name"] not in failed:
            failed.add(row["name"])
            finished.append(_clock(row, row["object"]["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]))
            if len(failed) == spec["parallelism"]:
                return fed, row["t"], max(finished)
    raise AssertionError("the recording has no full first wave")


def test_the_back_off_wait_says_what_it_waits_for_and_when_it_ends():
    data = saved_runs.load(RUNS / "backoff-cap.json")
    rows, seen, last_failure = _first_wave(data["rows"])
    model = DashboardModel(job_name=data["summary"]["job"])
    # the rows up to the Job's own status update that counts the wave (active 0)
    for row in data["rows"]:
        model.feed(row)
        if row["t"] > seen and model.counters()["active"] == 0 and model.counters()["failed"]:
            break
    n = model.counters()["failed"]
    backoff = min(10 * 2 ** (n - 1), 600)
    now = last_failure + 300
    line = waiting_for(model, now)
    assert "back-off" in line and f"{n} failed pod(s) since the last success" in line, line
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


def test_an_ignored_failure_still_starts_the_controllers_back_off():
    """Lab 12's taint run (kind): the Job's pod is evicted (DisruptionTarget, the Job's policy Ignores
    it, status.failed stays 0) and no pod is active; the controller still waits 10 s before the next
    pod (pkg/controller/job/job_controller.go:1056 newBackoffRecord with every new failed pod,
    backoff_utils.go:95-125), counted from the container's finishedAt (backoff_utils.go:174-186)."""
    rows = saved_runs.load(RUNS / "disruptions.json")["taint"]
    model = DashboardModel(job_name="batch")
    failed = None
    for i, row in enumerate(rows):
        model.feed(row)
        if row["kind"] == "pod" and row.get("event") == "DELETED" and row["name"].startswith("batch-"):
            failed = row
            break
    assert failed is not None and failed["phase"] == "Failed"
    assert model.counters()["failed"] == 0 and model.counters()["active"] == 0   # the policy ignored it
    finished = _clock(failed, failed["object"]["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"])
    line = waiting_for(model, failed["t"] + 1)
    assert "back-off" in line and "1 failed pod(s) since the last success" in line, line
    assert f"next pod due at about {finished + 10:.0f} s" in line, line
    # the controller did create the next pod then (finishedAt has whole seconds: within 1 s)
    created = next(r["t"] for r in rows[i:] if r["kind"] == "pod" and r.get("event") == "ADDED")
    assert abs(created - (finished + 10)) <= 1.0, (created, finished)
