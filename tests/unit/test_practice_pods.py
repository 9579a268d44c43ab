"""The pure parts of the pods practice checks (kjlab/practice/tasks/pods.py, probes.py), fed pod objects
as the API returns them: recorded on kind where a recording has one (tests/data/runs: an OOMKilled
container, an init container that ran to its end, a crash loop, a Service's EndpointSlice while a
readiness probe failed), else built in the same shape. The kind-only tasks' checks run end to end on
a fake view, so their waiting and reading are exercised without a cluster."""

from __future__ import annotations

import copy

import pytest

from kjlab.paths import REPO_DIR
from kjlab.practice.tasks import pods, probes
from kjlab.runs import saved

RUNS = REPO_DIR / "tests" / "data" / "runs"


def _recorded(run: str, kind: str, name: str, section: str | None = None, which: int = -1) -> dict:
    data = saved.load(RUNS / f"{run}.json")
    rows = (data[section] if section else data)["rows"]
    objects = [r["object"] for r in rows if r.get("kind") == kind and r.get("name") == name]
    return copy.deepcopy(objects[which])


OOM = _recorded("pod-statuses-kind", "pod", "oom")              # limit 64Mi, python allocating 300 MB
INIT_SLOW = _recorded("pod-statuses-kind", "pod", "init-slow")  # init container setup: sleep 3, then main
CRASHLOOP = _recorded("pod-statuses-kind", "pod", "crashloop")  # exit 1, restarted in place (restartCount 2)


# --- pods.py -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy,phrase", [("OnFailure", None), ("Always", "the default when it is left out"),
                                           ("Never", "never started again")])
def test_restart_policy(policy, phrase):
    problems = pods.restart_policy_problems(policy)
    assert (problems == []) if phrase is None else phrase in problems[0]


@pytest.mark.parametrize("pod_policy,container_policy,effective", [
    ("Never", "OnFailure", "OnFailure"), ("OnFailure", "Always", "Always"), ("OnFailure", None, "OnFailure")])
def test_a_containers_own_restart_policy_overrides_the_pods(pod_policy, container_policy, effective):
    c = {"name": "retry", **({"restartPolicy": container_policy} if container_policy else {})}
    policy, where = pods.effective_restart_policy({"spec": {"restartPolicy": pod_policy, "containers": [c]}}, c)
    assert policy == effective
    problems = pods.restart_policy_problems(policy, where)
    if effective == "Always":
        assert "container retry's restartPolicy is Always (it overrides the pod's" in problems[0]
    else:
        assert problems == []


def test_crash_report_reads_the_exit_code_and_the_last_printed_line():
    log = ("[kjlab: simulated kubelet (kwok) — the lines below are what the script prints; run it for real with "
           "kjlab up --engine kind]\nconnecting to orders-db:5432\nfatal: password authentication failed\n")
    lines = pods.printed_lines(log)
    assert lines == ["connecting to orders-db:5432", "fatal: password authentication failed"]
    assert pods.printed_lines("one\ntwo\n") == ["one", "two"]  # a real kubelet's log has no header
    right = {"exitCode": "42", "lastLine": "fatal: password authentication failed"}
    assert pods.crash_report_problems(right, 42, 2, lines[-1]) == []
    restarts = pods.crash_report_problems({**right, "exitCode": "2"}, 42, 2, lines[-1])
    assert "ended with exit code 42" in restarts[0] and "is the restart count" in restarts[0]
    first = pods.crash_report_problems({**right, "lastLine": lines[0]}, 42, 2, lines[-1])
    assert first and "was 'fatal: password authentication failed'" in first[0]


def _pod_resources(requests=None, limits=None, qos="Guaranteed"):
    res = {k: v for k, v in (("requests", requests), ("limits", limits)) if v is not None}
    return {"spec": {"containers": [{"name": "db", "image": "bash:5", "resources": res}]}, "status": {"qosClass": qos}}


