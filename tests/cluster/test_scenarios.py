"""Each documented example, with and without its policy, against the outcomes in shared/FIDELITY.md, on
kwok and (``--engine kind``) on a real kubelet. The CLI tests test kjlab's command line, not the
engine: kwok only."""

import json
import subprocess
import sys

import pytest

from kjlab.runs import scenarios

pytestmark = pytest.mark.engines("kwok", "kind")


def types(result):
    return [c["type"] for c in result.conditions if c["status"] == "True"]


def before(result, first, second):
    order = types(result)
    return first in order and second in order and order.index(first) < order.index(second)


def test_failjob_fails_at_once_on_exit_code_42(lab):
    r = scenarios.run("failjob", fast=True, echo=False)
    assert (r.outcome, r.reason) == ("Failed", "PodFailurePolicy")
    assert before(r, "FailureTarget", "Failed")
    pod = r.deciding_pod
    assert r.message == f"Container main for pod {r.namespace}/{pod} failed with exit code 42 matching FailJob rule at index 0"
    assert pod.startswith("job-pod-failure-policy-failjob-")
    assert (r.failed, r.succeeded) == (2, 0)
    assert r.pods_created == 2
    assert 0 <= r.exit_to_failed_s < 10


def test_failjob_without_policy_retries_until_the_backoff_limit(lab):
    r = scenarios.run("failjob", policy=False, fast=True, echo=False)
    assert (r.outcome, r.reason) == ("Failed", "BackoffLimitExceeded")
    assert r.message == "Job has reached the specified backoff limit"
    assert before(r, "FailureTarget", "Failed")
    assert r.failed > 6 and r.succeeded == 0
    assert r.duration_s > 120  # the back-off alone is 10 + 20 + 40 + ... seconds


def test_ignore_survives_a_drain(lab):
    r = scenarios.run("ignore", fast=True, echo=False)
    assert r.drain.failed_before == r.drain.failed_after == 0
    assert r.drain.evicted
    assert (r.outcome, r.succeeded, r.failed) == ("Complete", 4, 0)
    assert before(r, "SuccessCriteriaMet", "Complete")
    # every evicted pod carried DisruptionTarget from the Eviction API before it went away
    pods = r.timeline[r.timeline["kind"] == "pod"]
    for name in r.drain.evicted:
        conds = " ".join(pods[pods["name"] == name]["conditions"].fillna(""))
        assert "DisruptionTarget=True(EvictionByEvictionAPI)" in conds
    actions = [s["action"] for s in r.steps]
    assert actions.index("drain") < actions.index("uncordon")
    assert r.pods_created > 4  # replacements for the evicted pods


def test_ignore_without_policy_fails_on_the_drain(lab):
    r = scenarios.run("ignore", policy=False, fast=True, echo=False)
    assert (r.outcome, r.reason) == ("Failed", "BackoffLimitExceeded")
    assert r.drain.failed_after >= 1


def test_config_issue_fails_on_the_custom_condition(lab):
    r = scenarios.run("config-issue", echo=False)
    pod = r.patch.pod
    assert (r.outcome, r.reason) == ("Failed", "PodFailurePolicy")
    assert before(r, "FailureTarget", "Failed")
    assert r.message == f"Pod {r.namespace}/{pod} has condition ConfigIssue matching FailJob rule at index 0"
    assert r.failed == 2
    rows = r.timeline[(r.timeline["kind"] == "pod") & (r.timeline["name"] == pod)]
    assert "waiting:ImagePullBackOff" in set(rows["container"])
    assert "Failed" in set(rows["phase"])


def test_config_issue_without_policy_keeps_retrying(lab):
    r = scenarios.run("config-issue", policy=False, echo=False)
    assert r.outcome == "Running" and r.failed == 1
    # A replacement -- a pod created after the delete, not the original sibling -- got stuck too.
    replacements = {row["name"] for row in r.rows if row["kind"] == "pod"} - set(r.patch.pods_before_delete)
    assert replacements
    stuck = r.timeline[(r.timeline["kind"] == "pod") & r.timeline["name"].isin(replacements)]
    assert "waiting:ImagePullBackOff" in set(stuck["container"])


