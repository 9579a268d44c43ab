"""kjlab.ops against the real API: drain edge cases, status patches, validation errors."""

import threading
import time

import pytest
from kubernetes import client

from kjlab.api import kube, readers, wait
from kjlab.actions import ops
from kjlab.errors import KjlabError

NODE = "kjlab-worker2"


def forever_pod_spec(node=NODE, volumes=None):
    # No command: the simulated container runs until it is deleted.
    return client.V1PodSpec(
        node_selector={"kubernetes.io/hostname": node},
        containers=[client.V1Container(name="main", image="docker.io/library/bash:5")],
        volumes=volumes)


def replicaset(name, labels, node=NODE):
    return client.V1ReplicaSet(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ReplicaSetSpec(replicas=1, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels), spec=forever_pod_spec(node))))


def running(ctx, ns, selector):
    return wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", f"pods {selector} to run", timeout=30,
                    label_selector=selector)


@pytest.fixture
def uncordon_after(lab):
    yield
    for node in ("kjlab-worker", "kjlab-worker2", "kjlab-control-plane"):
        kube.core(lab["context"]).patch_node(node, {"spec": {"unschedulable": False}},
                                             _content_type=kube.STRATEGIC_MERGE)


def unschedulable(ctx, node):
    return readers.unschedulable(kube.raw(kube.core(ctx).read_node, node))


def test_drain_retries_while_a_pdb_says_no(lab, ns, uncordon_after, monkeypatch):
    ctx = lab["context"]
    client.AppsV1Api(kube.api_client(ctx)).create_namespaced_replica_set(ns, replicaset("guarded", {"app": "guarded"}))
    pod = running(ctx, ns, "app=guarded")
    client.PolicyV1Api(kube.api_client(ctx)).create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="keep-one"),
        spec=client.V1PodDisruptionBudgetSpec(min_available=1, selector=client.V1LabelSelector(match_labels={"app": "guarded"}))))
    # The PDB controller must have computed disruptionsAllowed=0 before the drain, or the first try may pass.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pdb = kube.raw(client.PolicyV1Api(kube.api_client(ctx)).read_namespaced_pod_disruption_budget, "keep-one", ns)
        status = pdb.get("status") or {}
        if status.get("observedGeneration") and status.get("currentHealthy") == 1 and status.get("disruptionsAllowed") == 0:
            break
        time.sleep(0.2)

    assert status.get("disruptionsAllowed") == 0, status

    # Lift the budget only once the drain has been told no (it sleeps before its retry).
    refused = threading.Event()

    class Clock:
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds):
            refused.set()
            time.sleep(seconds)

    monkeypatch.setattr(ops, "time", Clock)

    def lift_budget():
        if refused.wait(60):
            client.PolicyV1Api(kube.api_client(ctx)).delete_namespaced_pod_disruption_budget("keep-one", ns)

    lifter = threading.Thread(target=lift_budget, daemon=True)
    lifter.start()
    try:
        result = ops.drain(ctx, NODE, grace_period=0, timeout=60, echo=False)
    finally:
        refused.set()  # a drain that failed before its first retry must not leave the thread waiting
        lifter.join(10)
    assert result.retries >= 1
    assert f"{ns}/{readers.name(pod)}" in result.evicted
    assert unschedulable(ctx, NODE)


