"""Is the lab cluster whole? Every control-plane component, not only the API server, and the
marker the safety guard reads. `kjlab status`, `doctor`, `up` and every run ask here, so a dead
controller manager is named at once instead of a run waiting out its timeout."""

from __future__ import annotations

from dataclasses import dataclass


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
    blocks_reads: bool = False  # the API server cannot answer reads now (status lists no nodes)


# `kjlab status` answers within 5 s whatever is stopped or dead: the process table first (no
# request), then one request with a short timeout that names etcd.
READY_TIMEOUT = 3.0


def problems(context: str) -> list[Problem]:
    """What is wrong with the lab cluster behind ``context`` (empty: healthy), each naming the
    component. Only for clusters kjlab created; another context has no components kjlab could name."""
    known = registry.entry(context)
    if known is None:
        return []
    found = []
    engine = provider.get(known["engine"]) if known.get("engine") in provider.PROVIDERS else None
    if engine is not None:
        dead = [name for name, alive in engine.components().items() if not alive]
        if dead:
            found.append(Problem(f"not running: {', '.join(dead)}", "kjlab up (restarts them; the cluster's state is kept)"))
        held = engine.stopped()
        if held:
            found.append(Problem(f"stopped (SIGSTOP or a debugger), so it answers nothing: "
                                 f"{', '.join(f'{name} (pid {pid})' for name, pid in held.items())}",
                                 f"kill -CONT {' '.join(str(pid) for pid in held.values())}  (resumes it)",
                                 repairable=False))
        if {"kube-apiserver", "etcd"} & (set(dead) | set(held)):
            for problem in found:
                problem.blocks_reads = True
            return found
    not_ready = readiness(context)
    if not_ready:
        return found + [not_ready]
    try:
        marker = registry.read_marker(context, timeout=READY_TIMEOUT)
    except KjlabError as e:  # e.g. a broken kubeconfig
        return found + [Problem(e.message, e.fix or "kjlab doctor", repairable=False)]
    except Exception as e:  # connection refused, timeout: the API server does not answer
        found.append(Problem(f"the API server does not answer ({type(e).__name__})", "kjlab up", blocks_reads=True))
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
    if engine is not None and "kwok-controller" not in dead:
        try:
            stale = engine.stale_node_leases(context)
        except Exception:  # a read that timed out: the checks above speak for the API server
            stale = []
        if stale:
            found.append(Problem(f"the node lease of {', '.join(node for node, _ in stale)} is still held by a "
                                 f"kwok-controller that died ({stale[0][1]}): no pod runs there until it expires",
                                 "kjlab up (hands the nodes to the running kwok-controller)"))
    return found


def readiness(context: str, timeout: float = READY_TIMEOUT) -> Problem | None:
    """The API server's own readiness checks (GET /readyz?verbose), or a Problem naming what fails.
    The API server bounds its etcd check by itself (--etcd-readycheck-timeout, 2 s by default:
    k8s.io/apiserver v0.36.4 pkg/server/options/etcd.go, pkg/storage/storagebackend/config.go
    DefaultReadinessTimeout), so a stopped or hung etcd is named here in about 2 s, where a list
    would wait out its own timeout. Its liveness check of etcd (`etcd`, the same 2 s, run one after
    the other) is excluded: the readiness one says the same. It probes etcd at most once a second
    and answers the last result in between (factory/etcd3.go newETCD3Check): an etcd stopped within
    the last second may still read as ready."""
    try:
        api = kube.api_client(context, patient=False)
        method, url, headers, _body, _post = api.param_serialize(
            method="GET", resource_path="/readyz", query_params=[("verbose", "true"), ("exclude", "etcd")],
            header_params={"Accept": "text/plain"}, auth_settings=["BearerToken"])
        response = api.call_api(method, url, header_params=headers, _request_timeout=timeout)
        response.read()
    except KjlabError:
        raise
    except Exception as e:  # refused, reset, timed out
        return Problem(f"the API server (kube-apiserver) does not answer within {timeout:.0f} s ({type(e).__name__})",
                       "kjlab up (restarts what died), or kjlab doctor", blocks_reads=True)
    if response.status == 200:
        return None
    text = response.data.decode(errors="replace") if isinstance(response.data, bytes) else str(response.data)
    failing = [line[3:].split(":")[0].replace(" failed", "") for line in text.splitlines() if line.startswith("[-]")]
    if any(check.startswith("etcd") for check in failing):
        return Problem(f"etcd does not answer the API server (its readiness check: {', '.join(failing)} failed)",
                       "kjlab up (restarts etcd when it died), or kjlab doctor", blocks_reads=True)
    return Problem(f"the API server is not ready ({', '.join(failing) or f'HTTP {response.status}'} failed)",
                   "wait a few seconds, or kjlab up", blocks_reads=True)


def stale_cordons(context: str) -> list[tuple[str, str]]:
    """(node, holder) of each node a kjlab drain cordoned whose process is gone before the drain ended."""
    try:
        listing = kube.get(context, "/api/v1/nodes", READY_TIMEOUT)["items"]
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
