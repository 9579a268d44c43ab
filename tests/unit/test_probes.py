"""kjlab.probes (lab 13): the pods' manifests, the kwok skip, and every question the lab asks of a
recording, on rows shaped as the recorder writes them (objects as the API serves them)."""

import datetime as dt

import pandas as pd
import pytest

from kjlab.api import policy
from kjlab.labs import probes
from kjlab.labs.probes import endpointslice_row
from kjlab.runs.record import event_row, pod_row
from kjlab.runs.result import Recording

T0 = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def _pod(name, state=None, restarts=0, phase="Running", conditions=(), grace=10, last=None):
    status = {"phase": phase, "conditions": [{"type": t, "status": s} for t, s in conditions]}
    if state:
        cs = {"name": "main", "restartCount": restarts, "state": state}
        if last:
            cs["lastState"] = last
        status["containerStatuses"] = [cs]
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": {"terminationGracePeriodSeconds": grace,
                                                                   "containers": [{"name": "main"}]},
            "status": status}


def _row(t, row, obj=None):
    return {**row, "t": t, "time": T0 + dt.timedelta(seconds=t), "object": obj}


def _podrow(t, pod, event="MODIFIED"):
    return _row(t, pod_row(event, pod), pod)


def _event(t, pod, reason, message, level="Warning"):
    ev = {"metadata": {"resourceVersion": str(int(t * 10))}, "involvedObject": {"kind": "Pod", "name": pod},
          "reason": reason, "message": message, "type": level}
    return _row(t, event_row("ADDED", ev), ev)


def _step(t, action, target, detail=""):
    return _row(t, {"kind": "step", "name": target, "action": action, "detail": detail})


def _slice(t, *endpoints, name="web-abcde", event="MODIFIED"):
    eps = {"metadata": {"name": name, "labels": {"kubernetes.io/service-name": "web"}},
           "endpoints": [{"addresses": [f"10.0.0.{i}"], "targetRef": {"kind": "Pod", "name": pod},
                          "conditions": {"ready": ready, "serving": ready, "terminating": False}}
                         for i, (pod, ready) in enumerate(endpoints)]}
    return _row(t, endpointslice_row(event, eps), eps)


RUNNING = {"running": {"startedAt": "2026-01-01T12:00:01Z"}}


# --- manifests ---------------------------------------------------------------------------------

def test_each_liveness_pod_uses_its_own_mechanism():
    pods = {p["metadata"]["name"]: p["spec"]["containers"][0]["livenessProbe"] for p in probes.liveness_pods(5)}
    assert set(pods) == {"live-http", "live-tcp", "live-exec"}
    assert pods["live-http"]["httpGet"]["path"] == "/healthz"
    assert pods["live-tcp"]["tcpSocket"]["port"] == probes.PORT
    assert pods["live-exec"]["exec"]["command"] == ["cat", "/tmp/healthy"]
    for pod in probes.liveness_pods(5):
        assert pod["spec"]["containers"][0]["image"] == probes.IMAGE  # preloaded on kind
        assert "sleep 5" in pod["spec"]["containers"][0]["command"][2] or pod["metadata"]["name"] == "live-http" \
            or "time.sleep(5)" in pod["spec"]["containers"][0]["command"][2]


def test_startup_probe_only_on_the_protected_pod_with_a_budget_beyond_the_start():
    plain, protected = probes.slow_start_pods(start_seconds=20)
    assert "startupProbe" not in plain["spec"]["containers"][0]
    startup = protected["spec"]["containers"][0]["startupProbe"]
    assert startup["failureThreshold"] * startup["periodSeconds"] > 20
    liveness = plain["spec"]["containers"][0]["livenessProbe"]
    assert liveness["failureThreshold"] * liveness["periodSeconds"] < 20  # liveness alone kills the slow start
    assert liveness is not protected["spec"]["containers"][0]["livenessProbe"]  # printed without YAML anchors


def test_gate_hooks_and_sigterm_pods():
    assert probes.gated_pod()["spec"]["readinessGates"] == [{"conditionType": probes.GATE}]
    hooks = {p["metadata"]["name"]: p for p in probes.hook_pods()}
    assert set(hooks["hooks"]["spec"]["containers"][0]["lifecycle"]) == {"postStart", "preStop"}
    assert "exit 1" in str(hooks["bad-post-start"]["spec"]["containers"][0]["lifecycle"]["postStart"])
    assert "exit 1" in str(hooks["bad-pre-stop"]["spec"]["containers"][0]["lifecycle"]["preStop"])
    handles, ignores = probes.sigterm_pods(grace=7)
    for pod in (handles, ignores):
        assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["terminationGracePeriodSeconds"] == 7
    assert "trap '" in handles["spec"]["containers"][0]["command"][2]
    assert "trap '" not in ignores["spec"]["containers"][0]["command"][2]


