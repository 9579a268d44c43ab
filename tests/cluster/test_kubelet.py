"""The simulated kubelet, seen through the real API server and controllers; with ``--engine kind`` the
same tests check the original: exit codes, sleeps, ErrImagePull -> ImagePullBackOff, eviction ->
DisruptionTarget and phase Failed, OnFailure restarts, Indexed branches."""


import time

import pytest
from kubernetes import client

from kjlab.api import kube, readers, wait
from kjlab.api.watch import follow

pytestmark = pytest.mark.engines("kwok", "kind")


def bash_pod(name, script, image="docker.io/library/bash:5", restart="Never"):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(restart_policy=restart, containers=[
            client.V1Container(name="main", image=image, command=["bash"], args=["-c", script])]))


def terminated(pod):
    return readers.terminated(pod) is not None


def ran_for(t) -> float:
    """Seconds between a terminated state's startedAt and finishedAt."""
    import datetime as dt

    started, finished = (dt.datetime.fromisoformat(t[k].replace("Z", "+00:00")) for k in ("startedAt", "finishedAt"))
    return (finished - started).total_seconds()


def test_job_sleep_then_exit_0_completes(lab, ns):
    ctx = lab["context"]
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="hello"),
        spec=client.V1JobSpec(backoff_limit=0, template=client.V1PodTemplateSpec(spec=bash_pod("x", "sleep 2 && exit 0").spec)))
    kube.batch(ctx).create_namespaced_job(ns, job)
    done = wait.job(ctx, ns, "hello", readers.finished, "the Job to finish", timeout=60)
    assert readers.is_true(done, "Complete"), readers.describe_job(done)
    assert readers.counter(done, "succeeded") == 1
    types = [c["type"] for c in readers.conditions(done)]
    assert types.index("SuccessCriteriaMet") < types.index("Complete")


@pytest.mark.parametrize("script,code,reason,phase", [
    ("exit 42", 42, "Error", "Failed"),
    ("echo hi && sleep 1 && exit 3", 3, "Error", "Failed"),
    ("sleep 1; exit 7", 7, "Error", "Failed"),
    ("sleep 1", 0, "Completed", "Succeeded"),
])
def test_exit_code_comes_from_the_script(lab, ns, script, code, reason, phase):
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, bash_pod("p", script))
    pod = wait.pod(ctx, ns, readers.ended, f"pod p ({script}) to end", timeout=30, name="p")
    t = readers.terminated(pod)
    assert (readers.phase(pod), t["exitCode"], t["reason"]) == (phase, code, reason)


def test_sleep_keeps_the_container_running_that_long(lab, ns):
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, bash_pod("p", "sleep 3 && exit 0"))
    running = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "pod p to run", timeout=20, name="p")
    assert readers.container_status(running)["ready"]
    done = wait.pod(ctx, ns, terminated, "pod p to end", timeout=20, name="p")
    ran = ran_for(readers.terminated(done))
    assert 2.5 <= ran <= 6, ran


def test_an_image_that_cannot_be_pulled(lab, ns):
    ctx = lab["context"]
    image = "non-existing-repo/non-existing-image:example"
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="p"), spec=client.V1PodSpec(
        restart_policy="Never", containers=[client.V1Container(name="main", image=image)]))
    kube.core(ctx).create_namespaced_pod(ns, pod)

    def waiting(reason):
        return lambda p: readers.waiting_in(p, reason)

    wait.pod(ctx, ns, waiting("ErrImagePull"), "ErrImagePull", timeout=20, name="p")
    backoff = wait.pod(ctx, ns, waiting("ImagePullBackOff"), "ImagePullBackOff", timeout=20, name="p")
    which, w = readers.state(backoff)
    # A v1.36 kubelet appends the pull error (`...": ErrImagePull: failed to pull and unpack ...`)
    assert which == "waiting" and w["message"].startswith(f'Back-off pulling image "{image}"'), w
    assert readers.phase(backoff) == "Pending"
    # the kubelet's event recorder writes asynchronously: the event may follow the status by a moment
    deadline = time.monotonic() + 10
    while True:
        events = kube.raw(kube.core(ctx).list_namespaced_event, ns, field_selector="involvedObject.name=p")["items"]
        if any(e["type"] == "Warning" and "ImagePullBackOff" in e["message"] for e in events) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert any(e["type"] == "Warning" and "ImagePullBackOff" in e["message"] for e in events), events