def test_qos_guaranteed_needs_limits_equal_to_requests():
    want = {"cpu": "100m", "memory": "64Mi"}
    assert pods.qos_problems(_pod_resources(want, want)) == []
    assert pods.qos_problems(_pod_resources({"cpu": "0.1", "memory": "64Mi"}, want)) == []  # same quantity
    burstable = " ".join(pods.qos_problems(_pod_resources(want, None, "Burstable")))
    assert "has no cpu limit" in burstable and "QoS class Burstable" in burstable
    differs = pods.qos_problems(_pod_resources(want, {"cpu": "200m", "memory": "64Mi"}, "Burstable"))
    assert "cpu limit 200m differs from its request 100m" in differs[0]
    assert "(no requests or limits at all)" in pods.qos_problems(_pod_resources(qos="BestEffort"))[-1]


KEYS = {("configMap", "app-config"): {"LOG_LEVEL", "COLOR"}, ("secret", "db-credentials"): {"user", "password"}}
LOG_LEVEL = {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "LOG_LEVEL"}}}
DB_PASSWORD = {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}}


def test_env_from_a_config_map_and_a_secret():
    assert pods.env_problems({"env": [LOG_LEVEL, DB_PASSWORD]}, KEYS) == []
    assert pods.env_problems({"envFrom": [{"configMapRef": {"name": "app-config"}}], "env": [DB_PASSWORD]}, KEYS) == []
    literal = pods.env_problems({"env": [{"name": "LOG_LEVEL", "value": "debug"}, DB_PASSWORD]}, KEYS)
    assert literal == [literal[0]] and "as the literal 'debug'" in literal[0]
    from_secret = {"prefix": "DB_", "secretRef": {"name": "db-credentials"}}
    prefixed = pods.env_problems({"env": [LOG_LEVEL], "envFrom": [from_secret]}, KEYS)
    assert "no variable DB_PASSWORD (envFrom makes one variable per key" in prefixed[0]
    wrong_key = {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "pass"}}}
    missing = " ".join(pods.env_problems({"env": [LOG_LEVEL, wrong_key]}, KEYS))
    assert "key pass; the task says secret db-credentials, key password" in missing
    assert "CreateContainerConfigError" in missing


def test_labels_and_annotations():
    def pod(labels, annotations=None):
        return {"metadata": {"labels": labels, "annotations": annotations or {}}}

    done = {"app": "web", "env": "production", "tier": "frontend"}
    right = {"web-1": pod(done, {"owner": "team-checkout"}), "web-2": pod(done, {"owner": "team-checkout"}),
             "db-1": pod({"app": "db", "env": "staging"})}
    assert pods.label_problems(right) == []
    as_label = {**right, "web-2": pod({**done, "owner": "team-checkout"})}
    assert "owner is a label on it" in " ".join(pods.label_problems(as_label))
    everything = {**right, "db-1": pod({"app": "db", "env": "production", "tier": "frontend"})}
    assert "pod db-1 now has labels" in " ".join(pods.label_problems(everything))


def test_pending_names_the_request_and_the_schedulers_words():
    pod = pods.pending_pod()
    pod["status"] = {"phase": "Pending", "conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastProbeTime": None,
        "lastTransitionTime": "2026-12-06T12:56:00Z",
        "message": "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node-role.kubernetes.io/control-plane: }, "
                   "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
                   "scheduling, 2 No preemption victims found for incoming pod."}]}
    problem = pods.pending_problems(pod)[0]
    assert "requests cpu 64: the task allows at most 200m; the scheduler says: 0/3 nodes are available" in problem
    assert pods.pending_problems(pods.pending_pod("200m")) == []
    assert pods.pending_problems(pods.pending_pod("0.2")) == []
    other = pods.pending_pod("100m")
    other["spec"]["containers"][0]["command"] = ["sleep", "60"]
    assert "keep its image and command" in pods.pending_problems(other)[0]


MISSING_CONFIG = _recorded("pod-statuses-kind", "pod", "missing-config")  # CreateContainerConfigError


