"""One watch-fed recorder per run: every pod, Job and event change in the run's namespace (and
every step kjlab takes) becomes a timestamped row. Everything downstream -- summaries, tables,
widgets, checks -- reads this one timeline.

The watches resume after a dropped connection from the last resourceVersion they saw, and
re-list after an expired one (HTTP 410), skipping versions already recorded, so no change is
lost or doubled.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable

from kubernetes import client, watch

from kjlab import kube
from kjlab.result import Recording
from kjlab.printers import job_status, pod_status

COLUMNS = [
    "time", "t", "kind", "name", "event", "status", "phase", "node", "container", "exit_code", "reason", "message",
    "conditions", "deleting", "finalizers", "active", "ready", "succeeded", "failed", "terminating",
    "level", "action", "detail", "kubectl", "resource_version", "object",
]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def container_state(pod) -> tuple[str | None, int | None, str | None, str | None]:
    """(state, exit code, reason, message) of the pod's first container: 'waiting', 'running', 'terminated'."""
    statuses = (pod.status.container_statuses if pod.status else None) or []
    if not statuses:
        return None, None, None, None
    state = statuses[0].state
    if state.terminated:
        t = state.terminated
        return "terminated", t.exit_code, t.reason, t.message
    if state.running:
        return "running", None, None, None
    if state.waiting:
        return "waiting", None, state.waiting.reason, state.waiting.message
    return None, None, None, None


def format_conditions(conditions, only_true: bool = False) -> str:
    parts = []
    for c in conditions or []:
        if only_true and c.status != "True":
            continue
        parts.append(f"{c.type}={c.status}" + (f"({c.reason})" if c.reason else ""))
    return ", ".join(parts)


def pod_row(event: str, pod) -> dict:
    state, code, reason, message = container_state(pod)
    return {
        "kind": "pod", "name": pod.metadata.name, "event": event,
        "phase": pod.status.phase if pod.status else None,
        "node": pod.spec.node_name if pod.spec else None,
        "container": f"{state}:{reason}" if state and reason else state,
        "exit_code": code, "reason": reason, "message": message,
        "conditions": format_conditions(pod.status.conditions if pod.status else None),
        "deleting": pod.metadata.deletion_timestamp is not None,
        "finalizers": ",".join(pod.metadata.finalizers or []),
        "resource_version": pod.metadata.resource_version,
    }


def job_row(event: str, job) -> dict:
    s = job.status
    return {
        "kind": "job", "name": job.metadata.name, "event": event,
        "conditions": format_conditions(s.conditions),
        "active": s.active or 0, "ready": s.ready or 0, "succeeded": s.succeeded or 0,
        "failed": s.failed or 0, "terminating": s.terminating or 0,
        "deleting": job.metadata.deletion_timestamp is not None,
        "resource_version": job.metadata.resource_version,
    }


def event_row(event: str, ev) -> dict:
    obj = ev.involved_object
    return {
        "kind": "event", "name": f"{(obj.kind or '').lower()}/{obj.name}", "event": event,
        "reason": ev.reason, "message": ev.message, "level": ev.type,
        "resource_version": ev.metadata.resource_version,
    }


