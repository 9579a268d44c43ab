"""Runs side by side: a run's drain evicts only its own Job's pods, so another run -- or a pod a
lab left behind on the node -- neither blocks it nor changes its numbers."""

import threading

from kubernetes import client

from kjlab.api import kube, readers, wait
from kjlab.runs import scenarios


def _pods_created(result):
    return len({row["name"] for row in result.rows if row["kind"] == "pod"})


def test_a_leftover_unmanaged_pod_neither_blocks_the_drain_nor_is_evicted(lab, ns):
    ctx = lab["context"]
    core = kube.core(ctx)
    for node in ("kjlab-worker", "kjlab-worker2"):  # a bare pod on each worker: kubectl drain would refuse it
        core.create_namespaced_pod(ns, client.V1Pod(
            metadata=client.V1ObjectMeta(name=f"left-{node}"),
            spec=client.V1PodSpec(node_name=node, containers=[client.V1Container(
                name="c", image="docker.io/library/bash:5", command=["bash", "-c", "sleep 3600"])])))
    for node in ("kjlab-worker", "kjlab-worker2"):
        wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "the leftover pod to run", timeout=30,
                 name=f"left-{node}")
    r = scenarios.run("ignore", fast=True, context=ctx, namespace=f"{ns}-run", echo=False)
    assert (r.outcome, r.succeeded, r.failed) == ("Complete", 4, 0)
    assert r.drain.evicted and all(name.startswith("job-pod-failure-policy-ignore") for name in r.drain.evicted)
    left = {readers.name(p): p for p in kube.raw(core.list_namespaced_pod, ns)["items"]}
    assert set(left) == {"left-kjlab-worker", "left-kjlab-worker2"}
    assert not any(readers.deleting(p) for p in left.values())


def test_concurrent_ignore_runs_never_evict_each_others_pods(lab):
    ctx = lab["context"]
    results, errors = {}, []

    def run(name):
        try:
            results[name] = scenarios.run("ignore", fast=True, context=ctx, namespace=name, echo=False)
        except BaseException as e:  # reported below
            errors.append(e)

    names = ["test-side-by-side-a", "test-side-by-side-b"]
    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors
    for name in names:
        r = results[name]
        assert (r.outcome, r.succeeded, r.failed) == ("Complete", 4, 0), r.headline()
        evicted = r.drain.evicted
        assert evicted
        # 4 completions plus one replacement per evicted pod of its own: nothing of the other run's.
        assert _pods_created(r) == 4 + len(evicted), r.headline()