def test_create_container_config_error_is_explained_by_what_the_config_map_holds():
    # recorded: the ConfigMap itself is missing, and the kubelet says so in the waiting message
    waiting = MISSING_CONFIG["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "CreateContainerConfigError"
    assert pods.config_refs(MISSING_CONFIG) == [("SETTING", "no-such-config", "setting")]
    gone = pods.config_error_problems(MISSING_CONFIG, {"no-such-config": None})
    # the explanation quotes the kubelet as the recorded waiting message does
    assert f"which does not exist (the kubelet: {waiting['message']})" in gone[0]
    web = pods.config_error_pod()
    assert "which holds only color" in pods.config_error_problems(web, {"web-config": {"color": "blue"}})[0]
    assert "is 'red'; the task says blue" in pods.config_error_problems(web, {"web-config": {"colour": "red"}})[0]
    assert pods.config_error_problems(web, {"web-config": {"color": "blue", "colour": "blue"}}) == []


# --- probes.py: liveness ---------------------------------------------------------------------------------

def _container(**probes_):
    return {"name": "hung", "image": "bash:5", **{f"{k}Probe": v for k, v in probes_.items()}}


def test_liveness_probe_spec():
    # as the API returns it: defaulted fields filled in
    fast = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 2, "failureThreshold": 1,
            "timeoutSeconds": 1, "successThreshold": 1}
    assert probes.liveness_problems(_container(liveness=fast)) == []
    assert "a readiness probe takes the pod out" in probes.liveness_problems(_container(readiness=fast))[0]
    slow = probes.liveness_problems(_container(liveness={"exec": {"command": ["cat", "/tmp/healthy"]},
                                                         "periodSeconds": 10, "failureThreshold": 3}))
    assert "periodSeconds is 10" in slow[0] and "30 s after the file is gone" in slow[1]
    # written without periodSeconds (before the API server's defaults): the defaults are read
    assert "periodSeconds is 10 (the default)" in probes.liveness_problems(
        _container(liveness={"exec": {"command": ["cat", "/tmp/healthy"]}}))[0]


def _event(reason, message, type_="Normal"):
    return {"kind": "Event", "apiVersion": "v1", "reason": reason, "message": message, "type": type_,
            "involvedObject": {"kind": "Pod", "name": "hung", "apiVersion": "v1", "fieldPath": "spec.containers{hung}"},
            "source": {"component": "kubelet", "host": "kjlab-worker"}}


LIVENESS_EVENTS = [_event("Unhealthy", "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or "
                                        "directory", "Warning"),
                   _event("Killing", "Container hung failed liveness probe, will be restarted")]


def _restarted_by_liveness():
    """The recorded crash-loop pod as a liveness kill leaves it: restarted in place, the last run killed (137)."""
    pod = copy.deepcopy(CRASHLOOP)
    last = pod["status"]["containerStatuses"][0]["lastState"]["terminated"]
    last.update(exitCode=137, reason="Error")
    return pod


def test_a_restart_is_credited_to_the_liveness_probe_only_with_its_event():
    pod = _restarted_by_liveness()
    assert probes.liveness_restart_problems(pod, LIVENESS_EVENTS) == []
    crashed = probes.liveness_restart_problems(CRASHLOOP, [])
    assert "not by its liveness probe: its last run ended Error with exit code 1" in crashed[0]
    never = copy.deepcopy(INIT_SLOW)  # running, never restarted
    assert "was not restarted" in probes.liveness_restart_problems(never, [])[0]


class FakeView:
    """What a check sees of the cluster, from given objects: settle returns them at once."""

    context, namespace = "kind-kjlab", "practice-x"

    def __init__(self, objects: dict[tuple[str, str], dict], events=(), slices=()):
        self.objects, self._events, self.slices, self.waited = objects, list(events), list(slices), []

    def require(self, kind, name):
        return self.objects[(kind, name)]

    def settle(self, kind, done, what, **kw):
        self.waited.append(what)
        objs = [o for (k, _), o in self.objects.items() if k == kind]
        return done(objs), objs

    def events(self, involved=None, uid=None):
        return self._events

    def list(self, kind, label_selector=None):
        return self.slices if kind == "endpointslice" else []


