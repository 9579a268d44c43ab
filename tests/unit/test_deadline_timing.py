"""A deadline is reported from where activeDeadlineSeconds counts, the Job's status.startTime: read
from the API's own times in a recorded run, it is never less than the deadline (measured from kjlab's
create it can look a second short: lab 00, exercise 08)."""

from pathlib import Path

from kjlab import examples
from kjlab.checks.job_limits import decided_after_start, deleted_after_finish
from kjlab.runs import saved as saved_runs
from kjlab.runs.result import Recording, RunResult

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def test_the_deadline_is_decided_no_earlier_than_it_says():
    data = saved_runs.load(RUNS / "deadline.json")
    run = RunResult.from_dict(data["summary"], data["rows"])
    deadline = examples.render("deadline")["spec"]["activeDeadlineSeconds"]
    decided = decided_after_start(run.recording)
    assert run.reason == "DeadlineExceeded" and deadline <= decided <= deadline + 2, decided


def test_a_job_that_never_failed_has_no_decision():
    data = saved_runs.load(RUNS / "parallel.json")
    assert decided_after_start(Recording(data["rows"])) is None


def test_a_ttl_deletion_is_read_on_the_clusters_clock_no_earlier_than_the_ttl():
    # CI, loaded: lab 08 read the wait from the watch, 3.8 s for a 5 s TTL (the Complete condition
    # reached the watch late). On the cluster's clock (the condition's and the deletion's own
    # timestamps) it cannot be shorter than the TTL.
    data = saved_runs.load(RUNS / "ttl.json")
    run = RunResult.from_dict(data["summary"], data["rows"])
    ttl = examples.render("ttl")["spec"]["ttlSecondsAfterFinished"]
    waited = deleted_after_finish(run.recording)
    assert run.outcome == "Complete" and ttl <= waited <= ttl + 2, waited


def test_a_job_never_deleted_has_no_ttl_wait():
    data = saved_runs.load(RUNS / "parallel.json")
    assert deleted_after_finish(Recording(data["rows"])) is None
