"""Lab 02 without the policy, from a recorded run: how the Job controller counted each pod agrees with
the Job's own status.failed, and the pods whose last phase seems to contradict it are explained."""

from pathlib import Path

from kjlab.labs import drain_counts
from kjlab.runs import saved as saved_runs
from kjlab.runs.result import RunResult

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def nopolicy() -> RunResult:
    data = saved_runs.load(RUNS / "ignore-nopolicy.json")
    return RunResult.from_dict(data["summary"], data["rows"])


def test_the_pods_counted_as_failed_are_the_jobs_failed_count():
    run = nopolicy()
    table = drain_counts.how_counted(run)
    assert run.failed >= 2  # the evicted pod and the one the controller deleted
    assert (table["counted as"].str.startswith("failed")).sum() == run.failed, table


def test_the_evicted_pod_and_the_deleted_one_are_explained():
    run = nopolicy()
    table = drain_counts.how_counted(run).set_index("pod")
    evicted = run.drain.evicted[0]
    assert table.loc[evicted, "deleted by"] == "the drain (eviction)"
    others = table[table["deleted by"] == "the Job controller"]
    assert len(others) == run.failed - len(run.drain.evicted)
    text = drain_counts.explain(run)
    last = table.loc[evicted, "last phase recorded"]
    assert f"`{evicted}` was evicted" in text and f"last recorded phase is **{last}**" in text
    for pod, row in others.iterrows():
        assert f"`{pod}` was deleted by the Job controller" in text and f"phase **{row['last phase recorded']}**" in text
        assert row["counted as"].startswith("failed") and not row["finished before that"]
