"""kjlab.probes on a recording of a real kubelet (kind, tests/data/record_probes.py): what lab 13 reads
from it holds on data the kubelet produced, not only on rows written by hand."""

import datetime as dt
from pathlib import Path

import pytest

from kjlab.api import policy
from kjlab.labs import probes
from kjlab.runs.result import Recording
from kjlab.runs import saved as saved_runs

DATA = Path(__file__).resolve().parents[1] / "data" / "runs" / "probes-kind.json"


@pytest.fixture(scope="module")
def runs():
    saved = saved_runs.load(DATA)
    return {name: (Recording(run["rows"]), dt.datetime.fromisoformat(run["started_at"])) for name, run in saved.items()}


def test_readiness_takes_the_endpoint_out_and_back_without_a_restart(runs):
    rec, _ = runs["readiness"]
    removed = next(s["t"] for s in rec.steps() if s["action"] == "exec" and s["detail"].startswith("rm"))
    restored = next(s["t"] for s in rec.steps() if s["action"] == "exec" and s["detail"].startswith("touch"))
    slices = probes.endpoints(rec, "web")
    a = slices[slices["pod"] == "web-a"]
    out = a[(a["t"] > removed) & (a["ready"] == False)]  # noqa: E712  (a column of booleans)
    assert not out.empty and out["t"].min() < restored
    assert bool(a.iloc[-1]["ready"]) and probes.endpoint_ready(rec, "web-b")
    assert not out["serving"].any() and not out["terminating"].any()  # not ready is not serving, not terminating
    assert probes.restarts(rec, "web-a") == 0
    unhealthy = probes.events(rec, ("Unhealthy",), "web-a")
    assert unhealthy["message"].str.startswith("Readiness probe failed").all() and len(unhealthy)


def test_hooks_order_on_the_recorded_timeline(runs):
    rec, started_at = runs["hooks"]
    at = probes.hook_timeline(rec, "hooks", started_at).set_index("what")["t"]
    assert at["postStart began"] < at["postStart ended"] <= at["Running (reported by the kubelet)"] + 0.5
    assert at["kubectl delete"] - 0.5 <= at["preStop began"] < at["preStop ended"] <= at["main got SIGTERM"]
    assert at["main got SIGTERM"] <= at["container terminated"] + 0.5
    assert probes.first_event(rec, "bad-post-start", "FailedPostStartHook")
    assert probes.first_event(rec, "bad-pre-stop", "FailedPreStopHook")


def test_sigterm_handled_vs_ignored(runs):
    rec, _ = runs["sigterm"]
    ends = probes.terminations(rec).set_index("pod")
    grace = ends.loc["ignores-term", "grace"]
    assert ends.loc["handles-term", "exit_code"] == 143 and ends.loc["handles-term", "seconds"] < 2
    assert ends.loc["ignores-term", "exit_code"] == 137 and grace - 1 <= ends.loc["ignores-term", "seconds"] <= grace + 5
    assert set(ends["phase"]) == {"Failed"}  # restartPolicy Never, deleted while running
    rules = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [137]}}]}
    assert policy.first_match(rules, probes.terminated_pod(rec, "ignores-term")).action == "FailJob"
    assert policy.first_match(rules, probes.terminated_pod(rec, "handles-term")).action == "Count"
