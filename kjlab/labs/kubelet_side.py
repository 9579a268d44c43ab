"""What else only a real kubelet decides (``labs/13-probes-and-termination.ipynb``, its
section "More that only the kubelet decides"): the objects, and the questions the lab asks of the
recording. Each answers an interview question whose proof needs real containers
(``kjlab/quiz/questions.yaml``: pod-level-deadline, native-sidecar-job, run-container-error,
logs-previous, probe-timeout, pod-ready-to-start, ephemeral-debug), and the exit-on-SIGTERM exercise's "why not exit 0"
(``exercises/13-exit-on-sigterm.ipynb``).

What the v1.36.4 kubelet does, and where:
- a pod's own ``activeDeadlineSeconds``: pkg/kubelet/active_deadline.go:31-32 fails the pod with
  reason ``DeadlineExceeded`` and message ``Pod was active on the node longer than the specified
  deadline``; the Job controller counts it as a failed pod like any other (a new pod within
  backoffLimit).
- a native sidecar (an init container with ``restartPolicy: Always``) in a Job's pod: once no
  regular container is left to run, kuberuntime_manager.go:1377-1381 kills the pod, sidecars too,
  and does not restart them; the pod's phase comes from its regular containers
  (kubelet_pods.go getPhase), so the pod succeeds and the Job completes.
- a container whose command cannot be run: kuberuntime_container.go:296 returns
  ``ErrRunContainer`` ("RunContainerError", container/sync_result.go:87), the reason the container
  waits with until the next attempt, which follows the restart back-off (``CrashLoopBackOff``);
  the runtime records the failed start as ``StartError``, exit code 128.
- ``kubectl logs --previous`` reads the log of the container's previous instance
  (staging/src/k8s.io/kubectl/pkg/cmd/logs/logs.go, ``Previous``).
- a probe's ``timeoutSeconds`` defaults to 1 (pkg/apis/core/v1/defaults.go:234-236); an answer
  that comes later is a failed probe (pkg/probe/http/http.go: the client's timeout).
- ``kubectl debug POD --target=C`` adds an ephemeral container through the pod's
  ``ephemeralcontainers`` subresource (kubectl/pkg/cmd/debug/debug.go); ``spec.containers`` of a
  pod cannot change (pkg/apis/core/validation/validation.go, ValidatePodUpdate). With ``--target``
  it shares C's process namespace, so its PID 1 is C's process.
- a Job's pod deleted while it runs (kubectl delete, a drain): with a ``podFailurePolicy`` the Job
  controller waits for the pod's final phase (job_controller.go ``isPodFailed``), and a deleted
  pod whose containers all exit 0 ends Succeeded (kubelet_pods.go getPhase): the Job counts the
  interrupted work as done. Exit 143 ends it Failed: counted as a failure, run again.
- ``PodReadyToStartContainers`` (feature gate beta and on since v1.29,
  pkg/features/kube_features.go:1807-1810) is set True once the sandbox and its network are up,
  before the containers start (pkg/kubelet/status/generate.go).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kjlab.api import readers
from kjlab.cluster import kubectl as kubectl_command
from kjlab.runs.result import Recording

IMAGE = "docker.io/library/python:3"
DEADLINE_SECONDS = 4
SLOW_ANSWER_SECONDS = 3
# The crasher runs this long before it exits 3: long enough to catch it running again after a
# restart, when `kubectl logs` and `kubectl logs --previous` show different runs.
CRASH_AFTER_SECONDS = 8
# The sidecar stops at SIGTERM (a trap), so the pod ends as soon as the kubelet stops it, not at
# the end of a grace period; the grace period only bounds a sidecar that would not stop.
SIDECAR_GRACE_SECONDS = 5

# A web server that answers every request after SLOW_ANSWER_SECONDS (socket and time only: the
# images built offline for kind carry Debian's python3-minimal, which has no http.server).
SLOW_SERVER = f"""\
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 8080))
s.listen(16)
print("listening on 8080; every answer takes {SLOW_ANSWER_SECONDS} s", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.recv(4096)
        time.sleep({SLOW_ANSWER_SECONDS})
        c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n")
        print("answered a probe after {SLOW_ANSWER_SECONDS} s", flush=True)
    except OSError:
        pass
    finally:
        c.close()
"""


def _container(name: str, script: str | None = None, command: list[str] | None = None, **fields) -> dict:
    return {"name": name, "image": IMAGE, "command": command or ["bash", "-c", script], **fields}


def _pod(name: str, spec: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _job(name: str, template_spec: dict, backoff_limit: int) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": backoff_limit, "template": {"spec": template_spec}}}


def objects() -> list[dict]:
    """The objects of the step, created at once:

    - ``pod-deadline`` (a Job): its pod template sets ``activeDeadlineSeconds: DEADLINE_SECONDS``;
      the container sleeps longer; backoffLimit 1, so the Job makes a second pod, then fails.
    - ``with-sidecar`` (a Job): a native sidecar that never ends by itself, and a main container
      that works 3 s and exits 0.
    - ``cannot-start``: a command that does not exist in the image.
    - ``crasher``: prints a line with the time, exits 3 CRASH_AFTER_SECONDS later, again and again
      (restartPolicy Always).
    - ``slow-answer``: a web server that answers after SLOW_ANSWER_SECONDS, with a liveness probe
      that leaves ``timeoutSeconds`` out (default 1 s).
    - ``steady``: a pod to debug with an ephemeral container.
    - the two worker Jobs of ``workers()``.
    """
    deadline = _job("pod-deadline", {
        "restartPolicy": "Never", "activeDeadlineSeconds": DEADLINE_SECONDS, "terminationGracePeriodSeconds": 2,
        "containers": [_container("main", "echo 'working for 10 minutes'; sleep 600")]}, backoff_limit=1)
    sidecar = _job("with-sidecar", {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": SIDECAR_GRACE_SECONDS,
        "initContainers": [_container(
            "log-shipper", "trap 'echo \"log-shipper: SIGTERM, stopping\"; exit 0' TERM; echo 'log-shipper: running'; "
            "while true; do sleep 1 & wait $!; done", restartPolicy="Always")],
        "containers": [_container("main", "echo 'main: working 3 s'; sleep 3; echo 'main: done, exit 0'")]},
        backoff_limit=0)
    cannot_start = _pod("cannot-start", {
        "restartPolicy": "Always", "containers": [_container("main", command=["/no/such/program"])]})
    crasher = _pod("crasher", {
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 2,
        "containers": [_container("main", f'echo "this run started at $(date +%T); it exits 3 after {CRASH_AFTER_SECONDS} s"; '
                                          f'sleep {CRASH_AFTER_SECONDS}; exit 3')]})
    slow = _pod("slow-answer", {
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 2,
        "containers": [_container("main", 'exec python3 -c "$SLOW_SERVER"', env=[{"name": "SLOW_SERVER", "value": SLOW_SERVER}],
                                  livenessProbe={"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2,
                                                 "failureThreshold": 2})]})
    steady = _pod("steady", {"containers": [_container("main", "echo 'steady: working'; while true; do sleep 1 & wait $!; done")]})
    return [deadline, sidecar, cannot_start, crasher, slow, steady, *workers()]


# A Job whose pods exit on SIGTERM: with a podFailurePolicy the Job controller waits for the pod's
# final phase, and a deleted pod whose containers all exit 0 ends Succeeded (kubelet_pods.go getPhase).
WORKER_POLICY = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}


def workers() -> list[dict]:
    """Two Jobs with the same pod failure policy whose worker traps SIGTERM: ``exit0-on-term``
    exits 0 (the exit-on-SIGTERM exercise's wrong answer), ``exit143-on-term`` exits 143 (its right one)."""
    jobs = []
    for name, code in (("exit0-on-term", 0), ("exit143-on-term", 143)):
        script = (f"trap 'echo \"SIGTERM: stopping halfway, exit {code}\"; exit {code}' TERM; echo working; "
                  "while true; do sleep 1 & wait $!; done")
        job = _job(name, {"restartPolicy": "Never", "terminationGracePeriodSeconds": 10,
                          "containers": [_container("main", script)]}, backoff_limit=1)
        job["spec"]["podFailurePolicy"] = WORKER_POLICY
        jobs.append(job)
    return jobs


WORKER_JOBS = ("exit0-on-term", "exit143-on-term")


# --- what the recording says --------------------------------------------------------------------

def _pods_of(recording: Recording, job: str) -> list[str]:
    names = []
    for r in recording.of("pod"):
        labels = readers.meta(r.get("object") or {}).get("labels") or {}
        if labels.get("job-name") == job and r["name"] not in names:
            names.append(r["name"])
    return names


def _job_condition(recording: Recording, job: str, type_: str) -> dict | None:
    last = _last_job(recording, job)
    return readers.true_condition(last, type_) if last else None


def _ever(recording: Recording, pod: str, test) -> dict | None:
    """The first recorded state of ``pod`` for which ``test(pod object)`` is truthy."""
    return next((r for r in recording.of("pod") if r["name"] == pod and r.get("object") and test(r["object"])), None)


def deadline_failed(recording: Recording) -> dict | None:
    """The first pod of ``pod-deadline`` recorded Failed by the kubelet's deadline, or None."""
    for pod in _pods_of(recording, "pod-deadline"):
        row = _ever(recording, pod, lambda o: (o.get("status") or {}).get("reason") == "DeadlineExceeded")
        if row:
            return row
    return None


def waiting_reasons(recording: Recording, pod: str) -> list[str]:
    """The container's waiting reasons, in the order recorded (each change once)."""
    seen: list[str] = []
    for r in recording.of("pod"):
        if r["name"] != pod or not r.get("object"):
            continue
        which, fields = readers.state(r["object"])
        reason = fields.get("reason") if which == "waiting" else None
        if reason and (not seen or seen[-1] != reason):
            seen.append(reason)
    return seen


def _terminated(pod: dict) -> dict | None:
    """The container's terminated state: its current one, else its last one."""
    cs = readers.container_status(pod) or {}
    return (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")


def start_error(recording: Recording, pod: str = "cannot-start") -> dict | None:
    """The first recorded end of a container that could not start (reason, exit code, message)."""
    row = _ever(recording, pod, _terminated)
    return _terminated(row["object"]) if row else None


def running_again(recording: Recording, pod: str = "crasher") -> bool:
    """``pod``'s container is running after at least one restart (its previous run has ended)."""
    last = recording.last_pods().get(pod)
    return bool(last and readers.restart_count(last) >= 1 and readers.state(last)[0] == "running")


def conditions_order(recording: Recording, pod: str) -> list[str]:
    """The pod's conditions in the order they first became True, as recorded."""
    order: list[str] = []
    for r in recording.of("pod"):
        if r["name"] != pod or not r.get("object"):
            continue
        for c in readers.conditions(r["object"]):
            if c.get("status") == "True" and c.get("type") not in order:
                order.append(c["type"])
    return order


def sandbox_ready_never_ran(recording: Recording, pod: str = "cannot-start") -> dict | None:
    """The first recorded state of ``pod`` with PodReadyToStartContainers True, when its container
    has never run (its sandbox and network were ready; its command never started), or None."""
    if _ever(recording, pod, lambda o: readers.state(o)[0] == "running"):
        return None
    return _ever(recording, pod, lambda o: readers.is_true(o, "PodReadyToStartContainers"))


def _last_job(recording: Recording, job: str) -> dict:
    return next((r["object"] for r in reversed(recording.of("job")) if r["name"] == job and r.get("object")), {})


def first_worker_pods(recording: Recording) -> dict[str, str] | None:
    """{Job: its first pod} once each worker Job's first pod is running, else None."""
    first = {}
    for job in WORKER_JOBS:
        pods = _pods_of(recording, job)
        if not pods or not _ever(recording, pods[0], lambda o: readers.state(o)[0] == "running"):
            return None
        first[job] = pods[0]
    return first


def workers_settled(recording: Recording) -> bool:
    """exit0-on-term's Job has counted its deleted pod (Complete), exit143-on-term's has made a new pod."""
    return bool(_job_condition(recording, "exit0-on-term", "Complete") and len(_pods_of(recording, "exit143-on-term")) >= 2
                and (_last_job(recording, "exit143-on-term").get("status") or {}).get("failed"))


def worker_outcomes(recording: Recording) -> pd.DataFrame:
    """For each worker Job: its first pod's exit code and phase, the Job's succeeded/failed counts,
    how many pods it made and its condition."""
    rows = []
    for job in WORKER_JOBS:
        pods = _pods_of(recording, job)
        first = recording.last_pods().get(pods[0]) if pods else None
        ended = _terminated(first) if first else None
        status = _last_job(recording, job).get("status") or {}
        rows.append({"job": job, "first pod's exit code": (ended or {}).get("exitCode"),
                     "first pod's phase": (first or {}).get("status", {}).get("phase"),
                     "succeeded": status.get("succeeded", 0), "failed": status.get("failed", 0), "pods made": len(pods),
                     "Job": "Complete" if _job_condition(recording, job, "Complete") else "running"})
    return pd.DataFrame(rows)


def workers_sentence(workers: pd.DataFrame) -> str:
    """``worker_outcomes`` in a sentence, for the recap."""
    said = []
    for w in workers.to_dict("records"):
        code, phase = w["first pod's exit code"], w["first pod's phase"]
        said.append(f"`{w['job']}`'s deleted pod exited {code} and ended {phase}: the Job counted succeeded "
                    f"{w['succeeded']}, failed {w['failed']}, and made {w['pods made']} pod(s)")
    return "; ".join(said)


def ephemeral_container(pod: dict, name: str = "debugger") -> tuple[dict | None, dict | None]:
    """(the ephemeral container's spec, its status) in ``pod``."""
    spec = next((c for c in (pod.get("spec") or {}).get("ephemeralContainers") or [] if c.get("name") == name), None)
    status = next((c for c in (pod.get("status") or {}).get("ephemeralContainerStatuses") or [] if c.get("name") == name), None)
    return spec, status


def debugger_ended(recording: Recording, pod: str = "steady") -> dict | None:
    """The debugger's terminated state once it has ended, else None."""
    _, status = ephemeral_container(recording.last_pods().get(pod) or {})
    return ((status or {}).get("state") or {}).get("terminated")


def done(recording: Recording) -> bool:
    """Everything the step waits for: the deadline Job failed (after its second pod), the sidecar
    Job complete, the start error recorded, the crasher restarted, the slow pod restarted by its probe."""
    last = recording.last_pods()
    return bool(_job_condition(recording, "pod-deadline", "Failed")
                and _job_condition(recording, "with-sidecar", "Complete")
                and start_error(recording) is not None
                and readers.restart_count(last.get("crasher") or {}) >= 1
                and readers.restart_count(last.get("slow-answer") or {}) >= 1)


def outcomes(recording: Recording) -> pd.DataFrame:
    """One row per object: what the kubelet did, read from the recording."""
    rows = []
    failed = deadline_failed(recording)
    deadline_pods = _pods_of(recording, "pod-deadline")
    rows.append({"object": "job/pod-deadline", "what happened":
                 (f"pod {failed['name']}: {failed['object']['status'].get('reason')} "
                  f"({failed['object']['status'].get('message')}); pods made: {len(deadline_pods)}; Job "
                  f"{(_job_condition(recording, 'pod-deadline', 'Failed') or {}).get('reason', 'not failed')}")
                 if failed else "no pod failed by its deadline"})
    sidecar_pods = _pods_of(recording, "with-sidecar")
    sidecar_last = recording.last_pods().get(sidecar_pods[0]) if sidecar_pods else None
    shipper = next((cs for cs in readers.container_statuses(sidecar_last or {}, init=True)), None)
    shipper_state = ((shipper or {}).get("state") or {}).get("terminated") or {}
    rows.append({"object": "job/with-sidecar", "what happened":
                 f"pod {(sidecar_last or {}).get('status', {}).get('phase')}; sidecar ended with exit code "
                 f"{shipper_state.get('exitCode')}; Job "
                 f"{'Complete' if _job_condition(recording, 'with-sidecar', 'Complete') else 'not complete'}"})
    err = start_error(recording) or {}
    rows.append({"object": "pod/cannot-start", "what happened":
                 f"waiting reasons {' -> '.join(waiting_reasons(recording, 'cannot-start')) or 'none'}; its runs: "
                 f"{err.get('reason')}, exit code {err.get('exitCode')}; PodReadyToStartContainers "
                 f"{'True, though the container never ran' if sandbox_ready_never_ran(recording) else 'not True before a run'}"})
    last = recording.last_pods()
    rows.append({"object": "pod/crasher", "what happened":
                 f"restarts: {readers.restart_count(last.get('crasher') or {})}; waiting reasons "
                 f"{' -> '.join(waiting_reasons(recording, 'crasher')) or 'none'}"})
    unhealthy = next((r for r in recording.of("event") if r["name"] == "pod/slow-answer" and r.get("reason") == "Unhealthy"), None)
    rows.append({"object": "pod/slow-answer", "what happened":
                 f"restarts: {readers.restart_count(last.get('slow-answer') or {})}; first Unhealthy: "
                 f"{unhealthy.get('message') if unhealthy else 'none'}"})
    return pd.DataFrame(rows, columns=["object", "what happened"])


def logs(context: str, namespace: str, pod: str, previous: bool = False, container: str | None = None) -> str:
    """`kubectl logs POD [--previous] [-c CONTAINER]`, printed as typed, and returned."""
    args = ["logs", pod, "-n", namespace] + (["--previous"] if previous else []) + (["-c", container] if container else [])
    return kubectl(context, args)


# What the debugger prints: the command line of PID 1 in the process namespace it shares (--target).
DEBUG_SCRIPT = 'echo "debugger: PID 1 here is: $(tr "\\0" " " < /proc/1/cmdline)"'


def debug(context: str, namespace: str, pod: str, target: str = "main") -> str:
    """`kubectl debug POD -c debugger --target=TARGET --image=IMAGE -- bash -c DEBUG_SCRIPT`: adds an
    ephemeral container (the pod's ephemeralcontainers subresource) sharing TARGET's processes."""
    return kubectl(context, ["debug", pod, "-n", namespace, "-c", "debugger", f"--target={target}", f"--image={IMAGE}",
                             "--", "bash", "-c", DEBUG_SCRIPT])


def kubectl(context: str, args: list[str]) -> str:
    """Run kubectl with ``args``, print the command as typed and what it printed; return the latter."""
    _, out = kubectl_command.run(args, context, timeout=30)
    shown = " ".join(a if " " not in a and '"' not in a else "'" + a + "'" for a in args)
    print(f"$ kubectl {shown}\n{out}")
    return out


# --- the restart back-off reset ------------------------------------------------------------------
# The kubelet keeps a container's crash-loop back-off in memory: the first restart is at once, then it
# waits 10 s, doubling up to 300 s (kubelet.go:225 backOffPeriod, MaxContainerBackOff). An entry
# expires when the run that just ended finished more than 600 s after the entry's last update
# (kubelet.go:1070; kuberuntime_manager.go:1950-1964 passes the run's finishedAt): the next restart
# is at once again, whatever the delay had reached.
RESET_RUN_SECONDS = 620  # a little more than the kubelet's 600 s, so the entry has expired
QUICK_CRASHES = 4


def backoff_reset_pod() -> dict:
    """``resets``: its first QUICK_CRASHES runs exit 1 at once (the back-off grows), the next works
    RESET_RUN_SECONDS before it exits 1, the ones after exit 1 at once. A counter in an emptyDir
    volume (it outlives the container's restarts) tells each run which it is."""
    script = (f'n=$(( $(cat /state/runs 2>/dev/null || echo 0) + 1 )); echo $n > /state/runs; '
              f'if [ $n -eq {QUICK_CRASHES + 1} ]; then echo "run $n: working {RESET_RUN_SECONDS} s"; '
              f'sleep {RESET_RUN_SECONDS}; fi; echo "run $n: exit 1"; exit 1')
    container = _container("main", script, volumeMounts=[{"name": "state", "mountPath": "/state"}])
    return _pod("resets", {"restartPolicy": "Always", "terminationGracePeriodSeconds": 2,
                           "volumes": [{"name": "state", "emptyDir": {}}], "containers": [container]})


def _instant(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def restart_delays(recording: Recording, pod: str = "resets") -> pd.DataFrame:
    """One row per run of ``pod``'s container as recorded: when it started and finished (the
    kubelet's timestamps, whole seconds), how long it ran, and the delay before the next run
    started (the back-off the kubelet applied)."""
    runs: dict[str, dict] = {}  # by startedAt: each run's start and end, from state and lastState
    for r in recording.of("pod"):
        if r["name"] != pod or not r.get("object"):
            continue
        cs = readers.container_status(r["object"]) or {}
        for state in ((cs.get("state") or {}), (cs.get("lastState") or {})):
            if state.get("running"):
                runs.setdefault(state["running"]["startedAt"], {})
            elif state.get("terminated") and state["terminated"].get("startedAt"):
                runs.setdefault(state["terminated"]["startedAt"], {})["finished"] = state["terminated"].get("finishedAt")
    rows = []
    ordered = sorted(runs.items(), key=lambda kv: _instant(kv[0]))
    for i, (started, run) in enumerate(ordered):
        nxt = _instant(ordered[i + 1][0]) if i + 1 < len(ordered) else None
        finished = _instant(run.get("finished"))
        rows.append({"run": i + 1, "ran (s)": (finished - _instant(started)).total_seconds() if finished else None,
                     "delay before the next run (s)": (nxt - finished).total_seconds() if nxt and finished else None})
    return pd.DataFrame(rows, columns=["run", "ran (s)", "delay before the next run (s)"])


def reset_seen(recording: Recording, pod: str = "resets") -> bool:
    """The run after the long one has started (so its delay is known)."""
    return len(restart_delays(recording, pod)) >= QUICK_CRASHES + 2