def _with_spec(pod, container_spec, name="hung"):
    pod = copy.deepcopy(pod)
    pod["metadata"]["name"] = name
    pod["spec"]["containers"] = [container_spec]
    pod["status"]["containerStatuses"][0]["name"] = container_spec["name"]
    return pod


def test_liveness_check_on_a_fake_view():
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 2, "failureThreshold": 1}
    pod = _with_spec(_restarted_by_liveness(), _container(liveness=probe))
    view = FakeView({("pod", "hung"): pod}, events=LIVENESS_EVENTS)
    v = probes.check_liveness(view)
    assert v.passed, str(v)
    assert view.waited and "liveness probe" in view.waited[0]
    assert "failed liveness probe, will be restarted" in str(v)
    v = probes.check_liveness(FakeView({("pod", "hung"): pod}, events=LIVENESS_EVENTS[:1]))
    assert not v.passed and "not by its liveness probe" in str(v)


# --- readiness -------------------------------------------------------------------------------------------


def test_readiness_reads_the_pods_endpoint_in_the_recorded_slices():
    slices = [_recorded("probes-kind", "endpointslice", "web", "readiness", which=i) for i in (1, 4)]
    not_ready, ready = slices
    pod = _recorded("probes-kind", "pod", "web-a", "readiness")
    assert probes.endpoint_of([not_ready], "web-a")["conditions"]["ready"] is False
    assert probes.endpoint_of([ready], "web-a")["conditions"]["ready"] is True
    assert probes.endpoint_of([ready], "shop") is None
    # the recorded pod ended Ready, its probe passing: both say it gets traffic
    problems = " ".join(probes.readiness_problems(pod, [ready]))
    assert "pod web-a is Ready although /tmp/ready does not exist" in problems
    assert "pod web-a is a ready endpoint of Service shop" in problems
    waiting = copy.deepcopy(pod)
    for c in waiting["status"]["conditions"]:
        if c["type"] in ("Ready", "ContainersReady"):
            c.update(status="False", reason="ContainersNotReady", message="containers with unready status: [main]")
    assert probes.readiness_problems(waiting, [not_ready]) == []