def test_daemonset_pods_refused_unless_ignored_and_the_cordon_is_undone(lab, ns, uncordon_after):
    ctx = lab["context"]
    apps = client.AppsV1Api(kube.api_client(ctx))
    labels = {"app": "agent"}
    apps.create_namespaced_daemon_set(ns, client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="agent"),
        spec=client.V1DaemonSetSpec(selector=client.V1LabelSelector(match_labels=labels),
                                    template=client.V1PodTemplateSpec(
                                        metadata=client.V1ObjectMeta(labels=labels),
                                        spec=client.V1PodSpec(containers=[client.V1Container(name="a", image="busybox")])))))
    # One per worker (the control plane's NoSchedule taint keeps it off), as on kind.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pods = kube.raw(kube.core(ctx).list_namespaced_pod, ns, label_selector="app=agent")["items"]
        if len([p for p in pods if readers.phase(p) == "Running"]) == 2:
            break
        time.sleep(0.3)
    assert sorted(readers.node_name(p) for p in pods) == ["kjlab-worker", "kjlab-worker2"]

    with pytest.raises(KjlabError) as e:
        ops.drain(ctx, NODE, ignore_daemonsets=False, echo=False)
    assert "managed by a DaemonSet (use --ignore-daemonsets)" in e.value.message
    assert not unschedulable(ctx, NODE)  # the cordon the failed drain made was undone

    result = ops.drain(ctx, NODE, ignore_daemonsets=True, grace_period=0, echo=False)
    assert any("DaemonSet-managed" in i for i in result.ignored)
    assert not any(p.startswith(f"{ns}/agent") for p in result.evicted)


def test_unmanaged_and_emptydir_pods_need_their_flags(lab, ns, uncordon_after):
    ctx = lab["context"]
    core = kube.core(ctx)
    core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="bare"), spec=forever_pod_spec()))
    running(ctx, ns, "")
    with pytest.raises(KjlabError) as e:
        ops.drain(ctx, NODE, echo=False)
    assert f"{ns}/bare is not managed by a controller (use --force)" in e.value.message
    assert not unschedulable(ctx, NODE)

    apps = client.AppsV1Api(kube.api_client(ctx))
    rs = replicaset("scratch", {"app": "scratch"})
    rs.spec.template.spec.volumes = [client.V1Volume(name="tmp", empty_dir=client.V1EmptyDirVolumeSource())]
    apps.create_namespaced_replica_set(ns, rs)
    running(ctx, ns, "app=scratch")
    with pytest.raises(KjlabError) as e:
        ops.drain(ctx, NODE, force=True, echo=False)
    assert "uses emptyDir storage (use --delete-emptydir-data)" in e.value.message

    result = ops.drain(ctx, NODE, force=True, delete_emptydir_data=True, grace_period=0, echo=False)
    assert f"{ns}/bare" in result.evicted


def test_a_drain_limited_to_a_namespace_leaves_the_same_labels_elsewhere(lab, ns, uncordon_after):
    """Lab 12 drains `app=web` in its own namespace: a practice task's `web` pods on the node (same
    label, another namespace) must be neither evicted nor counted (they were, before `namespace=`)."""
    from kjlab.actions import namespaces

    ctx = lab["context"]
    apps = client.AppsV1Api(kube.api_client(ctx))
    other = namespaces.create(ctx, prefix="test-other")
    try:
        for where in (ns, other):
            apps.create_namespaced_replica_set(where, replicaset("web", {"app": "web"}))
            running(ctx, where, "app=web")
        theirs = readers.name(kube.raw(kube.core(ctx).list_namespaced_pod, other, label_selector="app=web")["items"][0])
        result = ops.drain(ctx, NODE, grace_period=0, echo=False, pod_selector="app=web", namespace=ns)
        assert [p.split("/")[0] for p in result.evicted] == [ns], result.evicted
        left = kube.raw(kube.core(ctx).list_namespaced_pod, other, label_selector="app=web")["items"]
        assert [readers.name(p) for p in left if not readers.deleting(p)] == [theirs]
    finally:
        namespaces.delete_and_clear(ctx, other)


def test_drain_with_nothing_to_evict(lab, uncordon_after):
    result = ops.drain(lab["context"], "kjlab-control-plane", echo=False)
    assert result.evicted == [] and unschedulable(lab["context"], "kjlab-control-plane")


def test_drain_of_a_node_that_does_not_exist(lab):
    with pytest.raises(KjlabError) as e:
        ops.drain(lab["context"], "kjlab-worker9", echo=False)
    assert 'node "kjlab-worker9" does not exist' in e.value.message
    assert "kjlab-worker2" in e.value.message


