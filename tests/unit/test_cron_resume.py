"""Lab 09's reading of a resumed CronJob (no cluster: rows written by hand, as the recorder writes
them). What the controller did on the cluster is asserted by the notebook's check cell."""

import datetime as dt

import pytest

from kjlab.errors import KjlabError
from kjlab.labs import cronjobs
from kjlab.labs.cronjobs import CronRecording, missed_times

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 12, 6, 12, 0, 30, tzinfo=UTC)   # the recording's t = 0


def at(minute, second=0):
    return dt.datetime(2026, 12, 6, 12, minute, second, tzinfo=UTC)


def test_missed_times_counts_from_the_first_schedule_time_after_the_last_run():
    assert missed_times(at(0, 30), at(0, 59)) == 0          # the next minute has not come yet
    assert missed_times(at(0, 30), at(1, 0)) == 1           # exactly on it
    assert missed_times(at(0), at(1, 20)) == 1              # a last run on a boundary: the next one is t1
    assert missed_times(at(0), at(3, 20)) == 3
    three_hours_back = at(0) - dt.timedelta(hours=3)
    assert missed_times(three_hours_back, at(1, 20)) == 181 > 100   # TooManyMissedTimes territory
    assert missed_times(at(0), at(0) + dt.timedelta(hours=1, seconds=5), period=3600) == 1


def test_render_drops_a_field_given_none():
    doc = cronjobs.render("missed", "missed-none", startingDeadlineSeconds=None)
    assert "startingDeadlineSeconds" not in doc["spec"] and doc["spec"]["suspend"] is True
    assert cronjobs.render("missed", startingDeadlineSeconds=50)["spec"]["startingDeadlineSeconds"] == 50


def _cronjob(t, suspend, last=None, name="cj"):
    obj = {"metadata": {"name": name, "creationTimestamp": "2026-12-06T12:00:30Z"},
           "spec": {"suspend": suspend}, "status": {"lastScheduleTime": last} if last else {}}
    return {"kind": "cronjob", "name": name, "t": t, "time": T0 + dt.timedelta(seconds=t), "event": "MODIFIED",
            "object": obj}


def _job(t, name, scheduled, cj="cj"):
    obj = {"metadata": {"name": name, "annotations": {cronjobs.SCHEDULED: scheduled},
                        "ownerReferences": [{"kind": "CronJob", "name": cj, "controller": True}]}, "status": {}}
    return {"kind": "job", "name": name, "t": t, "time": T0 + dt.timedelta(seconds=t), "event": "ADDED", "object": obj}


def _event(t, reason, cj="cj"):
    return {"kind": "event", "name": f"cronjob/{cj}", "t": t, "time": T0 + dt.timedelta(seconds=t),
            "reason": reason, "message": ""}


def test_resumes_reads_the_status_before_the_resume_and_the_jobs_for_missed_times():
    rows = [_cronjob(0, True), _cronjob(1, True, last="2026-12-06T09:00:00Z"),
            _cronjob(50, False, last="2026-12-06T09:00:00Z"),          # resumed at 12:01:20
            _event(50.5, "TooManyMissedTimes"), _job(50.6, "cj-29", "2026-12-06T12:01:00Z"),
            _job(90, "cj-30", "2026-12-06T12:02:00Z")]                  # the next schedule time: not a missed one
    report = CronRecording(rows).resumes(["cj"])
    row = report.loc["cj"]
    assert row["counted from"] == "2026-12-06T09:00:00Z" and row["resumed at (s)"] == 50
    assert row["missed times at the resume"] == missed_times(at(0) - dt.timedelta(hours=3), at(1, 20))
    assert row["jobs for missed times"] == 1 and row["TooManyMissedTimes events"] == 1


def test_resumes_counts_from_creation_when_the_cronjob_never_ran():
    rows = [_cronjob(0, True), _cronjob(50, False)]
    row = CronRecording(rows).resumes(["cj"]).loc["cj"]
    assert row["counted from"] == "2026-12-06T12:00:30Z" and row["missed times at the resume"] == 1
    assert row["jobs for missed times"] == 0 and row["TooManyMissedTimes events"] == 0


def test_a_cronjob_never_resumed_is_named():
    with pytest.raises(KjlabError, match="never saw CronJob cj resumed"):
        CronRecording([_cronjob(0, True)]).resumes(["cj"])
