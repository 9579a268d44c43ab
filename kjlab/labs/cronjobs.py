"""CronJobs (``labs/09-cronjobs.ipynb``): the lab's CronJobs as package data, a recorded session
that waits for minute boundaries with a live line, and the questions a lab asks of the recording.

The CronJob controller is the real upstream one on both engines; it only ever starts a Job at a
schedule time, and schedules have a one-minute resolution. So a lab cannot be quicker than the
minutes it shows: a session starts every CronJob of a lesson at once, so they share those
minutes, and waits for exactly the boundaries it needs (``wait_for_boundary``) -- never a fixed
sleep -- showing what the controller did so far while it waits.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time

import pandas as pd

from kjlab import examples
from kjlab.actions import ops
from kjlab.api import kube, wait
from kjlab.api import readers
from kjlab.cluster.registry import guard
from kjlab.errors import KjlabError
from kjlab.labs import session
from kjlab.runs.record import register_kind
from kjlab.runs.session import Session
from kjlab.runs.result import Recording

FILES = {"policy": "cron-policy.yaml", "missed": "cron-missed.yaml", "history": "cron-history.yaml"}
# The annotations the controllers write on the Jobs a CronJob makes (kubernetes batch/v1 API).
SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"   # the schedule time a Job is for
MANUAL = "cronjob.kubernetes.io/instantiate"                    # "manual": kubectl create job --from
# How long after a minute boundary the controller may take to act on it (it syncs each CronJob
# at its next schedule time; the Job and its first pod follow within a second or two).
SETTLE_SECONDS = 8


def _file(name: str) -> str:
    if name not in FILES:
        raise KjlabError(f"unknown lab CronJob '{name}' (choose one of: {', '.join(FILES)})", "kjlab.labs.cronjobs.source('policy')")
    return FILES[name]


def source(name: str) -> str:
    return examples.packaged(_file(name))


def render(name: str, cronjob_name: str | None = None, script: str | None = None, **spec) -> dict:
    """The lab CronJob ``name`` as a dict; ``cronjob_name`` renames it, ``script`` replaces its
    container's `bash -c` script (e.g. ``"sleep 1 && exit 1"``), ``spec`` sets top-level fields of
    its spec (``concurrencyPolicy="Forbid"``, ``startingDeadlineSeconds=50`` ...); a value of None
    removes the field (``startingDeadlineSeconds=None``: no deadline)."""
    doc = copy.deepcopy(examples.objects(_file(name))[0])
    if cronjob_name:
        doc["metadata"]["name"] = cronjob_name
    if script is not None:
        doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["bash", "-c", script]
    doc["spec"].update(spec)
    doc["spec"] = {k: v for k, v in doc["spec"].items() if v is not None}
    return doc


def owner(job: dict) -> str | None:
    """The CronJob that owns a Job (its controller ownerReference), or None."""
    for ref in readers.meta(job).get("ownerReferences") or []:
        if ref.get("kind") == "CronJob":
            return ref.get("name")
    return None


def next_boundary(after: dt.datetime) -> dt.datetime:
    """The first whole minute strictly after ``after`` (when a `* * * * *` schedule fires)."""
    return after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def missed_times(last: dt.datetime, now: dt.datetime, period: float = 60) -> int:
    """How many schedule times of a schedule firing every ``period`` s on whole multiples of it (``*
    * * * *``: every whole minute) the v1.36 CronJob controller counts as missed at ``now``, when the
    last one it ran (``status.lastScheduleTime``, else the creation time) was ``last`` and no
    ``startingDeadlineSeconds`` narrows the window: pkg/controller/cronjob/utils.go,
    ``mostRecentScheduleTime`` (t1 the first schedule time after ``last``; (now - t1) // period + 1).
    More than 100 add the Warning ``TooManyMissedTimes``; the controller still starts only the most
    recent one."""
    t1 = dt.datetime.fromtimestamp((last.timestamp() // period + 1) * period, dt.timezone.utc)
    if now < t1:
        return 0
    return int((now - t1).total_seconds() // period) + 1


def _utc(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the recording ------------------------------------------------------------------------------

class CronRecording(Recording):
    """A recording of a namespace with CronJobs: the Jobs each CronJob made (or that were made
    from it), when they ran and how they ended or were removed, and the controller's events."""

    def _offset(self) -> dt.timedelta | None:
        """Wall clock minus recording time (``t``), to put the API's timestamps on the run's axis."""
        row = next((r for r in self.rows if r.get("time") is not None), None)
        if row is None:
            return None
        when = row["time"] if isinstance(row["time"], dt.datetime) else dt.datetime.fromisoformat(str(row["time"]))
        return when - dt.timedelta(seconds=row["t"])

    def at(self, text: str | None) -> float | None:
        """An API timestamp (RFC 3339) as seconds on the recording's axis."""
        when, offset = _utc(text), self._offset()
        return None if when is None or offset is None else round((when - offset).total_seconds(), 1)

    def cron_jobs(self):
        """One row per Job a CronJob owned: the CronJob, the schedule time it was for (``scheduled``;
        none for a Job made with `kubectl create job --from`, ``manual`` True), when it was created,
        when it finished and how, and when it was deleted (``deleted_while``: 'active' when it was
        deleted before it finished -- concurrencyPolicy Replace -- 'finished' when the history
        limits removed it)."""
        jobs: dict[str, dict] = {}
        for r in self.of("job"):
            obj, name = r.get("object"), r["name"]
            if obj is not None and owner(obj) is None:
                continue
            if name not in jobs:
                if obj is None:
                    continue
                ann = readers.annotations(obj)
                jobs[name] = {"job": name, "cronjob": owner(obj), "manual": ann.get(MANUAL) == "manual",
                              "scheduled": self.at(ann.get(SCHEDULED)), "created": r["t"], "finished": None,
                              "outcome": None, "deleted": None, "deleted_while": None}
            row = jobs[name]
            if obj is not None and row["finished"] is None and readers.finished(obj):
                row["finished"], row["outcome"] = r["t"], readers.finished(obj)
            if (r.get("event") == "DELETED" or (obj is not None and readers.deleting(obj))) and row["deleted"] is None:
                row["deleted"] = r["t"]
                row["deleted_while"] = "finished" if row["finished"] is not None else "active"
        columns = ["job", "cronjob", "manual", "scheduled", "created", "finished", "outcome", "deleted", "deleted_while"]
        return pd.DataFrame(list(jobs.values()), columns=columns).sort_values(["cronjob", "created"], ignore_index=True)

    def cron_events(self, cronjob: str | None = None):
        """The CronJob controller's events (SuccessfulCreate, JobAlreadyActive, SuccessfulDelete,
        MissSchedule, SawCompletedJob ...), in order, with the CronJob each is about."""
        rows = [{"t": r["t"], "cronjob": r["name"].split("/", 1)[1], "reason": r.get("reason"), "message": r.get("message")}
                for r in self.of("event") if (r.get("name") or "").startswith("cronjob/")]
        frame = pd.DataFrame(rows, columns=["t", "cronjob", "reason", "message"])
        return frame[frame["cronjob"] == cronjob].reset_index(drop=True) if cronjob else frame

    def max_active(self, cronjob: str, until: float | None = None) -> int:
        """The most Jobs of ``cronjob`` active at one moment (created, not yet finished or deleted)."""
        jobs = self.cron_jobs()
        jobs = jobs[jobs["cronjob"] == cronjob]
        end = until if until is not None else max((r["t"] for r in self.rows), default=0)
        spans = []
        for _, j in jobs.iterrows():
            stops = [v for v in (j["finished"], j["deleted"]) if v is not None and not pd.isna(v)]
            spans.append((j["created"], min(stops + [end])))
        # the count only rises at a creation: look there
        return max((sum(1 for a, b in spans if a <= t < b) for t, _ in spans), default=0)

    def resumed(self, cronjob: str) -> dict | None:
        """The CronJob as it was when it was resumed: when kjlab's watch first saw ``suspend: false``
        after ``true`` (``t``, and the wall clock ``at``), and the ``lastScheduleTime`` it had then
        (None: it had never run; the controller then counts from its creation)."""
        before = None
        for r in self.of("cronjob"):
            obj = r.get("object")
            if r["name"] != cronjob or obj is None:
                continue
            if (obj.get("spec") or {}).get("suspend"):
                before = obj
            elif before is not None:
                offset = self._offset()
                status = before.get("status") or {}
                return {"t": r["t"], "at": offset + dt.timedelta(seconds=r["t"]) if offset is not None else None,
                        "lastScheduleTime": status.get("lastScheduleTime"),
                        "creationTimestamp": readers.meta(before).get("creationTimestamp")}
        return None

    def resumes(self, names, period: float = 60):
        """For each CronJob (a schedule every ``period`` s, no ``startingDeadlineSeconds``) that was
        resumed: the time the controller counts from (``lastScheduleTime``, else creation), the
        missed times it counted at the resume (``missed_times``), the Jobs it started for schedule
        times before the resume, and its ``TooManyMissedTimes`` warnings."""
        jobs, events, rows = self.cron_jobs(), self.cron_events(), []
        for name in names:
            r = self.resumed(name)
            if r is None:
                raise KjlabError(f"the recording never saw CronJob {name} resumed (suspend true, then false)",
                                 "run the cell that resumes it first")
            since = r["lastScheduleTime"] or r["creationTimestamp"]
            mine = jobs[(jobs["cronjob"] == name) & ~jobs["manual"]]
            rows.append({"cronjob": name, "counted from": since, "resumed at (s)": r["t"],
                         "missed times at the resume": missed_times(_utc(since), r["at"], period) if r["at"] else None,
                         "jobs for missed times": int((mine["scheduled"] < r["t"]).sum()),
                         "TooManyMissedTimes events": int(((events["cronjob"] == name)
                                                           & (events["reason"] == "TooManyMissedTimes")).sum())})
        return pd.DataFrame(rows).set_index("cronjob")

    def cron_summary(self):
        """Per CronJob: Jobs made by the schedule and by hand, the most active at once, schedules
        held back (JobAlreadyActive), Jobs replaced (deleted while active), schedules missed
        (MissSchedule), finished Jobs removed by the history limits, and the Jobs left at the end."""
        jobs, events = self.cron_jobs(), self.cron_events()
        names = list(dict.fromkeys(list(jobs["cronjob"]) + [r["name"] for r in self.of("cronjob")]))
        rows = []
        for name in names:
            mine, ev = jobs[jobs["cronjob"] == name], events[events["cronjob"] == name]
            rows.append({"cronjob": name, "scheduled jobs": int((~mine["manual"]).sum()), "manual jobs": int(mine["manual"].sum()),
                         "max active at once": self.max_active(name),
                         "held back (JobAlreadyActive)": int((ev["reason"] == "JobAlreadyActive").sum()),
                         "replaced (deleted while active)": int((mine["deleted_while"] == "active").sum()),
                         "missed (MissSchedule)": int((ev["reason"] == "MissSchedule").sum()),
                         "removed by history limit": int((mine["deleted_while"] == "finished").sum()),
                         "jobs left": int(mine["deleted"].isna().sum())})
        return pd.DataFrame(rows).set_index("cronjob") if rows else pd.DataFrame()


# --- a session ----------------------------------------------------------------------------------

class CronSession(Session):
    """One namespace, recorded from the start (pods, Jobs, events and CronJobs), where a lab creates
    CronJobs, acts on them, and waits for minute boundaries; ``stop()`` returns the CronRecording."""

    kinds = ("cronjob",)
    recording_class = CronRecording

    def __init__(self, context: str, namespace: str, echo: bool = True, live: bool = True):
        super().__init__(context, namespace, echo)
        self.created_at: dt.datetime | None = None
        self.live = live
        self._line = None

    def _new_line(self) -> None:
        """A live line in the current cell (the one that waits), when running under IPython."""
        self._line = None
        if not self.live:
            return
        try:
            import ipywidgets as widgets
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is not None:
            self._line = widgets.HTML(value="")
            display(self._line)

    def create(self, doc: dict) -> dict:
        """`kubectl create -f cronjob.yaml` (refusals in the API's own words)."""
        created = ops.apply_cronjob(self.actor, doc)
        self.created_at = dt.datetime.now(dt.timezone.utc)
        return created

    def create_all(self, docs, margin: float = 5) -> list[dict]:
        """Create several CronJobs inside one minute (waiting out the few seconds before a boundary
        first), so they all see the same schedule times."""
        left = (next_boundary(dt.datetime.now(dt.timezone.utc)) - dt.datetime.now(dt.timezone.utc)).total_seconds()
        if left < margin:
            time.sleep(left + 1)
        return [self.create(doc) for doc in docs]

    def patch(self, name: str, patch: dict) -> dict:
        return ops.patch_cronjob(self.actor, name, patch)

    def set_last_schedule_time(self, name: str, ago: dt.timedelta) -> str:
        """Set the CronJob's ``status.lastScheduleTime`` to the whole minute ``ago`` before now,
        through the status subresource: the CronJob then looks as if it had last run then (a
        CronJob suspended over a weekend) without waiting for it. The controller writes this field
        only when it starts a Job, and a suspended CronJob starts none, so the value stays until the
        resume (pkg/controller/cronjob/cronjob_controllerv2.go, ``syncCronJob``)."""
        guard(self.context, f"patch the status of cronjob {name}")
        when = (dt.datetime.now(dt.timezone.utc) - ago).replace(second=0, microsecond=0)
        patch = {"status": {"lastScheduleTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}}
        kube.raw(kube.batch(self.context).patch_namespaced_cron_job_status, name, self.namespace, patch,
                 _content_type="application/merge-patch+json")
        text = json.dumps(patch, separators=(",", ":"))
        command = f"kubectl patch cronjob {name} -n {self.namespace} --subresource=status --type=merge -p '{text}'"
        if self.echo:
            print(f"$ {command}\ncronjob.batch/{name} patched")
        self.recorder.step("patch", f"cronjob/{name}", text, command)
        return patch["status"]["lastScheduleTime"]

    def job_from(self, cronjob: str, job: str) -> dict:
        return ops.create_job_from_cronjob(self.actor, cronjob, job)

    def wait_for_boundary(self, n: int = 1, plus: float = SETTLE_SECONDS, after: dt.datetime | None = None) -> float:
        """Wait until ``plus`` seconds after the ``n``-th whole minute after ``after`` (default: when
        the last CronJob was created), showing what the controller did so far; returns the
        boundary's time on the recording's axis."""
        start = after or self.created_at or dt.datetime.now(dt.timezone.utc)
        boundary = next_boundary(start) + dt.timedelta(minutes=n - 1)
        until = boundary + dt.timedelta(seconds=plus)
        waited = time.monotonic()
        self._new_line()
        while True:
            now = dt.datetime.now(dt.timezone.utc)
            left = (until - now).total_seconds()
            self._show(f"waiting for {boundary:%H:%M:%S} UTC (+{plus:.0f} s): {max(0, left):.0f} s left")
            if left <= 0:
                break
            time.sleep(min(2.0, left))
        if self.echo:
            print(f"waited {time.monotonic() - waited:.0f} s for the schedule time {boundary:%H:%M:%S} UTC (+{plus:.0f} s)")
        return self.recording().at(boundary.isoformat())

    def wait_for_jobs(self, cronjob: str, count: int, what: str, quiet: float = 60, cap: float = 300) -> float:
        """Wait until ``cronjob`` has made ``count`` Jobs (a held-back Forbid run starts only when the
        running one ends, and a busy node stretches that Job). Bounded by progress: while one of the
        CronJob's Jobs is still active the wait goes on (up to ``cap`` s); once none is, it gives the
        controller ``quiet`` s more. Returns the time on the recording's axis."""
        started = time.monotonic()
        quiet_since = started
        self._new_line()
        with wait.announced(what, cap, echo=self.echo,
                            bound=f"while a Job of {cronjob} runs, then {quiet:.0f} s; at most {cap:.0f} s"):
            while True:
                jobs = self.recording().cron_jobs()
                mine = jobs[jobs["cronjob"] == cronjob] if len(jobs) else jobs
                if len(mine) >= count:
                    return self.now()
                if len(mine) and (mine["finished"].isna() & mine["deleted"].isna()).any():
                    quiet_since = time.monotonic()
                now = time.monotonic()
                if now - quiet_since > quiet or now - started > cap:
                    raise KjlabError(f"{cronjob} made {len(mine)} Job(s), not {count}, within {now - started:.0f} s "
                                     f"({what})", f"kjlab kubectl get cronjob,jobs,events -n {self.namespace}")
                self._show(f"waiting for {what}: {now - started:.0f} s")
                time.sleep(1.0)

    def _show(self, text: str) -> None:
        if self._line is None:
            return
        jobs = self.recording().cron_jobs()
        per = ", ".join(f"{c}: {len(g)} job(s), {int((g['finished'].isna() & g['deleted'].isna()).sum())} active"
                        for c, g in jobs.groupby("cronjob")) or "no Job yet"
        self._line.value = f"<code>{text} · {per}</code>"

    def stop(self) -> CronRecording:
        recording = super().stop()
        if self._line is not None:
            self._line.value = f"<code>recording stopped at {self.now():.0f} s</code>"
        return recording


def plot_jobs(recording: CronRecording, cronjobs_shown=None, boundaries=(), title: str = ""):
    """The Jobs of some CronJobs on one time axis: a bar per Job from its creation to its end (or
    deletion, hatched; or the end of the recording), dotted lines at the schedule times."""
    import matplotlib.pyplot as plt

    jobs = recording.cron_jobs()
    if cronjobs_shown:
        jobs = jobs[jobs["cronjob"].isin(cronjobs_shown)]
    end = max((r["t"] for r in recording.rows), default=0)
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(3, len(jobs)) + 1))
    for i, (_, j) in enumerate(jobs.iterrows()):
        stop = next((v for v in (j["finished"], j["deleted"]) if v is not None and not pd.isna(v)), end)
        deleted_active = j["deleted_while"] == "active"
        ax.barh(i, stop - j["created"], left=j["created"], color="tab:red" if deleted_active else "tab:blue",
                hatch="//" if deleted_active else None, alpha=0.8)
        # a Job still running when the recording ended has no outcome: NaN in the table, words here
        outcome = j["outcome"] if isinstance(j["outcome"], str) and j["outcome"] else "still running"
        label = "deleted while active" if deleted_active else outcome
        ax.text(stop + 1, i, label, va="center", fontsize=8)
    ax.set_yticks(range(len(jobs)), [f"{c} / {j}" for c, j in zip(jobs["cronjob"], jobs["job"])])
    for b in boundaries:
        ax.axvline(b, color="grey", linestyle=":")
    ax.set_xlabel("seconds since the recording started (dotted: whole minutes, the schedule times)")
    ax.invert_yaxis()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def cronjob_row(event: str, cj: dict) -> dict:
    status = cj.get("status") or {}
    spec = cj.get("spec") or {}
    return {
        "kind": "cronjob", "name": readers.name(cj), "event": event,
        "active": len(status.get("active") or []),
        "detail": f"suspend={bool(spec.get('suspend'))} lastScheduleTime={status.get('lastScheduleTime')} "
                  f"lastSuccessfulTime={status.get('lastSuccessfulTime')}",
        "deleting": readers.deleting(cj),
        "resource_version": readers.resource_version(cj),
    }


register_kind("cronjob", lambda context: kube.batch(context).list_namespaced_cron_job, cronjob_row)


@session("cron")
def _cron(lab, name: str) -> CronSession:
    """A recorded namespace ``<prefix>-<name>`` for CronJobs: create, patch, create a Job from a
    CronJob, wait for minute boundaries with a live line; ``stop()`` gives the recording."""
    return CronSession(lab.context, f"{lab.prefix}-{name}")
