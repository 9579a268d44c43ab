"""Labs 14 and 15's plumbing that needs no cluster: their package data and the readers of what
the cluster answered (the outcomes themselves are asserted by the notebooks' check cells)."""

import pytest

from kjlab.errors import KjlabError
from kjlab.labs import job_controls, rollouts_scheduling as rs
from kjlab.runs.result import Recording


def test_job_controls_manifests_are_jobs_and_one_cronjob():
    docs = job_controls.manifests()
    assert {d["kind"] for d in docs.values()} == {"Job", "CronJob"}
    assert docs["work-queue"]["spec"].get("completions") is None and docs["work-queue"]["spec"]["parallelism"] > 1
    elastic = docs["elastic"]["spec"]
    assert elastic["completionMode"] == "Indexed" and elastic["completions"] == elastic["parallelism"]
    assert docs["managed-elsewhere"]["spec"]["managedBy"] != "kubernetes.io/job-controller"
    assert "managedBy" not in docs["managed-here"]["spec"]
    # every Job with a policy can have one: restartPolicy Never
    for d in docs.values():
        if d["kind"] == "Job" and d["spec"].get("podFailurePolicy"):
            assert d["spec"]["template"]["spec"]["restartPolicy"] == "Never", d["metadata"]["name"]


def test_an_unknown_name_names_the_known_ones():
    with pytest.raises(KjlabError, match="notin"):
        job_controls.manifest("nope")
    with pytest.raises(KjlabError, match="Deployment/recreate"):
        rs.manifest("Deployment", "nope")
    assert job_controls.manifest("notin") is not job_controls.manifest("notin")  # a copy each time


def test_cron_rows_read_the_scheduled_minute():
    job = {"metadata": {"name": "every-minute-29942471",
                        "annotations": {job_controls.SCHEDULED_AT: "2026-12-06T09:11:00Z"}},
           "status": {"completionTime": "2026-12-06T09:11:03Z"}}
    zoned = {"metadata": {"name": "x", "annotations": {job_controls.SCHEDULED_AT: "2026-12-06T10:11:00+01:00"}}}
    rows = job_controls.cron_jobs([job, zoned, {"metadata": {"name": "manual"}}])
    assert rows[0]["minutes since epoch"] == 29942471 and rows[0]["completionTime"] == "2026-12-06T09:11:03Z"
    assert rows[1]["minutes since epoch"] == 29942471  # the same instant in another zone
    assert rows[2]["minutes since epoch"] is None


def _failed_pod(name, *codes):
    statuses = [{"name": c, "state": {"terminated": {"exitCode": code}}} for c, code in codes]
    obj = {"metadata": {"name": name}, "status": {"phase": "Failed", "containerStatuses": statuses}}
    return {"kind": "pod", "name": name, "phase": "Failed", "object": obj, "t": 1.0}


def test_first_failure_reads_the_recorded_pod_against_the_jobs_own_policy():
    running = {"kind": "pod", "name": "p0", "phase": "Running", "object": {"metadata": {"name": "p0"}}, "t": 0.0}
    codes, match = job_controls.first_failure("count-first", Recording([running, _failed_pod("p0", ("main", 3))]))
    assert codes == {"main": 3} and (match.index, match.action) == (0, "Count")  # listed by both rules: the first wins
    codes, match = job_controls.first_failure("named", Recording([_failed_pod("p1", ("helper", 42), ("main", 0))]))
    assert codes == {"helper": 42, "main": 0} and match.index is None  # the rule names main, not helper
    codes, match = job_controls.first_failure("notin", Recording([_failed_pod("p2", ("main", 3))]))
    assert match.index is None  # 3 is the listed (retriable) code


def test_the_refused_pods_each_break_the_rule_the_lab_names():
    pods = job_controls.refused_pods()
    probe = pods["liveness-three-successes"]["spec"]["containers"][0]["livenessProbe"]
    assert probe["successThreshold"] != 1
    gated = pods["gated-with-node"]["spec"]
    assert gated["nodeName"] and gated["schedulingGates"]
    assert all(p["kind"] == "Pod" for p in pods.values())


def test_gated_condition_is_podscheduled_false_schedulinggated_only():
    def pod(status, reason):
        return {"status": {"conditions": [{"type": "PodScheduled", "status": status, "reason": reason}]}}
    assert job_controls.gated_condition(pod("False", "SchedulingGated"))
    assert not job_controls.gated_condition(pod("False", "Unschedulable"))
    assert not job_controls.gated_condition(pod("True", None))
    assert not job_controls.gated_condition({"status": {}})


def _deployment(generation, observed, greeting, progressing=None):
    obj = {"metadata": {"name": "surge", "generation": generation},
           "spec": {"template": {"spec": {"containers": [{"name": "main", "env": [{"name": "GREETING", "value": greeting}]}]}}},
           "status": {"observedGeneration": observed, "conditions": [progressing] if progressing else []}}
    return {"kind": "deployment", "name": "surge", "object": obj, "t": 0.0}


