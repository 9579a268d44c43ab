"""The kind engine's own lifecycle and bad inputs, on the real Docker engine. They take the kind
lab cluster down, so they run last (marker ``lifecycle``), after every other kind test.

  * an `up` killed half-way leaves a cluster kjlab began creating: the next `up` removes it first
  * `down` while a lab runs: it goes ahead and says in one line which Jobs it stops
  * `down` leaves no container or network of kjlab's own and keeps its images; `down --purge` removes
    them too (the offline build cache stays)
  * a kind cluster named kjlab that kjlab did not create: `up` refuses in one line, `down` leaves it
"""

import subprocess

import pytest
from kubernetes import client

from kjlab import cluster
from kjlab.api import kube
from kjlab.cluster import kind, registry
from kjlab.errors import KjlabError

pytestmark = pytest.mark.lifecycle
CONTEXT = "kind-kjlab"


@pytest.fixture(autouse=True)
def _only_a_cluster_this_run_started(lab):
    if not lab["started"]:
        pytest.skip("the kind cluster was not started by this test run; not tearing it down")


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True)


def test_up_removes_a_cluster_left_half_created_by_a_killed_up(lab):
    # What a killed `kjlab up` leaves: node containers, kjlab's "creating" mark, no registry entry, and no
    # marker ConfigMap (an `up` writes it last): a cluster that answers *with* the marker is never deleted.
    kube.core(CONTEXT).delete_namespaced_config_map(registry.MARKER_NAME, registry.MARKER_NAMESPACE)
    registry.forget(CONTEXT)
    kind._update_state(creating=True)
    assert kind.exists() and kind.creating()
    messages = []
    info = cluster.up(engine="kind", progress=messages.append)
    assert "removing a half-created lab cluster left by an earlier run" in messages
    assert info["running"] and len(info["nodes"]) == 3
    assert registry.is_lab_cluster(CONTEXT) and not kind.creating()


def test_a_kind_cluster_named_kjlab_that_kjlab_did_not_create_is_left_alone(lab):
    # The running cluster, with kjlab's records of it hidden, is exactly somebody else's kind
    # cluster named kjlab: node containers labelled io.x-k8s.kind.cluster=kjlab, nothing in kjlab's state.
    saved = registry.load()
    registry.forget(CONTEXT)
    kind._update_state(creating=False)
    try:
        with pytest.raises(KjlabError) as e:
            cluster.up(engine="kind", progress=None)
        assert "exists, but kjlab did not create it" in e.value.message and "\n" not in e.value.message
        assert "kind delete cluster --name kjlab" in e.value.fix
        messages = []
        assert cluster.down(engine="kind", progress=messages.append) == []
        assert "leaving the kind cluster 'kjlab' alone: kjlab did not create it" in messages
        assert len(kind.node_containers()) == 3
    finally:
        registry._save(saved)
    assert registry.is_lab_cluster(CONTEXT)


def test_down_while_a_lab_runs_says_what_it_stops(lab):
    from kjlab.actions import namespaces

    ns = namespaces.create(CONTEXT, prefix="busy")
    kube.batch(CONTEXT).create_namespaced_job(ns, client.V1Job(
        metadata=client.V1ObjectMeta(name="still-running"),
        spec=client.V1JobSpec(template=client.V1PodTemplateSpec(spec=client.V1PodSpec(
            restart_policy="Never", containers=[client.V1Container(
                name="main", image="docker.io/library/bash:5", command=["bash", "-c", "sleep 600"])])))))
    messages = []
    assert cluster.down(engine="kind", progress=messages.append) == [CONTEXT]
    stopping = [m for m in messages if m.startswith("stopping 1 Job(s) still running")]
    assert stopping and f"{ns}/still-running" in stopping[0] and "\n" not in stopping[0]
    # ...no container is left, and the images stay for the next up (issue 26: kind keeps them too)
    assert kind.node_containers() == []
    assert not any(m for m in messages if "Traceback" in m)
    node_image = kind.load_state().get("node_image") or kind.offline_node_image()
    kept = [m for m in messages if m.startswith("kept ") and "--purge removes them" in m]
    if kind.image_present(node_image):
        assert kept, messages
    # `down --purge` with the cluster gone: nothing of kjlab's is left in Docker
    purged = []
    assert cluster.down(engine="kind", progress=purged.append, purge=True) == []
    assert kind.local_build_images() == []
    assert any(m.startswith("removed ") and m.endswith(" freed") for m in purged) or not kept, purged
    assert any(m.startswith("kept the offline build cache") for m in purged) or not (kind.cache_dir() / "kind").exists()
    offline = kind.offline_node_image()
    assert not kind.image_present(offline)
    assert docker("network", "inspect", "kind").returncode != 0 or kind.load_state() == {}
    assert registry.entry(CONTEXT) is None and not kind._state_file().exists()
    kubeconfig = kind.kubeconfig_path().read_text() if kind.kubeconfig_path().exists() else ""
    assert f"name: {CONTEXT}" not in kubeconfig


