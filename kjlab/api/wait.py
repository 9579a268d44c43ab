"""Waiting on the cluster by watching (never a one-time snapshot), with timeouts that say what was awaited.

Predicates receive the objects as the API serves them (dicts; read them with kjlab.readers) and
the waits return them."""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from kjlab.api import kube, readers
from kjlab.errors import KjlabError
from kjlab.api.watch import API_GONE_SECONDS, SYNCED, follow  # noqa: F401  (API_GONE_SECONDS: part of this API)


class Vanished(KjlabError):
    """The object a wait was for was deleted: waiting longer cannot help."""



@contextlib.contextmanager
def announced(what: str, timeout: float, echo: bool = True, digits: int = 0,
              bound: str | None = None) -> Iterator[Callable[[], float]]:
    """The one "waiting for X (at most N s) ..." line before a wait and "  ... after S s" once it is
    over (not when it raises: the error says it); yields the seconds elapsed so far, as a function.
    ``bound`` says how the wait is bounded instead of "at most N s"."""
    if echo:
        print(f"waiting for {what} ({bound or f'at most {timeout:.0f} s'}) ...", flush=True)
    started = time.monotonic()
    yield lambda: time.monotonic() - started
    if echo:
        print(f"  ... after {time.monotonic() - started:.{digits}f} s", flush=True)

def _until(list_fn, predicate: Callable, what: str, timeout: float, describe: Callable, vanished: str | None = None,
           stop=None, **kwargs) -> dict:
    """Follow the objects ``list_fn(**kwargs)`` lists until ``predicate(obj)`` holds for one.

    ``vanished``: the awaited object must exist; the message for a KjlabError when it is (or
    gets) deleted -- a Job deleted mid-run ends the wait at once.
    """
    last, present = None, set()
    for change in follow(list_fn, deadline=time.monotonic() + timeout, what=what, synced=True, stop=stop, **kwargs):
        if change.type == SYNCED:
            if vanished and not present:  # the awaited object exists when a wait starts
                raise Vanished(vanished, "run it again; kjlab deletes nothing a run is waiting for")
        elif change.type == "DELETED":
            present.discard(readers.uid(change.object))
            if vanished:
                raise Vanished(vanished, "run it again; kjlab deletes nothing a run is waiting for")
        else:
            present.add(readers.uid(change.object))
            last = change.object
            if predicate(last):
                return last
    seen = describe(last) if last is not None else "nothing matching was seen"
    raise KjlabError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen}",
                     "look with `kjlab kubectl get pods,jobs -n <namespace>`, or give it more time")


def pod(context: str, namespace: str, predicate: Callable, what: str, timeout: float = 60,
        name: str | None = None, label_selector: str | None = None) -> dict:
    """Wait until a pod (by name, or any pod matching the label selector) satisfies ``predicate``."""
    kwargs = {"namespace": namespace}
    if name:
        kwargs["field_selector"] = f"metadata.name={name}"
    if label_selector:
        kwargs["label_selector"] = label_selector
    return _until(kube.core(context).list_namespaced_pod, predicate, what, timeout, readers.describe_pod, **kwargs)


def job(context: str, namespace: str, name: str, predicate: Callable, what: str, timeout: float = 120,
        stop=None) -> dict:
    """Wait until the Job satisfies ``predicate``; a set ``stop`` (threading.Event) ends the wait
    early, as a timeout (the caller knows why it set it)."""
    return _until(kube.batch(context).list_namespaced_job, predicate, what, timeout, readers.describe_job,
                  vanished=f"Job {name} was deleted while kjlab waited for {what}", stop=stop,
                  namespace=namespace, field_selector=f"metadata.name={name}")


def gone(list_fn, name: str, timeout: float, namespace: str | None = None, uid: str | None = None) -> bool:
    """Watch until the object ``name`` no longer exists (or, with ``uid``, until that one is gone,
    even if a new object took the name). True when gone, False on timeout. ``list_fn`` is a
    list call (list_namespaced_pod, list_namespaced_job, list_namespace)."""
    args = (namespace,) if namespace else ()
    present = set()
    # the first list comes even with a spent deadline: a gone object is never reported present
    for change in follow(list_fn, *args, deadline=time.monotonic() + timeout, synced=True,
                         what=f"{name} to be deleted", field_selector=f"metadata.name={name}"):
        this = readers.uid(change.object)
        if change.type == SYNCED:
            if not present or (uid is not None and uid not in present):
                return True
        elif change.type == "DELETED":
            present.discard(this)
            if uid is None or this == uid:
                return True
        else:
            present.add(this)
    return False


def pod_gone(context: str, namespace: str, name: str, what: str, timeout: float = 60) -> None:
    """Wait until the pod no longer exists."""
    if not gone(kube.core(context).list_namespaced_pod, name, timeout, namespace=namespace):
        raise KjlabError(f"timed out after {timeout:.0f}s waiting for {what}",
                         f"look with `kjlab kubectl get pod {name} -n {namespace} -o yaml`")
