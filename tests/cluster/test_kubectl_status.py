"""kjlab's STATUS column against the real kubectl, on live pods in several states."""

import subprocess

from kubernetes import client

from kjlab.api import kube, readers, wait
from kjlab.cluster import tools
from kjlab.paths import kubeconfig_path
from kjlab.api.printers import job_status, pod_status


def kubectl_status(ctx, ns, kind, name):
    out = subprocess.run([str(tools.kubectl_path()), "--kubeconfig", str(kubeconfig_path()), "--context", ctx,
                          "get", kind, name, "-n", ns, "--no-headers"], capture_output=True, text=True, check=True)
    return out.stdout.split()[2 if kind == "pod" else 1]


def stable_compare(ctx, ns, name):
    """Read the pod, ask kubectl, read again: compare only when nothing changed in between."""
    api = kube.core(ctx)
    for _ in range(20):
        before = kube.raw(api.read_namespaced_pod, name, ns)
        theirs = kubectl_status(ctx, ns, "pod", name)
        after = kube.raw(api.read_namespaced_pod, name, ns)
        if readers.resource_version(before) == readers.resource_version(after):
            return pod_status(after), theirs
    raise AssertionError("the pod kept changing")


def pod(name, script=None, image="docker.io/library/bash:5", restart="Never", finalizers=None):
    container = client.V1Container(name="main", image=image)
    if script:
        container.command, container.args = ["bash"], ["-c", script]
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, finalizers=finalizers),
                        spec=client.V1PodSpec(restart_policy=restart, containers=[container]))


def test_pod_status_matches_kubectl(lab, ns):
    ctx = lab["context"]
    api = kube.core(ctx)
    api.create_namespaced_pod(ns, pod("runs", "sleep 600"))
    api.create_namespaced_pod(ns, pod("ok", "exit 0"))
    api.create_namespaced_pod(ns, pod("bug", "exit 42"))
    api.create_namespaced_pod(ns, pod("pull", image="non-existing-repo/x:1"))
    api.create_namespaced_pod(ns, pod("crash", "sleep 1 && exit 2", restart="OnFailure"))
    api.create_namespaced_pod(ns, pod("held", "sleep 600", finalizers=["kjlab.io/test-hold"]))
    api.create_namespaced_pod(ns, pod("gone", image="non-existing-repo/x:1", finalizers=["kjlab.io/test-hold"]))

    expected = {"runs": "Running", "ok": "Completed", "bug": "Error", "pull": "ImagePullBackOff",
                "crash": "CrashLoopBackOff", "held": "Terminating", "gone": "ContainerStatusUnknown"}
    wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "held to run", timeout=30, name="held")
    wait.pod(ctx, ns, lambda p: readers.waiting_reason(p) == "ImagePullBackOff", "gone to back off",
             timeout=30, name="gone")
    api.delete_namespaced_pod("held", ns, grace_period_seconds=600)  # Terminating for the whole test
    api.delete_namespaced_pod("gone", ns)   # pending: Failed at once, kept by its finalizer
    for name, want in expected.items():
        wait.pod(ctx, ns, lambda p, want=want: pod_status(p) == want,
                 f"pod {name} to show {want}", timeout=40, name=name)
        ours, theirs = stable_compare(ctx, ns, name)
        assert ours == theirs, (name, ours, theirs)  # the same object, read twice at one resourceVersion
    for name in ("held", "gone"):
        api.patch_namespaced_pod(name, ns, {"metadata": {"finalizers": None}}, _content_type=kube.STRATEGIC_MERGE)


def test_job_status_matches_kubectl(lab, ns):
    from kjlab import examples
    from kjlab.actions import ops

    ctx = lab["context"]
    ops.apply(ctx, ns, examples.render("failjob", sleep=1), echo=False)
    job = wait.job(ctx, ns, "job-pod-failure-policy-failjob", lambda j: readers.is_true(j, "Failed"), "Failed", timeout=60)
    ours = job_status(job)
    assert ours == kubectl_status(ctx, ns, "job", "job-pod-failure-policy-failjob") == "Failed"
