"""FIDELITY.md's UNCONFIRMED line, answered by the real kubelet: the exit code of a running
`bash -c "sleep ... && exit 0"` container (bash as PID 1, no trap) after `kubectl drain
--grace-period=0`, and what the pod looks like then."""

from kubernetes import client

from kind_reuse import load
from kjlab.api import kube, readers, wait
from kjlab.actions import ops

_kubelet = load("cluster/test_kubelet.py")
PodWatch, bash_pod = _kubelet.PodWatch, _kubelet.bash_pod

# The answer measured on kind v0.33.0 / Kubernetes v1.36.4 (kubelet + containerd 2.x): the API
# server stores grace 0 for the Eviction, the kubelet raises it to its 2 s minimum, sends SIGTERM,
# which bash as PID 1 does not handle, then SIGKILL: 128 + 9.
EXIT_AFTER_GRACE_0_DRAIN = 137


def test_exit_code_after_a_grace_period_0_drain(lab, ns):
    ctx = lab["context"]
    # The ignore example's rule: with a pod failure policy the Job controller waits for the kubelet
    # to report the pod Failed (with its container's exit code) before it lets the pod go.
    job = client.V1Job(metadata=client.V1ObjectMeta(name="drainme"), spec=client.V1JobSpec(
        backoff_limit=0, template=client.V1PodTemplateSpec(spec=bash_pod("x", "sleep 120 && exit 0").spec),
        pod_failure_policy=client.V1PodFailurePolicy(rules=[client.V1PodFailurePolicyRule(
            action="Ignore", on_pod_conditions=[client.V1PodFailurePolicyOnPodConditionsPattern(
                type="DisruptionTarget", status="True")])])))
    kube.batch(ctx).create_namespaced_job(ns, job)
    pod = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "the Job's pod to run", timeout=60,
                   label_selector="job-name=drainme")
    name, node = readers.name(pod), readers.node_name(pod)
    events = PodWatch(ctx, ns, until_deleted=name)
    try:
        ops.drain(ctx, node, ignore_daemonsets=True, grace_period=0, echo=False)
    finally:
        ops.uncordon(ctx, node, echo=False)
    events.join(timeout=60)
    seen = [obj for _, obj in events.events if readers.name(obj) == name]
    failed = [p for p in seen if readers.phase(p) == "Failed"]
    assert failed, [readers.phase(p) for p in seen]
    last = failed[-1]
    term = readers.terminated(last)
    target = readers.condition(last, "DisruptionTarget")
    print(f"after a --grace-period=0 drain: exit code {term['exitCode']}, reason {term.get('reason')}, "
          f"phase {readers.phase(last)}, DisruptionTarget {target.get('reason')}")
    assert term["exitCode"] == EXIT_AFTER_GRACE_0_DRAIN, (term["exitCode"], term.get("reason"), term.get("message"))
    assert target["reason"] == "EvictionByEvictionAPI"


def test_without_a_policy_the_evicted_pod_is_gone_before_the_kubelet_reports_it(lab, ns):
    """Real behaviour the simulated kubelet does not copy: without a pod failure policy the Job
    controller counts a terminating pod as failed at once and removes its finalizer, so a pod
    evicted with grace 0 is deleted while its last recorded phase is still Running."""
    ctx = lab["context"]
    job = client.V1Job(metadata=client.V1ObjectMeta(name="nopolicy"), spec=client.V1JobSpec(
        backoff_limit=0, template=client.V1PodTemplateSpec(spec=bash_pod("x", "sleep 120 && exit 0").spec)))
    kube.batch(ctx).create_namespaced_job(ns, job)
    pod = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "the Job's pod to run", timeout=60,
                   label_selector="job-name=nopolicy")
    name = readers.name(pod)
    events = PodWatch(ctx, ns, until_deleted=name)
    kube.core(ctx).create_namespaced_pod_eviction(name, ns, {
        "metadata": {"name": name, "namespace": ns}, "deleteOptions": {"gracePeriodSeconds": 0}})
    events.join(timeout=60)
    done = wait.job(ctx, ns, "nopolicy", lambda j: readers.counter(j, "failed") == 1, "the Job to count the failure",
                    timeout=30)
    assert readers.counter(done, "failed") == 1
    phases = [readers.phase(obj) for _, obj in events.events if readers.name(obj) == name]
    assert phases and phases[-1] == "Running" and "Failed" not in phases, phases