def test_template_seen_waits_for_the_change_and_its_observation():
    assert not rs.template_seen(Recording([]), "surge", {"GREETING": "bonjour"})
    assert not rs.template_seen(Recording([_deployment(2, 2, "hello")]), "surge", {"GREETING": "bonjour"})
    assert not rs.template_seen(Recording([_deployment(3, 2, "bonjour")]), "surge", {"GREETING": "bonjour"})
    assert rs.template_seen(Recording([_deployment(3, 3, "bonjour")]), "surge", {"GREETING": "bonjour"})


def test_progressing_reads_the_last_recorded_condition():
    stalled = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    rec = Recording([_deployment(2, 2, "x", {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}),
                     _deployment(2, 2, "x", stalled)])
    assert rs.progressing(rec, "surge") == stalled
    assert rs.progressing(Recording([]), "surge") is None


def test_taint_keys_are_per_namespace():
    assert rs.taint_key("lab15-taints") == "lab15-taints.kjlab.io/dedicated"
    assert rs.taint_key("a") != rs.taint_key("b")


def test_job_controls_dry_run_jobs_each_test_the_rule_the_lab_names():
    docs = job_controls.manifests()
    assert set(job_controls.DRY_RUN_JOBS) <= set(docs)

    def names(doc, key):
        return {c["name"] for c in doc["spec"]["template"]["spec"].get(key) or []}

    def rule(doc):
        return doc["spec"]["podFailurePolicy"]["rules"][0]

    init = docs["init-named"]
    wanted = rule(init)["onExitCodes"]["containerName"]
    assert wanted in names(init, "initContainers") and wanted not in names(init, "containers")
    unknown = docs["unknown-named"]
    assert rule(unknown)["onExitCodes"]["containerName"] not in names(unknown, "containers") | names(unknown, "initContainers")
    assert all("status" not in p for p in rule(docs["status-left-out"])["onPodConditions"])


def test_job_controls_named_rule_one_would_take_exit_code_zero_if_zero_were_matched():
    named = job_controls.manifest("named")
    rule = named["spec"]["podFailurePolicy"]["rules"][1]["onExitCodes"]
    main = next(c for c in named["spec"]["template"]["spec"]["containers"] if c["name"] == rule["containerName"])
    assert rule["operator"] == "NotIn" and 0 not in rule["values"] and main["command"][-1].endswith("exit 0")


def test_job_controls_elastic_up_starts_smaller_than_the_lab_scales_it_to():
    import inspect

    spec = job_controls.manifest("elastic-up")["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] < 4
    assert inspect.signature(job_controls.elastic).parameters["to"].default < job_controls.manifest("elastic")["spec"]["completions"]


def test_job_controls_pattern_statuses_lists_each_pattern_with_its_rule():
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1]}},
                        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"},
                                                                 {"type": "ConfigChecked", "status": "False"}]}]}
    assert job_controls.pattern_statuses(policy) == [
        {"rule": 1, "action": "Ignore", "type": "DisruptionTarget", "status": "True"},
        {"rule": 1, "action": "Ignore", "type": "ConfigChecked", "status": "False"}]
    assert job_controls.pattern_statuses(None) == []


class _Response:
    def __init__(self, data):
        self.data = data

    def release_conn(self):
        pass


def test_job_controls_dry_run_patch_sends_dry_run_and_returns_the_apis_answer():
    import json

    from kubernetes.client import ApiException

    sent = {}

    def accepted(name, namespace, patch, **kwargs):
        sent.update(kwargs, name=name, patch=patch)
        return _Response(b"{}")

    assert job_controls.dry_run_patch(accepted, "p", "ns", {"spec": {}}, strategic=True) == "accepted"
    assert sent["dry_run"] == "All" and sent["_content_type"] == "application/strategic-merge-patch+json"

    body = {"kind": "Status", "message": 'Pod "p" is invalid: spec.schedulingGates[1].name: Forbidden: only deletion is allowed'}

    def refused(*args, **kwargs):
        e = ApiException(status=422, reason="Unprocessable Entity")
        e.body = json.dumps(body)
        raise e

    answer = job_controls.dry_run_patch(refused, "p", "ns", {"spec": {}})
    assert "only deletion is allowed" in answer and answer != "accepted"


def test_job_controls_wait_args_give_one_for_flag_per_condition_in_order():
    args = job_controls.wait_args("ns", "notin", ["failed", "complete"], 3)
    assert [a for a in args if a.startswith("--for=")] == ["--for=condition=failed", "--for=condition=complete"]
    assert job_controls.wait_args("ns", "notin", "failed", 5) == [
        "wait", "--for=condition=failed", "job/notin", "-n", "ns", "--timeout=5s"]


def test_rollout_taints_already_there_runs_where_the_noschedule_taint_goes():
    there, refused = rs.manifest("Pod", "already-there")["spec"], rs.manifest("Pod", "on-noschedule")["spec"]
    assert there["nodeSelector"] == refused["nodeSelector"] and not there.get("tolerations")
