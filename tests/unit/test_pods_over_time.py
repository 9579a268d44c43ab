"""Reading completions, parallelism, replacements and retries from recorded runs (labs 06, 07).

The runs in tests/data/runs were recorded on the kwok engine from the lab Jobs in kjlab/examples
(tests/data/record_runs.py remakes them); the expectations come from those manifests' specs,
not from the recordings.
"""

from pathlib import Path

import pandas as pd
import pytest

from kjlab import examples
from kjlab.runs.result import Recording, RunResult
from kjlab.runs import saved as saved_runs

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def load(name: str) -> RunResult:
    data = saved_runs.load(RUNS / f"{name}.json")
    return RunResult.from_dict(data["summary"], data["rows"])


def spec(name: str, **changes) -> dict:
    s = examples.render(name)["spec"]
    s.update(changes)
    return s


# --- NonIndexed: completions and parallelism ---------------------------------------------------

def test_parallelism_bounds_how_many_run_at_once():
    run, s = load("parallel"), spec("parallel")
    at_once = run.recording.running_at_once()
    assert at_once["running"].max() == s["parallelism"] == run.recording.max_running()
    assert at_once["active"].max() == s["parallelism"]
    # the last pod runs alone: completions is not a multiple of parallelism
    assert s["completions"] % s["parallelism"] == 1 and at_once["running"].iloc[-2] == 1


def test_completions_successes_and_who_replaced_whom():
    run, s = load("parallel"), spec("parallel")
    life = run.recording.pod_lifecycles()
    assert len(life) == s["completions"] and set(life["phase"]) == {"Succeeded"}
    assert life["index"].isna().all()  # NonIndexed pods carry no index
    table = run.recording.replacements_table()
    assert len(table) == s["completions"] - s["parallelism"]
    assert set(table["which"]) == {"Succeeded"} and (table["waited (s)"] >= 0).all()
    assert not table["while terminating"].any()
    assert table["replaces"].is_unique  # one place each
    first = set(life["pod"][: s["parallelism"]])
    assert first.isdisjoint(table["pod"])  # the first pods replaced nobody


# --- Indexed: how a pod learns its index -------------------------------------------------------

def test_each_index_once_and_its_sources_agree():
    run, s = load("indexed"), spec("indexed")
    life = run.recording.pod_lifecycles()
    assert sorted(life["index"]) == list(range(s["completions"]))
    sources = run.recording.index_sources()
    assert (sources["annotation"] == sources["label"]).all()
    for pod, row in sources.iterrows():
        assert row["hostname"] == f"indexed-{row['annotation']}"
        # the downward API reads one of the two places the controller wrote (the label, since v1.28)
        assert row["JOB_COMPLETION_INDEX"] in {f"from metadata.{where}['batch.kubernetes.io/job-completion-index']"
                                               for where in ("labels", "annotations")}
        assert pod.startswith(f"indexed-{row['annotation']}-")
    assert run.recording.max_running() <= s["parallelism"]


def test_a_nonindexed_pod_has_no_index_anywhere():
    sources = load("parallel").recording.index_sources()
    assert sources.isna().all().all()


# --- successPolicy -----------------------------------------------------------------------------

def test_success_policy_completes_before_all_completions():
    run, s = load("success-policy"), spec("success-policy")
    assert run.outcome == "Complete" and run.reason == "SuccessPolicy"
    types = [c["type"] for c in run.conditions]
    assert types.index("SuccessCriteriaMet") < types.index("Complete")
    indexes = set(run.recording.pod_lifecycles()["index"])
    leader = int(s["successPolicy"]["rules"][0]["succeededIndexes"])
    assert leader in indexes and len(indexes) < s["completions"]


# --- podReplacementPolicy ----------------------------------------------------------------------

def _deleted_and_replacement(name):
    run = load(name)
    deleted = run.recording.first_step("delete")["name"].split("/", 1)[1]
    row = run.recording.replacements_table().set_index("replaces").loc[deleted]
    return run, deleted, row


def test_terminating_or_failed_replaces_a_pod_while_it_terminates():
    run, deleted, row = _deleted_and_replacement("replacement")
    assert row["which"] == "deleted" and row["while terminating"]
    assert run.recording.running_at_once()["terminating"].max() == 1
    both = run.recording.running_at_once().query("terminating == 1 and active == 1")
    assert len(both), "the replacement was never active beside the terminating pod"


def test_failed_waits_until_the_deleted_pod_has_failed():
    run, deleted, row = _deleted_and_replacement("replacement-failed")
    assert row["which"] == "deleted" and not row["while terminating"]
    life = run.recording.pod_lifecycles().set_index("pod")
    assert life.loc[deleted, "phase"] == "Failed"
    assert row["created at"] >= life.loc[deleted, "ended"]
    grace = spec("replacement")["template"]["spec"]["terminationGracePeriodSeconds"]
    assert life.loc[deleted, "ended"] - life.loc[deleted, "terminating"] >= grace - 1


# --- retries: Never vs OnFailure, the back-off -------------------------------------------------

