"""The lab cluster: ``up``, ``down``, ``status``, ``doctor`` across the kind and kwok engines.

Both engines run the real Kubernetes v1.36 control plane; kwok simulates only the kubelet.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time

import yaml

from kjlab.api import holders, kube, readers
from kjlab.api.watch import SYNCED, follow
from kjlab.cluster import health, kubeconfigs, nodes, provider, registry
from kjlab.cluster.engine import decide
from kjlab.cluster.names import CLUSTER_NAME, ENGINES, context_for
from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path, state_dir

__all__ = ["up", "down", "status", "lab_context", "CLUSTER_NAME", "ENGINES"]

CONTEXT_ENV = "KJLAB_CONTEXT"


def _say(progress, message: str) -> None:
    if progress:
        progress(message)


def lab_context() -> str:
    """The context labs use: $KJLAB_CONTEXT, else the lab cluster kjlab created most recently."""
    if os.environ.get(CONTEXT_ENV):
        return os.environ[CONTEXT_ENV]
    entries = registry.load()
    ours = [(e.get("created", 0), ctx) for ctx, e in entries.items() if ctx in {context_for(n) for n in ENGINES}]
    if not ours:
        raise KjlabError("there is no lab cluster yet", "kjlab up")
    return max(ours)[1]


def reachable(context: str) -> bool:
    """The API server behind ``context`` answers now."""
    return health.reachable(context)


@contextlib.contextmanager
def _one_at_a_time(what: str, progress):
    """`up` and `down` of one state directory run one at a time: a second `kjlab up` started
    meanwhile waits (and says so), then finds the cluster the first one made, instead of both
    deleting each other's half-made cluster."""
    path = state_dir() / "up.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            _say(progress, f"waiting for {holder} to finish before this {what} (one at a time)")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"kjlab {what} (pid {os.getpid()})".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def up(engine: str = "auto", workers: int = 2, time_scale: float = 1.0, progress=print, strict: bool = True) -> dict:
    """Create the lab cluster (or report the running one) and return its status.

    ``time_scale`` (kwok only) multiplies every simulated sleep and grace period: 0.1 makes a
    `sleep 30` container run for 3 s. It is a simulation setting: the control plane's own
    timings (back-off, deadlines) are never scaled.
    """
    progress = progress or (lambda _message: None)
    with _one_at_a_time("up", progress):
        return _up(engine, workers, time_scale, progress, strict)


def _up(engine: str, workers: int, time_scale: float, progress, strict: bool) -> dict:
    if not 1 <= workers <= 10:
        raise KjlabError(f"--workers must be between 1 and 10, got {workers}", "kjlab up --workers 2")
    if not 0 < time_scale <= 10:
        raise KjlabError(f"--time-scale must be in (0, 10], got {time_scale}", "kjlab up --time-scale 1")
    chosen, why = decide(engine)
    engine_ = provider.get(chosen)
    if time_scale != 1.0 and not engine_.scales_time:
        raise KjlabError(f"--time-scale applies to the kwok engine only ({chosen} runs real containers)",
                         "kjlab up --engine kwok --time-scale ...")
    context = context_for(chosen)
    wanted = {"workers": workers, **({"time_scale": time_scale} if engine_.scales_time else {})}
    if engine_.has_strict_mode:  # issue 10: recorded, so `up` and status tell which Stage set runs
        wanted["strict"] = strict
    known = registry.entry(context)

    if known and engine_.exists():
        _restore_kubeconfig(engine_, context, known, progress)
        _repair(engine_, context, known, progress)
    if known and reachable(context):
        if known["options"] != wanted:
            have = ", ".join(f"{k}={v}" for k, v in sorted(known["options"].items()))
            raise KjlabError(
                f"the {chosen} lab cluster is already running with {have}; it cannot change in place",
                f"kjlab down && kjlab up --engine {chosen} " + " ".join(_flag(k, v) for k, v in sorted(wanted.items())),
            )
        _say(progress, f"the lab cluster is already running (context {context})")
        return status(context)

    _say(progress, why)
    if engine_.exists() and not known and not engine_.leftover_is_ours():
        # A cluster named kjlab that kjlab never recorded (nor began creating) may be somebody's:
        # leave it alone.
        raise KjlabError(f"a {chosen} cluster named '{CLUSTER_NAME}' exists, but kjlab did not create it",
                         f"delete it yourself if it is not needed ({chosen} delete cluster --name {CLUSTER_NAME}), "
                         "then kjlab up")
    if engine_.exists():
        _refuse_to_delete_if_it_answers(engine_, context, known)
    prepared = engine_.prepare(progress)
    if engine_.exists() or known or engine_.leftover_is_ours():
        _say(progress, "removing a half-created lab cluster left by an earlier run")
        engine_.delete(None)
        registry.forget(context)

    started = time.monotonic()
    try:
        _say(progress, f"creating the lab cluster '{CLUSTER_NAME}' with the {chosen} engine")
        engine_.create(prepared, workers, time_scale, progress, context, strict=strict)
        _say(progress, "waiting for the nodes to be Ready")
        _wait_nodes_ready(context, workers + 1, timeout=engine_.nodes_ready_timeout)
        _start_what_exited(engine_, context, progress)
        entry = registry.record(context, chosen, wanted, cluster_id=registry.cluster_id(context))
        registry.write_marker(context, entry["uid"], chosen)
        engine_.finished_creating()
    except BaseException:
        # Ctrl-C or a failure half-way: leave nothing behind.
        _say(progress, "cleaning up the half-created cluster")
        try:
            engine_.delete(None)
        finally:
            registry.forget(context)
        raise
    _say(progress, f"ready in {time.monotonic() - started:.1f}s: context {context}")
    return status(context)


