"""kjlab never destroys what it did not make (issue 31): an `up` that finds kjlab's kubeconfig gone,
broken, or its record lost keeps the cluster and the learner's objects in it; two `up` at once; the
config-issue controller in a namespace kjlab did not make; a node a killed drain left cordoned; a run
whose marker ConfigMap was deleted under it.

These tests break kjlab's own kubeconfig and record on purpose, so they run on a kwok cluster of this
module's own, in a state directory of its own: the session's cluster, and the other suites that share
its state directory (the kind suite reads the same clusters.json), never see the damage."""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

import pytest

from kjlab import cluster
from kjlab.actions import namespaces, ops
from kjlab.api import holders, kube, readers
from kjlab.cluster import registry
from kjlab.labs.config_issue import ConfigIssueController
from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path

KJLAB = [sys.executable, "-m", "kjlab.cli"]
NODE = "kjlab-worker2"


def _kjlab(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*KJLAB, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A kwok lab cluster of this module's own (2 workers, the defaults), in its own state directory."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KJLAB_STATE", str(tmp_path_factory.mktemp("data-safety") / "state"))
        mp.delenv("KJLAB_KUBECONFIG", raising=False)
        mp.setenv("KJLAB_CONTEXT", "kwok-kjlab")
        cluster.up(engine="kwok", progress=None)
        try:
            yield {"context": "kwok-kjlab"}
        finally:
            cluster.down(engine="kwok", progress=None)


@pytest.fixture
def users_secret(own):
    """A namespace and a Secret of the learner's own, made with the API (not by kjlab)."""
    context = own["context"]
    name = f"learners-{secrets.token_hex(3)}"
    core = kube.core(context)
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_secret(name, {"metadata": {"name": "keep-me"}, "stringData": {"a": "b"}})
    yield context, name
    core.delete_namespace(name)


def _secret_still_there(context: str, namespace: str) -> bool:
    return kube.raw(kube.core(context).read_namespaced_secret, "keep-me", namespace)["metadata"]["name"] == "keep-me"


@pytest.fixture
def kubeconfig_kept():
    """The test breaks kjlab's kubeconfig on purpose; whatever happens, the original comes back."""
    path = kubeconfig_path()
    saved = path.read_bytes()
    yield path
    if path.is_dir():
        shutil.rmtree(path)
    path.write_bytes(saved)
    os.chmod(path, 0o600)
    for aside in path.parent.glob(f"{path.name}.broken-*"):
        shutil.rmtree(aside) if aside.is_dir() else aside.unlink()


@pytest.mark.parametrize("damage", ["removed", "directory", "yaml-list"])
def test_up_writes_back_a_lost_kubeconfig_and_keeps_the_cluster(users_secret, kubeconfig_kept, damage):
    context, namespace = users_secret
    path = kubeconfig_kept
    uid_before = registry.cluster_id(context)
    path.unlink()
    if damage == "directory":
        path.mkdir()
    elif damage == "yaml-list":
        path.write_text("- not\n- a kubeconfig\n")
    up = _kjlab("up", "--engine", "kwok")
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"restored context {context}" in up.stdout, up.stdout
    assert "removing a half-created" not in up.stdout and "creating the lab cluster" not in up.stdout, up.stdout
    if damage != "removed":
        kept = list(path.parent.glob(f"{path.name}.broken-*"))
        assert kept and "kept as" in up.stdout, up.stdout
    assert registry.cluster_id(context) == uid_before  # the same cluster, not a new one
    assert _secret_still_there(context, namespace)
    assert registry.is_lab_cluster(context)


def test_up_refuses_to_delete_an_answering_cluster_whose_record_is_lost(users_secret):
    context, namespace = users_secret
    state = registry.state_file()
    saved = state.read_bytes()
    try:
        state.unlink()
        up = _kjlab("up", "--engine", "kwok")
    finally:
        state.write_bytes(saved)
    assert up.returncode == 1, up.stdout + up.stderr
    assert "kjlab never deletes a cluster that answers" in up.stderr and "Traceback" not in up.stderr, up.stderr
    assert _secret_still_there(context, namespace)


def test_two_ups_at_once_both_find_the_cluster(users_secret):
    context, namespace = users_secret
    procs = [subprocess.Popen([*KJLAB, "up", "--engine", "kwok"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert _secret_still_there(context, namespace)


def test_the_controller_refuses_a_namespace_kjlab_did_not_make_and_leaves_its_pods(users_secret):
    context, namespace = users_secret
    core = kube.core(context)
    core.create_namespaced_pod(namespace, {"metadata": {"name": "stuck"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "main", "image": "non-existing-repo/x:1"}]}})
    with pytest.raises(KjlabError) as e:
        ConfigIssueController(context, namespace, echo=False).start()
    assert f"in namespace '{namespace}': kjlab did not create it" in e.value.message
    cli = _kjlab("controller", "config-issue", "--namespace", "kube-system", timeout=60)
    assert cli.returncode == 1 and "system namespace 'kube-system'" in cli.stderr, cli.stderr
    time.sleep(1)
    pod = kube.raw(core.read_namespaced_pod, "stuck", namespace)
    assert not readers.deleting(pod) and not readers.condition(pod, "ConfigIssue")


def _cordon_in_a_process(context: str, draining: bool) -> subprocess.Popen:
    script = (f"from kjlab.actions import ops; ops.cordon({context!r}, {NODE!r}, echo=False, draining={draining}); "
              "print('cordoned', flush=True); import time; time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "cordoned"
    return proc


def test_a_node_a_killed_drain_left_cordoned_is_named_and_uncordoned_by_up(own):
    context = own["context"]
    proc = _cordon_in_a_process(context, draining=True)  # a drain's own cordon, as ops.drain makes it
    try:
        node = kube.raw(kube.core(context).read_node, NODE)
        assert readers.annotations(node)[holders.DRAINING].endswith(f"/{proc.pid}")
        status = _kjlab("status")
        assert f"node {NODE} is cordoned" not in status.stdout  # its drain still runs: not stale
        proc.send_signal(signal.SIGKILL)  # no chance to uncordon
        proc.wait()
        status = _kjlab("status")
        assert status.returncode == 1
        assert f"node {NODE} is cordoned by a kjlab drain that was killed before it finished" in status.stdout, status.stdout
        up = _kjlab("up", "--engine", "kwok")
        assert up.returncode == 0 and f"uncordoned node {NODE}" in up.stdout, up.stdout + up.stderr
        node = kube.raw(kube.core(context).read_node, NODE)
        assert not readers.unschedulable(node) and holders.DRAINING not in readers.annotations(node)
    finally:
        if proc.poll() is None:
            proc.kill()
        ops.uncordon(context, NODE, echo=False)


def test_a_cordon_made_on_purpose_stays_when_its_process_is_gone(own):
    context = own["context"]
    proc = _cordon_in_a_process(context, draining=False)
    try:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert f"node {NODE} is cordoned" not in _kjlab("status").stdout
        up = _kjlab("up", "--engine", "kwok")
        assert up.returncode == 0 and "uncordoned" not in up.stdout, up.stdout
        assert readers.unschedulable(kube.raw(kube.core(context).read_node, NODE))
    finally:
        ops.uncordon(context, NODE, echo=False)


def test_a_finished_drain_leaves_the_node_cordoned_without_its_name(own):
    context = own["context"]
    try:
        ops.drain(context, NODE, echo=False, pod_selector="kjlab-test=none")
        node = kube.raw(kube.core(context).read_node, NODE)
        assert readers.unschedulable(node) and holders.DRAINING not in readers.annotations(node)
    finally:
        ops.uncordon(context, NODE, echo=False)


def test_up_leaves_alone_another_cluster_found_under_the_lab_clusters_name(users_secret, kubeconfig_kept):
    context, namespace = users_secret
    state = registry.state_file()
    saved = state.read_bytes()
    entries = registry.load()
    if not entries[context].get("cluster_id"):
        pytest.skip("this cluster was created before kjlab recorded its kube-system uid")
    entries[context]["cluster_id"] = "00000000-not-this-cluster"
    kubeconfig = kubeconfig_kept.read_bytes()
    try:
        state.write_text(json.dumps(entries))
        kubeconfig_kept.unlink()
        up = _kjlab("up", "--engine", "kwok")
    finally:
        state.write_bytes(saved)
        kubeconfig_kept.write_bytes(kubeconfig)
    assert up.returncode == 1, up.stdout + up.stderr
    assert "is not the one kjlab created" in up.stderr and "Traceback" not in up.stderr, up.stderr
    assert _secret_still_there(context, namespace)


def test_a_run_whose_marker_was_deleted_still_cleans_up_its_namespace(own):
    context = own["context"]
    if not registry.entry(context).get("cluster_id"):
        pytest.skip("this cluster was created before kjlab recorded its kube-system uid: kjlab down && kjlab up")
    name = namespaces.create(context, prefix="test-marker")
    kube.core(context).delete_namespaced_config_map(registry.MARKER_NAME, registry.MARKER_NAMESPACE)
    namespaces.delete(context, name)  # the guard tells the cluster by its kube-system uid
    assert registry.read_marker(context), "the marker should be written back"
    ns = kube.raw(kube.core(context).list_namespace, field_selector=f"metadata.name={name}")["items"]
    assert not ns or readers.deleting(ns[0])
    assert not cluster.health.problems(context)


def test_two_ups_at_once_with_no_cluster_make_one_and_both_succeed(own, tmp_path):
    env = {**os.environ, "KJLAB_STATE": str(tmp_path / "state")}
    env.pop("KJLAB_KUBECONFIG", None)
    procs = [subprocess.Popen([*KJLAB, "up", "--engine", "kwok", "--workers", "1"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env) for _ in range(2)]
    try:
        outs = [p.communicate(timeout=300)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        assert sum("creating the lab cluster" in out for out in outs) == 1, outs
        assert any("waiting for kjlab up (pid" in out and "already running" in out for out in outs), outs
    finally:
        subprocess.run([*KJLAB, "down", "--engine", "kwok"], env=env, capture_output=True, timeout=300)
