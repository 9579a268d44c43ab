"""One namespace per run, so runs never collide and cleanup is one delete -- and only ever a
namespace kjlab made.

A namespace kjlab creates carries two labels: ``app.kubernetes.io/managed-by=kjlab`` and
``kjlab.io/run=<run id>``. Every delete, and every "fresh namespace" step that would delete an
earlier run's namespace, first reads the namespace and refuses one without them: a learner who
passes ``--namespace myproject`` must never lose ``myproject``. System namespaces are refused
before any API call. A namespace also names the process whose run holds it
(``kjlab.io/holder``), so a second run never takes over a namespace a live run is using.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from typing import Callable

from kubernetes import client

from kjlab.api import holders, kube, readers, wait
from kjlab.cluster import provider, registry
from kjlab.errors import KjlabError

MANAGED_BY = {"app.kubernetes.io/managed-by": "kjlab"}
RUN_LABEL = "kjlab.io/run"
HOLDER_ANNOTATION = "kjlab.io/holder"
# Namespaces the cluster itself (or kind) uses: never created, reused or deleted by a run.
SYSTEM = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage"})
_RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# Namespaces held by runs of this process (name -> the thread whose run holds it); another
# process's runs are known by the holder annotation.
_held: dict[str, threading.Thread] = {}
_held_lock = threading.Lock()
# Threads whose run a newer run may stop to take its namespace over (a notebook's background run:
# an interrupted cell leaves it going, and running the cell again must work at once).
_stoppable: dict[threading.Thread, Callable[[], None]] = {}


def stoppable(thread: threading.Thread, stop: Callable[[], None] | None) -> None:
    """Say that ``stop()`` ends ``thread``'s run (blocking until it has released its namespace),
    so :func:`fresh` of the same name stops it instead of refusing; ``None`` forgets it."""
    with _held_lock:
        if stop is None:
            _stoppable.pop(thread, None)
        else:
            _stoppable[thread] = stop


def check_name(name: str) -> None:
    """Refuse, before any API call, a name the API would reject or a system namespace."""
    if not isinstance(name, str) or not name:
        raise KjlabError("a namespace needs a name", "e.g. --namespace my-run")
    if len(name) > 63 or not _RFC1123_LABEL.match(name):
        raise KjlabError(f"'{name[:80]}' is not a valid namespace name: at most 63 lowercase letters, digits "
                         "and '-', starting and ending with a letter or digit", "e.g. --namespace my-run")
    if name in SYSTEM or name.startswith("kube-"):
        raise KjlabError(f"refusing to use the system namespace '{name}' for a run: a run deletes its namespace",
                         "choose a namespace of the run's own (--namespace in the CLI, namespace= in Python)")


def owned(namespace: dict) -> bool:
    """True when kjlab created this namespace (its managed-by label and a run id)."""
    labels = readers.labels(namespace)
    return labels.get("app.kubernetes.io/managed-by") == "kjlab" and bool(labels.get(RUN_LABEL))


def _not_ours(name: str) -> KjlabError:
    return KjlabError(f"namespace '{name}' exists and kjlab did not create it, so kjlab will not use or delete it",
                      "choose another name (--namespace in the CLI, namespace= in Python)")


OURS_FIX = "use a namespace a kjlab run made (kjlab kubectl get ns -l app.kubernetes.io/managed-by=kjlab)"


def refuse_system(name: str, action: str) -> None:
    """Refuse ``action`` in a system namespace (or an invalid name), before any API call."""
    if isinstance(name, str) and (name in SYSTEM or name.startswith("kube-")):
        raise KjlabError(f"refusing to {action} in the system namespace '{name}'", OURS_FIX)
    check_name(name)


def require_owned(context: str, name: str, action: str) -> None:
    """Refuse ``action`` in a namespace kjlab did not make (a system one before any request): what
    kjlab writes or deletes there must never be the learner's own."""
    refuse_system(name, action)
    existing = _read(context, name)
    if existing is None:
        raise KjlabError(f"cannot {action}: namespace '{name}' does not exist",
                         "run the Job first (its namespace is kjlab's), then name that namespace")
    if not owned(existing):
        raise KjlabError(f"refusing to {action} in namespace '{name}': kjlab did not create it", OURS_FIX)


