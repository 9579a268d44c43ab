"""Which clusters kjlab created, and the guard that keeps destructive calls off all others.

A cluster counts as kjlab's when both hold:
  * the per-user state file lists its kubeconfig context (written by `kjlab up`), and
  * the cluster itself carries the ConfigMap kube-system/kjlab-cluster with the same uid,
so a context name that now points somewhere else (a reused name, an edited kubeconfig) is
refused too. A learner can opt in to another cluster with KJLAB_ALLOW_CONTEXT=<context>.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from kubernetes import client, config

from kjlab.api import kube
from kjlab.errors import KjlabError
from kjlab.paths import state_dir

MARKER_NAMESPACE = "kube-system"
MARKER_NAME = "kjlab-cluster"
ALLOW_ENV = "KJLAB_ALLOW_CONTEXT"


def _file() -> Path:
    return state_dir() / "clusters.json"


def state_file() -> Path:
    """The record of the clusters kjlab created."""
    return _file()


def load() -> dict[str, dict]:
    try:
        return json.loads(_file().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _save(entries: dict[str, dict]) -> None:
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True))
    tmp.replace(path)


def record(context: str, engine: str, options: dict, cluster_id: str | None = None) -> dict:
    """Remember a cluster kjlab just created; returns its entry (with a fresh uid). ``cluster_id``:
    the uid of its kube-system namespace, which no one can delete -- it tells the cluster apart
    even when its marker ConfigMap was deleted."""
    entries = load()
    entry = {"engine": engine, "options": options, "uid": uuid.uuid4().hex, "created": time.time(),
             **({"cluster_id": cluster_id} if cluster_id else {})}
    entries[context] = entry
    _save(entries)
    return entry


def forget(context: str) -> None:
    entries = load()
    if entries.pop(context, None) is not None:
        _save(entries)


def entry(context: str) -> dict | None:
    return load().get(context)


def write_marker(context: str, uid: str, engine: str) -> None:
    body = {"metadata": {"name": MARKER_NAME, "labels": {"app.kubernetes.io/managed-by": "kjlab"}},
            "data": {"uid": uid, "engine": engine, "context": context}}
    api = kube.core(context)
    try:
        api.create_namespaced_config_map(MARKER_NAMESPACE, body)
    except client.ApiException as e:
        if e.status != 409:
            raise
        api.replace_namespaced_config_map(MARKER_NAME, MARKER_NAMESPACE, body)


def read_marker(context: str, timeout: float = 5) -> dict | None:
    try:
        return kube.get(context, f"/api/v1/namespaces/{MARKER_NAMESPACE}/configmaps/{MARKER_NAME}", timeout).get("data")
    except client.ApiException as e:
        if e.status == 404:
            return None
        raise


def _api_with(kubeconfig: dict) -> client.CoreV1Api:
    """A client from a kubeconfig given as a dict (an engine's own copy), its current (else first) context."""
    contexts = [c.get("name") for c in kubeconfig.get("contexts") or [] if isinstance(c, dict)]
    context = kubeconfig.get("current-context") or (contexts[0] if contexts else None)
    return client.CoreV1Api(config.new_client_from_config_dict(kubeconfig, context=context))


def read_marker_with(kubeconfig: dict) -> dict | None:
    """The marker's data read through an engine's own kubeconfig, not kjlab's file. Raises when the
    cluster does not answer."""
    try:
        return kube.raw(_api_with(kubeconfig).read_namespaced_config_map, MARKER_NAME, MARKER_NAMESPACE,
                        _request_timeout=5).get("data")
    except client.ApiException as e:
        if e.status == 404:
            return None
        raise


def cluster_id_with(kubeconfig: dict) -> str | None:
    """The kube-system namespace's uid read through an engine's own kubeconfig. Raises when the
    cluster does not answer."""
    return kube.raw(_api_with(kubeconfig).read_namespace, MARKER_NAMESPACE, _request_timeout=5)["metadata"]["uid"]


def same_cluster(known: dict, found_id: str | None) -> bool:
    """The cluster found is the one recorded (an older record without a cluster id cannot tell: yes)."""
    return not known.get("cluster_id") or found_id == known["cluster_id"]


def cluster_id(context: str) -> str | None:
    """The uid of the cluster's kube-system namespace (None when it cannot be read)."""
    try:
        api = client.CoreV1Api(kube.api_client(context, patient=False))
        return kube.raw(api.read_namespace, MARKER_NAMESPACE, _request_timeout=5)["metadata"]["uid"]
    except client.ApiException:
        return None


def _rewrite_lost_marker(context: str, known: dict) -> bool:
    """The marker is gone but the cluster is the one recorded (its kube-system uid): write it back."""
    if not known.get("cluster_id") or not same_cluster(known, cluster_id(context)):
        return False
    write_marker(context, known["uid"], known["engine"])
    return True


def is_lab_cluster(context: str) -> bool:
    """True when kjlab created the cluster this context points at (state file + in-cluster marker)."""
    known = entry(context)
    if known is None:
        return False
    try:
        marker = read_marker(context)
    except Exception:  # unreachable: nothing destructive can happen there anyway
        return False
    return bool(marker) and marker.get("uid") == known["uid"]


def guard(context: str, action: str, allow_context: str | None = None) -> None:
    """Refuse ``action`` (e.g. "drain node kjlab-worker") on a context kjlab did not create.

    The opt-in is explicit and names the context: ``allow_context=<context>`` or the
    environment variable KJLAB_ALLOW_CONTEXT=<context>.
    """
    allowed = allow_context or os.environ.get(ALLOW_ENV)
    if allowed and allowed == context:
        return
    known = entry(context)
    if known is not None:
        # kjlab made a cluster of this name: say what is wrong with it, not that it is somebody else's.
        try:
            marker = read_marker(context)
        except Exception as e:  # connection refused, timeout
            raise KjlabError(f"cannot {action}: the lab cluster ({context}) does not answer ({type(e).__name__})",
                             "kjlab status shows which component is down; kjlab up repairs it") from None
        if marker and marker.get("uid") == known["uid"]:
            return
        if not marker and _rewrite_lost_marker(context, known):
            return
        if not marker:
            raise KjlabError(f"refusing to {action} on context '{context}': its marker ConfigMap "
                             f"{MARKER_NAMESPACE}/{MARKER_NAME} is missing, so kjlab cannot tell it is its own",
                             "kjlab up (writes the marker again when the cluster is the one kjlab recorded)")
    raise KjlabError(
        f"refusing to {action} on context '{context}': kjlab did not create that cluster",
        f"use the lab cluster (`kjlab up`, context from `kjlab status`), or opt in for this "
        f"context only with {ALLOW_ENV}={context}",
    )
