"""One namespace per run, so runs never collide and cleanup is one delete."""

from __future__ import annotations

import secrets

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
    return name


def delete(context: str, name: str, allow_context: str | None = None) -> None:
    """Delete a namespace and everything in it (guarded: only on a cluster kjlab created)."""
    registry.guard(context, f"delete namespace {name}", allow_context)
    try:
        kube.core(context).delete_namespace(name, propagation_policy="Background")
    except client.ApiException as e:
        if e.status != 404:
            raise
