"""Probes, lifecycle hooks and graceful termination (``labs/13-probes-and-termination.ipynb``): the
pods that show them, one recorded namespace to run them in, and the questions the lab asks of the
recording.

Probes, hooks and signals are the kubelet's work, on real containers: the kwok engine runs no
process, so nothing here is simulated there. ``needs_real_kubelet`` says so in a notebook and the
lab skips those steps visibly (``kjlab up --engine kind`` runs them).

Every pod and the Service are package data, kjlab/examples/probes.yaml, in
``docker.io/library/python:3`` (bash, and a small Python web server to probe); the functions below
change only named numbers in them (seconds, the grace period).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
import time

import pandas as pd

from kjlab import examples
from kjlab.api import kube, readers, watch
from kjlab.actions import ops
from kjlab import cluster
from kjlab.cluster import kubectl as kubectl_command, provider
from kjlab.errors import KjlabError
from kjlab.labs import session
from kjlab.runs.record import register_kind
from kjlab.runs.session import Session
from kjlab.runs.result import Recording

FILE = "probes.yaml"   # kjlab/examples/probes.yaml: every pod and the Service, as a learner reads them
# What that file holds, named for the questions and tests that read it:
IMAGE = "docker.io/library/python:3"
PORT = 8080
PROBE_GRACE_SECONDS = 2   # the probe pods' grace period (a liveness kill is a graceful stop; see the file)
GATE = "example.com/load-balancer-ready"


_explained = False


def needs_real_kubelet(engine: str | None, what: str) -> bool:
    """True when ``engine`` runs real containers; otherwise prints, visibly, that ``what`` is
    skipped and why (the first time at length), so a notebook cell does nothing else and still
    runs green."""
    global _explained
    if provider.kubelet(engine).real:
        return True
    why = (" (probes, hooks and signals act on real processes; kwok simulates the kubelet and runs none)"
           if not _explained else "")
    how = (": start Docker, run `kjlab up --engine kind` in a terminal (no `kjlab down` needed first), then run "
           "this notebook again from the top (Kernel > Restart Kernel and Run All Cells)" if not _explained
           else ": kjlab up --engine kind, then run the notebook from the top")
    _explained = True
    print(f"SKIPPED on the kwok engine: {what} needs a real kubelet{why}. Run it on kind{how}")
    return False


# --- the pods (kjlab/examples/probes.yaml) -----------------------------------------------------

def _objects() -> dict[str, dict]:
    """The file's objects by name, parsed afresh: a caller may change what it is given."""
    return {readers.name(d): d for d in examples.objects(FILE)}


