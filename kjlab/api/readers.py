"""Reading API objects: the one place that knows where a field lives.

Everything downstream of the API server -- waits, the recorder, scenarios, checks, widgets,
lab text -- holds objects as the API serves them: camelCase dicts (the same shape `kubectl get
-o json` prints and a podFailurePolicy's rules name). These readers are the only code that
walks into them, so "is this condition True" or "which exit code" is written once.

Every reader accepts a partial object (a status without conditions, a pod not yet scheduled)
and returns None / False / 0 rather than raising.
"""

from __future__ import annotations

# --- metadata ------------------------------------------------------------------------------


def meta(obj: dict) -> dict:
    return (obj or {}).get("metadata") or {}


def name(obj: dict) -> str | None:
    return meta(obj).get("name")


def uid(obj: dict) -> str | None:
    return meta(obj).get("uid")


def resource_version(obj: dict) -> str | None:
    return meta(obj).get("resourceVersion")


def labels(obj: dict) -> dict:
    return meta(obj).get("labels") or {}


def annotations(obj: dict) -> dict:
    return meta(obj).get("annotations") or {}


def controller_of(obj: dict) -> dict | None:
    """The ownerReference with ``controller: true`` (the object that manages this one), or None."""
    return next((ref for ref in meta(obj).get("ownerReferences") or [] if ref.get("controller")), None)


def deleting(obj: dict) -> bool:
    """True once the object has a deletionTimestamp (graceful deletion or finalizers pending)."""
    return meta(obj).get("deletionTimestamp") is not None


# --- conditions (pods, Jobs, nodes) --------------------------------------------------------


def conditions(obj: dict) -> list[dict]:
    return ((obj or {}).get("status") or {}).get("conditions") or []


def condition(obj: dict, type_: str) -> dict | None:
    """The condition of that type, whatever its status, or None."""
    return next((c for c in conditions(obj) if c.get("type") == type_), None)


def true_condition(obj: dict, type_: str) -> dict | None:
    """The condition of that type when its status is True, else None (a Job's outcome, a pod's
    DisruptionTarget)."""
    c = condition(obj, type_)
    return c if c is not None and c.get("status") == "True" else None


def true_conditions(obj: dict, types=None) -> list[dict]:
    """The conditions whose status is True, in status order (only those of ``types`` if given)."""
    return [c for c in conditions(obj) if c.get("status") == "True" and (types is None or c.get("type") in types)]


def is_true(obj: dict, type_: str) -> bool:
    return true_condition(obj, type_) is not None


def condition_text(obj: dict, only_true: bool = False) -> str:
    """Conditions in one line, e.g. ``Ready=False(PodFailed), DisruptionTarget=True(EvictionByEvictionAPI)``."""
    parts = []
    for c in conditions(obj):
        if only_true and c.get("status") != "True":
            continue
        parts.append(f"{c.get('type')}={c.get('status')}" + (f"({c['reason']})" if c.get("reason") else ""))
    return ", ".join(parts)


# --- pods ----------------------------------------------------------------------------------


def phase(pod: dict) -> str | None:
    return ((pod or {}).get("status") or {}).get("phase")


def ended(pod: dict) -> bool:
    """The pod reached a terminal phase (Succeeded or Failed)."""
    return phase(pod) in ("Succeeded", "Failed")


def node_name(pod: dict) -> str | None:
    return ((pod or {}).get("spec") or {}).get("nodeName")


def container_statuses(pod: dict, init: bool = False) -> list[dict]:
    key = "initContainerStatuses" if init else "containerStatuses"
    return ((pod or {}).get("status") or {}).get(key) or []


def container_status(pod: dict, container: str | None = None) -> dict | None:
    """The status of the named container, else of the first one."""
    statuses = container_statuses(pod)
    if container is not None:
        return next((cs for cs in statuses if cs.get("name") == container), None)
    return statuses[0] if statuses else None


def state(pod: dict, container: str | None = None) -> tuple[str | None, dict]:
    """(``waiting`` | ``running`` | ``terminated`` | None, that state's fields) of a container."""
    cs = container_status(pod, container) or {}
    for which in ("terminated", "running", "waiting"):
        if (cs.get("state") or {}).get(which) is not None:
            return which, cs["state"][which]
    return None, {}


def terminated(pod: dict, container: str | None = None) -> dict | None:
    """The container's terminated state (exitCode, reason, signal ...), or None."""
    which, fields = state(pod, container)
    return fields if which == "terminated" else None


def exit_code(pod: dict, container: str | None = None) -> int | None:
    t = terminated(pod, container)
    return t.get("exitCode") if t else None


def terminations(pod: dict, init: bool = False) -> list[tuple[str, dict]]:
    """(container name, terminated state) of every terminated container, init containers first
    when ``init``; in status order."""
    statuses = (container_statuses(pod, init=True) if init else []) + container_statuses(pod)
    return [(cs.get("name"), cs["state"]["terminated"]) for cs in statuses if (cs.get("state") or {}).get("terminated")]


