"""The STATUS columns of `kubectl get pods` and `kubectl get jobs`, computed from an object as the
API serves it (camelCase dicts), following the API server's table printer (kubernetes v1.36,
pkg/printers/internalversion/printers.go: printPod, printJob).

Widgets and lab text use these so that what a learner sees in a table is what kubectl would print.
tests/cluster/test_status.py compares them with the real kubectl on live pods.
"""

from __future__ import annotations

from kjlab.api import readers


def _restartable(pod: dict, name: str) -> bool:
    for c in (pod.get("spec") or {}).get("initContainers") or []:
        if c.get("name") == name:
            return c.get("restartPolicy") == "Always"
    return False


def pod_status(pod: dict) -> str:
    """What `kubectl get pods` shows in its STATUS column for this pod."""
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    if (readers.condition(pod, "PodScheduled") or {}).get("reason") == "SchedulingGated":
        reason = "SchedulingGated"

    init_specs = (pod.get("spec") or {}).get("initContainers") or []
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and term.get("exitCode", 0) == 0:
            continue
        if _restartable(pod, cs.get("name")) and cs.get("started"):
            continue
        if term is not None:
            if not term.get("reason"):
                reason = f"Init:Signal:{term['signal']}" if term.get("signal") else f"Init:ExitCode:{term.get('exitCode', 0)}"
            else:
                reason = "Init:" + term["reason"]
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or readers.is_true(pod, "Initialized"):
        has_running, error_reason = False, ""
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None:
                if term.get("reason"):
                    reason = term["reason"]
                elif term.get("signal"):
                    reason = f"Signal:{term['signal']}"
                else:
                    reason = f"ExitCode:{term.get('exitCode', 0)}"
                if term.get("exitCode", 0) != 0:
                    error_reason = reason
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
        if reason == "Completed":
            if has_running and readers.is_true(pod, "Ready"):
                reason = "Running"
            elif error_reason:
                reason = error_reason
            elif has_running:
                reason = "NotReady"

    deleting = meta.get("deletionTimestamp") is not None
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason


def job_status(job: dict) -> str:
    """What `kubectl get jobs` shows in its STATUS column (v1.36 order)."""
    if readers.is_true(job, "Complete"):
        return "Complete"
    if readers.is_true(job, "Failed"):
        return "Failed"
    if (job.get("metadata") or {}).get("deletionTimestamp") is not None:
        return "Terminating"
    if readers.is_true(job, "Suspended"):
        return "Suspended"
    if readers.is_true(job, "FailureTarget"):
        return "FailureTarget"
    if readers.is_true(job, "SuccessCriteriaMet"):
        return "SuccessCriteriaMet"
    return "Running"