class PodWatch:
    """Every pod event in a namespace, collected from a watch started before the action under test."""

    def __init__(self, ctx, ns, until_deleted):
        import threading
        import time

        self.events = []
        self.until_deleted = until_deleted
        self._listed = threading.Event()
        changes = follow(kube.core(ctx).list_namespaced_pod, ns, deadline=time.monotonic() + 60, listed=self._listed)
        self._thread = threading.Thread(target=self._run, args=(changes,), daemon=True)
        self._thread.start()
        self._listed.wait(10)

    def _run(self, changes):
        for change in changes:
            if change.listed and not self._listed.is_set():
                continue  # the state before the action: only what happens after it is collected
            self.events.append((change.type, change.object))
            if change.type == "DELETED" and readers.name(change.object) == self.until_deleted:
                break

    def join(self, timeout=60):
        self._thread.join(timeout)


def test_eviction_gives_disruption_target_and_failed_and_the_job_controller_removes_the_finalizer(lab, ns):
    ctx = lab["context"]
    core, batch = kube.core(ctx), kube.batch(ctx)
    # With a pod failure policy the Job controller waits for the kubelet to set phase Failed before
    # it counts the pod and removes its finalizer. Without one it counts a terminating pod at once,
    # and on a real kubelet the pod is gone before the kubelet reports Failed (--engine kind).
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="evictme"),
        spec=client.V1JobSpec(backoff_limit=0, template=client.V1PodTemplateSpec(
            spec=bash_pod("x", "sleep 60 && exit 0").spec),
            pod_failure_policy=client.V1PodFailurePolicy(rules=[client.V1PodFailurePolicyRule(
                action="Count", on_pod_conditions=[client.V1PodFailurePolicyOnPodConditionsPattern(
                    type="DisruptionTarget", status="True")])])))
    batch.create_namespaced_job(ns, job)
    pod = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "the Job's pod to run", timeout=30,
                   label_selector="job-name=evictme")
    name = readers.name(pod)
    assert "batch.kubernetes.io/job-tracking" in readers.meta(pod)["finalizers"]

    events = PodWatch(ctx, ns, until_deleted=name)
    core.create_namespaced_pod_eviction(name, ns, client.V1Eviction(
        metadata=client.V1ObjectMeta(name=name, namespace=ns),
        delete_options=client.V1DeleteOptions(grace_period_seconds=0)))
    wait.pod_gone(ctx, ns, name, "the evicted pod to be removed", timeout=30)
    done = wait.job(ctx, ns, "evictme", lambda j: readers.counter(j, "failed") == 1, "the Job to count the failure",
                    timeout=30)
    events.join()
    assert readers.counter(done, "failed") == 1

    seen = [obj for _, obj in events.events if readers.name(obj) == name]
    failed = [p for p in seen if readers.phase(p) == "Failed"]
    assert failed, [readers.phase(p) for p in seen]
    first_failed = failed[0]
    # The simulated kubelet set Failed while the Job's finalizer still held the pod...
    assert "batch.kubernetes.io/job-tracking" in (readers.meta(first_failed).get("finalizers") or [])
    target = readers.condition(first_failed, "DisruptionTarget")
    assert (target["status"], target["reason"], target["message"]) == ("True", "EvictionByEvictionAPI", "Eviction API: evicting")
    assert readers.exit_code(first_failed) == 137
    # ...and the pod went away after the Job counted it. A pod with a finalizer cannot be
    # removed, and no kjlab Stage edits finalizers (tests/unit/test_stages.py), so the Job
    # controller removed it. (The DELETED event carries the last stored state, which still
    # lists the finalizer: the API server deletes instead of storing the emptied list.)
    kind, last = events.events[-1]
    assert kind == "DELETED" and readers.name(last) == name


