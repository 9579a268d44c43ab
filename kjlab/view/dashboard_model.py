"""What the dashboard and the CLI status line show, computed from recorder rows alone (no widgets, no cluster).

``DashboardModel.feed(row)`` takes rows as kjlab.record.Recorder produces them (live, or loaded
from a saved run) and keeps: the Job's counters and conditions, a kubectl-style pods table,
recent events and kjlab's steps. The widgets render this state; the tests assert on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kjlab.api import readers
from kjlab.api.printers import job_status, pod_status

NOTEWORTHY_CONDITIONS = ("DisruptionTarget", "ConfigIssue")


def _age(created: str | None, now: dt.datetime) -> str:
    """kubectl's short age: 5s, 3m, 2h."""
    if not created:
        return ""
    try:
        then = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


# kwok v0.8.0 writes every pod event as `kwok_controller` (a fixed EventSource in its controller,
# no flag sets it): the honest name, said plainly where kjlab shows events.
SIMULATED_SOURCES = {"kwok_controller": "kwok_controller (simulated kubelet)"}


def event_source(component: str | None) -> str:
    """The FROM of an event as the dashboard shows it."""
    return SIMULATED_SOURCES.get(component or "", component or "")


def _finished_t(row: dict, pod: dict) -> float:
    """When a failed pod finished, on the recording's clock: as the Job controller reads it (the
    latest container finishedAt, else the Ready=False transition: backoff_utils.go getFinishedTime),
    placed on the clock through the row's own wall time; the row's t when neither is readable."""
    stamps = [t.get("finishedAt") for _, t in readers.terminations(pod, init=True) if t.get("finishedAt")]
    ready = readers.condition(pod, "Ready") or {}
    stamp = max(stamps) if stamps else (ready.get("lastTransitionTime") if ready.get("status") == "False" else None)
    when = row.get("time")
    if not stamp or when is None:
        return row["t"]
    when = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    try:
        finished = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return row["t"]
    return min(row["t"], row["t"] - (when - finished).total_seconds())


@dataclass
class PodView:
    name: str
    node: str
    phase: str
    status: str
    restarts: int
    exit_code: int | None
    conditions: list[str]
    created: str | None
    deleted: bool = False
    index: str | None = None
    job: str | None = None    # the Job that controls the pod (ownerReference), if any