def test_status_patch_keeps_the_other_conditions(lab, ns):
    ctx = lab["context"]
    core = kube.core(ctx)
    core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="stuck"), spec=client.V1PodSpec(
        restart_policy="Never", containers=[client.V1Container(name="main", image="non-existing-repo/x:1")])))
    wait.pod(ctx, ns, lambda p: readers.waiting_reason(p) == "ImagePullBackOff", "back-off", timeout=30, name="stuck")
    before = {c["type"] for c in readers.conditions(kube.raw(core.read_namespaced_pod, "stuck", ns))}
    ops.patch_pod_condition(ctx, ns, "stuck", "ConfigIssue", reason="NonExistingImage", echo=False)
    pod = kube.raw(core.read_namespaced_pod, "stuck", ns)
    after = {c["type"]: c for c in readers.conditions(pod)}
    assert before < set(after)
    assert after["ConfigIssue"]["status"] == "True" and after["ConfigIssue"]["reason"] == "NonExistingImage"
    assert after["ConfigIssue"].get("lastTransitionTime") is not None


@pytest.mark.parametrize("change,expected", [
    (lambda d: d["spec"]["template"]["spec"].update(restartPolicy="OnFailure"),
     'only "Never" is supported when podFailurePolicy is specified'),
    (lambda d: d["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"].update(values=[0, 42]),
     "must not be 0 for the In operator"),
    (lambda d: d["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"].update(values=[42, 1]),
     "must be ordered"),
    (lambda d: d["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"].update(containerName="app"),
     "must be one of the container or initContainer names in the pod template"),
])
def test_api_validation_errors_keep_the_apis_words(lab, ns, change, expected):
    from kjlab import examples

    doc = examples.render("failjob")
    change(doc)
    with pytest.raises(KjlabError) as e:
        ops.apply(lab["context"], ns, doc, echo=False)
    assert e.value.message.startswith('The Job "job-pod-failure-policy-failjob" is invalid: ')
    assert expected in e.value.message


def test_delete_and_clear_leaves_no_pod_of_the_namespace_on_any_node(lab):
    # A running pod keeps its node busy for its 30 s grace after a plain namespace delete; the next
    # drain would meet it. delete_and_clear returns only when the pods of the namespace are gone.
    from kjlab.actions import namespaces

    ctx = lab["context"]
    name = namespaces.create(ctx, prefix="test-clear")
    try:
        client.AppsV1Api(kube.api_client(ctx)).create_namespaced_replica_set(name, replicaset("kept", {"app": "kept"}))
        kube.core(ctx).create_namespaced_pod(name, client.V1Pod(metadata=client.V1ObjectMeta(name="alone"),
                                                                spec=forever_pod_spec()))
        running(ctx, name, "app=kept")
        wait.pod(ctx, name, lambda p: readers.phase(p) == "Running", "the unmanaged pod to run", timeout=30, name="alone")
        namespaces.delete_and_clear(ctx, name)
        assert kube.raw(kube.core(ctx).list_pod_for_all_namespaces, field_selector=f"metadata.namespace={name}")["items"] == []
    finally:
        namespaces.delete(ctx, name)


@pytest.mark.parametrize("change,field", [
    (lambda d: d["spec"].update(backofLimit=6), "spec.backofLimit"),
    (lambda d: d["spec"]["podFailurePolicy"]["rules"][0].update(onExitCode={"operator": "In", "values": [42]}),
     "spec.podFailurePolicy.rules[0].onExitCode"),
])
def test_a_misspelt_field_comes_back_in_the_apis_words(lab, ns, change, field):
    # Strict field validation on the server: the API names the unknown field, nothing is created.
    from kjlab import examples

    doc = examples.render("failjob")
    change(doc)
    with pytest.raises(KjlabError) as e:
        ops.apply(lab["context"], ns, doc, echo=False)
    assert f'unknown field "{field}"' in e.value.message
    assert "\n" not in e.value.message
    assert kube.raw(kube.batch(lab["context"]).list_namespaced_job, ns)["items"] == []


