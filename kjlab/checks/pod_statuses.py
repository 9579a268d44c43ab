"""Check of a pod in CrashLoopBackOff with a given exit code (the pod lifecycle, kjlab.labs.lifecycle).

Notebook: solutions/10-crash-loop-code.
"""

from __future__ import annotations

import time

from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.api import printers, readers
from kjlab.checks import Verdict, _delete_quietly, _load, _namespace, exercise
from kjlab.errors import KjlabError
from kjlab.labs.lifecycle import status_sequences
from kjlab.runs import scenarios
from kjlab.runs.session import Session


CRASH_CODE = 3
# A real kubelet restarts a container at once after its first exit and shows CrashLoopBackOff after the
# second (kuberuntime_manager.go doBackOff), then waits 10 s, 20 s; kwok's Stages wait 10 s after the
# first already (README, "OnFailure's first restart is not immediate"). 45 s holds either.
CRASH_WAIT_SECONDS = 45
# What the check takes from a learner's Pod: enough to choose what runs and how it restarts; nothing
# that reaches the node (volumes, privileges, host namespaces, service accounts) is passed on.
POD_FIELDS = ("restartPolicy",)
CONTAINER_FIELDS = ("name", "image", "command", "args")


def _learner_pod(answer, pod_name: str) -> tuple[dict, list[str]]:
    """The learner's Pod reduced to POD_FIELDS and CONTAINER_FIELDS, and a note of what was left out."""
    doc = _load(answer, "Pod manifest")
    if doc.get("kind") not in (None, "Pod"):
        raise KjlabError(f"the answer should be a Pod manifest (kind: Pod), got kind: {doc.get('kind')}",
                         "apiVersion: v1\nkind: Pod\nspec:\n  containers: ...")
    spec = doc.get("spec") if "spec" in doc else doc
    containers = (spec or {}).get("containers") if isinstance(spec, dict) else None
    if not containers or not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
        raise KjlabError("a Pod needs `spec.containers`, a list with at least one container",
                         "spec:\n  containers:\n  - name: main\n    image: docker.io/library/bash:5\n    command: [...]")
    dropped = sorted({k for k in spec if k not in POD_FIELDS + ("containers",)}
                     | {k for c in containers for k in c if k not in CONTAINER_FIELDS})
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod_name},
           "spec": {**{k: spec[k] for k in POD_FIELDS if k in spec}, "terminationGracePeriodSeconds": 1,
                    "containers": [{k: c[k] for k in CONTAINER_FIELDS if k in c} for c in containers]}}
    notes = [f"the check ran only your containers' {', '.join(CONTAINER_FIELDS)} and restartPolicy; "
             f"it left out: {', '.join(dropped)}"] if dropped else []
    return pod, notes


def _crash_code(pod: dict) -> int | None:
    """The exit code of the container's latest run: its current terminated state, else the one
    before the restart it is waiting for."""
    code = readers.exit_code(pod)
    return code if code is not None else readers.last_exit_code(pod)


@exercise("crash-loop-code", f"Write a Pod that kubectl shows as CrashLoopBackOff, its container having exited "
          f"with code {CRASH_CODE}", "a Pod manifest (YAML)",
          notebook="10-crash-loop-code")
def check_crash_loop_code(context: str, answer) -> Verdict:
    name = "crash-loop-code"
    pod, notes = _learner_pod(answer, "crasher")
    namespace = scenarios.fresh_namespace(context, _namespace(name))
    print(f"check: running your Pod in {namespace} until kubectl would show CrashLoopBackOff, or it ends "
          f"(at most {CRASH_WAIT_SECONDS} s) ...", flush=True)
    recorder = Session(context, namespace, echo=False, make_namespace=False).recorder
    try:
        try:
            ops.apply(Actor(context, namespace, False, recorder), pod)
        except KjlabError as refused:
            return Verdict(name, False, "the API does not accept this Pod", [f"the API rejected the Pod: {refused.message}"])
        shown, last = [], {}
        deadline = time.monotonic() + CRASH_WAIT_SECONDS
        while time.monotonic() < deadline:
            rec = recorder.recording()
            seq = status_sequences(rec).get("crasher", [])
            last = rec.last_pods().get("crasher") or {}
            if seq != shown:
                shown = seq
                print(f"check: STATUS {' → '.join(seq)}", flush=True)
            looped = "CrashLoopBackOff" in seq and _crash_code(last) is not None
            stuck = set(seq) & {"ErrImagePull", "ImagePullBackOff", "NotSimulated"}
            if looped or stuck or readers.ended(last):
                break
            time.sleep(0.5)
    finally:
        recorder.stop()
        _delete_quietly(context, namespace)
    seq = shown
    code = _crash_code(last)
    policy = (pod["spec"].get("restartPolicy") or "Always")
    reasons = [f"STATUS went {' → '.join(seq) or '(nothing recorded)'}; restartPolicy {policy}; "
               f"last exit code {code if code is not None else '(none: the container never exited)'}; "
               f"restarts {readers.restart_count(last)}"] + notes
    ok = "CrashLoopBackOff" in seq and code == CRASH_CODE
    if {"ErrImagePull", "ImagePullBackOff"} & set(seq):
        reasons.append(f"the container never started: its image ({pod['spec']['containers'][0].get('image')}) could "
                       "not be pulled. CrashLoopBackOff needs a container that starts and then exits; this lab's "
                       "images are docker.io/library/bash:5 and docker.io/library/python:3")
    elif "NotSimulated" in seq:
        reasons.append("the kwok engine's simulated kubelet cannot run your command (README: What the simulated "
                       "kubelet runs): write it as `sleep N && exit M` in bash, or run this on kind")
    elif readers.ended(last):
        if policy == "Never":
            reasons.append(f"restartPolicy Never: the kubelet does not restart the container, so the pod ended "
                           f"(phase {readers.phase(last)}, STATUS {printers.pod_status(last)}) instead of looping. "
                           "CrashLoopBackOff is the wait between restarts: it needs Always or OnFailure")
        elif code == 0:
            reasons.append("exit code 0 is success: restartPolicy OnFailure restarts only a container that failed, "
                           "so the pod ended Completed")
    elif "CrashLoopBackOff" in seq and code != CRASH_CODE:
        reasons.append(f"the container exited with {code}, not {CRASH_CODE}: the exit code is the last thing your "
                       "script does (`exit 3`, `sys.exit(3)`)")
        if code == 0:
            reasons.append("restartPolicy Always restarts even a container that succeeded: a loop of successes "
                           "is still shown as CrashLoopBackOff")
    elif code is None:
        reasons.append(f"the container did not exit within {CRASH_WAIT_SECONDS} s: a CrashLoopBackOff needs a "
                       "program that ends (and is restarted)")
    if ok:
        reasons.append(f"the container exited {CRASH_CODE}, its restartPolicy {policy} restarted it, and the "
                       "kubelet's back-off between restarts is what kubectl shows as CrashLoopBackOff")
    return Verdict(name, ok, f"CrashLoopBackOff with exit code {CRASH_CODE}" if ok
                   else "the pod did not loop with the asked exit code (see why below)", reasons,
                   evidence={"statuses": seq, "exit_code": code, "restartPolicy": policy})
