"""The exam's time-out on recorded states: once the deadline has passed, the next exam command grades
every task, once (two commands at once grade it once), and a task the learner wrote to after the
deadline scores 0 -- read from its objects' managedFields (objects recorded from a kwok cluster)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from kjlab.checks import Verdict
from kjlab.exam import after_deadline, report, session, state as exam_state
from kjlab.practice import registry

from test_exam_state import CONTEXT, Clock, _check_passing, _start, exam_env  # noqa: F401 (exam_env: a fixture)


def stamp(t: float) -> str:
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(manager: str, t: float, subresource: str | None = None) -> dict:
    e = {"manager": manager, "operation": "Update", "apiVersion": "batch/v1", "time": stamp(t)}
    return {**e, "subresource": subresource} if subresource else e


# As `kubectl get --show-managed-fields -o json` showed them on kwok (times moved to the test's deadline).
DEADLINE = 1_700_000_000.0


def recorded(deadline: float = DEADLINE) -> list[tuple[str, dict]]:
    return [
        ("job", {"metadata": {"name": "batch", "managedFields": [
            entry("kubectl-create", deadline - 300), entry("kube-controller-manager", deadline + 40, "status")]}}),
        ("pod", {"metadata": {"name": "batch-2lntq", "managedFields": [  # the Job controller's pod, made late
            entry("kube-controller-manager", deadline + 30), entry("kwok-controller", deadline + 32, "status")]}}),
        ("poddisruptionbudget", {"metadata": {"name": "web", "managedFields": [
            entry("OpenAPI-Generator", deadline + 50)]}}),  # kjlab's own check
        ("deployment", {"metadata": {"name": "web", "managedFields": [
            entry("kubectl-client-side-apply", deadline - 60), entry("kubectl-edit", deadline + 0.9)]}}),
    ]


def test_controllers_and_kjlab_writing_after_the_deadline_are_not_the_learner():
    assert after_deadline.learner_changes(recorded(), DEADLINE) == []


def test_a_kubectl_write_after_the_deadline_is_named_with_its_manager_and_how_late():
    objects = recorded() + [
        ("job", {"metadata": {"name": "late", "managedFields": [entry("kubectl-create", DEADLINE + 75)]}}),
        ("deployment", {"metadata": {"name": "api", "managedFields": [
            entry("kubectl-client-side-apply", DEADLINE - 600), entry("kubectl-scale", DEADLINE + 5, "scale"),
            entry("kubectl-patch", DEADLINE + 20)]}}),
    ]
    assert after_deadline.learner_changes(objects, DEADLINE) == [
        "job/late was written by kubectl-create 01:15 after time was up",
        "deployment/api was written by kubectl-patch 00:20 after time was up",  # the latest write is named
    ]


def test_a_write_in_the_deadlines_own_second_is_in_time():
    # the stamps have whole seconds: 0.9 s after a deadline at .0 reads as the deadline's second
    assert after_deadline.learner_changes(recorded(DEADLINE), DEADLINE) == []
    late = [("job", {"metadata": {"name": "j", "managedFields": [entry("kubectl-edit", DEADLINE + 1)]}})]
    assert len(after_deadline.learner_changes(late, DEADLINE)) == 1


def test_a_late_grading_voids_the_tasks_written_after_the_deadline_and_checks_the_others(exam_env):
    clock = Clock()
    state = _start(clock)
    first, second = (t["task"] for t in state["tasks"])
    session.switch(CONTEXT, "2", now=clock)
    exam_env["late"][registry.get(second).namespace()] = ["job/x was written by kubectl-edit 00:30 after time was up"]
    clock.t = state["deadline"] + 120
    seen = []
    graded = session.expire_if_due(None, now=clock, check=_check_passing({first, second}, seen=seen))
    assert [task for task, _, _ in seen] == [first]  # the voided task is not checked
    verdict = graded["graded"]["verdicts"][second]
    assert not verdict["passed"] and verdict["after_deadline"]
    assert verdict["reasons"][0].startswith("job/x was written by kubectl-edit")
    rows = {r["task"]: r for r in report.build(graded)["rows"]}
    assert rows[first]["points"] == rows[first]["of"] and rows[second]["points"] == 0
    assert "kubectl-edit" in rows[second]["why"]
    text = report.render_text(report.build(graded))
    assert "graded 02:00 after time was up" in text and report.LATE_RULE in text


def test_a_write_while_the_checks_run_past_the_deadline_voids_the_task(exam_env):
    clock = Clock()
    state = _start(clock)
    first = state["tasks"][0]["task"]
    namespace = registry.get(first).namespace()

    def check(context, task, label, rebuild):
        clock.t = state["deadline"] + 10  # the check ran past the deadline, and the learner typed meanwhile
        exam_env["late"][namespace] = ["job/batch was written by kubectl-patch 00:05 after time was up"]
        return Verdict(f"{label}:{task.id}", True, "ok", [])

    clock.t = state["deadline"] - 5
    graded = session.finish(CONTEXT, now=clock, check=check)
    assert graded["graded"]["late_by"] == 0
    assert not graded["graded"]["verdicts"][first]["passed"]
    assert "kubectl-patch" in graded["graded"]["verdicts"][first]["reasons"][0]


def test_an_in_time_finish_reads_no_managed_fields(exam_env, monkeypatch):
    clock = Clock()
    state = _start(clock)
    monkeypatch.setattr(session, "_changed_after", lambda *a: pytest.fail("read the cluster for late writes"))
    graded = session.finish(CONTEXT, now=clock, check=_check_passing({state["tasks"][0]["task"]}))
    assert graded["graded"]["verdicts"][state["tasks"][0]["task"]]["passed"]


def test_two_commands_at_the_time_out_grade_the_exam_once(exam_env):
    clock = Clock()
    state = _start(clock)
    clock.t = state["deadline"] + 3
    checking, release, checks = threading.Event(), threading.Event(), []

    def slow_check(context, task, label, rebuild):
        checks.append(task.id)
        checking.set()
        assert release.wait(10)
        return Verdict(f"{label}:{task.id}", True, "ok", [])

    results = {}
    first = threading.Thread(target=lambda: results.setdefault("a", session.expire_if_due(None, now=clock,
                                                                                           check=slow_check)))
    first.start()
    assert checking.wait(10)  # the first command is grading
    second = threading.Thread(target=lambda: results.setdefault("b", session.expire_if_due(None, now=clock,
                                                                                            check=slow_check)))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # it waits for the first grading ...
    release.set()
    first.join(10)
    second.join(10)
    assert checks == [state["tasks"][0]["task"]]  # ... and does not grade again
    assert results["a"]["id"] == results["b"]["id"] == state["id"]
    assert results["a"]["graded"] == results["b"]["graded"]
    assert session.running() is None and session.expire_if_due(None, now=clock) is None
    assert exam_state.results(results["b"])[1]["points"] == state["tasks"][0]["weight"]