def _start_what_exited(engine_: provider.Provider, context: str, progress, tries: int = 3) -> None:
    """A component can exit while a new cluster starts: kube-controller-manager gives the API server
    10 s to be healthy and exits otherwise (cmd/kube-controller-manager/app/controllermanager.go:567),
    and on a loaded machine the API server takes longer. The nodes still turn Ready (that is the kwok
    controller), so without this the lab would have no Job controller. Start what exited again, as a
    repair does; the cluster's state stays."""
    def exited() -> list[str]:
        return [name for name, alive in engine_.components().items() if not alive]

    for _ in range(tries):
        dead = exited()
        if not dead:
            return
        _say(progress, f"{', '.join(dead)} exited while the cluster started (a busy machine): starting it again")
        engine_.repair(progress)
        _wait_answers(context, timeout=120, progress=progress)
    dead = exited()
    if dead:
        raise KjlabError(f"{', '.join(dead)} of the new {engine_.name} cluster exited {tries + 1} times while it started",
                         f"look at its log ({engine_.name}: kjlab status names the log files), then kjlab up again")


def _restore_kubeconfig(engine_: provider.Provider, context: str, known: dict, progress) -> None:
    """kjlab's kubeconfig lost the lab context (deleted, or broken: a directory, a list): write it
    back from the engine's own copy -- only for the cluster kjlab recorded (its kube-system uid), never
    for another one found under the same name. A broken file is kept beside it, never deleted."""
    path = kubeconfig_path()
    if kubeconfigs.has_context(path, context):
        return
    own = engine_.own_kubeconfig()
    if not own:
        return  # nothing to restore from: the cluster is recreated below if it does not answer
    try:
        found_id = registry.cluster_id_with(yaml.safe_load(own))
    except Exception:
        return  # it does not answer: nothing to mend here
    if not registry.same_cluster(known, found_id):
        raise KjlabError(f"the {engine_.name} cluster '{CLUSTER_NAME}' that answers now is not the one kjlab created "
                         "(its kube-system namespace has another uid): kjlab leaves it alone",
                         f"delete it yourself if it is not needed ({engine_.name} delete cluster --name {CLUSTER_NAME}), "
                         "then kjlab up; or use the other engine (kjlab up --engine kwok|kind)")
    aside = kubeconfigs.set_aside(path)
    if aside:
        _say(progress, f"kjlab's kubeconfig {path} was broken ({kube.shape_problem(str(aside))}): kept as {aside}")
    kubeconfigs.merge(path, own, context)
    _say(progress, f"restored context {context} in {path} from the {engine_.name} engine's own state")


