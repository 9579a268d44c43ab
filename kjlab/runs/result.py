"""A finished run as data: the Recording (every row the recorder wrote, with the questions labs,
checks, summaries and widgets ask of it) and the RunResult (the outcome, typed).

Nothing here talks to the cluster: a RunResult is built from a recording and the final Job
object, or loaded back from a saved run, and answers the same either way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
import yaml

from kjlab.api import readers

# --- the recording -------------------------------------------------------------------------

COLUMNS = [
    "time", "t", "kind", "name", "event", "status", "phase", "node", "container", "exit_code", "reason", "message",
    "conditions", "deleting", "finalizers", "active", "ready", "succeeded", "failed", "terminating",
    "level", "action", "detail", "kubectl", "resource_version", "object",
]

# the Job controller's pod re-creation back-off: 10 s x 2^(n-1), capped at 10 min in v1.36
from kjlab.api.backoff import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS  # noqa: E402,F401


def _iso(t) -> str | None:
    return t.isoformat() if hasattr(t, "isoformat") else t


def _instant(value) -> dt.datetime | None:
    """A recorded time (datetime, or ISO text from a saved run; the API's "Z" too) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _finished_at(pod: dict | None) -> dt.datetime | None:
    """When the pod's last container run ended (its terminated state's finishedAt), or None."""
    times = [t.get("finishedAt") for _, _, t in readers.latest_terminations(pod or {}) if t.get("finishedAt")]
    return _instant(max(times)) if times else None


class Recording:
    """The rows of one run in the order they were recorded: pod, job and event changes (each with
    the object as the API served it) and kjlab's own steps. Read-only; every query is computed
    from the rows, so a loaded recording answers like a live one."""

    def __init__(self, rows: list[dict]):
        self.rows = list(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def of(self, kind: str) -> list[dict]:
        return [r for r in self.rows if r.get("kind") == kind]

    @cached_property
    def _frame(self):
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def frame(self, with_objects: bool = False):
        """Every row as a pandas DataFrame (``object`` column only on request: it is large)."""
        return self._frame.copy() if with_objects else self._frame.drop(columns=["object"])

    # -- pods --
    def pod_names(self) -> list[str]:
        """The run's pods in the order they first appeared."""
        return list(dict.fromkeys(r["name"] for r in self.of("pod")))

    def last_pods(self) -> dict[str, dict]:
        """Each pod's last recorded object."""
        last = {}
        for r in self.of("pod"):
            if r.get("object"):
                last[r["name"]] = r["object"]
        return last

    def failed_pods(self) -> list[str]:
        """Pods recorded in phase Failed, in the order they failed."""
        return list(dict.fromkeys(r["name"] for r in self.of("pod") if r.get("phase") == "Failed"))

    def first_failed(self, pod: str) -> dict | None:
        return next((r for r in self.of("pod") if r["name"] == pod and r.get("phase") == "Failed"), None)

    # -- the Job --
    def job_conditions(self) -> list[dict]:
        """Job conditions in the order they first appeared, with the time kjlab saw each."""
        seen, out = set(), []
        for row in self.of("job"):
            for c in readers.conditions(row.get("object")):
                key = (c["type"], c["status"])
                if key in seen:
                    continue
                seen.add(key)
                out.append({"type": c["type"], "status": c["status"], "reason": c.get("reason"),
                            "message": c.get("message"), "time": _iso(row["time"]), "t": row["t"]})
        return out

    # -- kjlab's steps --
    def steps(self) -> list[dict]:
        return [{"time": _iso(r["time"]), "t": r["t"], "action": r["action"], "target": r["name"],
                 "detail": r["detail"], "kubectl": r["kubectl"]} for r in self.of("step")]

    def first_step(self, action: str) -> dict | None:
        return next((r for r in self.of("step") if r.get("action") == action), None)

    # -- tables a lab shows --
    def table(self, kinds=("pod", "job", "step")):
        """The timeline trimmed to what a learner reads first."""
        frame = self.frame()
        frame = frame[frame["kind"].isin(kinds)]
        columns = ["t", "kind", "name", "event", "status", "phase", "container", "exit_code", "conditions", "failed",
                   "succeeded", "action", "detail"]
        return frame[columns].fillna("").reset_index(drop=True)

    def pod_outcomes(self):
        """Each pod's last recorded state: node, phase, exit code, and the conditions that matter."""
        frame = self.frame()
        pods = frame[frame["kind"] == "pod"].groupby("name").last()
        pods["DisruptionTarget"] = pods["conditions"].fillna("").str.contains("DisruptionTarget=True")
        pods["ConfigIssue"] = pods["conditions"].fillna("").str.contains("ConfigIssue=True")
        pods["exit_code"] = pods["exit_code"].astype("Int64")  # 137, not 137.0; <NA> for a pod that never exited
        return pods[["node", "phase", "container", "exit_code", "DisruptionTarget", "ConfigIssue"]]

    def pod_indexes(self):
        """Indexed Jobs: each pod's completion index (annotation batch.kubernetes.io/job-completion-index,
        the container's JOB_COMPLETION_INDEX) with its last phase and exit code."""
        last = {}
        for row in self.of("pod"):
            if row.get("object"):
                last[row["name"]] = row
        rows = [{"pod": name, "index": readers.completion_index(row["object"]), "phase": row["phase"],
                 "exit_code": row["exit_code"]} for name, row in last.items()]
        frame = pd.DataFrame(rows, columns=["pod", "index", "phase", "exit_code"]).astype({"exit_code": "Int64"})
        return frame.set_index("pod").sort_values(
            ["index", "pod"])

    def backoff_waves(self, same_wave_seconds: float = 3.0):
        """The failure waves: when pods failed, how many at once, the failures counted so far (n),
        the back-off the Job controller then applies (10 s x 2^(n-1), n = failures since the last
        success, at most 10 min) and the measured gap to the next wave (the back-off plus the time
        the next pods need to run and fail). Pods failing within ``same_wave_seconds`` of each
        other are one wave: with ``parallelism: 2`` two pods fail together, so n grows by 2 a wave."""
        fails = sorted(self.first_failed(name)["t"] for name in self.failed_pods())
        waves: list[list] = []
        for t in fails:
            if waves and t - waves[-1][0] < same_wave_seconds:
                waves[-1][1] += 1
            else:
                waves.append([t, 1])
        rows, n = [], 0
        for i, (t, count) in enumerate(waves):
            n += count
            rows.append({"wave at (s)": round(t), "pods failed": count, "failures so far (n)": n,
                         "back-off (s)": min(BACKOFF_BASE_SECONDS * 2 ** (n - 1), BACKOFF_CAP_SECONDS),
                         "gap to next wave (s)": round(waves[i + 1][0] - t) if i + 1 < len(waves) else None})
        return pd.DataFrame(rows, columns=["wave at (s)", "pods failed", "failures so far (n)", "back-off (s)",
                                           "gap to next wave (s)"]).astype({"gap to next wave (s)": "Int64"})

    # -- pods over time (completions, parallelism, retries) --
    LIFECYCLE = ["pod", "index", "created", "running", "terminating", "ended", "gone", "phase", "exit_code"]

    def pod_lifecycles(self):
        """One row per pod, in the order the pods appeared: its completion index (Indexed Jobs),
        when kjlab saw it created, Running, terminating (deletionTimestamp set), ended (Succeeded or
        Failed) and removed, with its last phase and exit code. Times are seconds since the
        recording began; a moment the pod never reached is NaN."""
        pods: dict[str, dict] = {}
        for r in self.of("pod"):
            p = pods.setdefault(r["name"], {"pod": r["name"], "index": None, "created": r["t"], "running": None,
                                            "terminating": None, "ended": None, "gone": None, "phase": None,
                                            "exit_code": None})
            phase = r.get("phase")
            if phase == "Running" and p["running"] is None:
                p["running"] = r["t"]
            if r.get("deleting") and p["terminating"] is None:
                p["terminating"] = r["t"]
            if phase in ("Succeeded", "Failed") and p["ended"] is None:
                p["ended"] = r["t"]
            if r.get("event") == "DELETED" and p["gone"] is None:
                p["gone"] = r["t"]
            if phase:
                p["phase"] = phase
            if r.get("exit_code") is not None and not pd.isna(r.get("exit_code")):
                p["exit_code"] = int(r["exit_code"])
            if r.get("object") and p["index"] is None:
                index = readers.completion_index(r["object"])
                p["index"] = int(index) if index is not None else None
        return pd.DataFrame(list(pods.values()), columns=self.LIFECYCLE).astype({"index": "Int64", "exit_code": "Int64"})

    def index_sources(self):
        """Each pod's index as the annotation, the label, the JOB_COMPLETION_INDEX env var and the
        hostname hold it (kjlab.readers.index_sources), from the pod's last recorded object."""
        rows = [readers.index_sources(pod) for pod in self.last_pods().values()]
        return pd.DataFrame(rows, columns=["pod", "annotation", "label", "JOB_COMPLETION_INDEX", "hostname"]
                            ).set_index("pod").sort_values("annotation")

    @staticmethod
    def _first(*times):
        known = [t for t in times if t is not None and not pd.isna(t)]
        return min(known) if known else None

    def running_at_once(self):
        """How many of the run's pods were running, active and terminating at each moment one of
        those numbers changed (one row per change, in time order).

        running: the container runs (phase Running) until the pod ended or was removed;
        active: what the Job controller holds against ``parallelism``: created, not ended, not
        being deleted; terminating: being deleted, not yet ended or removed."""
        life = self.pod_lifecycles()
        spans = {"running": [], "active": [], "terminating": []}
        for p in life.itertuples():
            stop = self._first(p.ended, p.gone)
            if p.running is not None and not pd.isna(p.running):
                spans["running"].append((p.running, stop, p.pod))
            spans["active"].append((p.created, self._first(p.ended, p.terminating, p.gone), p.pod))
            if p.terminating is not None and not pd.isna(p.terminating):
                spans["terminating"].append((p.terminating, stop, p.pod))
        moments = sorted({t for span in spans.values() for start, stop, _ in span for t in (start, stop)
                          if t is not None})

        def at(kind, t):
            return [pod for start, stop, pod in spans[kind] if start <= t and (stop is None or t < stop)]

        rows, last = [], None
        for t in moments:
            running = at("running", t)
            counts = (len(running), len(at("active", t)), len(at("terminating", t)))
            if counts != last:
                rows.append({"t": t, "running": counts[0], "active": counts[1], "terminating": counts[2],
                             "pods running": ", ".join(running)})
                last = counts
        return pd.DataFrame(rows, columns=["t", "running", "active", "terminating", "pods running"])

    def max_running(self) -> int:
        """The most pods that ran at the same moment."""
        at_once = self.running_at_once()
        return int(at_once["running"].max()) if len(at_once) else 0

    def replacements_table(self):
        """Who replaced whom: for each pod created after another pod left the active set (ended, or
        began terminating), the pod whose place it took -- the latest to leave before it was
        created and not already replaced; in an Indexed Job a pod takes the place of a pod of its
        own index first (a retry). ``waited (s)`` is from that pod leaving to this one being
        created; ``while terminating`` says the new pod came before the old one had ended."""
        life = self.pod_lifecycles()
        left = []  # (time it left the active set, how, pod, index, ended)
        for p in life.itertuples():
            out = self._first(p.ended, p.terminating)
            if out is not None:
                how = "deleted" if p.terminating is not None and not pd.isna(p.terminating) and (
                    p.ended is None or pd.isna(p.ended) or p.terminating <= p.ended) else p.phase
                left.append((out, how, p.pod, p.index, p.ended))
        taken, rows = set(), []
        for p in life.sort_values("created", kind="stable").itertuples():
            before = [l for l in left if l[0] <= p.created and l[2] not in taken and l[2] != p.pod]
            if not before:
                continue
            same_index = [l for l in before if not pd.isna(p.index) and not pd.isna(l[3]) and l[3] == p.index]
            out, how, old, index, ended = max(same_index or before, key=lambda l: l[0])
            taken.add(old)
            rows.append({"pod": p.pod, "index": p.index, "created at": p.created, "replaces": old, "which": how,
                         "left at": out, "waited (s)": round(p.created - out, 1),
                         "while terminating": bool(ended is None or pd.isna(ended) or p.created < ended)})
        return pd.DataFrame(rows, columns=["pod", "index", "created at", "replaces", "which", "left at",
                                           "waited (s)", "while terminating"])

    def restart_history(self):
        """Restarts in place (``restartPolicy: OnFailure``): one row each time a pod's container
        state or restartCount changed -- the pod, its phase, the container's state (running,
        waiting CrashLoopBackOff ...), restartCount and the exit code of the previous run."""
        rows, last = [], {}
        for r in self.of("pod"):
            pod = r.get("object")
            if not pod:
                continue
            which, fields = readers.state(pod)
            now = (readers.phase(pod), which, fields.get("reason"), readers.restart_count(pod))
            if last.get(r["name"]) == now:
                continue
            last[r["name"]] = now
            rows.append({"t": r["t"], "pod": r["name"], "phase": now[0],
                         "container": f"{which}:{now[2]}" if now[2] else which or "(no status yet)",
                         "restartCount": now[3],
                         "last exit code": readers.last_exit_code(pod)})
        # Exit codes are integers, and "none yet" is <NA> rather than NaN beside a float 1.0.
        return pd.DataFrame(rows, columns=["t", "pod", "phase", "container", "restartCount", "last exit code"]
                            ).astype({"restartCount": "int64", "last exit code": "Int64"})

    TRACKING = "batch.kubernetes.io/job-tracking"

    def tracking(self):
        """Job tracking with finalizers: for each pod, whether it carried the Job controller's
        ``batch.kubernetes.io/job-tracking`` finalizer, when it ended, when the controller removed
        the finalizer (it has counted the pod in the Job's status) and when the pod was removed."""
        life = self.pod_lifecycles().set_index("pod")
        seen, removed = {}, {}
        for r in self.of("pod"):
            has = self.TRACKING in (r.get("finalizers") or "").split(",")
            if has:
                seen[r["name"]] = True
            elif seen.get(r["name"]) and r["name"] not in removed and r.get("event") != "DELETED":
                removed[r["name"]] = r["t"]
        rows = [{"pod": pod, "had the finalizer": bool(seen.get(pod)), "ended": life.loc[pod, "ended"],
                 "finalizer removed": removed.get(pod), "gone": life.loc[pod, "gone"]} for pod in life.index]
        return pd.DataFrame(rows, columns=["pod", "had the finalizer", "ended", "finalizer removed", "gone"])

    def resumed_at(self) -> float | None:
        """When a suspended Job was resumed: kjlab's `suspend: false` patch, else the first
        Suspended=False condition (the controller creates the new pods before it writes that)."""
        step = next((r["t"] for r in self.of("step") if '"suspend":false' in (r.get("detail") or "")), None)
        if step is not None:
            return step
        return next((c["t"] for c in self.job_conditions() if c["type"] == "Suspended" and c["status"] == "False"), None)

    def gone_at(self, kind: str, name: str | None = None) -> float | None:
        """When kjlab saw the object (the first of ``kind``, or the named one) deleted, or None."""
        return next((r["t"] for r in self.of(kind) if r.get("event") == "DELETED" and name in (None, r["name"])), None)

    def retry_delays(self):
        """The Job controller's back-off, measured: for each pod that replaced a failed pod, how long
        after that failure it was created, beside the documented delay 10 s x 2^(n-1) (n = failures
        since the last success, at most 10 min in v1.36). Fits Jobs whose pods run one at a time
        (``parallelism: 1``), where each failure is followed by exactly one new pod."""
        life = self.pod_lifecycles().set_index("pod")
        last = self.last_pods()
        first_seen = {}
        for row in self.of("pod"):
            first_seen.setdefault(row["name"], row)
        rows, n = [], 0
        for r in self.replacements_table().to_dict("records"):
            if r["which"] == "Succeeded":
                n = 0
                continue
            n += 1
            # The controller counts from the failed container's finishedAt (whole seconds, written by
            # the kubelet), not from when the pod's phase turned Failed -- a real kubelet reports that
            # a second or two later. Without finishedAt (a pod deleted before it ran): when it left.
            finished = _finished_at(last.get(r["replaces"]))
            seen = _instant(first_seen[r["pod"]]["time"]) if r["pod"] in first_seen else None
            if finished is not None and seen is not None:
                measured = (seen - finished).total_seconds()
            else:
                ended = life.loc[r["replaces"], "ended"]
                failed_at = ended if ended is not None and not pd.isna(ended) and ended <= r["created at"] else r["left at"]
                measured = r["created at"] - failed_at
            rows.append({"new pod": r["pod"], "after the failure of": r["replaces"],
                         "exit code": life.loc[r["replaces"], "exit_code"], "failures so far (n)": n,
                         "documented back-off (s)": min(BACKOFF_BASE_SECONDS * 2 ** (n - 1), BACKOFF_CAP_SECONDS),
                         "measured (s)": round(measured, 1)})
        return pd.DataFrame(rows, columns=["new pod", "after the failure of", "exit code", "failures so far (n)",
                                           "documented back-off (s)", "measured (s)"])


# --- the result ----------------------------------------------------------------------------

_DECIDING = [re.compile(r"for pod [^/\s]+/(\S+) failed"), re.compile(r"^Pod [^/\s]+/(\S+) has condition")]


def deciding_pod(message: str | None) -> str | None:
    """The pod named in a PodFailurePolicy message (both of the controller's formats)."""
    for pattern in _DECIDING:
        m = pattern.search(message or "")
        if m:
            return m.group(1)
    return None


@dataclass
class Drain:
    """What a drain during the run did: the node, the Job's pods it evicted, and the Job's
    ``status.failed`` before and after (the Ignore rule keeps it unchanged)."""

    node: str
    evicted: list[str]
    evicted_elsewhere: int
    failed_before: int
    failed_after: int


@dataclass
class Patch:
    """A condition kjlab patched onto a stuck pod (then deleted it, when asked)."""

    pod: str
    condition: str
    pods_before_delete: list[str]


@dataclass
class RunResult:
    """A finished run: the outcome, the steps kjlab took, and the recording."""

    scenario: str
    namespace: str
    job: str
    policy: bool
    outcome: str                      # Complete | Failed | Running (still retrying when the run stopped)
    reason: str | None
    message: str | None
    failed: int
    succeeded: int
    duration_s: float | None
    conditions: list[dict]
    recording: Recording = field(repr=False)
    job_status: dict = field(default_factory=dict, repr=False)
    pods_created: int = 0
    failed_indexes: str | None = None
    deciding_pod: str | None = None
    exit_to_failed_s: float | None = None   # the deciding pod's failure to the Job's Failed condition
    drain: Drain | None = None
    patch: Patch | None = None
    has_policy: bool = True                 # the Job's spec had a podFailurePolicy (labels say so only then)

    # -- the recording, by the names labs use --
    @property
    def steps(self) -> list[dict]:
        return self.recording.steps()

    @property
    def timeline(self):
        """The recording as a DataFrame (kjlab.show_timeline draws it)."""
        return self.recording.frame()

    @property
    def rows(self) -> list[dict]:
        return self.recording.rows

    def pods(self):
        """Each pod's last state (node, phase, exit code, DisruptionTarget, ConfigIssue)."""
        return self.recording.pod_outcomes()

    def indexes(self):
        """Indexed Jobs: each pod's completion index, phase and exit code."""
        return self.recording.pod_indexes()

    def backoff_waves(self):
        return self.recording.backoff_waves()

    @property
    def replacements(self) -> list[str]:
        """Pods created after kjlab deleted the patched pod (none when nothing was deleted)."""
        if self.patch is None:
            return []
        before = set(self.patch.pods_before_delete)
        return [p for p in self.recording.pod_names() if p not in before]

    # -- one line, one dict, one table --
    @property
    def label(self) -> str:
        if self.policy and not self.has_policy:  # a Job that never had a policy
            return self.scenario
        return f"{self.scenario} {'with' if self.policy else 'without'} the policy"

    def headline(self) -> str:
        """One line: outcome, reason, duration, pods created."""
        reason = f" ({self.reason})" if self.reason else ""
        dur = f" after {self.duration_s:.0f}s" if self.duration_s is not None else ""
        return (f"{self.label}: {self.outcome}{reason}{dur}; failed={self.failed}, "
                f"succeeded={self.succeeded}, pods created={self.pods_created}")

    def __repr__(self) -> str:
        return f"<RunResult {self.headline()}>"

    def to_dict(self, with_timeline: bool = True) -> dict:
        """Plain data (JSON-ready): what `kjlab scenario run --json` prints and the saved runs hold."""
        data = {
            "scenario": self.scenario, "namespace": self.namespace, "job": self.job, "policy": self.policy,
            "outcome": self.outcome, "reason": self.reason, "message": self.message,
            "failed": self.failed, "succeeded": self.succeeded, "duration_s": self.duration_s,
            "conditions": self.conditions, "steps": self.steps, "pods_created": self.pods_created,
            "has_policy": self.has_policy,
        }
        for key in ("failed_indexes", "deciding_pod", "exit_to_failed_s"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.drain:
            data.update(drained_node=self.drain.node, evicted=self.drain.evicted,
                        evicted_elsewhere=self.drain.evicted_elsewhere,
                        failed_before_drain=self.drain.failed_before, failed_after_drain=self.drain.failed_after)
        if self.patch:
            data.update(patched_pod=self.patch.pod, pods_before_delete=self.patch.pods_before_delete)
        if with_timeline:
            frame = self.timeline.copy()
            frame["time"] = frame["time"].map(_iso)
            data["timeline"] = json.loads(frame.to_json(orient="records"))
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    @classmethod
    def from_dict(cls, data: dict, rows: list[dict]) -> "RunResult":
        """A saved run (``to_dict(with_timeline=False)`` plus its recorder rows) back as a RunResult."""
        drain = patch = None
        if "drained_node" in data:
            drain = Drain(data["drained_node"], data.get("evicted", []), data.get("evicted_elsewhere", 0),
                          data.get("failed_before_drain", 0), data.get("failed_after_drain", 0))
        if "patched_pod" in data:
            patch = Patch(data["patched_pod"], "", data.get("pods_before_delete", []))
        return cls(scenario=data["scenario"], namespace=data["namespace"], job=data["job"], policy=data["policy"],
                   outcome=data["outcome"], reason=data["reason"], message=data["message"], failed=data["failed"],
                   succeeded=data["succeeded"], duration_s=data["duration_s"], conditions=data["conditions"],
                   recording=Recording(rows), job_status=data.get("job_status") or {},
                   pods_created=data.get("pods_created", 0), failed_indexes=data.get("failed_indexes"),
                   deciding_pod=data.get("deciding_pod"), exit_to_failed_s=data.get("exit_to_failed_s"),
                   drain=drain, patch=patch, has_policy=data.get("has_policy", True))

    def status_yaml(self) -> str:
        """The Job's status as `kubectl get job -o yaml` shows it: conditions and counters."""
        keep = {k: v for k, v in self.job_status.items()
                if k in ("conditions", "failed", "succeeded", "active", "ready", "terminating", "failedIndexes",
                         "completedIndexes", "uncountedTerminatedPods")}
        return yaml.safe_dump({"status": keep}, sort_keys=False, width=200)

    def compare(self, *others: "RunResult"):
        """This run and ``others`` side by side: one row per run (outcome, reason, failed,
        succeeded, duration, pods created)."""
        return compare(self, *others)


def run_names(runs) -> list[str]:
    """A name per run for a comparison: its scenario (with or without the policy), and where two
    runs would share a name (one example run two ways, e.g. the completions lab's podReplacementPolicy), its
    namespace too."""
    names = [f"{r.scenario} {'with' if r.policy else 'without'} policy" if r.has_policy or not r.policy else r.scenario
             for r in runs]
    return [f"{n} ({r.namespace})" if names.count(n) > 1 else n for n, r in zip(names, runs)]


def compare(*runs: RunResult):
    """Runs side by side, one row each; a run kjlab stopped while the Job still retried says so in
    words rather than leave NaN in the table."""
    rows = [{
        "run": name,
        "outcome": r.outcome if r.outcome != "Running" else "still Running (kjlab stopped watching)",
        "reason": r.reason or "-", "failed": r.failed, "succeeded": r.succeeded,
        "duration": f"{r.duration_s:.0f} s" if r.duration_s is not None else "not finished",
        "pods created": r.pods_created,
    } for name, r in zip(run_names(runs), runs)]
    return pd.DataFrame(rows).set_index("run")


def summarize(scenario: str, namespace: str, job_name: str, policy: bool, recording: Recording, job: dict,
              drain: Drain | None = None, patch: Patch | None = None) -> RunResult:
    """The RunResult of a run: the outcome and counters from the final Job object, the times
    from the recording."""
    conditions = recording.job_conditions()
    outcome = readers.finished(job) or "Running"
    terminal = next((c for c in conditions if c["type"] == outcome and c["status"] == "True"), None)
    final = readers.true_condition(job, outcome) if outcome != "Running" else None
    if final and terminal is None:  # the recorder had not seen it yet: take it from the object
        terminal = {"type": final["type"], "status": "True", "reason": final.get("reason"),
                    "message": final.get("message"), "t": None, "time": final.get("lastTransitionTime")}
        conditions.append(terminal)
    created = recording.first_step("create")
    duration = round(terminal["t"] - created["t"], 1) if terminal and terminal["t"] is not None and created else None
    message = terminal["message"] if terminal else None
    decider = deciding_pod(message)
    exit_to_failed = None
    if decider:
        failed_row = recording.first_failed(decider)
        failed_at = next((c for c in conditions if c["type"] == "Failed" and c["status"] == "True"), None)
        if failed_row and failed_at and failed_at["t"] is not None:
            exit_to_failed = round(failed_at["t"] - failed_row["t"], 2)
    return RunResult(
        scenario=scenario, namespace=namespace, job=job_name, policy=policy, outcome=outcome,
        reason=terminal["reason"] if terminal else None, message=message,
        failed=readers.counter(job, "failed"), succeeded=readers.counter(job, "succeeded"), duration_s=duration,
        conditions=[{k: v for k, v in c.items() if k != "t"} for c in conditions],
        recording=recording, job_status=(job or {}).get("status") or {},
        pods_created=len(recording.pod_names()), failed_indexes=readers.failed_indexes(job),
        deciding_pod=decider, exit_to_failed_s=exit_to_failed, drain=drain, patch=patch,
        has_policy=bool(((job or {}).get("spec") or {}).get("podFailurePolicy")),
    )