def test_failindex(lab):
    r = scenarios.run("failindex", echo=False)
    assert (r.outcome, r.reason, r.failed) == ("Failed", "FailedIndexes", 3)
    assert r.failed_indexes == "0,1"
    assert r.message == "Job has failed indexes"


def test_failindex_without_policy_retries_index_1(lab):
    r = scenarios.run("failindex", policy=False, echo=False)
    assert (r.outcome, r.reason, r.failed) == ("Failed", "FailedIndexes", 4)


@pytest.mark.engines("kwok")  # the command line, not the engine
def test_cli_json_has_the_documented_fields(lab, tmp_path):
    out = subprocess.run([sys.executable, "-m", "kjlab.cli", "scenario", "run", "failjob", "--fast", "--json",
                          "--namespace", "cli-json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("scenario", "namespace", "job", "policy", "outcome", "reason", "message", "failed", "succeeded",
                "duration_s", "conditions", "steps", "timeline"):
        assert key in data, key
    assert data["outcome"] == "Failed" and data["policy"] is True and data["namespace"] == "cli-json"
    assert {"type", "status", "reason", "message", "time"} <= set(data["conditions"][0])
    assert data["steps"][0]["action"] == "create"
    assert "kubectl create -f" in out.stderr  # the echo went to stderr, stdout is only JSON


@pytest.mark.engines("kwok")  # the command line, not the engine
def test_cli_manifest_with_a_patch_step(lab, tmp_path):
    from kjlab import examples

    path = tmp_path / "mine.yaml"
    path.write_text(examples.source("config-issue").replace("job-pod-failure-policy-config-issue", "my-job"))
    out = subprocess.run([sys.executable, "-m", "kjlab.cli", "scenario", "run", "--manifest", str(path),
                          "--patch-condition", "ConfigIssue", "--then-delete", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["job"] == "my-job" and data["reason"] == "PodFailurePolicy"


@pytest.mark.engines("kwok")  # the command line, not the engine
@pytest.mark.parametrize("args,message", [
    (["scenario", "run", "nope"], "unknown example 'nope'"),
    (["scenario", "run", "--manifest", "/does/not/exist.yaml"], "no such manifest file"),
])
def test_cli_bad_input_is_one_line(lab, args, message):
    out = subprocess.run([sys.executable, "-m", "kjlab.cli", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr


def test_a_step_that_waits_for_a_stuck_pod_ends_within_the_runs_timeout(lab, monkeypatch):
    import time

    from kjlab.errors import KjlabError

    # The step's own wait is timed, around the real wait.pod: the run's set-up and clean-up (a namespace
    # whose pod ignores SIGTERM goes after its 30 s grace) take what the machine's load makes them take.
    waited = []
    real_pod = scenarios.wait.pod

    def timed_pod(*args, **kwargs):
        started = time.monotonic()
        try:
            return real_pod(*args, **kwargs)
        finally:
            waited.append(time.monotonic() - started)

    monkeypatch.setattr(scenarios.wait, "pod", timed_pod)
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "never-stuck"}, "spec": {
        "backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "main", "image": "bash:5", "command": ["bash", "-c", "sleep 300"]}]}}}}
    with pytest.raises(KjlabError) as e:
        scenarios.run(manifest=job, patch_condition="ConfigIssue", timeout=15, context=lab["context"], echo=False)
    # the step gets what is left of the run's 15 s after the set-up (14 s at load ~30)
    import re

    left = re.search(r"timed out after (\d+)s waiting for a pod of Job never-stuck to be in ImagePullBackOff",
                     e.value.message)
    assert left and int(left[1]) <= 15, e.value.message
    assert len(waited) == 1 and int(left[1]) - 1 <= waited[0] < 15 + 30, waited  # the step alone waited 120 s before