"""One watch-fed recorder per run: every pod, Job and event change in the run's namespace (and
every step kjlab takes) becomes a timestamped row. Everything downstream -- summaries, tables,
widgets, checks -- reads this one timeline.

The rows come from kjlab.watch.follow, which resumes after a dropped connection, re-lists after
an expired watch and skips versions already seen, so no change is lost or doubled.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable

from kjlab.api import kube, readers, watch
from kjlab.api.printers import job_status, pod_status
from kjlab.runs.result import COLUMNS, Recording


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def pod_row(event: str, pod: dict) -> dict:
    state, fields = readers.state(pod)  # the first container's
    code, reason, message = fields.get("exitCode"), fields.get("reason"), fields.get("message")
    return {
        "kind": "pod", "name": readers.name(pod), "event": event,
        "phase": readers.phase(pod), "node": readers.node_name(pod),
        "container": f"{state}:{reason}" if state and reason else state,
        "exit_code": code, "reason": reason, "message": message,
        "conditions": readers.condition_text(pod),
        "deleting": readers.deleting(pod),
        "finalizers": ",".join(readers.meta(pod).get("finalizers") or []),
        "resource_version": readers.resource_version(pod),
    }


def job_row(event: str, job: dict) -> dict:
    return {
        "kind": "job", "name": readers.name(job), "event": event,
        "conditions": readers.condition_text(job), **readers.counters(job),
        "deleting": readers.deleting(job),
        "resource_version": readers.resource_version(job),
    }


def event_row(event: str, ev: dict) -> dict:
    obj = ev.get("involvedObject") or {}
    return {
        "kind": "event", "name": f"{(obj.get('kind') or '').lower()}/{obj.get('name')}", "event": event,
        "reason": ev.get("reason"), "message": ev.get("message"), "level": ev.get("type"),
        # who wrote it (kubectl's FROM column): `kubelet` on kind, `kwok_controller` on kwok
        "source": (ev.get("source") or {}).get("component") or ev.get("reportingComponent"),
        "resource_version": readers.resource_version(ev),
    }


# kind -> (context -> the API's list function for a namespace, row function). Every recording
# watches BASE_KINDS; a lab registers the other kinds its recordings watch (``kinds=`` asks for them).
SOURCES: dict[str, tuple[Callable, Callable[[str, dict], dict]]] = {}
BASE_KINDS = ("pod", "job", "event")


def register_kind(kind: str, list_function: Callable, to_row: Callable[[str, dict], dict]) -> None:
    """Let recordings watch ``kind``: ``list_function(context)`` gives the API's namespaced list
    function (the watch follows it), ``to_row(event, obj)`` makes its rows."""
    SOURCES[kind] = (list_function, to_row)


class Recorder:
    """Records a namespace's pods, Jobs and events (and, asked with ``kinds=``, the kinds labs
    register: CronJobs, ReplicaSets ...) from watches; ``start()`` before acting.

    Use as a context manager, or call ``start()`` and ``stop()``. ``subscribe(fn)`` calls
    ``fn(row)`` for each new row (from the watch threads).
    """

    def __init__(self, context: str, namespace: str, kinds: tuple[str, ...] = ()):
        self.context = context
        unknown = [k for k in kinds if k not in SOURCES]
        if unknown:
            raise ValueError(f"no recorder source registered for {unknown} (known: {', '.join(SOURCES)})")
        self.kinds = tuple(k for k in kinds if k not in BASE_KINDS)  # watched besides pods, Jobs, events
        self.namespace = namespace
        self.started_at: dt.datetime | None = None
        self._t0 = 0.0
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._subscribers: list[Callable[[dict], None]] = []
        self._follows: list = []
        self._broken = 0
        self.errors: list[str] = []  # why a watch broke, when it did

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "Recorder":
        self.started_at = _utcnow()
        self._t0 = time.monotonic()
        sources = [(kind, *SOURCES[kind]) for kind in BASE_KINDS + self.kinds]  # one watch each, one recording
        ready = []
        for kind, list_fn, to_row in sources:
            list_fn = list_fn(self.context)
            listed = threading.Event()
            ready.append(listed)
            t = threading.Thread(target=self._follow, args=(kind, list_fn, to_row, listed),
                                 name=f"kjlab-record-{kind}", daemon=True)
            t.start()
            self._threads.append(t)
        for listed in ready:  # the first list is in before anything is done to the cluster
            listed.wait(timeout=10)
        return self

    def elapsed(self) -> float:
        """Seconds since the recording began: the clock of every row's ``t`` (and of the tables)."""
        return time.monotonic() - self._t0

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
                # managedFields are bookkeeping of the API server: large, and never shown
                row["object"] = {**obj, "metadata": {k: v for k, v in readers.meta(obj).items() if k != "managedFields"}}
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

    def log(self, pod: str, line: str) -> None:
        """Record a line a container printed, when kjlab follows a pod's log (the probes lab: hooks)."""
        self._add({"kind": "log", "name": pod, "detail": line})

    @property
    def rows(self) -> list[dict]:
        with self._lock:
            return list(self._rows)

    def recording(self) -> Recording:
        """What was recorded so far, with the queries a finished run is asked (kjlab.result)."""
        return Recording(self.rows)

    # -- watching -------------------------------------------------------------------------------
    @property
    def watch_restarts(self) -> int:
        """How often a watch broke (dropped, expired, unanswered) and was resumed or re-listed."""
        return sum(f.restarts for f in self._follows) + self._broken

    def _observe(self, kind: str, change, to_row) -> None:
        obj = change.object
        if change.vanished:
            self._add({"kind": kind, "name": readers.name(obj), "event": "DELETED",
                       "detail": "deleted while the watch was being renewed"})
            return
        try:
            row = to_row(change.type, obj)
        except Exception as e:  # never lose a change silently: record that it could not be read
            row = {"kind": kind, "name": readers.name(obj), "event": change.type, "level": "Warning",
                   "detail": f"kjlab could not read this change: {type(e).__name__}: {e}"}
        self._add(row, obj)

    def _follow(self, kind: str, list_fn, to_row, listed: threading.Event) -> None:
        changes = watch.follow(list_fn, self.namespace, stop=self._stop, listed=listed,
                               what=f"the {kind}s of namespace {self.namespace}")
        self._follows.append(changes)
        while not self._stop.is_set():
            try:
                for change in changes:  # iterating again re-lists, still skipping what was recorded
                    self._observe(kind, change, to_row)
            except Exception as e:  # the API server was gone for long, or refused: keep recording once it answers
                self._broken += 1
                self.errors.append(f"{kind} watch: {type(e).__name__}: {e}")
                listed.set()
                self._stop.wait(1.0)


register_kind("pod", lambda context: kube.core(context).list_namespaced_pod, pod_row)
register_kind("job", lambda context: kube.batch(context).list_namespaced_job, job_row)
register_kind("event", lambda context: kube.core(context).list_namespaced_event, event_row)