def _read(context: str, name: str) -> dict | None:
    try:
        return kube.raw(kube.core(context).read_namespace, name)
    except client.ApiException as e:
        if e.status == 404:
            return None
        raise


def create(context: str, prefix: str = "kjlab", name: str | None = None) -> str:
    """Create a namespace of kjlab's own; without ``name`` a fresh one ``<prefix>-<random>``.
    An existing one is reused only when kjlab made it."""
    name = name or f"{prefix}-{secrets.token_hex(3)}"
    check_name(name)
    registry.guard(context, f"create namespace {name}")  # before any request: never on a cluster kjlab did not make
    labels = {**MANAGED_BY, RUN_LABEL: secrets.token_hex(6)}
    body = {"metadata": {"name": name, "labels": labels, "annotations": {HOLDER_ANNOTATION: holders.me()}}}
    try:
        kube.core(context).create_namespace(body)
    except client.ApiException as e:
        if e.status != 409:
            raise
        existing = _read(context, name)
        if existing is not None and not owned(existing):
            raise _not_ours(name) from None
    _wait_default_service_account(context, name)
    return name


def fresh(context: str, name: str, timeout: float = 90, progress=print) -> str:
    """Create ``name`` for a run, holding it until :func:`release`. A namespace left by an earlier
    run is deleted first (idempotent cells); one kjlab did not make, or one a live run holds, is
    refused in one line."""
    check_name(name)
    _hold(name, progress)
    try:
        existing = _read(context, name)
        if existing is not None:
            if not owned(existing):
                raise _not_ours(name)
            holder = readers.annotations(existing).get(HOLDER_ANNOTATION, "")
            if holders.alive_elsewhere(holder):
                raise KjlabError(f"namespace '{name}' is in use by another run (process {holder})",
                                 "wait for that run to end, or choose another name (--namespace / namespace=)")
            if progress:
                progress(leftover_note(name, existing))
            delete(context, name)
            if not wait.gone(kube.core(context).list_namespace, name, timeout):
                raise KjlabError(f"namespace {name} from an earlier run is still being deleted",
                                 f"wait, or pick another namespace (kjlab kubectl get ns {name})")
        return create(context, name=name)
    except BaseException:
        release(name)
        raise


def leftover_note(name: str, existing: dict) -> str:
    """What :func:`fresh` says of ``existing``, a namespace of kjlab's it deletes before a run:
    "left by an earlier run" only when another process made it. One this process made is an earlier
    step of the same notebook (lab 14's dry runs share one) or a cell run again; one with a
    deletionTimestamp is already going (an earlier cleanup), and is only waited for."""
    if (existing.get("metadata") or {}).get("deletionTimestamp"):
        return f"waiting for namespace {name}, already being deleted, to go"
    if readers.annotations(existing).get(HOLDER_ANNOTATION) == holders.me():
        return f"deleting namespace {name}, made by an earlier step in this process, to start it afresh"
    return f"deleting namespace {name} left by an earlier run"


def _hold(name: str, progress=None, thread: threading.Thread | None = None) -> None:
    """Hold ``name`` for this thread's run (or ``thread``'s: a background run is claimed by the cell
    that starts it). A live run of this process holding it is refused in one line -- unless it is a
    background run that may be stopped: then it is stopped first (its Job stays until the namespace
    is deleted below), so a re-run takes over at once."""
    me = thread or threading.current_thread()
    with _held_lock:
        holder = _held.get(name)
        if holder is None or holder is me or not holder.is_alive():
            _held[name] = me
            return
        stop = _stoppable.get(holder)
    if stop is None:
        raise KjlabError(f"namespace '{name}' is in use by another run in this process",
                         "wait for that run to end, or choose another name (namespace=...)")
    if progress:
        progress(f"stopping the earlier background run in namespace {name}, which this run replaces")
    stop()
    with _held_lock:
        holder = _held.get(name)
        if holder is not None and holder is not me and holder.is_alive():
            raise KjlabError(f"namespace '{name}' is still held by an earlier background run that did not stop",
                             "interrupt the kernel again and re-run the cell, or choose another name (namespace=...)")
        _held[name] = me


def claim_for(thread: threading.Thread, name: str) -> None:
    """Hold ``name`` for a background run's ``thread`` from the cell that starts it. The thread itself
    holds it only once its health checks are done: a cell interrupted and run again before then
    started a newer run that held the name first, and the older thread, reaching its hold, stopped
    the newer run. Claimed here, in cell order, the newer run stops the older one instead."""
    _hold(name, thread=thread)