def test_never_retries_as_new_pods_spaced_by_the_back_off():
    run, s = load("retry-never"), spec("retry-never")
    assert run.outcome == "Failed" and run.reason == "BackoffLimitExceeded"
    life = run.recording.pod_lifecycles()
    assert len(life) == s["backoffLimit"] + 1 and set(life["phase"]) == {"Failed"}
    delays = run.recording.retry_delays()
    assert list(delays["failures so far (n)"]) == list(range(1, s["backoffLimit"] + 1))
    assert list(delays["documented back-off (s)"]) == [10 * 2 ** i for i in range(s["backoffLimit"])]
    # measured from when kjlab saw the failure: the back-off, plus a second or two of sync
    assert ((delays["measured (s)"] >= delays["documented back-off (s)"] - 1)
            & (delays["measured (s)"] <= delays["documented back-off (s)"] + 5)).all(), delays


def test_on_failure_restarts_in_one_pod():
    run, s = load("retry-onfailure"), spec("retry-onfailure")
    assert run.reason == "BackoffLimitExceeded" and run.pods_created == 1
    pod = next(iter(run.recording.last_pods().values()))
    restarts = max(r["object"]["status"].get("containerStatuses", [{}])[0].get("restartCount", 0)
                   for r in run.recording.of("pod") if r.get("object"))
    assert restarts == s["backoffLimit"], pod
    assert run.recording.retry_delays().empty  # no pod replaced another
    history = run.recording.restart_history()
    assert list(history["restartCount"]) == sorted(history["restartCount"])  # only grows, in one pod
    assert history["pod"].nunique() == 1 and history["restartCount"].max() == s["backoffLimit"]
    restarted = history[(history["restartCount"] > 0) & (history["phase"] == "Running")]
    assert len(restarted) and (restarted["last exit code"] == 1).all()  # the pod never failed while retrying


def test_max_failed_indexes_stops_the_job():
    run, s = load("per-index"), spec("per-index")
    assert run.outcome == "Failed" and run.reason == "MaxFailedIndexesExceeded"
    life = run.recording.pod_lifecycles()
    failed = life[life["phase"] == "Failed"]
    per_index = failed[failed["exit_code"] == 1].groupby("index").size()
    assert (per_index <= s["backoffLimitPerIndex"] + 1).all()
    assert len(set(life["index"])) < s["completions"] or run.succeeded < s["completions"] - len(per_index)


# --- synthetic edge cases ----------------------------------------------------------------------

def test_a_retry_takes_the_place_of_its_own_index():
    rows = [
        {"kind": "pod", "name": "a", "phase": "Running", "t": 0.0, "object": {"metadata": {"annotations": {
            "batch.kubernetes.io/job-completion-index": "0"}}}},
        {"kind": "pod", "name": "b", "phase": "Running", "t": 0.1, "object": {"metadata": {"annotations": {
            "batch.kubernetes.io/job-completion-index": "1"}}}},
        {"kind": "pod", "name": "a", "phase": "Failed", "exit_code": 1, "t": 2.0},
        {"kind": "pod", "name": "b", "phase": "Succeeded", "exit_code": 0, "t": 3.0},
        {"kind": "pod", "name": "a2", "phase": "Pending", "t": 12.0, "object": {"metadata": {"annotations": {
            "batch.kubernetes.io/job-completion-index": "0"}}}},
    ]
    table = Recording(rows).replacements_table()
    assert table.set_index("pod").loc["a2", "replaces"] == "a"  # b left later, but a2 is index 0's retry
    assert table.set_index("pod").loc["a2", "waited (s)"] == 10.0


def test_a_pod_that_never_ran_is_active_but_not_running():
    rows = [{"kind": "pod", "name": "p", "phase": "Pending", "t": 1.0},
            {"kind": "pod", "name": "p", "event": "DELETED", "phase": "Pending", "deleting": True, "t": 5.0}]
    at_once = Recording(rows).running_at_once()
    assert at_once["running"].max() == 0 and at_once["active"].max() == 1
    assert Recording([]).max_running() == 0
    assert pd.isna(Recording(rows).pod_lifecycles().loc[0, "running"])


def test_the_back_off_cap_measured_on_v1_36_is_ten_minutes():
    """7 pods of the backoff-cap Job fail at once: the formula gives 10 s x 2^6 = 640 s, the docs' cap
    6 min, the v1.36 source's cap (MaxJobPodFailureBackOff) 10 min. The recorded run tells them apart."""
    from kjlab.runs.result import BACKOFF_CAP_SECONDS

    run, s = load("backoff-cap"), spec("backoff-cap")
    life = run.recording.pod_lifecycles()
    first, second = life.iloc[: s["parallelism"]], life.iloc[s["parallelism"]:]
    assert len(first) == len(second) == s["parallelism"] and set(life["phase"]) == {"Failed"}
    waited = second["created"].min() - first["ended"].max()
    formula = 10 * 2 ** (s["parallelism"] - 1)
    assert formula == 640 and BACKOFF_CAP_SECONDS == 600
    assert BACKOFF_CAP_SECONDS - 2 <= waited <= BACKOFF_CAP_SECONDS + 5, waited  # not 360, not 640
    assert run.reason == "BackoffLimitExceeded" and run.failed == 2 * s["parallelism"]


