"""A command outside the simulated kubelet's grammar is never given an invented outcome: in strict
mode (kjlab up's default) the container waits with reason NotSimulated, its message names the
command, and a Warning event says so and how to see the real thing. kwok only (on kind these
commands simply run)."""

import pytest
from kubernetes import client

from kjlab.api import kube, wait
from kjlab.cluster.kwok import grammar


@pytest.mark.parametrize("command", [
    ["perl", "-e", "exit 3"],
    ["bash", "-c", "exit $((40+2))"],
    ["python3", "-c", "1/0"],
])
def test_a_command_outside_the_grammar_waits_not_simulated(lab, ns, command):
    ctx = lab["context"]
    # Images kind preloads too (tests/unit/test_kind_config.py): the command, not the image, is the point.
    image = "docker.io/library/python:3" if command[0] == "python3" else "docker.io/library/bash:5"
    kube.core(ctx).create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="p"), spec=client.V1PodSpec(
        restart_policy="Never", containers=[client.V1Container(name="main", image=image, command=command)])))
    pod = wait.pod(ctx, ns, lambda p: bool((p.get("status") or {}).get("containerStatuses")),
                   "pod p to get a container status", timeout=30, name="p")
    waiting = pod["status"]["containerStatuses"][0]["state"].get("waiting") or {}
    assert pod["status"]["phase"] == "Pending" and waiting.get("reason") == "NotSimulated", pod["status"]
    assert grammar.script({"command": command}) in waiting["message"] and "--engine kind" in waiting["message"]
    events = kube.core(ctx).list_namespaced_event(ns, field_selector="involvedObject.name=p").items
    warning = [e for e in events if e.reason == "NotSimulated"]
    assert warning and warning[0].type == "Warning" and "kjlab up --engine kind" in warning[0].message
    # Deleting it ends it at once (nothing runs), Failed first as the kubelet does.
    kube.core(ctx).delete_namespaced_pod("p", ns)
    assert wait.gone(kube.core(ctx).list_namespaced_pod, "p", timeout=10, namespace=ns)