def test_readiness_spec():
    pod = {"metadata": {"name": "shop", "labels": {"app": "shop"}},
           "spec": {"containers": [{"name": "shop", "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}}}]}}
    assert probes.readiness_spec_problems(pod) == []
    live = copy.deepcopy(pod)
    live["spec"]["containers"][0] = {"name": "shop", "livenessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}}}
    assert "a liveness probe restarts the container" in probes.readiness_spec_problems(live)[0]
    unlabelled = copy.deepcopy(pod)
    unlabelled["metadata"]["labels"] = {"run": "shop"}
    assert "Service shop selects app=shop" in probes.readiness_spec_problems(unlabelled)[0]


# --- init container --------------------------------------------------------------------------------------

def test_init_container_ended_before_the_main_one_started():
    assert probes.init_problems(INIT_SLOW, init="setup", main="main") == []
    early = copy.deepcopy(INIT_SLOW)
    early["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] = "2026-11-23T19:33:03Z"
    assert "before setup ended at 2026-11-23T19:33:05Z" in probes.init_problems(early, init="setup", main="main")[0]
    crashed = copy.deepcopy(INIT_SLOW)
    crashed["status"]["containerStatuses"][0]["restartCount"] = 1
    assert "not running since its first start" in probes.init_problems(crashed, init="setup", main="main")[0]


def test_init_container_spec():
    def pod(inits, containers):
        return {"spec": {"initContainers": inits, "containers": containers}}

    prepare, app = {"name": "prepare"}, {"name": "app"}
    assert probes.init_spec_problems(pod([prepare], [app])) == []
    assert "it is a regular container" in probes.init_spec_problems(pod([], [prepare, app]))[0]
    assert "makes it a sidecar" in probes.init_spec_problems(pod([{**prepare, "restartPolicy": "Always"}], [app]))[0]


# --- OOMKilled -------------------------------------------------------------------------------------------

def test_oom_killed_is_read_from_the_recorded_pod():
    killed = probes.oom_killed(OOM)
    assert killed["reason"] == "OOMKilled" and killed["exitCode"] == 137
    assert probes.oom_killed(CRASHLOOP) is None
    # the recorded pod's 64Mi limit, as the check explains it
    problem = probes.oom_spec_problems(OOM)[0]
    assert "the memory limit is 64Mi: its last run ended OOMKilled (exit code 137)" in problem
    # the same container restarted in place (lastState) is found too
    again = copy.deepcopy(OOM)
    cs = again["status"]["containerStatuses"][0]
    cs.update(lastState={"terminated": cs["state"]["terminated"]}, restartCount=1,
              state={"waiting": {"reason": "CrashLoopBackOff",
                                 "message": "back-off 10s restarting failed container=main"}})
    assert probes.oom_killed(again)["reason"] == "OOMKilled"


def test_oom_fixed():
    fixed = copy.deepcopy(OOM)
    c = fixed["spec"]["containers"][0]
    c.update(name="hog", command=["python3", "-c", probes.HOG_SCRIPT],
             resources={"requests": {"memory": "256Mi"}, "limits": {"memory": "256Mi"}})
    assert probes.oom_spec_problems(fixed) == []
    cs = fixed["status"]["containerStatuses"][0]
    old_run = cs["state"]["terminated"]
    cs.update(name="hog", lastState={"terminated": old_run}, restartCount=1, containerID="containerd://run2",
              state={"running": {"startedAt": old_run["startedAt"]}})  # same second as the killed run
    # the spec asks for 256Mi, but the kubelet reports the old limit: no run to watch yet
    assert probes.running_with_limit(fixed) is None
    cs["resources"] = {"requests": {"memory": "256Mi"}, "limits": {"memory": "256Mi"}}
    run = probes.running_with_limit(fixed)
    assert run == "containerd://run2"
    # the old kill stays in lastState: it is not the watched run's
    assert probes.oom_problems(fixed, run) == []
    killed = copy.deepcopy(fixed)
    kcs = killed["status"]["containerStatuses"][0]
    kcs.update(restartCount=2, containerID="containerd://run3", state={"running": {"startedAt": "2026-11-23T19:33:20Z"}},
               lastState={"terminated": {**old_run, "containerID": run}})
    assert probes.run_outcome(killed, run)[0] == "terminated"
    assert "OOMKilled again with its new limit" in probes.oom_problems(killed, run)[0]
    assert "more than once" in probes.oom_problems(killed, old_run["containerID"])[0]
    waiting = copy.deepcopy(fixed)
    waiting["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    waiting["status"]["conditions"] = [{"type": "PodResizePending", "status": "True", "reason": "Infeasible",
                                        "message": "Node didn't have enough capacity: memory"}]
    assert probes.running_with_limit(waiting) is None
    assert probes.resize_pending(waiting).startswith("Infeasible")
    no_limit = copy.deepcopy(fixed)
    no_limit["spec"]["containers"][0]["resources"] = {}
    assert "has no memory limit" in probes.oom_spec_problems(no_limit)[0]
    # the limit raised, the request left as it was: the task asks for both
    low_request = copy.deepcopy(fixed)
    low_request["spec"]["containers"][0]["resources"]["requests"]["memory"] = "100Mi"
    assert probes.oom_spec_problems(low_request) == ["the memory request is 100Mi; the task asks for 256Mi"]


def test_kind_only_tasks_say_why():
    from kjlab.practice import registry

    kind_only = [t for t in registry.all_tasks() if t.topic == "pods" and not t.runs_on("kwok")]
    assert {t.id for t in kind_only} == {"pod-config-error", "probe-liveness", "probe-readiness", "probe-init",
                                         "probe-oom"}
    assert all("simulated kubelet" in t.kind_only_reason for t in kind_only)