# --- lab 08: deadlines, tracking finalizers, TTL --------------------------------------------------

def test_the_deadline_ends_the_job_before_backoff_limit():
    run, s = load("deadline"), spec("deadline")
    assert run.reason == "DeadlineExceeded" and 0 < run.failed <= s["backoffLimit"]
    assert s["activeDeadlineSeconds"] - 1 <= run.duration_s <= s["activeDeadlineSeconds"] + 5
    # the back-off left room for only a few pods: each one's delay is the formula's
    assert len(run.recording.retry_delays()) == run.pods_created - 1


def test_every_pod_is_tracked_until_counted():
    for name in ("deadline", "ttl"):
        tracked = load(name).recording.tracking()
        assert tracked["had the finalizer"].all(), (name, tracked)
        lag = tracked["finalizer removed"] - tracked["ended"]
        assert ((lag >= 0) & (lag < 5)).all(), (name, tracked)  # removed after the pod ended, not before


def test_ttl_deletes_the_job_and_its_pods():
    run, s = load("ttl"), spec("ttl")
    completed = next(c["t"] for c in run.recording.job_conditions() if c["type"] == "Complete")
    gone = run.recording.gone_at("job")
    assert s["ttlSecondsAfterFinished"] - 1 <= gone - completed <= s["ttlSecondsAfterFinished"] + 10
    life = run.recording.pod_lifecycles()
    assert life["gone"].notna().all() and (life["gone"] > completed).all()
    assert run.recording.gone_at("job", "not-this-one") is None


def test_suspend_deletes_running_pods_without_counting_them():
    run, s = load("suspend"), spec("suspend")
    conditions = [(c["type"], c["status"], c["reason"]) for c in run.recording.job_conditions()]
    assert conditions[:2] == [("Suspended", "True", "JobSuspended"), ("Suspended", "False", "JobResumed")]
    life = run.recording.pod_lifecycles().join(run.pods()["node"], on="pod")
    stopped = life[life["terminating"].notna()]
    assert len(stopped) == s["parallelism"] and set(stopped["phase"]) == {"Failed"}
    assert run.failed == 0 and run.succeeded == s["completions"]  # a suspension is not a failure
    resumed = run.recording.resumed_at()
    assert resumed <= next(c["t"] for c in run.recording.job_conditions() if c["reason"] == "JobResumed")
    after = life[life["created"] >= resumed]
    patched = next(st for st in run.steps if "nodeSelector" in st["detail"])
    assert patched["t"] < resumed and set(after["node"]) == {"kjlab-worker2"}  # changed while suspended
    assert len(after) == s["completions"]  # the stopped pods' work is done again


def test_restart_history_has_whole_exit_codes_and_no_nan():
    history = load("retry-onfailure").recording.restart_history()
    assert str(history["last exit code"].dtype) == "Int64" and str(history["restartCount"].dtype) == "int64"
    shown = history.to_string() + history.to_html()
    assert "NaN" not in shown and "1.0" not in shown, shown


def test_two_runs_of_one_example_get_distinct_names_in_a_comparison():
    """Issue 26 item 7: lab 06 compares `replacement` run two ways; the table tells them apart."""
    import dataclasses

    a, b = load("replacement"), load("replacement-failed")
    b = dataclasses.replace(b, scenario=a.scenario, namespace="lab06-replace-failed")  # as lab 06 runs it
    table = a.compare(b)
    assert table.index.is_unique and len(table) == 2, table
    assert all(r.namespace in name for r, name in zip((a, b), table.index)), table.index
    assert list(load("retry-never").compare(load("retry-onfailure")).index) == ["retry-never", "retry-onfailure"]


def test_condition_labels_fit_in_their_panel():
    """Issue 26 item 7: lab 06's comparison cut `SuccessCriteriaMet → Complete` to `uccessCriteriaMet`:
    every label drawn inside a panel lies inside it (matplotlib clips what does not)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kjlab.widgets.timeline import comparison_figure

    fig = comparison_figure([load("replacement"), load("replacement-failed")])
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    checked = 0
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        for text in ax.texts:
            if "SuccessCriteriaMet" in text.get_text():
                extent = text.get_window_extent(renderer)
                checked += 1
                assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, (text.get_text(), extent, box)
    assert checked == 2


def test_neither_replacement_comes_before_the_pod_creation_back_off():
    """Lab 06 says each replacement waits for the Job's pod-creation back-off, 10 s after the failure
    it counts (DefaultJobPodFailureBackOff, pkg/controller/job/job_controller.go): from the delete
    with TerminatingOrFailed (isPodFailed counts a pod with a deletionTimestamp as failed), from the
    old pod's end with Failed. Whole-second timestamps make it look up to about 1 s shorter."""
    _, _, terminating = _deleted_and_replacement("replacement")
    assert 8.5 <= terminating["waited (s)"] <= 12, terminating
    run, deleted, failed = _deleted_and_replacement("replacement-failed")
    after_end = failed["created at"] - run.recording.pod_lifecycles().set_index("pod").loc[deleted, "ended"]
    assert 8.5 <= after_end <= 12, after_end