def _refuse_to_delete_if_it_answers(engine_: provider.Provider, context: str, known: dict | None) -> None:
    """`up` is about to remove the engine's cluster as half-created. Refuse when it answers through the
    engine's own kubeconfig and it is more than a killed `up`'s leftover: it carries kjlab's marker
    (an `up` completed), or kjlab recorded it. The learner's work in it is not to be thrown away."""
    own = engine_.own_kubeconfig()
    if not own:
        return
    try:
        marker = registry.read_marker_with(yaml.safe_load(own))
    except Exception:  # it does not answer: nothing alive to protect
        return
    name = f"the {engine_.name} cluster '{CLUSTER_NAME}'"
    fix = f"kjlab down --engine {engine_.name} deletes it and everything in it, then kjlab up starts afresh"
    if known:
        raise KjlabError(f"{name} answers, but not through kjlab's kubeconfig ({kubeconfig_path()}), and kjlab could "
                         "not mend that; kjlab never deletes a cluster that answers",
                         f"look at that file (kjlab status names what is wrong), or: {fix}")
    if marker:
        raise KjlabError(f"{name} answers and carries kjlab's marker, but kjlab's record of it is gone "
                         f"({registry.state_file()}); kjlab never deletes a cluster that answers", fix)


def _flag(option: str, value) -> str:
    """The `kjlab up` flag that asks for ``option=value`` (booleans are --x / --no-x)."""
    name = option.replace("_", "-")
    if isinstance(value, bool):
        return f"--{name}" if value else f"--no-{name}"
    return f"--{name} {value}"


def _repair(engine_: provider.Provider, context: str, known: dict, progress) -> None:
    """Mend a lab cluster in place: start the components that died, write back a missing
    marker. Whatever cannot be mended is left for the caller's recreate path."""
    found = health.problems(context)
    if not found:
        return
    _say(progress, f"repairing the lab cluster: {health.describe(found)}")
    if not all(engine_.components().values()):
        engine_.repair(progress)
        _wait_answers(context, timeout=120, progress=progress)
    # A kwok-controller killed with -9 leaves its node leases held for their 200 s: its successor
    # runs no pod on those nodes until then, while they look Ready (kjlab.cluster.kwok.stale_node_leases).
    released = engine_.release_node_leases(context, progress)
    if released:
        _wait_answers(context, timeout=120, progress=progress)
        _say(progress, f"handed nodes {', '.join(released)} to the running kwok-controller (their leases were "
                       "held by one that died)")
    for node, holder in health.stale_cordons(context):
        kube.core(context).patch_node(node, {"metadata": {"annotations": {holders.DRAINING: None}},
                                             "spec": {"unschedulable": False}}, _content_type=kube.STRATEGIC_MERGE)
        _say(progress, f"uncordoned node {node} (cordoned by a kjlab drain that was killed, {holder})")
    if reachable(context) and not registry.read_marker(context) and registry.same_cluster(known, registry.cluster_id(context)):
        registry.write_marker(context, known["uid"], known["engine"])
    left = health.problems(context)
    _say(progress, f"still wrong: {health.describe(left)}" if left else "repaired")


def _wait_answers(context: str, timeout: float, progress=None) -> None:
    """Wait until the API server answers and is ready: a restarted one answers before its post-start
    hooks (RBAC, the system priority classes) have run, and `status` reads /readyz, so a cell that
    connects right after a repair would otherwise be told the cluster does not answer."""
    deadline = time.monotonic() + timeout
    said = False
    while True:
        not_ready = health.readiness(context) if reachable(context) else "not answering"
        if not_ready is None or time.monotonic() > deadline:
            return
        if not said and progress:
            _say(progress, f"waiting for the restarted API server to be ready (at most {timeout:.0f} s)")
            said = True
        time.sleep(0.3)


def check_health(context: str) -> None:
    """Raise one KjlabError naming what is wrong with the lab cluster (a dead component, a
    missing marker); runs call this first instead of waiting out a timeout."""
    found = health.problems(context)
    if found:
        raise KjlabError(f"the lab cluster ({context}) is not whole: {health.describe(found)}", found[0].fix)


def _wait_nodes_ready(context: str, count: int, timeout: float) -> None:
    ready: dict[str, bool] = {}
    for change in follow(kube.core(context).list_node, deadline=time.monotonic() + timeout, synced=True,
                         what="the nodes to become Ready"):
        if change.type == "DELETED":
            ready.pop(readers.name(change.object), None)
        elif change.type != SYNCED:
            ready[readers.name(change.object)] = readers.node_ready(change.object)
        if sum(ready.values()) >= count:
            return
    raise KjlabError(f"the nodes did not become Ready within {timeout:.0f}s",
                     "kjlab down && kjlab up (kjlab doctor shows what is missing)")




