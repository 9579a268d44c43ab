"""A kubelet writes status.containerStatuses sorted by container name (pkg/kubelet/kubelet_pods.go
convertToAPIContainerStatuses: sort.Sort(kubetypes.SortedContainerStatuses), pkg/kubelet/types/types.go)
and initContainerStatuses in the spec's order (SortStatusesOfInitContainers), so
`kubectl get pod -o jsonpath='{.status.containerStatuses[0].name}'` names the first container by name,
not the first in the spec. The Ready condition lists unready containers in the spec's order
(pkg/kubelet/status/generate.go). Found on kind (issue 25): the simulated kubelet wrote spec order."""

from kubernetes import watch as k8s_watch

from kjlab.api import kube

BASH = "docker.io/library/bash:5"
# spec orders that differ from name order, for both kinds of container
CONTAINERS = ["main", "long"]
INITS = ["setup", "config"]


def _states(statuses) -> str:
    """`name:state` of each status, in the order the pod's status lists them."""
    def one(cs):
        st = cs.state
        return "terminated" if st.terminated else "waiting" if st.waiting else "running"
    return " ".join(f"{cs.name}:{one(cs)}" for cs in statuses or [])


def test_container_statuses_are_in_name_order_init_statuses_in_spec_order(lab, ns):
    ctx = lab["context"]
    core = kube.core(ctx)
    created = core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 2,
        "initContainers": [{"name": n, "image": BASH, "command": ["sh", "-c", "echo init done; touch /tmp/ready"]}
                           for n in INITS],
        "containers": [{"name": "main", "image": BASH, "command": ["sh", "-c", "sleep 1; exit 3"]},
                       {"name": "long", "image": BASH, "command": ["sleep", "4"]}]}})
    seen, inits, unready = [], set(), set()
    stream = k8s_watch.Watch()
    # every status the pod passes through, from its creation until it ends (about 5 s)
    for event in stream.stream(core.list_namespaced_pod, ns, field_selector="metadata.name=p",
                               resource_version=created.metadata.resource_version, timeout_seconds=40):
        status = event["object"].status
        now = _states(status.container_statuses)
        if now and (not seen or seen[-1] != now):
            seen.append(now)
        if status.init_container_statuses:
            inits.add(tuple(cs.name for cs in status.init_container_statuses))
        unready |= {c.message for c in status.conditions or [] if c.type == "ContainersReady" and c.message}
        if status.phase in ("Succeeded", "Failed"):
            stream.stop()
    assert sorted(CONTAINERS) != CONTAINERS and list(reversed(INITS)) == sorted(INITS)  # the test can fail
    # creating, both running, main ended while long runs, both ended: each in name order
    assert seen == ["long:waiting main:waiting", "long:running main:running", "long:running main:terminated",
                    "long:terminated main:terminated"], seen
    assert inits == {tuple(INITS)}, inits
    assert "containers with unready status: [main long]" in unready, unready


def test_unready_containers_are_listed_in_spec_order_when_they_end(lab, ns):
    """Two containers that end while a third runs: ContainersNotReady names them in the spec's order
    (status/generate.go ranges over pod.Spec.Containers), although their statuses are by name."""
    ctx = lab["context"]
    core = kube.core(ctx)
    created = core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 2, "containers": [
            {"name": "zeta", "image": BASH, "command": ["sh", "-c", "sleep 1; exit 1"]},
            {"name": "alpha", "image": BASH, "command": ["sh", "-c", "sleep 1; exit 1"]},
            {"name": "keep", "image": BASH, "command": ["sleep", "600"]}]}})
    messages, order = [], None
    stream = k8s_watch.Watch()
    # until both short ones are out (ended, or waiting out their back-off) while keep runs
    for event in stream.stream(core.list_namespaced_pod, ns, field_selector="metadata.name=p",
                               resource_version=created.metadata.resource_version, timeout_seconds=40):
        status = event["object"].status
        ready = {c.type: c for c in status.conditions or []}.get("ContainersReady")
        if ready is not None and ready.message and "keep" not in ready.message and "alpha" in ready.message \
                and "zeta" in ready.message:
            messages.append(ready.message)
            order = [cs.name for cs in status.container_statuses or []]
            stream.stop()
    assert messages == ["containers with unready status: [zeta alpha]"] and order == ["alpha", "keep", "zeta"], \
        (messages, order)