class Steps:
    """The steps an op adds to its recorder, as (action, target, detail, command)."""

    def __init__(self):
        self.steps = []

    def step(self, action, target, detail="", kubectl=""):
        self.steps.append((action, target, detail, kubectl))


def test_one_create_path_for_every_kind_a_lab_hands_it(lab, ns, capsys):
    # ops.create is the one create: a Deployment, a Service and a CronJob all come back as kubectl
    # prints them (<kind>.<group>/<name> created; the core group has none), recorded as "create" steps.
    ctx = lab["context"]
    labels = {"app": "web"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                               {"name": "main", "image": "docker.io/library/bash:5"}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": labels, "ports": [{"port": 80}]}}
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
               "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "restartPolicy": "Never", "containers": [{"name": "main", "image": "docker.io/library/bash:5"}]}}}}}}
    steps = Steps()
    ops.create(ctx, ns, deployment, recorder=steps)
    ops.create(ctx, ns, service, recorder=steps, shown_as=f"kubectl create -f web-service.yaml -n {ns}")
    ops.apply_cronjob(ctx, ns, cronjob, recorder=steps)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"$ kubectl create -f web.yaml -n {ns}", "deployment.apps/web created",
                       f"$ kubectl create -f web-service.yaml -n {ns}", "service/web created",
                       f"$ kubectl create -f nightly.yaml -n {ns}", "cronjob.batch/nightly created"]
    assert [s[:2] for s in steps.steps] == [("create", "deployment/web"), ("create", "service/web"),
                                            ("create", "cronjob/nightly")]
    assert readers.name(kube.raw(kube.core(ctx).read_namespaced_service, "web", ns)) == "web"
    # `kubectl create job --from=cronjob/...` goes the same way: its own command line, a Job the CronJob owns.
    job = ops.create_job_from_cronjob(ctx, ns, "nightly", "nightly-now", recorder=steps)
    assert capsys.readouterr().out.splitlines() == [
        f"$ kubectl create job nightly-now --from=cronjob/nightly -n {ns}", "job.batch/nightly-now created"]
    assert steps.steps[-1] == ("create", "job/nightly-now", "from cronjob/nightly",
                               f"kubectl create job nightly-now --from=cronjob/nightly -n {ns}")
    assert readers.meta(job)["ownerReferences"][0]["name"] == "nightly"
    # A second create of the same Deployment is refused in the API's words; no replace for a Deployment.
    with pytest.raises(KjlabError) as e:
        ops.create(ctx, ns, deployment, echo=False, replace=True)
    assert "already exists" in e.value.message


def test_create_replaces_a_job_and_applies_a_priority_class(lab, ns, capsys):
    from kjlab import examples

    ctx = lab["context"]
    first = ops.create(ctx, ns, examples.render("failjob"), echo=False)
    again = ops.create(ctx, ns, examples.render("failjob"), echo=False, replace=True)
    assert readers.meta(again)["uid"] != readers.meta(first)["uid"]
    name = f"{ns}-high"  # cluster-scoped: a name of this test's own, removed below
    pc = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name,
          "labels": {"kjlab.io/test": ns}}, "value": 1000}
    try:
        ops.apply_priority_class(ctx, pc)
        ops.apply_priority_class(ctx, pc)
        assert capsys.readouterr().out.splitlines() == [
            f"$ kubectl apply -f {name}.yaml", f"priorityclass.scheduling.k8s.io/{name} created",
            f"$ kubectl apply -f {name}.yaml", f"priorityclass.scheduling.k8s.io/{name} unchanged"]
        with pytest.raises(KjlabError) as e:
            ops.apply_priority_class(ctx, {**pc, "value": 2000}, echo=False)
        assert e.value.message == f"PriorityClass {name} already exists with value 1000"
    finally:
        ops.delete_priority_classes(ctx, f"kjlab.io/test={ns}", echo=False)