def test_on_failure_restarts_the_container_in_the_same_pod(lab, ns):
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, bash_pod("p", "sleep 1 && exit 3", restart="OnFailure"))

    def crashlooping(p):
        return readers.waiting_reason(p) == "CrashLoopBackOff"

    crashed = wait.pod(ctx, ns, crashlooping, "CrashLoopBackOff", timeout=20, name="p")
    assert readers.phase(crashed) == "Running"  # the pod did not fail; its container did
    assert readers.restart_count(crashed) == 1 and readers.last_exit_code(crashed) == 3
    assert readers.state(crashed)[1]["message"].startswith("back-off 10s restarting failed container=main pod=p_")

    # The count goes up when the container starts again (real kubelet: 2 here, since it restarted
    # once at once before the first back-off; the simulated kubelet: still 1, see the README).
    again = wait.pod(ctx, ns, lambda p: readers.state(p)[0] == "running" and readers.restart_count(p) >= 1,
                     "the restart", timeout=30, name="p")
    assert readers.phase(again) == "Running"


@pytest.mark.parametrize("command,codes", [
    (["bash", "-c", 'if [ "$JOB_COMPLETION_INDEX" == 1 ]; then exit 42; else exit 0; fi'], {0: 0, 1: 42, 2: 0}),
    (["python3", "-c", "import os, sys\nindex = int(os.environ['JOB_COMPLETION_INDEX'])\n"
                       "if index == 1: sys.exit(42)\nsys.exit(3)"], {0: 3, 1: 42, 2: 3}),
    (["python3", "-c", "import os, sys\nindex = int(os.environ['JOB_COMPLETION_INDEX'])\n"
                       "if index == 1:\n    sys.exit(42)\n"], {0: 0, 1: 42, 2: 0}),
    (["python3", "-c", "import os, sys\nindex = int(os.environ['JOB_COMPLETION_INDEX'])\n"
                       "if index == 0:\n    sys.exit(1)\nelif index == 1:\n    sys.exit(42)\nelse:\n    sys.exit(0)"],
     {0: 1, 1: 42, 2: 0}),
], ids=["bash-one-line", "python-trailing-exit", "python-no-else", "python-elif-else"])
def test_indexed_job_exit_codes_follow_the_index_branch(lab, ns, command, codes):
    ctx = lab["context"]
    job = client.V1Job(metadata=client.V1ObjectMeta(name="idx"), spec=client.V1JobSpec(
        # backoffLimit leaves room for every index to end once: with 0, the first failure fails the Job, and
        # an index still running then is deleted (137) -- a race with what this test reads
        completions=3, parallelism=3, completion_mode="Indexed", backoff_limit=6,
        template=client.V1PodTemplateSpec(spec=client.V1PodSpec(restart_policy="Never", containers=[
            client.V1Container(name="main", image="python:3", command=command)]))))
    kube.batch(ctx).create_namespaced_job(ns, job)
    seen = {}

    def all_indexes_ended(_pod):
        for p in kube.raw(kube.core(ctx).list_namespaced_pod, ns, label_selector="job-name=idx")["items"]:
            if readers.terminated(p) is not None:
                seen.setdefault(int(readers.completion_index(p)), readers.exit_code(p))
        return set(seen) == set(codes)

    wait.pod(ctx, ns, all_indexes_ended, "every index to exit", timeout=30, label_selector="job-name=idx")
    assert seen == codes


def test_sleep_units_and_python_sleep(lab, ns):
    ctx = lab["context"]
    core = kube.core(ctx)
    core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="py"), spec=client.V1PodSpec(
        restart_policy="Never", containers=[client.V1Container(
            name="main", image="python:3", command=["python3", "-c", "import time, sys\ntime.sleep(2)\nsys.exit(5)"])])))
    core.create_namespaced_pod(ns, bash_pod("unit", "sleep 0.05m && exit 6"))  # 3 s
    for name, code, least in (("py", 5, 1.5), ("unit", 6, 2.5)):
        pod = wait.pod(ctx, ns, terminated, f"{name} to end", timeout=20, name=name)
        t = readers.terminated(pod)
        assert t["exitCode"] == code and ran_for(t) >= least, (name, t)
