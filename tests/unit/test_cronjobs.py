"""kjlab.cronjobs on a recorded run of lab 09's CronJobs (tests/data/runs/cronjobs.json, recorded
on the kwok engine by tests/data/record_runs.py cronjobs): three `* * * * *` CronJobs whose Jobs
run 75 s (Allow, Forbid, Replace), two created suspended and resumed 20 s after the first schedule
time (startingDeadlineSeconds 10 and 50), a suspended one with successfulJobsHistoryLimit 1 and
three Jobs made with `kubectl create job --from`, and one whose two such Jobs fail (failedJobsHistoryLimit 1). The expectations are what the CronJob controller
must do with those specs, not numbers read off the recording."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kjlab.labs import cronjobs
from kjlab.actions import ops
from kjlab.runs import saved as saved_runs

RUN = Path(__file__).resolve().parents[1] / "data" / "runs" / "cronjobs.json"


@pytest.fixture(scope="module")
def rec():
    return cronjobs.CronRecording(saved_runs.load(RUN)["rows"])


@pytest.fixture(scope="module")
def jobs(rec):
    return rec.cron_jobs()


def of(jobs, cronjob):
    return jobs[jobs["cronjob"] == cronjob].sort_values("created").reset_index(drop=True)


def test_scheduled_times_are_whole_minutes_apart_on_the_recording_axis(rec, jobs):
    times = sorted(set(jobs["scheduled"].dropna()))
    assert len(times) == 2
    assert times[1] - times[0] == pytest.approx(60, abs=0.2)
    # each scheduled Job is created right at its schedule time (within the controller's latency)
    allow = of(jobs, "allow")
    assert ((allow["created"] - allow["scheduled"]).abs() < 3).all(), allow


def test_allow_overlaps_replace_and_forbid_never_do(rec, jobs):
    assert rec.max_active("allow") == 2
    assert rec.max_active("replace") == 1 and rec.max_active("forbid") == 1
    replace = of(jobs, "replace")
    assert replace.loc[0, "deleted_while"] == "active" and pd_isna(replace.loc[0, "finished"])
    # the replacement is created once the old Job is deleted, at the same schedule time
    assert replace.loc[1, "created"] >= replace.loc[0, "deleted"] - 0.5


def pd_isna(v):
    return v is None or v != v


def test_forbid_runs_the_held_back_schedule_late_once_the_first_job_finishes(rec, jobs):
    forbid = of(jobs, "forbid")
    assert len(forbid) == 2
    assert forbid.loc[1, "created"] - forbid.loc[1, "scheduled"] > 10      # late, not at its time
    assert forbid.loc[1, "created"] >= forbid.loc[0, "finished"] - 0.5      # after the first one ended
    reasons = list(rec.cron_events("forbid")["reason"])
    assert "JobAlreadyActive" in reasons


def test_starting_deadline_decides_whether_the_missed_time_still_runs(jobs):
    first = min(jobs["scheduled"].dropna())
    short, long_ = of(jobs, "missed-10s"), of(jobs, "missed-50s")
    assert not (short["scheduled"] < first + 1).any(), short                 # dropped
    held = long_[(long_["scheduled"] - first).abs() < 1]
    assert len(held) == 1 and held.iloc[0]["created"] - first > 15, long_   # run on resume, late


def test_history_limit_keeps_only_the_newest_finished_manual_job(rec, jobs):
    history = of(jobs, "history")
    assert history["manual"].all() and history["scheduled"].isna().all()
    assert list(history[history["deleted"].isna()]["job"]) == ["history-3"]
    assert set(history[history["deleted_while"] == "finished"]["job"]) == {"history-1", "history-2"}
    summary = rec.cron_summary()
    assert summary.loc["history", "removed by history limit"] == 2 and summary.loc["history", "jobs left"] == 1


def test_failed_history_limit_keeps_only_the_newest_failed_job(rec, jobs):
    failing = of(jobs, "history-failing")
    assert (failing["outcome"] == "Failed").all() and len(failing) == 2
    assert list(failing[failing["deleted"].isna()]["job"]) == ["history-failing-2"]
    assert rec.cron_summary().loc["history-failing", "removed by history limit"] == 1


def test_the_recorder_watched_the_cronjobs(rec):
    names = {r["name"] for r in rec.of("cronjob")}
    assert names == {"allow", "forbid", "replace", "missed-10s", "missed-50s", "history", "history-failing"}
    resumed = [r for r in rec.of("cronjob") if r["name"] == "missed-50s" and "suspend=False" in (r["detail"] or "")]
    assert resumed, "the resume of missed-50s is in the recording"


def test_next_boundary():
    t = dt.datetime(2026, 1, 1, 10, 59, 59, 900000, tzinfo=dt.timezone.utc)
    assert cronjobs.next_boundary(t) == dt.datetime(2026, 1, 1, 11, 0, tzinfo=dt.timezone.utc)
    exact = dt.datetime(2026, 1, 1, 11, 0, tzinfo=dt.timezone.utc)
    assert cronjobs.next_boundary(exact) == dt.datetime(2026, 1, 1, 11, 1, tzinfo=dt.timezone.utc)


def test_job_from_cronjob_is_what_kubectl_create_job_from_makes():
    cj = cronjobs.render("history")
    cj["metadata"]["uid"] = "1234"
    job = ops.job_from_cronjob(cj, "by-hand")
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    ref = job["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == ("CronJob", "history", "1234", True)
    assert job["spec"] == cj["spec"]["jobTemplate"]["spec"]


@pytest.mark.parametrize("name", list(cronjobs.FILES))
def test_lab_cronjobs_are_in_the_simulated_kubelets_grammar(name):
    container = cronjobs.render(name)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    script = " ".join(container["command"])
    # `sleep N`, `date`, `exit N` joined by && only (kjlab/cluster/kwok/grammar.py on issue-10)
    for statement in script.split("-c", 1)[1].split("&&"):
        assert statement.strip().split()[0] in {"sleep", "date", "exit"}, statement


def test_the_plot_says_still_running_not_nan(rec, monkeypatch):
    """Issue 26 item 7: a Job still running at the end of the recording has no outcome (NaN in the
    table); its bar's label says so in words."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    table = rec.cron_jobs()
    table.loc[table.index[0], "outcome"] = math.nan
    for column in ("finished", "deleted"):
        table.loc[table.index[0], column] = None
    table.loc[table.index[0], "deleted_while"] = None
    monkeypatch.setattr(type(rec), "cron_jobs", lambda self: table)
    fig = cronjobs.plot_jobs(rec)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "still running" in labels and "nan" not in labels, labels