@dataclass
class DashboardModel:
    job_name: str | None = None
    events_kept: int = 8
    job: dict | None = None
    pods: dict[str, PodView] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    job_conditions: list[dict] = field(default_factory=list)
    rows_seen: int = 0
    last_time: dt.datetime | None = None
    # The Job controller's back-off before its next pod, as it counts it: every pod of the Job that
    # failed since the last success, ignored by a pod failure policy or not (job_controller.go:1056
    # newBackoffRecord, backoff_utils.go:95-125), from the last one's finish time (its containers'
    # finishedAt, backoff_utils.go:174-186), on the recording's clock (t, s). status.failed leaves
    # ignored failures out, so it cannot tell.
    failures_since_success: int = 0
    last_failed_t: float | None = None

    def feed(self, row: dict) -> None:
        self.rows_seen += 1
        t = row.get("time")
        if isinstance(t, str):
            t = dt.datetime.fromisoformat(t)
        if t is not None:
            self.last_time = t
        kind, obj = row.get("kind"), row.get("object")
        if kind == "job" and obj and (self.job_name is None or row["name"] == self.job_name):
            self.job_name = row["name"]
            if row.get("event") != "DELETED":
                self.job = obj
            seen = {(c["type"], c["status"]) for c in self.job_conditions}
            for c in readers.conditions(obj):
                if (c["type"], c["status"]) not in seen:
                    self.job_conditions.append({**c, "t": row.get("t")})
        elif kind == "pod" and obj:
            self._pod(row, obj)
        elif kind == "event":
            message = row.get("message") or ""
            if "{{" in message:  # an unrendered template (a run recorded by an older simulated kubelet)
                message = f"({row.get('reason')}: the simulated kubelet sent no readable message)"
            self.events = (self.events + [{"t": row.get("t"), "level": row.get("level"), "object": row.get("name"),
                                           "reason": row.get("reason"), "message": message,
                                           "from": event_source(row.get("source"))}])[-self.events_kept:]
        elif kind == "step":
            self.steps.append({"t": row.get("t"), "action": row.get("action"), "target": row.get("name"),
                               "detail": row.get("detail"), "kubectl": row.get("kubectl")})

    def _pod(self, row: dict, obj: dict) -> None:
        before = self.pods.get(row["name"])
        owner = readers.controller_of(obj) or {}
        job = owner.get("name") if owner.get("kind") == "Job" else None
        phase = readers.phase(obj)
        if job is not None and job == self.job_name and (before is None or before.phase != phase):
            if phase == "Failed" and row.get("t") is not None:
                self.failures_since_success += 1
                self.last_failed_t = _finished_t(row, obj)
            elif phase == "Succeeded":
                self.failures_since_success, self.last_failed_t = 0, None
        ended = readers.latest_terminations(obj)
        conds = [f"{c['type']}" + (f" ({c['reason']})" if c.get("reason") else "")
                 for c in readers.true_conditions(obj, NOTEWORTHY_CONDITIONS)]
        self.pods[row["name"]] = PodView(
            name=row["name"], node=readers.node_name(obj) or "", phase=readers.phase(obj) or "",
            status=pod_status(obj), restarts=sum(readers.restart_count(obj, cs.get("name"))
                                                 for cs in readers.container_statuses(obj)),
            exit_code=ended[-1][2].get("exitCode") if ended else None,
            conditions=conds, created=readers.meta(obj).get("creationTimestamp"), deleted=row.get("event") == "DELETED",
            index=readers.completion_index(obj), job=job,
        )

    # -- what the widgets show ---------------------------------------------------------------------
    def counters(self) -> dict:
        spec = (self.job or {}).get("spec") or {}
        out = {**{k: readers.counter(self.job, k) for k in ("active", "ready", "succeeded", "failed")},
               # With backoffLimitPerIndex the API sets backoffLimit to the int32 maximum: it is not a limit
               # a learner set or should read (the per-index limit is shown instead).
               "backoffLimit": None if spec.get("backoffLimitPerIndex") is not None else spec.get("backoffLimit"),
               "completions": spec.get("completions")}
        if spec.get("completionMode") == "Indexed":
            out["failedIndexes"] = readers.failed_indexes(self.job) or ""
            out["completedIndexes"] = ((self.job or {}).get("status") or {}).get("completedIndexes") or ""
            out["backoffLimitPerIndex"] = spec.get("backoffLimitPerIndex")
        return out

    def job_status(self) -> str:
        return job_status(self.job) if self.job else ""

    def pod_rows(self, include_deleted: bool = True) -> list[dict]:
        now = self.last_time or dt.datetime.now(dt.timezone.utc)
        rows = []
        for p in sorted(self.pods.values(), key=lambda p: (p.created or "", p.name)):
            if p.deleted and not include_deleted:
                continue
            rows.append({"NAME": p.name, "NODE": p.node, "STATUS": "(deleted)" if p.deleted else p.status,
                         "PHASE": p.phase, "RESTARTS": p.restarts,
                         "EXIT": "" if p.exit_code is None else p.exit_code,
                         "CONDITIONS": ", ".join(p.conditions), "INDEX": p.index or "",
                         "AGE": _age(p.created, now)})
        return rows

    def headline(self) -> str:
        """One line for the header: Job STATUS, and the terminal condition's reason."""
        status = self.job_status()
        final = next((c for c in reversed(self.job_conditions) if c["status"] == "True"
                      and c["type"] in ("Failed", "Complete", "FailureTarget", "SuccessCriteriaMet")), None)
        return f"{status} ({final['reason']})" if final and final.get("reason") else status


def model_from_rows(rows, job_name: str | None = None) -> DashboardModel:
    model = DashboardModel(job_name=job_name)
    for row in rows:
        model.feed(row)
    return model
