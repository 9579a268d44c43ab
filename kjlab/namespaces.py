"""One namespace per run, so runs never collide and cleanup is one delete."""

from __future__ import annotations

import secrets
import time

from kubernetes import client

from kjlab import kube
from kjlab.cluster import registry

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


def delete(context: str, name: str, allow_context: str | None = None) -> None:
    """Delete a namespace and everything in it (guarded: only on a cluster kjlab created)."""
    registry.guard(context, f"delete namespace {name}", allow_context)
    try:
        kube.core(context).delete_namespace(name, propagation_policy="Background")
    except client.ApiException as e:
        if e.status != 404:
            raise
