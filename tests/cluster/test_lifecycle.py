"""up/down from the outside: nothing left behind, a half-created cluster recovered, the time scale.

These tests tear the session's cluster down, so conftest.py runs them after every other test.
"""

import os
import socket
import subprocess
import time

import pytest
import yaml
from kubernetes import client

from kjlab import cluster
from kjlab.api import kube, readers, wait
from kjlab.actions import namespaces
from kjlab.cluster import kwok, registry, tools
from kjlab.paths import kubeconfig_path

pytestmark = pytest.mark.lifecycle


def _contexts():
    try:
        config = yaml.safe_load(kubeconfig_path().read_text()) or {}
    except FileNotFoundError:
        return []
    return [c["name"] for c in config.get("contexts") or []]


def _port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _api_port(context):
    host = kube.api_client(context).configuration.host
    return int(host.rsplit(":", 1)[1])


def test_down_leaves_nothing_behind(lab):
    if not lab["started"]:
        pytest.skip("the cluster was not started by this test session; not tearing it down")
    context = lab["context"]
    pids = kwok.pids()
    port = _api_port(context)
    assert len(pids) == len(kwok.COMPONENTS) and _port_open(port)  # etcd, apiserver, controllers, kwok, log endpoint

    cluster.down(engine="kwok", progress=None)

    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{p}") for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if os.path.exists(f"/proc/{p}")]
    assert not _port_open(port)
    assert context not in _contexts()
    assert not kwok.kwok_root().exists()
    assert registry.entry(context) is None


def test_up_recovers_a_half_created_cluster_and_scales_time(lab):
    if not lab["started"]:
        pytest.skip("the cluster was not started by this test session")
    # A killed `up` leaves kwokctl's state without kjlab's record: simulate it with kwokctl itself.
    bindir = tools.bin_dir()
    config = kwok.kwokctl_config(bindir, 1.0)
    path = kwok.kwok_root().parent / "half.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config)
    subprocess.run([str(bindir / "kwokctl"), "create", "cluster", "--name", "kjlab", "--config", str(path),
                    "--kubeconfig", str(kubeconfig_path())], env=kwok._env(bindir), check=True, capture_output=True)
    path.unlink()
    assert kwok.exists() and registry.entry(lab["context"]) is None

    messages = []
    info = cluster.up(engine="kwok", time_scale=0.1, progress=messages.append)
    assert any("half-created" in m for m in messages)
    assert info["running"] and info["options"]["time_scale"] == 0.1

    ctx = lab["context"]
    ns = namespaces.create(ctx, prefix="scale")
    kube.core(ctx).create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        spec=client.V1PodSpec(restart_policy="Never", containers=[client.V1Container(
            name="main", image="bash:5", command=["bash", "-c"], args=["sleep 30 && exit 0"])])))
    import datetime as dt

    pod = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Succeeded", "the scaled pod to finish", timeout=20, name="p")
    t = readers.terminated(pod)
    ran = (dt.datetime.fromisoformat(t["finishedAt"]) - dt.datetime.fromisoformat(t["startedAt"])).total_seconds()
    assert ran <= 6, f"sleep 30 at time scale 0.1 ran {ran}s"
    cluster.down(engine="kwok", progress=None)
