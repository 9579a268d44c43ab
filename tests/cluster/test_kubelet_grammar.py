"""Issue 10's cases inside the grammar behave as on a real kubelet (``--engine kind`` runs this
very test on kind), and the NotSimulated ones are visible (kwok only).

The expected values are what bash, python and the kubelet do with each spec (see FIDELITY.md and
the kubelet's documented behaviour), not what the simulation printed."""

import json
import os
from pathlib import Path

import pytest

import kubelet_cases as cases

pytestmark = pytest.mark.engines("kwok", "kind")


def test_grammar_cases_behave_as_a_kubelet(lab, ns):
    seen = cases.run(lab["context"], ns)
    if os.environ.get("KJLAB_RUNS_DIR"):  # tests/compare/test_kubelet_cases.py compares the engines
        out = Path(os.environ["KJLAB_RUNS_DIR"]) / "kubelet-cases" / f"{lab['context'].split('-')[0]}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(seen, indent=1, sort_keys=True))
    final = {name: rec.get("final") for name, rec in seen.items()}
    assert final["exit-after-sleep"] == "main:terminated Error 42", seen["exit-after-sleep"]
    assert final["false"] == "main:terminated Error 1", seen["false"]
    assert final["echo-exit-text"] == "main:terminated Completed 0", seen["echo-exit-text"]
    assert final["python-sleep-exit"] == "main:terminated Error 5", seen["python-sleep-exit"]
    always = seen["always-restarts"]
    assert always["restarted"] and always["phase"] == "Running", always
    # Between runs the container is not running (a real v1.36 kubelet shows it terminated until its
    # next sync, then waiting CrashLoopBackOff; which of the two a poll catches is timing).
    assert any("terminated Error 1" in s or "CrashLoopBackOff" in s for s in always["states"]), always
    assert seen["delete-in-backoff"].get("gone_before_the_grace_period"), seen["delete-in-backoff"]
    side = seen["sidecar"]
    # side ran from before main started until after it ended (a 0.5 s poll of a loaded machine can miss
    # "side:running main:running": the containers' own times are the evidence)
    assert side["ran_together"], side
    assert side["phase"] == "Succeeded" and "main:terminated Completed 0" in side["final"], side
    # What bash and python write (echo joins words with one space; a quoted string keeps its own).
    assert seen["logs-shell"]["logs"] == ["one two", "three  spaced x;y", ""], seen["logs-shell"]
    assert seen["logs-shell"]["final"] == "main:terminated Error 3", seen["logs-shell"]
    assert seen["logs-python"]["logs"] == ["a", "b  c"], seen["logs-python"]
    assert seen["echo-exit-text"]["logs"] == ["to fail, run: exit 5"], seen["echo-exit-text"]
    assert seen["docs-echo"]["logs"] == ["The app is running!"] and seen["docs-echo"]["phase"] == "Succeeded", \
        seen["docs-echo"]
    assert seen["init-instant"]["final"] == "setup:terminated Completed 0 main:terminated Completed 0", seen["init-instant"]
    assert seen["loop-deadline"]["condition"] == "Failed/DeadlineExceeded", seen["loop-deadline"]
    assert seen["index-modulo"] == {"condition": "Failed/FailedIndexes", "failedIndexes": "0,2"}, seen["index-modulo"]
    # issue 25: each container has its own life (kubelet_pods.go getPhase: Running while one runs)
    apart = seen["two-end-apart"]
    assert "main:terminated Error 3 other:running" in apart["states"] and apart["partly_ready"], apart
    assert apart["final"] == "main:terminated Error 3 other:terminated Completed 0" and apart["phase"] == "Failed", apart
    alone = seen["main-restarts-alone"]
    assert alone["restarted"] and alone["partly_ready"] and alone.get("gone_before_the_grace_period"), alone
    # main out (back-off; a real kubelet shows it terminated until its next sync) while long runs on;
    # statuses in name order, as a kubelet writes them (kubelet_pods.go convertToAPIContainerStatuses)
    assert any(s in ("long:running main:waiting CrashLoopBackOff", "long:running main:terminated Error 1")
               for s in alone["states"]), alone
    rule = seen["restart-rule"]  # restartPolicyRules: exit 42 restarts it though the pod says Never
    assert rule["restarted"] and rule.get("gone_before_the_grace_period"), rule
    assert seen["restart-all"]["ran"], seen["restart-all"]  # scheduled: the nodes declare the feature
    # issue 25: init containers in their turn (kubectl: Init:0/1, Init:Error, Init:CrashLoopBackOff)
    slow = seen["init-slow"]
    # main started only once setup (3 s) had ended -- from their own times, which no poll can miss
    assert slow["in_turn"], slow
    assert slow["final"] == "setup:terminated Completed 0 main:terminated Completed 0" and slow["phase"] == "Succeeded", slow
    assert seen["init-error"]["final"] == "setup:terminated Error 1 main:waiting PodInitializing", seen["init-error"]
    assert seen["init-error"]["phase"] == "Failed", seen["init-error"]
    crash = seen["init-crashloop"]
    assert crash["restarted"] and crash.get("gone_before_the_grace_period"), crash
    assert all("main:running" not in s for s in crash["states"]), crash  # main never starts
    deleted = seen["init-deleted"]  # killed at the end of its 2 s grace period; main never started
    assert deleted["final"] == "setup:terminated Error 137 main:waiting PodInitializing", deleted
    assert deleted["phase"] == "Failed" and deleted.get("gone_before_the_grace_period"), deleted
    # every container start (two init containers, then main) writes Pulled, Created, Started
    two = seen["init-two-events"]
    assert two["events"] == {"Created": 3, "Pulled": 3, "Started": 3}, two
    assert two["final"] == ("first:terminated Completed 0 second:terminated Completed 0 main:terminated Completed 0"), two
