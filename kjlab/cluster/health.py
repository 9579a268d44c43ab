"""Is the lab cluster whole? Every control-plane component, not only the API server, and the
marker the safety guard reads. `kjlab status`, `doctor`, `up` and every run ask here, so a dead
controller manager is named at once instead of a run waiting out its timeout."""

from __future__ import annotations

from dataclasses import dataclass

from kubernetes import client

from kjlab.api import holders, kube, readers
from kjlab.cluster import provider, registry
from kjlab.errors import KjlabError


def reachable(context: str) -> bool:
    """The API server behind ``context`` answers now (no retries)."""
    try:
        kube.version(context)
        return True
    except Exception:
        return False


@dataclass
class Problem:
    what: str
    fix: str
    repairable: bool = True   # `kjlab up` repairs it in place


def problems(context: str) -> list[Problem]:
    """What is wrong with the lab cluster behind ``context`` (empty: healthy). Only for clusters
    kjlab created; another context has no components kjlab could name."""
    known = registry.entry(context)
    if known is None:
        return []
    found = []
    if known.get("engine") in provider.PROVIDERS:
        dead = [name for name, alive in provider.get(known["engine"]).components().items() if not alive]
        if dead:
            found.append(Problem(f"not running: {', '.join(dead)}", "kjlab up (restarts them; the cluster's state is kept)"))
            if "kube-apiserver" in dead or "etcd" in dead:
                return found
    try:
        marker = registry.read_marker(context)
    except KjlabError as e:  # e.g. a broken kubeconfig
        return found + [Problem(e.message, e.fix or "kjlab doctor", repairable=False)]
    except Exception as e:  # connection refused, timeout: the API server does not answer
        found.append(Problem(f"the API server does not answer ({type(e).__name__})", "kjlab up"))
        return found
    if not marker:
        found.append(Problem("the marker ConfigMap kube-system/kjlab-cluster is missing, so every destructive "
                             "command refuses this cluster", "kjlab up (writes it again)"))
    elif marker.get("uid") != known["uid"]:
        found.append(Problem("the cluster's marker belongs to another kjlab cluster", "kjlab down && kjlab up",
                             repairable=False))
    for node, holder in stale_cordons(context):
        found.append(Problem(f"node {node} is cordoned by a kjlab drain that was killed before it finished ({holder}): "
                             "no new pod is scheduled there", "kjlab up (uncordons it)"))
    return found


def stale_cordons(context: str) -> list[tuple[str, str]]:
    """(node, holder) of each node a kjlab drain cordoned whose process is gone before the drain ended."""
    try:
        api = client.CoreV1Api(kube.api_client(context, patient=False))
        listing = kube.raw(api.list_node, _request_timeout=5)["items"]
    except Exception:
        return []
    found = []
    for node in listing:
        holder = readers.annotations(node).get(holders.DRAINING, "")
        if readers.unschedulable(node) and holders.gone(holder):
            found.append((readers.name(node), holder))
    return found


def describe(found: list[Problem]) -> str:
    return "; ".join(p.what for p in found)
