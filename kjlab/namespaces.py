"""One namespace per run, so runs never collide and cleanup is one delete."""

from __future__ import annotations

import secrets
import time

from kubernetes import client

from kjlab import kube, wait
from kjlab.cluster import registry
from kjlab.errors import KjlabError

MANAGED_BY = {"app.kubernetes.io/managed-by": "kjlab"}


def create(context: str, prefix: str = "kjlab", name: str | None = None) -> str:
    """Create (or reuse) a namespace; without ``name`` a fresh one ``<prefix>-<random>``."""
    name = name or f"{prefix}-{secrets.token_hex(3)}"
    body = client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=MANAGED_BY))
    try:
        kube.core(context).create_namespace(body)
    except client.ApiException as e:
        if e.status != 409:
            raise
    _wait_default_service_account(context, name)
    return name


def _wait_default_service_account(context: str, name: str, timeout: float = 15) -> None:
    """Pods are refused until the namespace's `default` ServiceAccount exists (admission); the
    service account controller creates it a moment after the namespace. kubectl users see that
    race as "serviceaccount default not found"; kjlab waits it out."""
    api = kube.core(context)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            api.read_namespaced_service_account("default", name)
            return
        except client.ApiException as e:
            if e.status != 404:
                raise
        time.sleep(0.1)
    raise KjlabError(f"namespace {name} has no default ServiceAccount after {timeout:.0f}s, so pods would be refused",
                     "check the controller manager: kjlab status, then kjlab doctor")


def delete(context: str, name: str, allow_context: str | None = None) -> None:
    """Delete a namespace and everything in it (guarded: only on a cluster kjlab created)."""
    registry.guard(context, f"delete namespace {name}", allow_context)
    try:
        kube.core(context).delete_namespace(name, propagation_policy="Background")
    except client.ApiException as e:
        if e.status != 404:
            raise


def delete_and_clear(context: str, name: str, timeout: float = 60, allow_context: str | None = None) -> None:
    """Delete a namespace and wait until its pods have left the nodes.

    A plain namespace delete returns at once while running pods linger for their grace period
    (30 s by default) -- long enough to sit on a node the next drain must evict, or, for a pod no
    controller owns, refuses to evict. The namespace goes first (it then refuses new pods, so no
    controller can replace them); its pods are then deleted with a 1 s grace, which the kubelet
    still honours (unlike a forced delete)."""
    delete(context, name, allow_context)
    core = kube.core(context)
    deadline = time.monotonic() + timeout
    # Listed again after the wait: a pod whose create was admitted just before the delete may land late.
    while pods := core.list_namespaced_pod(name).items:
        core.delete_collection_namespaced_pod(name, grace_period_seconds=1)
        left = [p.metadata.name for p in pods
                if not wait.gone(core.list_namespaced_pod, p.metadata.name, max(0.0, deadline - time.monotonic()),
                                 namespace=name, uid=p.metadata.uid)]
        if left:
            raise KjlabError(f"pods of namespace {name} still exist after {timeout:.0f}s: " + ", ".join(left),
                             f"look with `kjlab kubectl get pods -n {name} -o wide`")
