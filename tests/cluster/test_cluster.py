"""The lab cluster itself: nodes, versions, idempotent up, the CLI against it."""

import json
import subprocess
import sys

import pytest

from kjlab import cluster
from kjlab.cluster import tools
from kjlab.errors import KjlabError


def test_nodes_are_ready_and_report_the_pinned_version(lab):
    info = cluster.status(lab["context"])
    assert info["running"] and info["engine"] == "kwok"
    pinned = tools.kube_version()
    assert info["server_version"] == pinned
    workers = [n for n in info["nodes"] if n["role"] == "worker"]
    assert len(workers) == 2
    assert all(n["ready"] for n in info["nodes"])
    assert {n["version"] for n in info["nodes"]} == {pinned}


def test_second_up_is_a_quick_no_op(lab):
    messages = []
    info = cluster.up(engine="kwok", progress=messages.append)
    assert info["running"]
    assert any("already running" in m for m in messages)


def test_up_with_other_options_says_how_to_recreate(lab):
    with pytest.raises(KjlabError) as e:
        cluster.up(engine="kwok", workers=3, progress=None)
    assert "already running with" in e.value.message
    assert e.value.fix.startswith("kjlab down && kjlab up --engine kwok")


def _kjlab(*args):
    return subprocess.run([sys.executable, "-m", "kjlab.cli", *args], capture_output=True, text=True, timeout=60)


def test_cli_status_json(lab):
    out = _kjlab("status", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["context"] == lab["context"]
    assert len(info["nodes"]) == 3


def test_cli_kubectl_talks_to_the_lab_context(lab):
    out = _kjlab("kubectl", "get", "nodes", "-o", "name")
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.split()) == ["node/kjlab-control-plane", "node/kjlab-worker", "node/kjlab-worker2"]
    version = _kjlab("kubectl", "version", "-o", "json")
    data = json.loads(version.stdout)
    assert data["clientVersion"]["gitVersion"] == data["serverVersion"]["gitVersion"] == tools.kube_version()
