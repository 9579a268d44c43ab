"""Pods and Jobs inside the simulated kubelet's grammar (kjlab/cluster/kwok/grammar.py), built from
issue 10's cases, run all at once on one cluster and reduced to what a learner sees, without time.

Used by tests/cluster/test_kubelet_grammar.py (kwok, and on kind through tests/kind), which saves
each engine's fingerprint under $KJLAB_RUNS_DIR/kubelet-cases/<engine>.json, and by
tests/compare/test_kubelet_cases.py, which asserts that the two engines' fingerprints are equal.
"""

from __future__ import annotations

import time

from kubernetes import client

from kjlab.api import kube

BASH, PY = "docker.io/library/bash:5", "docker.io/library/python:3"
PY_MODULO = ("import os, sys\nprint('Hello world')\n"
             "if int(os.environ.get('JOB_COMPLETION_INDEX')) % 2 == 0:\n  sys.exit(1)\n")


def _pod_spec(command, image=BASH, restart="Never", grace=30, init=None):
    return {"restartPolicy": restart, "terminationGracePeriodSeconds": grace,
            "containers": [{"name": "main", "image": image, "command": command}],
            **({"initContainers": init} if init else {})}


POD_CASES = {
    # name: (spec, delete once this predicate holds on the pod, or None)
    "exit-after-sleep": (_pod_spec(["bash", "-c", "sleep 2 && exit 42"]), None),
    "false": (_pod_spec(["false"]), None),
    "echo-exit-text": (_pod_spec(["bash", "-c", 'echo "to fail, run: exit 5"']), None),
    "python-sleep-exit": (_pod_spec(["python3", "-c", "import time, sys\ntime.sleep(1)\nsys.exit(5)"], image=PY), None),
    "always-restarts": (_pod_spec(["bash", "-c", "sleep 1; exit 1"], restart="Always"), None),
    "delete-in-backoff": (_pod_spec(["bash", "-c", "exit 1"], restart="OnFailure"),
                          lambda p: _in_backoff(p)),
    # issue 10 item 3: what `kubectl logs` returns (kwok's first, simulated-kubelet line dropped)
    "logs-shell": (_pod_spec(["bash", "-c", 'echo one   two; sleep 1; echo "three  spaced" \'x;y\'; echo; exit 3']),
                   None),
    "logs-python": (_pod_spec(["python3", "-c", 'import sys\nprint("a")\nprint(\'b  c\')\nsys.exit(2)'], image=PY), None),
    "sidecar": (_pod_spec(["bash", "-c", "sleep 4"], grace=2, init=[
        {"name": "side", "image": BASH, "command": ["sleep", "infinity"], "restartPolicy": "Always"}]), None),
    # issue 25: the docs' shell text (`!` is literal in sh -c), an init container that succeeds at once
    "docs-echo": (_pod_spec(["sh", "-c", "echo The app is running! && sleep 1"]), None),
    "init-instant": (_pod_spec(["bash", "-c", "sleep 1"], init=[
        {"name": "setup", "image": BASH, "command": ["sh", "-c", "echo init done; touch /tmp/ready"]}]), None),
}
JOB_CASES = {
    "loop-deadline": {"activeDeadlineSeconds": 15, "backoffLimit": 0, "template": {"spec": _pod_spec(
        ["bash", "-c", "while true; do date; sleep 5; done"], grace=1)}},
    "index-modulo": {"completions": 4, "parallelism": 4, "completionMode": "Indexed", "backoffLimitPerIndex": 0,
                     "template": {"spec": _pod_spec(["python3", "-c", PY_MODULO], image=PY)}},
}


def _in_backoff(pod):
    """Restarted at least once and not running now: waiting out the back-off. (A real v1.36 kubelet
    shows the container terminated until its next sync, then waiting CrashLoopBackOff.)"""
    cs = (pod.status.container_statuses or [None])[0]
    return cs is not None and cs.restart_count >= 1 and cs.state is not None and cs.state.running is None


def _container(cs):
    st = cs.state
    if st.terminated:
        return f"terminated {st.terminated.reason} {st.terminated.exit_code}"
    if st.waiting:
        return f"waiting {st.waiting.reason}"
    return "running"