def down(engine: str | None = None, progress=print, purge: bool = False) -> list[str]:
    """Remove the lab cluster(s) kjlab created: processes, kwokctl's files, the kubeconfig context.

    Only clusters named ``kjlab`` that kjlab itself recorded are touched. The images kjlab added to
    Docker (kind's node image, the lab images) stay for the next `up`, as kind itself keeps them:
    rebuilding the node image takes about a minute here, and a laptop would pull ~1 GB again;
    ``purge`` removes them too. Returns the contexts removed.
    """
    with _one_at_a_time("down", progress or (lambda _message: None)):
        return _down(engine, progress, purge)


def _down(engine: str | None, progress, purge: bool = False) -> list[str]:
    removed = []
    for name in ([engine] if engine else list(ENGINES)):
        context = context_for(name)
        engine_ = provider.get(name)
        known = registry.entry(context) is not None
        if not (known or engine_.leftover_is_ours()):
            if engine_.exists():
                _say(progress, f"leaving the {name} cluster '{CLUSTER_NAME}' alone: kjlab did not create it")
            elif purge:
                engine_.purge(progress)
            continue
        busy = _unfinished_jobs(context) if known else []
        if busy:
            # `down` while a lab runs: it goes ahead (the learner asked), and says what it stops.
            _say(progress, f"stopping {len(busy)} Job(s) still running ({', '.join(busy[:3])}"
                           f"{', ...' if len(busy) > 3 else ''}); a notebook running them will say the cluster "
                           "is gone (fix there: kjlab up, then run the cell again)")
        _say(progress, f"deleting the {name} lab cluster (context {context})")
        started = time.monotonic()
        engine_.delete(progress, remove_images=purge)
        registry.forget(context)
        removed.append(context)
        _say(progress, f"deleted in {time.monotonic() - started:.1f}s")
    if not removed:
        _say(progress, "no lab cluster to delete")
    return removed


def _unfinished_jobs(context: str) -> list[str]:
    """namespace/name of the Jobs not yet Complete or Failed (empty when the cluster does not answer)."""
    try:
        jobs = kube.raw(kube.batch(context).list_job_for_all_namespaces, _request_timeout=5)["items"]
    except Exception:
        return []
    return [f"{readers.meta(j).get('namespace')}/{readers.name(j)}" for j in jobs if not readers.finished(j)]


def status(context: str | None = None) -> dict:
    """Engine, context, server version, nodes with their Ready state (and whether it answers)."""
    context = context or lab_context()
    known = registry.entry(context) or {}
    info = {"context": context, "engine": known.get("engine", "context"), "options": known.get("options", {}),
            "kubeconfig": str(kubeconfig_path()) if known else None,
            "lab_cluster": bool(known), "running": False, "server_version": None, "nodes": []}
    if known:  # the process table first: a stopped or dead API server or etcd is named without a request
        info["problems"] = health.problems(context)
        if any(p.blocks_reads for p in info["problems"]):
            info["error"] = "; ".join(p.what for p in info["problems"] if p.blocks_reads)
            info["problems"] = [{"what": p.what, "fix": p.fix} for p in info["problems"]]
            return info
    try:
        info["server_version"] = kube.version(context, timeout=health.READY_TIMEOUT)
    except KjlabError:
        raise
    except Exception as e:  # connection refused etc.: report, don't crash
        info["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        info["problems"] = [{"what": p.what, "fix": p.fix} for p in info.get("problems", [])]
        return info
    info["running"] = True
    info["problems"] = [{"what": p.what, "fix": p.fix} for p in info.get("problems", [])]
    try:  # at once, without retries: with etcd stopped the API server answers /version but not this
        listing = kube.get(context, "/api/v1/nodes", health.READY_TIMEOUT)
    except Exception as e:
        info["problems"].append({"what": f"the API server cannot list the nodes ({type(e).__name__}): etcd may "
                                         "not answer", "fix": "kjlab up (repairs it), or kjlab doctor"})
        listing = {"items": []}
    for n in listing["items"]:
        labels = readers.labels(n)
        info["nodes"].append({
            "name": readers.name(n),
            "ready": readers.node_ready(n),
            "role": labels.get(nodes.WORKER_LABEL, "control-plane" if "node-role.kubernetes.io/control-plane" in labels else "worker"),
            "schedulable": not readers.unschedulable(n),
            "version": ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion"),
        })
    if info["engine"] in ENGINES:
        engine_ = provider.get(info["engine"])
        info["memory_mib"] = round(engine_.memory_bytes() / 2**20, 1)
        if engine_.components():
            info["components"] = engine_.components()
    return info