def __getattr__(name: str):
    if name == "WEB_SERVER":  # the web servers' program (their env WEB_SERVER), read when asked for
        return _objects()["live-http"]["spec"]["containers"][0]["env"][0]["value"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _set_seconds(command: list[str], pattern: str, seconds: int) -> None:
    """Put ``seconds`` where ``pattern``'s group stands in the script ``command`` runs (bash -c SCRIPT)."""
    match = re.search(pattern, command[-1])
    if match is None:  # the file and this module disagree: a bug, not a learner's mistake
        raise KjlabError(f"{FILE}: no {pattern!r} in {command[-1][:60]!r}", f"fix kjlab/examples/{FILE}")
    command[-1] = command[-1][:match.start(1)] + str(seconds) + command[-1][match.end(1):]


def _main(pod: dict) -> dict:
    return pod["spec"]["containers"][0]


def liveness_pods(fail_after: int = 8) -> list[dict]:
    """Three pods, one per liveness mechanism, each probed every 2 s and restarted after 2 failures:
    ``live-http`` (GET /healthz: fails once someone removes the file, 404), ``live-tcp`` (a socket
    that stops listening after ``fail_after`` s while the process goes on), ``live-exec``
    (``cat /tmp/healthy``: the script removes the file after ``fail_after`` s)."""
    pods = _objects()
    _set_seconds(_main(pods["live-tcp"])["command"], r"time\.sleep\((\d+)\); s\.close", fail_after)
    _set_seconds(_main(pods["live-exec"])["command"], r"sleep (\d+); rm /tmp/healthy", fail_after)
    return [pods["live-http"], pods["live-tcp"], pods["live-exec"]]


def readiness_pods(names=("web-a", "web-b")) -> list[dict]:
    """Web servers behind the Service ``web`` (label app=web), ready while they serve /ready (a name
    the file lacks is web-a renamed)."""
    pods = _objects()
    return [pods[n] if n in ("web-a", "web-b") else _renamed(pods["web-a"], n) for n in names]


def _renamed(pod: dict, name: str) -> dict:
    pod = copy.deepcopy(pod)
    pod["metadata"]["name"] = name
    return pod


def service(name: str = "web", selector: dict | None = None) -> dict:
    doc = _objects()["web"]
    doc["metadata"]["name"], doc["spec"]["selector"] = name, selector or {"app": name}
    return doc


def slow_start_pods(start_seconds: int = 15) -> list[dict]:
    """Two web servers that take ``start_seconds`` to listen, both with the same liveness probe
    (every 2 s, 3 failures): ``slow-liveness-only`` has nothing else, ``slow-with-startup`` has a
    startup probe allowing 30 s, which holds liveness back until the server answers once."""
    pods = _objects()
    slow = [pods["slow-liveness-only"], pods["slow-with-startup"]]
    for pod in slow:
        _set_seconds(_main(pod)["command"], r"sleep (\d+); echo 'serving'", start_seconds)
    return slow


def gated_pod() -> dict:
    """A ready web server whose pod is Ready only once the condition GATE is True: nobody but the
    API client that owns the gate (here: kjlab, through the status subresource) sets it."""
    return _objects()["gated"]


def hook_pods(post_start_seconds: int = 2, pre_stop_seconds: int = 3) -> list[dict]:
    """``hooks``: postStart and preStop both print a timestamp into the log and take a while; the
    main process prints when it starts and when SIGTERM reaches it. ``bad-post-start`` and
    ``bad-pre-stop``: hooks that fail (exit 1)."""
    pods = _objects()
    lifecycle = _main(pods["hooks"])["lifecycle"]
    _set_seconds(lifecycle["postStart"]["exec"]["command"], r"; sleep (\d+);", post_start_seconds)
    _set_seconds(lifecycle["preStop"]["exec"]["command"], r"; sleep (\d+);", pre_stop_seconds)
    return [pods["hooks"], pods["bad-post-start"], pods["bad-pre-stop"]]


def worker_pod(name: str, script: str, grace: int) -> dict:
    """A bash ``script`` as PID 1 with ``restartPolicy: Never``, like a Job's pod (the exit-on-SIGTERM
    exercise): the file's ``handles-term`` with its name, script and grace period replaced."""
    pod = _objects()["handles-term"]
    pod["metadata"]["name"], pod["spec"]["terminationGracePeriodSeconds"] = name, grace
    _main(pod)["command"][-1] = script
    return pod


def sigterm_pods(grace: int = 10) -> list[dict]:
    """Two workers with ``restartPolicy: Never`` (like a Job's pods) and the same grace period:
    ``handles-term`` traps SIGTERM, cleans up and exits 143; ``ignores-term`` is bash as PID 1
    without a trap, which the kernel does not stop on SIGTERM: only SIGKILL ends it."""
    pods = _objects()
    for pod in (pods["handles-term"], pods["ignores-term"]):
        pod["spec"]["terminationGracePeriodSeconds"] = grace
    return [pods["handles-term"], pods["ignores-term"]]


# --- one recorded namespace ------------------------------------------------------------------------

class PodSession(Session):
    """A namespace recorded from the start (pods, events, EndpointSlices, and the logs kjlab
    follows), where a lab creates pods and Services, acts on them and waits for what the kubelet
    does; ``stop()`` returns the Recording."""

    kinds = ("endpointslice",)
    settle_seconds = 0  # its stop() never waited: its callers wait for the last change they read

    def __init__(self, context: str, namespace: str, echo: bool = True):
        super().__init__(context, namespace, echo)
        self._logs: list[threading.Thread] = []

    @property
    def recording(self) -> Recording:
        return self.recorder.recording()

    def create(self, *docs: dict) -> None:
        """`kubectl create -f` each pod or Service."""
        for doc in docs:
            if doc["kind"] == "Service":
                name = doc["metadata"]["name"]
                ops.create(self.actor, doc, shown_as=f"kubectl create -f {name}-service.yaml -n {self.namespace}")
            else:
                ops.apply(self.actor, doc)

    def exec(self, pod: str, *command: str) -> int:
        """`kubectl exec POD -- COMMAND` (printed, and recorded as a step at the moment it is sent:
        kubectl takes a second or two to return, and the kubelet may act before it does)."""
        args = ["exec", "-n", self.namespace, pod, "--", *command]
        shown = f"kubectl exec {pod} -n {self.namespace} -- {' '.join(command)}"
        self.recorder.step("exec", f"pod/{pod}", " ".join(command), shown)
        code, printed = kubectl_command.run(args, self.context, timeout=30)
        if self.echo:
            print(f"$ {shown}" + (f"\n{printed}" if printed else ""))
        if code:
            raise KjlabError(f"{shown} failed: {printed or f'exit code {code}'}",
                             f"look at the pod: kjlab kubectl describe pod {pod} -n {self.namespace}")
        return code

    def wait_running(self, *pods: str, settle: float = 1.0, timeout: float = 90) -> None:
        """Wait until each pod's container runs, then ``settle`` seconds more, so their scripts have
        set their traps and files before kjlab acts on them."""
        self.wait(lambda r: all(running_at(r, p) is not None for p in pods), f"{', '.join(pods)} running",
                  timeout=timeout)
        time.sleep(settle)

    def patch_condition(self, pod: str, type_: str, status: str = "True", reason: str | None = None) -> None:
        ops.patch_pod_condition(self.actor, pod, type_, status, reason=reason)

    def delete(self, *pods: str) -> None:
        """`kubectl delete pod POD --wait=false` for each: the pod's own grace period applies."""
        for pod in pods:
            ops.delete_pod(self.actor, pod)

    def follow_log(self, pod: str) -> None:
        """Record every line ``pod`` prints from now until its container ends (`kubectl logs -f`)."""
        def read():
            try:
                for line in watch.follow_lines(kube.core(self.context).read_namespaced_pod_log, pod, self.namespace):
                    self.recorder.log(pod, line)
            except Exception as e:  # the pod went away: its log ends with it
                self.recorder.log(pod, f"(kjlab stopped following the log: {type(e).__name__})")

        t = threading.Thread(target=read, name=f"kjlab-log-{pod}", daemon=True)
        t.start()
        self._logs.append(t)

    def wait(self, predicate, what: str, timeout: float = 90, show=("event",), cap_factor: float = 4):
        """Wait until ``predicate(recording)`` returns something truthy (and return it), printing
        each new row of the kinds in ``show`` as it is recorded, so a learner sees the kubelet act.
        Bounded by progress: it gives up after ``timeout`` s in which nothing new was recorded (a busy
        node starts containers slowly, but it does start them), and after ``cap_factor`` x ``timeout``
        s in all."""
        return super().wait(predicate, what, timeout, limit=timeout * cap_factor, show=show)

    def _announce(self) -> bool:
        return True  # a check's quiet session (echo=False) still says what it waits for

    def wait_bound(self, timeout: float, limit: float) -> str:
        return f"{timeout:.0f} s without a change, at most {limit:.0f} s"

    def timed_out(self, what: str, waited: float, idle: float, timeout: float, limit: float) -> KjlabError:
        why = f"nothing changed for {timeout:.0f} s" if waited < limit else f"{limit:.0f} s passed"
        return KjlabError(f"{why} while waiting for {what}",
                          f"look with `kjlab kubectl get pods,events -n {self.namespace}`")

    def describe(self, row: dict) -> str:
        return describe(row)

def describe(row: dict) -> str:
    """One recorded row in a line: events as kubectl describe shows them, the rest briefly."""
    if row["kind"] == "event":
        return f"{row.get('level')} {row.get('reason')} {row['name']}: {row.get('message')}"
    if row["kind"] == "pod":
        return f"pod/{row['name']} {row.get('status')} ({row.get('phase')})"
    return f"{row['kind']} {row['name']}: {row.get('detail') or row.get('event')}"


# --- what the recording says --------------------------------------------------------------------

PROBE_REASONS = ("Unhealthy", "Killing", "Started", "FailedPostStartHook", "FailedPreStopHook",
                 "BackOff", "Created")


def events(recording: Recording, reasons=PROBE_REASONS, pod: str | None = None) -> pd.DataFrame:
    """The kubelet's events for the pods, in the order recorded (a repeated event is one row per
    change of its count)."""
    rows = [{"t": r["t"], "pod": r["name"].split("/", 1)[-1], "reason": r.get("reason"), "message": r.get("message")}
            for r in recording.of("event")
            if r["name"].startswith("pod/") and r.get("reason") in reasons
            and (pod is None or r["name"] == f"pod/{pod}")]
    return pd.DataFrame(rows, columns=["t", "pod", "reason", "message"])


def first_event(recording: Recording, pod: str, reason: str, contains: str = "") -> dict | None:
    frame = events(recording, (reason,), pod)
    frame = frame[frame["message"].fillna("").str.contains(contains, regex=False)]
    return None if frame.empty else frame.iloc[0].to_dict()


def restarts(recording: Recording, pod: str) -> int:
    """The pod's last recorded restartCount (0 if never seen)."""
    last = recording.last_pods().get(pod)
    return readers.restart_count(last) if last else 0


def ready_changes(recording: Recording, pod: str) -> pd.DataFrame:
    """When the pod's Ready and ContainersReady conditions changed, as recorded."""
    rows, last = [], None
    for r in recording.of("pod"):
        if r["name"] != pod or not r.get("object"):
            continue
        now = tuple((readers.condition(r["object"], c) or {}).get("status") for c in ("ContainersReady", "Ready"))
        if now != last:
            rows.append({"t": r["t"], "ContainersReady": now[0], "Ready": now[1],
                         "gate": (readers.condition(r["object"], GATE) or {}).get("status")})
            last = now
    return pd.DataFrame(rows, columns=["t", "ContainersReady", "Ready", "gate"])


def is_ready(recording: Recording, pod: str) -> bool:
    last = recording.last_pods().get(pod)
    return bool(last and readers.is_true(last, "Ready"))


def endpoints(recording: Recording, service_name: str = "web") -> pd.DataFrame:
    """The Service's EndpointSlice over time: one row per endpoint per recorded change, with the
    conditions the EndpointSlice controller wrote (ready, serving, terminating)."""
    rows = []
    for r in recording.of("endpointslice"):
        if r["name"] != service_name or r.get("event") == "DELETED":
            continue
        for e in (r.get("object") or {}).get("endpoints") or []:
            c = e.get("conditions") or {}
            rows.append({"t": r["t"], "pod": (e.get("targetRef") or {}).get("name"),
                         "addresses": ",".join(e.get("addresses") or []),
                         "ready": c.get("ready"), "serving": c.get("serving"), "terminating": c.get("terminating")})
    return pd.DataFrame(rows, columns=["t", "pod", "addresses", "ready", "serving", "terminating"])


def endpoint_ready(recording: Recording, pod: str, service_name: str = "web") -> bool | None:
    """Whether the Service's EndpointSlices, as they stand now, list ``pod`` as ready (None: not listed).

    A Service may have several slices at once, each its own object (the reconciler in
    k8s.io/endpointslice keeps one set per address type and port mapping and starts another slice
    past maxEndpointsPerSlice). So each slice's latest version counts, by its own name, and a deleted
    slice drops out: the latest recorded change alone may be a slice that lists one pod of two."""
    current: dict[str, list] = {}
    for r in recording.of("endpointslice"):
        obj = r.get("object") or {}
        slice_name = (obj.get("metadata") or {}).get("name") or r["name"]
        if r.get("event") == "DELETED":
            # before the Service filter: a slice found gone at a re-list is recorded under its own
            # name, without an object (kjlab/runs/record.py, Recorder._observe)
            current.pop(slice_name, None)
        elif r["name"] == service_name:
            current[slice_name] = obj.get("endpoints") or []
    listed = [e for eps in current.values() for e in eps if (e.get("targetRef") or {}).get("name") == pod]
    if not listed:
        return None
    return any(bool((e.get("conditions") or {}).get("ready")) for e in listed)


_STAMP = re.compile(r"^(?P<who>.+) at (?P<epoch>\d+\.\d+)$")


def log_stamps(recording: Recording, pod: str, started_at: dt.datetime) -> pd.DataFrame:
    """The lines ``<who> at <epoch>`` a pod printed (its hooks and its main process), placed on the
    recording's axis by the container's own clock (the node's clock is the machine's)."""
    rows = []
    for r in recording.of("log"):
        m = _STAMP.match(r.get("detail") or "") if r["name"] == pod else None
        if m:
            rows.append({"t": round(float(m["epoch"]) - started_at.timestamp(), 2), "pod": pod, "what": m["who"]})
    return pd.DataFrame(rows, columns=["t", "pod", "what"])


def _terminated_row(recording: Recording, pod: str, after: float) -> dict | None:
    for r in recording.of("pod"):
        if r["name"] == pod and r["t"] >= after and r.get("object") and readers.terminated(r["object"]):
            return r
    return None


def running_at(recording: Recording, pod: str) -> float | None:
    """When the pod was first recorded with its container running."""
    return next((r["t"] for r in recording.of("pod")
                 if r["name"] == pod and r.get("object") and readers.state(r["object"])[0] == "running"), None)


def terminations(recording: Recording) -> pd.DataFrame:
    """For each pod kjlab deleted: when, when its container was recorded terminated, with which
    exit code and reason, the seconds in between, and the grace period it had."""
    rows = []
    for step in recording.of("step"):
        if step.get("action") != "delete" or not step["name"].startswith("pod/"):
            continue
        pod = step["name"].split("/", 1)[1]
        ended = _terminated_row(recording, pod, step["t"])
        fields = readers.terminated(ended["object"]) if ended else {}
        grace = next(((r["object"].get("spec") or {}).get("terminationGracePeriodSeconds")
                      for r in recording.of("pod") if r["name"] == pod and r.get("object")), None)
        rows.append({"pod": pod, "deleted": step["t"], "terminated": ended["t"] if ended else None,
                     "seconds": round(ended["t"] - step["t"], 1) if ended else None,
                     "exit_code": fields.get("exitCode"), "reason": fields.get("reason"),
                     "phase": readers.phase(ended["object"]) if ended else None, "grace": grace,
                     "gone": recording.gone_at("pod", pod)})
    return pd.DataFrame(rows, columns=["pod", "deleted", "terminated", "seconds", "exit_code", "reason", "phase",
                                       "grace", "gone"])


def terminated_pod(recording: Recording, pod: str) -> dict | None:
    """The pod object as recorded once its container had terminated (for kjlab.policy)."""
    row = _terminated_row(recording, pod, 0)
    return row["object"] if row else None


def hook_timeline(recording: Recording, pod: str, started_at: dt.datetime) -> pd.DataFrame:
    """One pod's life with its hooks: what its container printed (``log_stamps``) beside what the
    API showed (created, reported Running, deleted, container terminated), in time order."""
    ends = terminations(recording)
    mine = ends[ends["pod"] == pod]
    created = next((s["t"] for s in recording.of("step") if s.get("action") == "create" and s["name"] == f"pod/{pod}"), None)
    api = {"created": created, "Running (reported by the kubelet)": running_at(recording, pod),
           "kubectl delete": mine["deleted"].iloc[0] if len(mine) else None,
           "container terminated": mine["terminated"].iloc[0] if len(mine) else None}
    rows = [{**r, "source": "the container's log"} for r in log_stamps(recording, pod, started_at).to_dict("records")]
    rows += [{"t": t, "pod": pod, "what": what, "source": "the API (recorded)"} for what, t in api.items() if t is not None]
    frame = pd.DataFrame(rows, columns=["t", "pod", "what", "source"])
    return frame.sort_values("t", kind="stable").reset_index(drop=True)


def endpointslice_row(event: str, eps: dict) -> dict:
    """A Service's EndpointSlice: which pods are in it and whether each is ready."""
    ready = [f"{(e.get('targetRef') or {}).get('name')}:"
             f"{'ready' if (e.get('conditions') or {}).get('ready') else 'not ready'}"
             for e in eps.get("endpoints") or []]
    return {
        "kind": "endpointslice", "name": readers.labels(eps).get("kubernetes.io/service-name") or readers.name(eps),
        "event": event, "detail": ", ".join(ready) or "no endpoints",
        "resource_version": readers.resource_version(eps),
    }


register_kind("endpointslice", lambda context: kube.discovery(context).list_namespaced_endpoint_slice, endpointslice_row)


@session("needs_kind")
def _needs_kind(lab, what: str) -> bool:
    """True on an engine with a real kubelet; on kwok prints that ``what`` is skipped and why
    (probes, hooks and signals act on real processes)."""
    real = needs_real_kubelet(lab.engine, what)
    if not real:
        try:
            newest = cluster.lab_context()
        except KjlabError:
            newest = lab.context
        if newest != lab.context:
            print(f"  (the newest lab cluster is {newest} now, but this notebook's `lab` is bound to {lab.context}: "
                  "run the notebook again from the top, or this step stays skipped)")
    return real


@session("pods")
def _pods(lab, name: str) -> PodSession:
    """A recorded namespace ``<prefix>-<name>`` for pods and Services: create, exec, patch a
    condition, delete, follow logs, wait on the recording; ``stop()`` gives the recording."""
    return PodSession(lab.context, f"{lab.prefix}-{name}")