def run(context: str, namespace: str, timeout: float = 90) -> dict:
    """Create every case at once, watch until each is settled, return {case: what was seen}."""
    core, batch = kube.core(context), kube.batch(context)
    for name, (spec, _) in POD_CASES.items():
        core.create_namespaced_pod(namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
    for name, spec in JOB_CASES.items():
        batch.create_namespaced_job(namespace, {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                                                "spec": spec})
    seen: dict[str, dict] = {name: {"states": []} for name in POD_CASES}
    deleted: dict[str, float] = {}
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        pods = {p.metadata.name: p for p in core.list_namespaced_pod(namespace).items}
        for name, (_spec, delete_when) in POD_CASES.items():
            rec = seen[name]
            p = pods.get(name)
            if p is None:
                if name in deleted:
                    # "at once" against the 30 s grace period a running container would get: a
                    # loaded machine (CI runs both engines' suites together) can take seconds.
                    rec.setdefault("gone_before_the_grace_period", time.monotonic() - deleted[name] < 20)
                    rec.setdefault("_gone_after_s", round(time.monotonic() - deleted[name], 1))
                continue
            statuses = (p.status.init_container_statuses or []) + (p.status.container_statuses or [])
            now = " ".join(f"{cs.name}:{_container(cs)}" for cs in statuses)
            if now and (not rec["states"] or rec["states"][-1] != now):
                rec["states"].append(now)
            rec["phase"] = p.status.phase
            main = next((cs for cs in p.status.container_statuses or [] if cs.name == "main"), None)
            rec["restarted"] = bool(main and main.restart_count)
            if delete_when and name not in deleted and delete_when(p):
                core.delete_namespaced_pod(name, namespace)
                deleted[name] = time.monotonic()
        jobs_done = True
        for name in JOB_CASES:
            j = batch.read_namespaced_job(name, namespace)
            conds = [c for c in j.status.conditions or [] if c.status == "True" and c.type in ("Failed", "Complete")]
            seen[name] = {"condition": f"{conds[0].type}/{conds[0].reason}" if conds else None,
                          "failedIndexes": j.status.failed_indexes}
            jobs_done &= bool(conds)
        pods_done = all(
            (seen[n].get("phase") in ("Succeeded", "Failed") and n not in deleted and not d) or "gone_before_the_grace_period" in seen[n]
            for n, (_s, d) in POD_CASES.items() if n != "always-restarts")
        always = seen["always-restarts"]
        if jobs_done and pods_done and always.get("restarted"):
            break
        time.sleep(0.5)
    for name in LOGGED:
        seen[name]["logs"] = _logs(core, namespace, name)
    return fingerprint(seen)


LOGGED = ("echo-exit-text", "logs-shell", "logs-python", "docs-echo")
SIMULATED_BANNER = "[kjlab: simulated kubelet (kwok)"


def _logs(core, namespace: str, name: str) -> list[str] | str:
    """The pod's log lines as `kubectl logs` returns them; the kwok engine's first line (saying
    the kubelet is simulated) is dropped, and recorded as `_banner` (tests/cluster/test_kubectl_logs.py
    asserts it)."""
    try:
        text = core.read_namespaced_pod_log(name, namespace, container="main")
    except client.ApiException as e:
        return f"error {e.status}"
    lines = text.splitlines()
    return lines[1:] if lines and lines[0].startswith(SIMULATED_BANNER) else lines


# What must be equal on both engines, per case (tests/compare/test_kubelet_cases.py): the outcome a
# learner reads. The states passed through are compared too, but only printed: which transient
# states a poll catches is timing (see DIFFERENCES).
COMPARED = ("final", "phase", "restarted", "gone_before_the_grace_period", "condition", "failedIndexes", "logs")
DIFFERENCES = {
    ("always-restarts", "final"): "a real kubelet restarts a container once at once, then shows it terminated "
                                  "during the back-off until its next sync; kwok shows waiting CrashLoopBackOff at "
                                  "once: where the watch stops is timing",
    ("delete-in-backoff", "final"): "the last state seen before the pod is gone: a real kubelet writes Failed with "
                                    "the container's last termination; kwok's Failed/removal fits inside one poll",
    ("delete-in-backoff", "phase"): "as for final",
}


def fingerprint(seen: dict) -> dict:
    """What is compared between engines: final states and the distinct states passed through, no time.
    A restarting container's state list is reduced to the set of states it passed through (how
    many back-off rounds fit into the watch is timing)."""
    out = {}
    for name, rec in seen.items():
        rec = {k: v for k, v in rec.items() if not k.startswith("_")}  # _timings: printed by run's caller only
        if "states" in rec:
            rec["final"] = rec["states"][-1] if rec["states"] else None
            rec["states"] = sorted(set(rec["states"])) if name in ("always-restarts", "delete-in-backoff") else rec["states"]
        out[name] = rec
    return out


def differences(kwok: dict, kind: dict) -> tuple[list[str], list[str]]:
    """(unexplained differences in COMPARED fields, every other difference with its cause if known)."""
    unexplained, printed = [], []
    for name in sorted(set(kind) | set(kwok)):
        a_rec, b_rec = kind.get(name, {}), kwok.get(name, {})
        for field in sorted(set(a_rec) | set(b_rec)):
            a, b = a_rec.get(field), b_rec.get(field)
            if a == b:
                continue
            line = f"{name}.{field}: kind={a!r} kwok={b!r}"
            if field in COMPARED and (name, field) not in DIFFERENCES:
                unexplained.append(line)
            else:
                printed.append(line + (f"  ({DIFFERENCES[(name, field)]})" if (name, field) in DIFFERENCES else ""))
    return unexplained, printed
