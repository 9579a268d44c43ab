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
    # issue 25: init containers that take time or fail run in their turn (kuberuntime_manager.go
    # computePodActions; kubelet_pods.go getPhase: a failed init container with Never fails the pod)
    "init-slow": (_pod_spec(["bash", "-c", "sleep 1"], init=[
        {"name": "setup", "image": BASH, "command": ["bash", "-c", "sleep 3"]}]), None),
    "init-error": (_pod_spec(["bash", "-c", "sleep 1"], init=[
        {"name": "setup", "image": BASH, "command": ["bash", "-c", "sleep 1 && exit 1"]}]), None),
    "init-crashloop": (_pod_spec(["bash", "-c", "sleep 1"], restart="OnFailure", grace=2, init=[
        {"name": "setup", "image": BASH, "command": ["bash", "-c", "sleep 1 && exit 1"]}]),
        lambda p: any((cs.restart_count or 0) >= 1 for cs in p.status.init_container_statuses or [])),
    # issue 25: every container start writes Pulled, Created, Started, init containers included
    # (kuberuntime_container.go startContainer); compared as counts per reason ("events")
    "init-two-events": (_pod_spec(["bash", "-c", "sleep 1"], init=[
        {"name": "first", "image": BASH, "command": ["bash", "-c", "sleep 1"]},
        {"name": "second", "image": BASH, "command": ["sh", "-c", "sleep 1; echo ok"]}]), None),
    # issue 25: a deleted pod's running init container is stopped as any container (SIGTERM ignored by
    # PID 1, SIGKILL after the grace period: kuberuntime_container.go killContainer), the pod Failed
    # with main still Waiting (status_manager.go TerminatePod, hasPodInitialized); held by a
    # finalizer (HELD) so the ended pod is read before it goes
    "init-deleted": (_pod_spec(["bash", "-c", "sleep 1"], grace=2, init=[
        {"name": "setup", "image": BASH, "command": ["bash", "-c", "sleep 3600"]}]),
        lambda p: any(cs.state and cs.state.running for cs in p.status.init_container_statuses or [])),
    # issue 25: each container of a pod has its own life (kuberuntime_manager.go computePodActions;
    # kubelet_pods.go getPhase): one ends while the other runs (READY 1/2), one restarts alone
    # other runs 15 s, so that "main ended, other running" (READY 1/2) lasts longer than a poll of a loaded machine
    "two-end-apart": ({"restartPolicy": "Never", "terminationGracePeriodSeconds": 30, "containers": [
        {"name": "main", "image": BASH, "command": ["sh", "-c", "sleep 1; exit 3"]},
        {"name": "other", "image": BASH, "command": ["sleep", "15"]}]}, None),
    "main-restarts-alone": ({"restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 2, "containers": [
        {"name": "main", "image": BASH, "command": ["sh", "-c", "sleep 1; exit 1"]},
        {"name": "long", "image": BASH, "command": ["sleep", "600"]}]}, lambda p: _out_again(p)),
    # v1.36 container restart rules (pkg/api/v1/pod/util.go ContainerShouldRestart): exit 42 restarts
    # the container although its pod and its own policy say Never
    "restart-rule": ({"restartPolicy": "Never", "terminationGracePeriodSeconds": 2, "containers": [
        {"name": "main", "image": BASH, "command": ["sh", "-c", "sleep 1; exit 42"], "restartPolicy": "Never",
         "restartPolicyRules": [{"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}}]}]},
        lambda p: _restarted(p)),
    # RestartAllContainers needs a node declaring RestartAllContainersOnContainerExits (the scheduler's
    # NodeDeclaredFeatures filter): it must run at all (the restart of every container is not simulated)
    "restart-all": ({"restartPolicy": "Never", "terminationGracePeriodSeconds": 2, "containers": [
        {"name": "main", "image": BASH, "command": ["sh", "-c", "sleep 1; exit 42"], "restartPolicy": "Never",
         "restartPolicyRules": [{"action": "RestartAllContainers", "exitCodes": {"operator": "In", "values": [42]}}]},
        {"name": "other", "image": BASH, "command": ["sleep", "600"]}]}, lambda p: _ran(p)),
}
JOB_CASES = {
    "loop-deadline": {"activeDeadlineSeconds": 15, "backoffLimit": 0, "template": {"spec": _pod_spec(
        ["bash", "-c", "while true; do date; sleep 5; done"], grace=1)}},
    "index-modulo": {"completions": 4, "parallelism": 4, "completionMode": "Indexed", "backoffLimitPerIndex": 0,
                     "template": {"spec": _pod_spec(["python3", "-c", PY_MODULO], image=PY)}},
}


HOLD = "kjlab.io/test-hold"  # keeps a deleted pod readable once it ended
HELD = ("init-deleted",)


def _in_backoff(pod):
    """Restarted at least once and not running now: waiting out the back-off. (A real v1.36 kubelet
    shows the container terminated until its next sync, then waiting CrashLoopBackOff.)"""
    cs = (pod.status.container_statuses or [None])[0]
    return cs is not None and cs.restart_count >= 1 and cs.state is not None and cs.state.running is None


def _restarted(pod):
    """Its container main has restarted once (it runs again, or waits out the next back-off)."""
    main = next((cs for cs in pod.status.container_statuses or [] if cs.name == "main"), None)
    return main is not None and (main.restart_count or 0) >= 1


def _out_again(pod):
    """main has restarted and is out again (on a real kubelet its second exit; kwok's Stages back off
    after the first already): waiting out the back-off. The window after
    its first exit is too short to be seen -- the kubelet restarts a container at once the first time
    and only then starts its back-off (kuberuntime_manager.go doBackOff: backOff.Next on the first exit)
    -- while the back-off after the second lasts 10 s (kubelet.go initialCrashLoopBackOff): a poll of
    a loaded machine sees main out while long runs. (Deleted once main had restarted, kind was once
    never seen partly ready.)"""
    main = next((cs for cs in pod.status.container_statuses or [] if cs.name == "main"), None)
    return _restarted(pod) and main.state is not None and main.state.running is None


def _ran(pod):
    """Some container of the pod has run: the pod was scheduled and started."""
    return any(cs.state and (cs.state.running or cs.state.terminated) or cs.last_state and cs.last_state.terminated
               for cs in pod.status.container_statuses or [])


def _times(pod, container: str):
    """(startedAt, finishedAt) of ``container``'s run that ended, or None."""
    for cs in (pod.status.init_container_statuses or []) + (pod.status.container_statuses or []):
        if cs.name == container and cs.state and cs.state.terminated:
            t = cs.state.terminated
            return (t.started_at, t.finished_at) if t.started_at and t.finished_at else None
    return None


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
        meta = {"name": name, **({"finalizers": [HOLD]} if name in HELD else {})}
        core.create_namespaced_pod(namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
    for name, spec in JOB_CASES.items():
        batch.create_namespaced_job(namespace, {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                                                "spec": spec})
    # a multi-container pod: whether it was ever seen partly ready (READY 1/2: one container ended or
    # waits out a back-off while another runs); "restart-all": whether it ran at all
    seen: dict[str, dict] = {name: {"states": [], **({"partly_ready": False} if len(spec["containers"]) > 1 else {}),
                                    **({"ran": False} if name == "restart-all" else {})}
                             for name, (spec, _) in POD_CASES.items()}
    deleted: dict[str, float] = {}
    released: set[str] = set()  # HELD pods whose finalizer was removed once
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
            # in the status's own order, which is compared too: init containers in the spec's order,
            # the others by name (kubelet_pods.go convertToAPIContainerStatuses, SortedContainerStatuses)
            statuses = (p.status.init_container_statuses or []) + (p.status.container_statuses or [])
            now = " ".join(f"{cs.name}:{_container(cs)}" for cs in statuses)
            if now and (not rec["states"] or rec["states"][-1] != now):
                rec["states"].append(now)
            rec["phase"] = p.status.phase
            ready = sum(bool(cs.ready) for cs in p.status.container_statuses or [])
            if "partly_ready" in rec and 0 < ready < len(p.spec.containers):
                rec["partly_ready"] = True
            if "ran" in rec and _ran(p):
                rec["ran"] = True
            main = next((cs for cs in p.status.container_statuses or [] if cs.name == "main"), None)
            rec["restarted"] = bool(main and main.restart_count) or any(
                cs.restart_count for cs in p.status.init_container_statuses or [])
            if delete_when and name not in deleted and delete_when(p):
                core.delete_namespaced_pod(name, namespace)
                deleted[name] = time.monotonic()
            if name in HELD and name in deleted and name not in released and p.status.phase in ("Failed", "Succeeded"):
                try:
                    core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": None}},  # read: let it go
                                             _content_type=kube.MERGE)
                except client.ApiException as e:
                    if e.status != 404:  # gone already: the listing this loop read was older than the pod's removal
                        raise
                released.add(name)
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
    # What a poll may miss on a loaded machine -- a 3 s init container running, a sidecar running beside
    # a 4 s main -- the containers' own start and finish times still tell (one-second resolution).
    final = {p.metadata.name: p for p in core.list_namespaced_pod(namespace).items}
    if "sidecar" in final:
        side, main = _times(final["sidecar"], "side"), _times(final["sidecar"], "main")
        seen["sidecar"]["ran_together"] = bool(side and main and side[0] <= main[0] and side[1] >= main[1])
    if "init-slow" in final:
        setup, main = _times(final["init-slow"], "setup"), _times(final["init-slow"], "main")
        seen["init-slow"]["in_turn"] = bool(setup and main and main[0] >= setup[1]
                                            and (setup[1] - setup[0]).total_seconds() >= 2)
    for name in LOGGED:
        seen[name]["logs"] = _logs(core, namespace, name)
    for name in EVENTS_COUNTED:
        seen[name]["events"] = _start_events(core, namespace, name)
    return fingerprint(seen)


LOGGED = ("echo-exit-text", "logs-shell", "logs-python", "docs-echo")
SIMULATED_BANNER = "[kjlab: simulated kubelet (kwok)"


EVENTS_COUNTED = ("init-two-events",)
START_REASONS = ("Pulled", "Created", "Started")


def _start_events(core, namespace: str, name: str) -> dict[str, int]:
    """{reason: count} of the pod's container-start events: a real kubelet writes one event per
    container (they differ in fieldPath), kwok one with count 2 for two equal messages: summed."""
    counts: dict[str, int] = {}
    for e in core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items:
        if e.reason in START_REASONS:
            counts[e.reason] = counts.get(e.reason, 0) + (e.count or 1)
    return dict(sorted(counts.items()))


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
COMPARED = ("final", "phase", "restarted", "gone_before_the_grace_period", "condition", "failedIndexes", "logs",
            "partly_ready", "ran", "events")
DIFFERENCES = {
    ("always-restarts", "final"): "a real kubelet restarts a container once at once, then shows it terminated "
                                  "during the back-off until its next sync; kwok shows waiting CrashLoopBackOff at "
                                  "once: where the watch stops is timing",
    ("delete-in-backoff", "final"): "the last state seen before the pod is gone: a real kubelet writes Failed with "
                                    "the container's last termination; kwok's Failed/removal fits inside one poll",
    ("delete-in-backoff", "phase"): "as for final",
    # deleted once main has restarted: where the watch stops (running again, or in the next back-off) is timing
    **{(case, field): "deleted once main restarted (main-restarts-alone: once out again): the last state seen before the pod is gone is timing"
       for case in ("main-restarts-alone", "restart-rule", "restart-all", "init-crashloop") for field in ("final", "phase")},
    # deleted as soon as it ran: whether main's exit at 1 s (and what follows it) is seen before the
    # deletion takes effect is timing (kind here: seen; kwok: deleted first). What restart-all compares
    # is that it runs at all: the nodes declare RestartAllContainersOnContainerExits.
    **{("restart-all", field): "deleted once it ran: whether main's exit is seen before the pod goes is timing"
       for field in ("restarted", "partly_ready")},
}


RESTARTING = ("always-restarts", "delete-in-backoff", "main-restarts-alone", "restart-rule", "restart-all",
              "init-crashloop")


def fingerprint(seen: dict) -> dict:
    """What is compared between engines: final states and the distinct states passed through, no time.
    A restarting container's state list is reduced to the set of states it passed through (how
    many back-off rounds fit into the watch is timing)."""
    out = {}
    for name, rec in seen.items():
        rec = {k: v for k, v in rec.items() if not k.startswith("_")}  # _timings: printed by run's caller only
        if "states" in rec:
            rec["final"] = rec["states"][-1] if rec["states"] else None
            rec["states"] = sorted(set(rec["states"])) if name in RESTARTING else rec["states"]
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