def test_service_selects_the_web_pods():
    svc = probes.service("web")
    assert svc["spec"]["selector"] == {"app": "web"}
    assert all(p["metadata"]["labels"] == {"app": "web"} for p in probes.readiness_pods())


def test_kwok_skips_visibly_and_kind_runs(capsys, monkeypatch):
    monkeypatch.setattr(probes, "_explained", False)
    assert probes.needs_real_kubelet("kind", "x") is True
    assert capsys.readouterr().out == ""
    assert probes.needs_real_kubelet("kwok", "the liveness step") is False
    first = capsys.readouterr().out
    assert "SKIPPED" in first and "the liveness step" in first and "kjlab up --engine kind" in first
    assert "runs none" in first
    # issue 26 item 6: what the learner has to do, all of it
    assert "start Docker" in first and "no `kjlab down` needed first" in first and "from the top" in first
    probes.needs_real_kubelet("kwok", "the next step")
    again = capsys.readouterr().out
    assert "SKIPPED" in again and "runs none" not in again  # the why is said once
    assert "from the top" in again


def test_a_skipped_step_says_when_its_lab_is_bound_to_an_older_cluster(capsys, monkeypatch):
    """After `kjlab up --engine kind`, a skipped cell run again on its own still skips: it says why."""
    from types import SimpleNamespace

    from kjlab import cluster

    monkeypatch.setattr(probes, "_explained", True)
    monkeypatch.setattr(cluster, "lab_context", lambda: "kind-kjlab")
    lab = SimpleNamespace(engine="kwok", context="kwok-kjlab")
    assert probes._needs_kind(lab, "the hooks step") is False
    out = capsys.readouterr().out
    assert "the newest lab cluster is kind-kjlab" in out and "bound to kwok-kjlab" in out and "from the top" in out
    monkeypatch.setattr(cluster, "lab_context", lambda: "kwok-kjlab")
    probes._needs_kind(lab, "the hooks step")
    assert "newest" not in capsys.readouterr().out


# --- the recording ----------------------------------------------------------------------------

def test_liveness_events_and_restarts():
    rec = Recording([
        _podrow(1, _pod("live-http", RUNNING)),
        _step(2, "exec", "pod/live-http", "rm /srv/healthz"),
        _event(4, "live-http", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404"),
        _event(6, "live-http", "Killing", "Container main failed liveness probe, will be restarted", "Normal"),
        _event(6.5, "live-http", "Pulled", "Container image already present", "Normal"),
        _podrow(9, _pod("live-http", RUNNING, restarts=1)),
    ])
    assert probes.restarts(rec, "live-http") == 1 and probes.restarts(rec, "other") == 0
    table = probes.events(rec, ("Unhealthy", "Killing"))
    assert list(table["reason"]) == ["Unhealthy", "Killing"] and list(table["pod"]) == ["live-http"] * 2
    assert probes.first_event(rec, "live-http", "Killing")["t"] == 6
    assert probes.first_event(rec, "live-http", "Unhealthy", "statuscode: 500") is None


def test_endpoints_follow_the_slice():
    rec = Recording([_slice(1, ("web-a", True), ("web-b", True)), _slice(3, ("web-a", False), ("web-b", True)),
                     _slice(6, ("web-a", True), ("web-b", True))])
    frame = probes.endpoints(rec, "web")
    assert list(frame[frame["pod"] == "web-a"]["ready"]) == [True, False, True]
    assert probes.endpoint_ready(Recording(rec.rows[:2]), "web-a") is False
    assert probes.endpoint_ready(rec, "web-a") is True
    assert probes.endpoint_ready(rec, "web-c") is None
    assert probes.endpoint_ready(Recording([]), "web-a") is None
    assert rec.rows[1]["detail"] == "web-a:not ready, web-b:ready"


def test_a_second_slice_of_the_service_does_not_hide_the_first():
    """Two slices of one Service at once (the controller made an extra one): the latest change is the
    one-pod slice, yet both pods are listed ready; once the extra slice is deleted, the first stands."""
    both = _slice(1, ("web-a", True), ("web-b", True), name="web-one")
    extra = _slice(2, ("web-b", True), name="web-two")
    rec = Recording([both, extra])
    assert probes.endpoint_ready(rec, "web-a") is True and probes.endpoint_ready(rec, "web-b") is True
    gone = _slice(3, name="web-one", event="DELETED")
    assert probes.endpoint_ready(Recording([both, extra, gone]), "web-a") is None
    assert probes.endpoint_ready(Recording([both, extra, gone]), "web-b") is True


def test_ready_changes_show_a_gate_holding_ready_back():
    rec = Recording([
        _podrow(1, _pod("gated", RUNNING, conditions=[("ContainersReady", "False"), ("Ready", "False")])),
        _podrow(2, _pod("gated", RUNNING, conditions=[("ContainersReady", "True"), ("Ready", "False")])),
        _podrow(2.5, _pod("gated", RUNNING, conditions=[("ContainersReady", "True"), ("Ready", "False")])),
        _podrow(4, _pod("gated", RUNNING, conditions=[("ContainersReady", "True"), ("Ready", "True"),
                                                     (probes.GATE, "True")])),
    ])
    changes = probes.ready_changes(rec, "gated")
    assert list(changes["t"]) == [1, 2, 4]  # an unchanged update is not a change
    assert changes["gate"].isna().tolist() == [True, True, False] and changes["gate"].iloc[-1] == "True"
    assert probes.is_ready(rec, "gated") and not probes.is_ready(Recording(rec.rows[:2]), "gated")


def _terminated(code):
    return {"terminated": {"exitCode": code, "reason": "Error"}}


def test_terminations_measure_delete_to_exit():
    rec = Recording([
        _podrow(0.5, _pod("handles-term", RUNNING)), _podrow(0.6, _pod("ignores-term", RUNNING)),
        _step(1.0, "delete", "pod/handles-term"), _step(1.1, "delete", "pod/ignores-term"),
        _podrow(1.8, _pod("handles-term", _terminated(143), phase="Failed")),
        _podrow(11.3, _pod("ignores-term", _terminated(137), phase="Failed")),
        _podrow(11.5, _pod("ignores-term", _terminated(137), phase="Failed"), "DELETED"),
    ])
    ends = probes.terminations(rec).set_index("pod")
    assert ends.loc["handles-term", "exit_code"] == 143 and ends.loc["handles-term", "seconds"] == pytest.approx(0.8)
    assert ends.loc["ignores-term", "exit_code"] == 137 and ends.loc["ignores-term", "seconds"] == pytest.approx(10.2)
    assert ends.loc["ignores-term", "grace"] == 10 and ends.loc["ignores-term", "gone"] == 11.5
    assert ends.loc["handles-term", "phase"] == "Failed" and pd.isna(ends.loc["handles-term", "gone"])
    assert probes.running_at(rec, "handles-term") == 0.5


def test_the_policy_reads_the_recorded_terminations():
    rec = Recording([_podrow(2, _pod("handles-term", _terminated(143), phase="Failed")),
                     _podrow(9, _pod("ignores-term", _terminated(137), phase="Failed"))])
    rules = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                       {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [137]}}]}
    assert policy.first_match(rules, probes.terminated_pod(rec, "handles-term")).action == "Count"
    assert policy.first_match(rules, probes.terminated_pod(rec, "ignores-term")).action == "FailJob"
    assert probes.terminated_pod(rec, "nobody") is None


