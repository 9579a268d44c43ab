"""Waiting on the cluster by watching (never a one-time snapshot), with timeouts that say what was awaited."""

from __future__ import annotations

import time
from typing import Callable

import urllib3
from kubernetes import client, watch

from kjlab import kube
from kjlab.errors import KjlabError


class Vanished(KjlabError):
    """The object a wait was for was deleted: waiting longer cannot help."""


# How long a wait keeps trying while the API server does not answer (it is being restarted by
# `kjlab up`, or the machine was suspended) before it ends in one line.
API_GONE_SECONDS = 60


def _list(list_fn, what: str, kwargs: dict):
    """One list call, retried while the API server does not answer (connection refused, 5xx)."""
    gave_up = time.monotonic() + API_GONE_SECONDS
    while True:
        try:
            return list_fn(**kwargs)
        except client.ApiException as e:
            if e.status not in (500, 502, 503, 504) or time.monotonic() > gave_up:
                raise
        except (OSError, urllib3.exceptions.HTTPError) as e:
            if time.monotonic() > gave_up:
                raise KjlabError(f"the lab cluster's API server stopped answering while kjlab waited for {what} "
                                 f"({type(e).__name__}, for {API_GONE_SECONDS}s)",
                                 "kjlab status names what is down; kjlab up repairs it, then run again") from None
        time.sleep(1.0)


def _until(list_fn, predicate: Callable, what: str, timeout: float, describe: Callable, vanished: str | None = None,
           **kwargs):
    """List, check, then watch from that resourceVersion until ``predicate(obj)`` holds for one object.

    Re-lists after an expired watch (HTTP 410) or a dropped connection, so no change is missed,
    and keeps trying for a while when the API server is restarted. ``vanished``: the awaited object
    must exist; the message for a KjlabError when it is (or gets) deleted -- a Job deleted mid-run
    ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        listing = _list(list_fn, what, kwargs)
        if vanished and not listing.items:  # the awaited object exists when a wait starts
            raise Vanished(vanished, "run it again; kjlab deletes nothing a run is waiting for")
        for obj in listing.items:
            last = obj
            if predicate(obj):
                return obj
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        w = watch.Watch()
        try:
            for event in w.stream(list_fn, resource_version=listing.metadata.resource_version,
                                  timeout_seconds=max(1, int(remaining) + 1), **kwargs):
                obj = event["object"]
                if vanished and event["type"] == "DELETED":
                    w.stop()
                    raise Vanished(vanished, "run it again; kjlab deletes nothing a run is waiting for")
                if event["type"] in ("ADDED", "MODIFIED"):
                    last = obj
                    if predicate(obj):
                        w.stop()
                        return obj
                if time.monotonic() >= deadline:
                    w.stop()
        except client.ApiException as e:
            if e.status != 410:
                raise
        except (OSError, urllib3.exceptions.HTTPError):  # dropped connection: list again
            time.sleep(0.2)
        if time.monotonic() >= deadline:
            break
    seen = describe(last) if last is not None else "nothing matching was seen"
    raise KjlabError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen}",
                     "look with `kjlab kubectl get pods,jobs -n <namespace>`, or give it more time")


def describe_pod(pod) -> str:
    states = []
    for cs in pod.status.container_statuses or []:
        if cs.state.waiting:
            states.append(f"{cs.name} waiting {cs.state.waiting.reason}")
        elif cs.state.running:
            states.append(f"{cs.name} running")
        elif cs.state.terminated:
            states.append(f"{cs.name} terminated {cs.state.terminated.reason} ({cs.state.terminated.exit_code})")
    return f"pod {pod.metadata.name} phase {pod.status.phase}" + (f", {', '.join(states)}" if states else "")


def describe_job(job) -> str:
    conds = [f"{c.type}={c.status}" for c in job.status.conditions or []]
    return (f"job {job.metadata.name} active={job.status.active or 0} succeeded={job.status.succeeded or 0} "
            f"failed={job.status.failed or 0} conditions=[{', '.join(conds)}]")


def pod(context: str, namespace: str, predicate: Callable, what: str, timeout: float = 60,
        name: str | None = None, label_selector: str | None = None):
    """Wait until a pod (by name, or any pod matching the label selector) satisfies ``predicate``."""
    kwargs = {"namespace": namespace}
    if name:
        kwargs["field_selector"] = f"metadata.name={name}"
    if label_selector:
        kwargs["label_selector"] = label_selector
    return _until(kube.core(context).list_namespaced_pod, predicate, what, timeout, describe_pod, **kwargs)


def job(context: str, namespace: str, name: str, predicate: Callable, what: str, timeout: float = 120):
    return _until(kube.batch(context).list_namespaced_job, predicate, what, timeout, describe_job,
                  vanished=f"Job {name} was deleted while kjlab waited for {what}",
                  namespace=namespace, field_selector=f"metadata.name={name}")


def job_condition(job_obj, type_: str):
    """The Job condition of that type with status True, or None."""
    for c in job_obj.status.conditions or []:
        if c.type == type_ and c.status == "True":
            return c
    return None


def pod_condition(pod_obj, type_: str):
    for c in pod_obj.status.conditions or []:
        if c.type == type_:
            return c
    return None


def gone(list_fn, name: str, timeout: float, namespace: str | None = None, uid: str | None = None) -> bool:
    """Watch until the object ``name`` no longer exists (or, with ``uid``, until that one is gone,
    even if a new object took the name). True when gone, False on timeout. ``list_fn`` is a
    list call (list_namespaced_pod, list_namespaced_job, list_namespace)."""
    args = (namespace,) if namespace else ()
    selector = f"metadata.name={name}"
    deadline = time.monotonic() + timeout

    def absent(items) -> bool:
        return not items or (uid is not None and all(o.metadata.uid != uid for o in items))

    while True:  # list at least once: a spent deadline must not report a gone object as present
        listing = list_fn(*args, field_selector=selector)
        if absent(listing.items):
            return True
        if time.monotonic() >= deadline:
            return False
        w = watch.Watch()
        try:
            for event in w.stream(list_fn, *args, field_selector=selector,
                                  resource_version=listing.metadata.resource_version,
                                  timeout_seconds=max(1, int(deadline - time.monotonic()) + 1)):
                obj = event["object"]
                if event["type"] == "DELETED" and (uid is None or obj.metadata.uid == uid):
                    w.stop()
                    return True
        except client.ApiException as e:
            if e.status != 410:
                raise
        except (OSError, urllib3.exceptions.HTTPError):  # dropped connection: list again
            time.sleep(0.2)


def pod_gone(context: str, namespace: str, name: str, what: str, timeout: float = 60) -> None:
    """Wait until the pod no longer exists."""
    if not gone(kube.core(context).list_namespaced_pod, name, timeout, namespace=namespace):
        raise KjlabError(f"timed out after {timeout:.0f}s waiting for {what}",
                         f"look with `kjlab kubectl get pod {name} -n {namespace} -o yaml`")