class Recorder:
    """Records a namespace's pods, Jobs and events from watches; ``start()`` before acting.

    Use as a context manager, or call ``start()`` and ``stop()``. ``subscribe(fn)`` calls
    ``fn(row)`` for each new row (from the watch threads).
    """

    def __init__(self, context: str, namespace: str):
        self.context = context
        self.namespace = namespace
        self.started_at: dt.datetime | None = None
        self._t0 = 0.0
        self._rows: list[dict] = []
        self._seen: set[tuple[str, str, str]] = set()  # (kind, name, resourceVersion)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._subscribers: list[Callable[[dict], None]] = []
        self._live: dict[str, set[str]] = {}  # names present now, per kind (for re-lists)
        self.watch_restarts = 0
        self._serializer = kube.api_client(context)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "Recorder":
        self.started_at = _utcnow()
        self._t0 = time.monotonic()
        core, batch = kube.core(self.context), kube.batch(self.context)
        sources = [
            ("pod", core.list_namespaced_pod, pod_row),
            ("job", batch.list_namespaced_job, job_row),
            ("event", core.list_namespaced_event, event_row),
        ]
        ready = []
        for kind, list_fn, to_row in sources:
            listed = threading.Event()
            ready.append(listed)
            t = threading.Thread(target=self._follow, args=(kind, list_fn, to_row, listed),
                                 name=f"kjlab-record-{kind}", daemon=True)
            t.start()
            self._threads.append(t)
        for listed in ready:  # the first list is in before anything is done to the cluster
            listed.wait(timeout=10)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=6)

    def __enter__(self) -> "Recorder":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads) and not self._stop.is_set()

    def subscribe(self, fn: Callable[[dict], None]) -> None:
        self._subscribers.append(fn)

    # -- rows -----------------------------------------------------------------------------------
    def _add(self, row: dict, obj=None) -> None:
        row = {**{c: None for c in COLUMNS}, **row}
        now = _utcnow()
        with self._lock:
            row["time"] = now
            row["t"] = round(time.monotonic() - self._t0, 3)
            if obj is not None:
                # camelCase, as the API serves it (and as policy rules and kubectl -o yaml name fields)
                row["object"] = self._serializer.sanitize_for_serialization(obj)
                # managedFields are bookkeeping of the API server: large, and never shown
                (row["object"].get("metadata") or {}).pop("managedFields", None)
                if row["kind"] == "pod":
                    row["status"] = pod_status(row["object"])
                elif row["kind"] == "job":
                    row["status"] = job_status(row["object"])
            self._rows.append(row)
        for fn in list(self._subscribers):
            try:
                fn(row)
            except Exception:  # a broken display must not stop the recording
                pass

    def step(self, action: str, target: str, detail: str = "", kubectl: str = "") -> None:
        """Record something kjlab did (create, drain, uncordon, patch, delete)."""
        self._add({"kind": "step", "name": target, "action": action, "detail": detail, "kubectl": kubectl})

    def note(self, action: str, detail: str) -> None:
        """Record an observation of the run itself (e.g. "failed unchanged after the drain")."""
        self._add({"kind": "step", "name": "", "action": action, "detail": detail})

    @property
    def rows(self) -> list[dict]:
        with self._lock:
            return list(self._rows)

    def recording(self) -> Recording:
        """What was recorded so far, with the queries a finished run is asked (kjlab.result)."""
        return Recording(self.rows)

    def dataframe(self, with_objects: bool = False):
        import pandas as pd

        frame = pd.DataFrame(self.rows, columns=COLUMNS)
        if not with_objects:
            frame = frame.drop(columns=["object"])
        return frame

    # -- watching -------------------------------------------------------------------------------
    def _observe(self, kind: str, event: str, obj, to_row) -> None:
        key = (kind, obj.metadata.name, obj.metadata.resource_version)
        if event != "DELETED":
            with self._lock:
                if key in self._seen:
                    return
                self._seen.add(key)
        try:
            row = to_row(event, obj)
        except Exception as e:  # never lose a change silently: record that it could not be read
            row = {"kind": kind, "name": obj.metadata.name, "event": event, "level": "Warning",
                   "detail": f"kjlab could not read this change: {type(e).__name__}: {e}"}
        self._add(row, obj)
        with self._lock:
            if event == "DELETED":
                self._live.get(kind, set()).discard(obj.metadata.name)
            else:
                self._live.setdefault(kind, set()).add(obj.metadata.name)

    def _relisted(self, kind: str, names: set[str], to_row) -> None:
        """After an expired watch: objects that vanished meanwhile get their DELETED row."""
        with self._lock:
            gone = self._live.get(kind, set()) - names
        for name in sorted(gone):
            self._add({"kind": kind, "name": name, "event": "DELETED",
                       "detail": "deleted while the watch was being renewed"})
            with self._lock:
                self._live[kind].discard(name)

    def _follow(self, kind: str, list_fn, to_row, listed: threading.Event) -> None:
        rv = None
        while not self._stop.is_set():
            try:
                if rv is None:
                    listing = list_fn(self.namespace)
                    for obj in listing.items:
                        self._observe(kind, "ADDED", obj, to_row)
                    if listed.is_set():
                        self._relisted(kind, {o.metadata.name for o in listing.items}, to_row)
                    rv = listing.metadata.resource_version
                    listed.set()
                w = watch.Watch()
                for ev in w.stream(list_fn, self.namespace, resource_version=rv, timeout_seconds=5):
                    obj = ev["object"]
                    rv = obj.metadata.resource_version or rv
                    self._observe(kind, ev["type"], obj, to_row)
                    if self._stop.is_set():
                        w.stop()
            except client.ApiException as e:
                self.watch_restarts += 1
                if e.status == 410:
                    rv = None  # expired: list again, skipping what was already recorded
                else:
                    time.sleep(0.5)
            except Exception:
                # dropped connection: resume from the last resourceVersion
                self.watch_restarts += 1
                listed.set()
                time.sleep(0.5)