def test_hook_timeline_puts_the_log_stamps_beside_the_api():
    epoch = T0.timestamp()
    rec = Recording([
        _step(0.2, "create", "pod/hooks"),
        _row(3.0, {"kind": "log", "name": "hooks", "detail": f"main started at {epoch + 1.0:.6f}"}),
        _row(3.0, {"kind": "log", "name": "hooks", "detail": f"postStart began at {epoch + 1.05:.6f}"}),
        _row(3.0, {"kind": "log", "name": "hooks", "detail": "some other line"}),
        _row(3.0, {"kind": "log", "name": "other", "detail": f"main started at {epoch:.6f}"}),
        _podrow(3.2, _pod("hooks", RUNNING)),
        _step(4.0, "delete", "pod/hooks"),
        _row(5.0, {"kind": "log", "name": "hooks", "detail": f"preStop began at {epoch + 4.1:.6f}"}),
        _podrow(7.5, _pod("hooks", _terminated(143), phase="Failed")),
    ])
    tl = probes.hook_timeline(rec, "hooks", T0)
    assert list(tl["what"]) == ["created", "main started", "postStart began", "Running (reported by the kubelet)",
                                "kubectl delete", "preStop began", "container terminated"]
    at = tl.set_index("what")["t"]
    assert at["postStart began"] == pytest.approx(1.05) and at["container terminated"] == 7.5
    assert set(tl["source"]) == {"the container's log", "the API (recorded)"}


def test_two_changes_recorded_at_the_same_time_count_in_their_order():
    """What a loaded run recorded (rows at 3.248 s, resource versions 11464 then 11468): the older
    reading of the same time must not win, or the wait for both pods ready never ends."""
    rec = Recording([_slice(2.875, ("web-a", False), ("web-b", False)), _slice(3.248, ("web-a", True), ("web-b", False)),
                     _slice(3.248, ("web-a", True), ("web-b", True))])
    assert probes.endpoint_ready(rec, "web-a") is True and probes.endpoint_ready(rec, "web-b") is True


def test_a_slice_found_gone_at_a_relist_drops_out():
    """A re-list records a vanished slice under the slice's own name and without its object."""
    rec = Recording([_slice(1, ("web-a", True), name="web-one"),
                     _row(2, {"kind": "endpointslice", "name": "web-one", "event": "DELETED", "detail": "gone"})])
    assert probes.endpoint_ready(rec, "web-a") is None
