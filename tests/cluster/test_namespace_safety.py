"""A run never deletes a namespace kjlab did not make (issue: data loss with --namespace)."""

import os
import secrets
import subprocess
import sys
import threading

import pytest
from kubernetes import client

from kjlab.api import holders, kube, readers
from kjlab.actions import namespaces
from kjlab.runs import scenarios
from kjlab.errors import KjlabError


@pytest.fixture
def users_namespace(lab):
    """A namespace somebody made by hand, holding something they care about."""
    ctx = lab["context"]
    name = f"myproject-{secrets.token_hex(3)}"
    core = kube.core(ctx)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="payments"),
                                                               data={"keep": "me"}))
    yield name
    core.delete_namespace(name)


def _still_there(ctx, name):
    return kube.raw(kube.core(ctx).read_namespaced_config_map, "payments", name).get("data") == {"keep": "me"}


def test_a_run_refuses_a_namespace_kjlab_did_not_make(lab, users_namespace):
    ctx = lab["context"]
    with pytest.raises(KjlabError) as e:
        scenarios.run("failjob", fast=True, context=ctx, namespace=users_namespace, echo=False)
    assert e.value.message == (f"namespace '{users_namespace}' exists and kjlab did not create it, "
                               "so kjlab will not use or delete it")
    assert "choose another name" in e.value.fix
    for call in (namespaces.delete, namespaces.delete_and_clear, scenarios.fresh_namespace):
        with pytest.raises(KjlabError):
            call(ctx, users_namespace)
    with pytest.raises(KjlabError):
        namespaces.create(ctx, name=users_namespace)
    assert _still_there(ctx, users_namespace)
    assert readers.phase(kube.raw(kube.core(ctx).read_namespace, users_namespace)) == "Active"


@pytest.mark.parametrize("system", ["default", "kube-system", "kube-node-lease"])
def test_the_cli_refuses_system_namespaces_in_one_line(lab, system):
    proc = subprocess.run([sys.executable, "-m", "kjlab.cli", "scenario", "run", "failjob", "--fast",
                           "--namespace", system], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "KJLAB_CONTEXT": lab["context"]})
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"kjlab: refusing to use the system namespace '{system}'")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert readers.phase(kube.raw(kube.core(lab["context"]).read_namespace, system)) == "Active"


def test_the_cli_leaves_a_users_namespace_alone(lab, users_namespace):
    proc = subprocess.run([sys.executable, "-m", "kjlab.cli", "scenario", "run", "failjob", "--fast",
                           "--namespace", users_namespace], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "KJLAB_CONTEXT": lab["context"]})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"namespace '{users_namespace}' exists and kjlab did not create it" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _still_there(lab["context"], users_namespace)


def test_an_earlier_runs_namespace_is_replaced(lab):
    ctx = lab["context"]
    name = namespaces.create(ctx, prefix="test-rerun")
    first = readers.uid(kube.raw(kube.core(ctx).read_namespace, name))
    try:
        assert scenarios.fresh_namespace(ctx, name) == name
        again = kube.raw(kube.core(ctx).read_namespace, name)
        assert readers.uid(again) != first and namespaces.owned(again)
    finally:
        namespaces.delete(ctx, name)


def test_a_namespace_a_live_process_holds_is_refused_and_a_dead_ones_is_taken_over(lab):
    ctx = lab["context"]
    name = namespaces.create(ctx, prefix="test-held")
    core = kube.core(ctx)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        host = holders.me().split("/")[0]
        core.patch_namespace(name, {"metadata": {"annotations": {namespaces.HOLDER_ANNOTATION: f"{host}/{holder.pid}"}}})
        with pytest.raises(KjlabError) as e:
            namespaces.fresh(ctx, name, progress=None)
        assert e.value.message == f"namespace '{name}' is in use by another run (process {host}/{holder.pid})"
        assert readers.phase(kube.raw(core.read_namespace, name)) == "Active"
        holder.kill()
        holder.wait()
        assert namespaces.fresh(ctx, name, progress=None) == name  # the holder is gone: a leftover
        namespaces.release(name)
    finally:
        holder.kill()
        namespaces.delete(ctx, name)


def test_two_runs_in_one_process_never_share_a_namespace(lab):
    ctx = lab["context"]
    name = f"test-shared-{secrets.token_hex(2)}"
    started = threading.Event()
    results = {}

    def first():
        results["first"] = scenarios.run("failjob", fast=True, context=ctx, namespace=name, echo=False,
                                         on_start=lambda _recorder: started.set())

    t = threading.Thread(target=first)
    t.start()
    try:
        assert started.wait(60)
        with pytest.raises(KjlabError) as e:
            scenarios.run("failjob", fast=True, context=ctx, namespace=name, echo=False)
        assert "in use by another run in this process" in e.value.message
    finally:
        t.join(300)
    assert results["first"].outcome == "Failed" and results["first"].reason == "PodFailurePolicy"
