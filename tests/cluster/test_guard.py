"""The safety guard on a real cluster: destructive helpers refuse contexts kjlab did not create."""

import shutil
import subprocess

import pytest

from kjlab.actions import namespaces
from kjlab.api import readers
from kjlab.cluster import registry, tools
from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path


@pytest.fixture
def foreign_context(lab, tmp_path, monkeypatch):
    """A context named like somebody's production cluster (it points at the lab's API server)."""
    path = tmp_path / "kubeconfig"
    shutil.copy(kubeconfig_path(), path)
    kubectl = str(tools.kubectl_path())
    cluster_name = subprocess.run([kubectl, "--kubeconfig", str(path), "config", "view", "-o",
                                   f"jsonpath={{.contexts[?(@.name=='{lab['context']}')].context.cluster}}"],
                                  capture_output=True, text=True, check=True).stdout
    user = subprocess.run([kubectl, "--kubeconfig", str(path), "config", "view", "-o",
                           f"jsonpath={{.contexts[?(@.name=='{lab['context']}')].context.user}}"],
                          capture_output=True, text=True, check=True).stdout
    subprocess.run([kubectl, "--kubeconfig", str(path), "config", "set-context", "prod-eu-1",
                    f"--cluster={cluster_name}", f"--user={user}"], check=True, capture_output=True)
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KJLAB_ALLOW_CONTEXT", raising=False)
    return "prod-eu-1"


def test_guard_refuses_a_context_kjlab_did_not_create(foreign_context, monkeypatch):
    with pytest.raises(KjlabError) as e:  # creating a namespace there is refused too, before any request
        namespaces.create(foreign_context, prefix="guard")
    assert "refusing to create namespace guard-" in e.value.message and "context 'prod-eu-1'" in e.value.message
    monkeypatch.setenv(registry.ALLOW_ENV, foreign_context)  # made with the opt-in, to try the delete
    name = namespaces.create(foreign_context, prefix="guard")
    monkeypatch.delenv(registry.ALLOW_ENV)
    try:
        with pytest.raises(KjlabError) as e:
            namespaces.delete(foreign_context, name)
        assert "context 'prod-eu-1'" in e.value.message
        assert "KJLAB_ALLOW_CONTEXT=prod-eu-1" in e.value.fix
    finally:
        namespaces.delete(foreign_context, name, allow_context=foreign_context)


def test_guard_refuses_a_recorded_name_whose_cluster_lacks_the_marker(foreign_context, monkeypatch, tmp_path):
    # The state file says kjlab made "prod-eu-1", but the cluster's marker carries another uid:
    # the name was reused for a different cluster, so it is refused.
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path / "state"))
    registry.record(foreign_context, "kwok", {"workers": 2})
    assert not registry.is_lab_cluster(foreign_context)
    with pytest.raises(KjlabError):
        registry.guard(foreign_context, "drain node kjlab-worker")


def test_the_lab_context_passes(lab):
    assert registry.is_lab_cluster(lab["context"])
    registry.guard(lab["context"], "drain node kjlab-worker")


def test_an_opted_in_context_still_never_loses_a_namespace_kjlab_did_not_make(foreign_context, monkeypatch):
    # KJLAB_ALLOW_CONTEXT=prod-eu-1 lets kjlab act on that cluster, but --namespace payments (somebody's
    # namespace with a Secret in it) is still refused before anything in it is touched.
    from kubernetes import client

    from kjlab.api import kube
    from kjlab.runs import scenarios

    core = kube.core(foreign_context)
    name = "payments-" + foreign_context[-4:]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        core.create_namespaced_secret(name, client.V1Secret(metadata=client.V1ObjectMeta(name="db"),
                                                            string_data={"password": "x"}))
        monkeypatch.setenv("KJLAB_ALLOW_CONTEXT", foreign_context)
        with pytest.raises(KjlabError) as e:
            scenarios.run("failjob", fast=True, context=foreign_context, namespace=name, echo=False)
        assert e.value.message.startswith(f"namespace '{name}' exists and kjlab did not create it")
        assert not readers.deleting(kube.raw(core.read_namespaced_secret, "db", name))
    finally:
        core.delete_namespace(name)