def latest_terminations(pod: dict) -> list[tuple[str, int, dict]]:
    """(container, restartCount, terminated state) for each container that has terminated at least
    once: its current state when terminated, else the run before its last restart (lastState)."""
    out = []
    for cs in container_statuses(pod):
        term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if term:
            out.append((cs.get("name"), cs.get("restartCount") or 0, term))
    return out


def exit_codes(pod: dict) -> list[int]:
    """Exit codes of every terminated (non-init) container, in status order (by container name, as a
    kubelet writes them: kubelet_pods.go convertToAPIContainerStatuses)."""
    return [t.get("exitCode") for _, t in terminations(pod)]


def waiting_reason(pod: dict, container: str | None = None) -> str | None:
    """Why the container waits (ImagePullBackOff, CrashLoopBackOff, ContainerCreating ...), or None."""
    which, fields = state(pod, container)
    return fields.get("reason") if which == "waiting" else None


def waiting_in(pod: dict, reasons) -> bool:
    """Some container of the pod waits with one of ``reasons``."""
    reasons = (reasons,) if isinstance(reasons, str) else tuple(reasons)
    return any(((cs.get("state") or {}).get("waiting") or {}).get("reason") in reasons
               for cs in container_statuses(pod))


def restart_count(pod: dict, container: str | None = None) -> int:
    return (container_status(pod, container) or {}).get("restartCount") or 0


def last_exit_code(pod: dict, container: str | None = None) -> int | None:
    """The exit code of the container's previous run (after a restart in place), or None."""
    last = ((container_status(pod, container) or {}).get("lastState") or {}).get("terminated")
    return last.get("exitCode") if last else None


COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"


def completion_index(pod: dict) -> str | None:
    """An Indexed Job's pod index (its annotation; the container sees it as JOB_COMPLETION_INDEX)."""
    return annotations(pod).get(COMPLETION_INDEX)


def index_sources(pod: dict) -> dict:
    """Every place an Indexed Job's pod can read its index from, as the API holds them: the
    annotation and the label (both set by the Job controller), the container's JOB_COMPLETION_INDEX
    (an env var the controller adds, read through the downward API from the label -- from the
    annotation before v1.28; the value says which), and the hostname (``<job>-<index>``). None where a place is missing (a NonIndexed Job's pod)."""
    env = None
    for c in ((pod or {}).get("spec") or {}).get("containers") or []:
        for e in c.get("env") or []:
            if e.get("name") == "JOB_COMPLETION_INDEX":
                ref = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
                env = e.get("value") or (f"from {ref}" if ref else None)
    return {"pod": name(pod), "annotation": completion_index(pod), "label": labels(pod).get(COMPLETION_INDEX),
            "JOB_COMPLETION_INDEX": env, "hostname": ((pod or {}).get("spec") or {}).get("hostname")}


# --- Jobs ----------------------------------------------------------------------------------

COUNTERS = ("active", "ready", "succeeded", "failed", "terminating")


def counter(job: dict, field: str) -> int:
    """One of the Job's status counters (active, ready, succeeded, failed, terminating), 0 if unset."""
    return ((job or {}).get("status") or {}).get(field) or 0


def counters(job: dict) -> dict[str, int]:
    return {f: counter(job, f) for f in COUNTERS}


def finished(job: dict) -> str | None:
    """``Complete`` or ``Failed`` once the Job has that condition True, else None."""
    return next((t for t in ("Complete", "Failed") if is_true(job, t)), None)


def uncounted(job: dict) -> bool:
    """Pods the Job controller saw terminate but has not yet added to its counters."""
    u = ((job or {}).get("status") or {}).get("uncountedTerminatedPods") or {}
    return bool(u.get("failed") or u.get("succeeded"))


def failed_indexes(job: dict) -> str | None:
    return ((job or {}).get("status") or {}).get("failedIndexes")


# --- nodes ---------------------------------------------------------------------------------


def node_ready(node: dict) -> bool:
    return is_true(node, "Ready")


def unschedulable(node: dict) -> bool:
    return bool(((node or {}).get("spec") or {}).get("unschedulable"))


# --- one line, for timeouts and logs -------------------------------------------------------


def describe_pod(pod: dict) -> str:
    parts = []
    for cs in container_statuses(pod):
        st = cs.get("state") or {}
        if st.get("waiting") is not None:
            parts.append(f"{cs.get('name')} waiting {st['waiting'].get('reason')}")
        elif st.get("running") is not None:
            parts.append(f"{cs.get('name')} running")
        elif st.get("terminated") is not None:
            t = st["terminated"]
            parts.append(f"{cs.get('name')} terminated {t.get('reason')} ({t.get('exitCode')})")
    return f"pod {name(pod)} phase {phase(pod)}" + (f", {', '.join(parts)}" if parts else "")


def describe_job(job: dict) -> str:
    kinds = ", ".join(f"{c.get('type')}={c.get('status')}" for c in conditions(job))
    return (f"job {name(job)} active={counter(job, 'active')} succeeded={counter(job, 'succeeded')} "
            f"failed={counter(job, 'failed')} conditions=[{kinds}]")