def release(name: str) -> None:
    """The run that held ``name`` is over (its namespace may stay, e.g. with keep=True). Only the
    holder's own thread releases it: a stopped run's late release must not free its successor's."""
    with _held_lock:
        holder = _held.get(name)
        if holder is threading.current_thread() or holder is None or not holder.is_alive():
            _held.pop(name, None)


# The service account controller creates a namespace's `default` ServiceAccount within a second on
# an idle machine; on a loaded one (a classroom server, CI beside other work) it has taken longer. So
# the wait is bounded by the controller manager being alive, not by a fixed time: after QUICK_SA_SECONDS
# kjlab says what it waits for and goes on while kube-controller-manager runs, up to SA_CAP_SECONDS.
QUICK_SA_SECONDS = 15
SA_CAP_SECONDS = 120


def _wait_default_service_account(context: str, name: str, quick: float = QUICK_SA_SECONDS,
                                  cap: float = SA_CAP_SECONDS, alive=None) -> None:
    """Pods are refused until the namespace's `default` ServiceAccount exists (admission); the
    service account controller creates it a moment after the namespace. kubectl users see that
    race as "serviceaccount default not found"; kjlab waits it out. ``alive()`` says whether the
    controller manager still runs (default: the lab cluster's engine knows its processes)."""
    api = kube.core(context)
    alive = alive or (lambda: _controller_manager_alive(context))
    started = time.monotonic()
    said = False
    while True:
        try:
            api.read_namespaced_service_account("default", name)
            return
        except client.ApiException as e:
            if e.status != 404:
                raise
        waited = time.monotonic() - started
        if waited >= quick:
            running = alive()
            if running is False or waited >= cap:
                why = ("kube-controller-manager is not running (or is stopped)" if running is False
                       else f"after {waited:.0f}s")
                raise KjlabError(f"namespace {name} has no default ServiceAccount ({why}), so pods would be refused",
                                 "kjlab up (restarts a stopped component), then run the cell again; kjlab doctor says more")
            if not said:
                print(f"waiting for namespace {name}'s default ServiceAccount (the controller manager runs, but it is "
                      f"slow: a busy machine; at most {cap:.0f} s) ...", flush=True)
                said = True
        time.sleep(0.1 if waited < quick else 1.0)


def _controller_manager_alive(context: str) -> bool | None:
    """True/False for a lab cluster kjlab started (its engine lists its processes), None otherwise."""
    known = registry.entry(context)
    if not known or known.get("engine") not in provider.PROVIDERS:
        return None
    engine = provider.get(known["engine"])
    if "kube-controller-manager" in engine.stopped():  # SIGSTOP or a debugger: it runs, but does nothing
        return False
    return engine.components().get("kube-controller-manager")


def delete(context: str, name: str, allow_context: str | None = None) -> None:
    """Delete a namespace kjlab made and everything in it. Guarded twice: only on a cluster kjlab
    created (or the explicit opt-in), and only a namespace carrying kjlab's labels."""
    check_name(name)
    registry.guard(context, f"delete namespace {name}", allow_context)
    existing = _read(context, name)
    if existing is None:
        return
    if not owned(existing):
        raise _not_ours(name)
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
    while pods := kube.raw(core.list_namespaced_pod, name)["items"]:
        core.delete_collection_namespaced_pod(name, grace_period_seconds=1)
        left = [readers.name(p) for p in pods
                if not wait.gone(core.list_namespaced_pod, readers.name(p), max(0.0, deadline - time.monotonic()),
                                 namespace=name, uid=readers.uid(p))]
        if left:
            raise KjlabError(f"pods of namespace {name} still exist after {timeout:.0f}s: " + ", ".join(left),
                             f"look with `kjlab kubectl get pods -n {name} -o wide`")


def managed(context: str) -> list[str]:
    """Names of the namespaces kjlab made on this cluster (its labels, never a name pattern)."""
    listing = kube.raw(kube.core(context).list_namespace, label_selector=f"app.kubernetes.io/managed-by=kjlab,{RUN_LABEL}")
    return sorted(ns["metadata"]["name"] for ns in listing["items"])
