"""kjlab.selectors on a recorded run (tests/data/runs/careless-selector.json, kwok engine): the Job
`careless` (manualSelector, selector app: report, completions 2, parallelism 2) next to the Job
`old` whose pod carries app: report; `old` is then deleted with --cascade=orphan. What the Job
controller must do: ignore the pod while `old` owns it, adopt it once it is an orphan, delete one
of its own pods to get back to parallelism 2, and count the adopted pod's success as its own."""

from pathlib import Path

import pytest

from kjlab.labs import manual_selector as selectors
from kjlab.runs.result import Recording, RunResult
from kjlab.runs import saved as saved_runs

RUN = Path(__file__).resolve().parents[1] / "data" / "runs" / "careless-selector.json"


@pytest.fixture(scope="module")
def run():
    data = saved_runs.load(RUN)
    return RunResult.from_dict(data["summary"], data["rows"])


def test_the_orphaned_pod_is_adopted_by_the_careless_job(run):
    owners = selectors.owners(run.recording).set_index("pod")
    old = [p for p in owners.index if p.startswith("old-")]
    assert len(old) == 1
    row = owners.loc[old[0]]
    assert row["created by"] == "Job/old" and row["adopted by"] == "Job/careless"
    assert row["orphaned"] <= row["adopted"]


def test_the_careless_job_deletes_its_own_extra_pod_and_counts_the_adopted_success(run):
    owners = selectors.owners(run.recording)
    own = owners[owners["created by"] == "Job/careless"]
    assert len(own) == 2                                   # it created parallelism=2 pods, not 3
    assert own["deleted"].notna().sum() == 1               # one of them deleted once it adopted a third
    assert run.outcome == "Complete" and run.succeeded == 2 and run.failed == 0
    succeeded_own = int((own["phase"] == "Succeeded").sum())
    assert succeeded_own == 1                              # the second success is old's pod


def test_owner_reads_the_controller_reference():
    pod = {"metadata": {"ownerReferences": [{"kind": "Job", "name": "x", "controller": True}]}}
    assert selectors.owner(pod) == "Job/x"
    assert selectors.owner({"metadata": {}}) is None


def test_the_careless_manifest_needs_manual_selector():
    doc = selectors.manifest("careless")
    assert doc["spec"]["manualSelector"] is True
    labels = doc["spec"]["template"]["metadata"]["labels"]
    assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert selectors.manifest("old")["spec"]["template"]["metadata"]["labels"]["app"] == labels["app"]
