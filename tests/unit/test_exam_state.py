"""The exam's state machine on recorded states, with a clock and a check of the test's own (no cluster):
one exam at a time, time running out mid-check, a cluster restarted mid-exam, a deleted task namespace,
time spent from the switches, the time-out at the next command, and the report."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import yaml

from kjlab.checks import Verdict
from kjlab.errors import KjlabError
from kjlab.exam import report, scoring, session, state as exam_state
from kjlab.practice import registry
from kjlab.practice.model import Task

CONTEXT = "kwok-kjlab"
T0 = 1_000_000.0


class Clock:
    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def exam_env(tmp_path, monkeypatch):
    """A state dir, a lab kubeconfig (for the practice shell's copy), and namespaces recorded in a set."""
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("KJLAB_RESULTS_DIR", raising=False)
    kubeconfig = tmp_path / "lab-kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
        "clusters": [{"name": CONTEXT, "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": CONTEXT, "user": {"token": "t"}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}]}))
    monkeypatch.setenv("KJLAB_KUBECONFIG", str(kubeconfig))
    cluster = {"namespaces": set(), "prepared": [], "late": {}}

    def prepare(context, task_id):
        ns = registry.get(task_id).namespace()
        cluster["namespaces"].add(ns)
        cluster["prepared"].append(task_id)
        return ns

    monkeypatch.setattr(session, "_prepare", prepare)
    # a task's cleanup (a node's cordon, a PriorityClass) is a request to a cluster: recorded instead
    cluster["cleaned"] = []
    monkeypatch.setattr(session, "_cleanup", lambda context, task: cluster["cleaned"].append(task.id))
    # the learner's writes after the deadline, per namespace (kjlab.exam.after_deadline reads them on a cluster)
    monkeypatch.setattr(session, "_changed_after", lambda context, name, deadline: cluster["late"].get(name, []))
    monkeypatch.setattr(session.practice, "_namespace_state",
                        lambda context, name: "present" if name in cluster["namespaces"] else "gone")
    return cluster


def _start(clock, **kw):
    kw = {"minutes": 10, "count": 2, "topics": ("jobs",), "seed": 4, **kw}
    return session.start(CONTEXT, "kwok", now=clock, **kw)


def _check_passing(task_ids, clock=None, advance=0.0, seen=None):
    """A check that passes the tasks in ``task_ids`` and fails the others, taking ``advance`` seconds."""
    def check(context, task, label, rebuild):
        if seen is not None:
            seen.append((task.id, label, rebuild))
        if clock:
            clock.t += advance
        ok = task.id in task_ids
        return Verdict(f"{label}:{task.id}", ok, "ok" if ok else "wrong", [] if ok else [f"{task.id} is wrong"])
    return check


def test_two_exams_at_once_are_refused_in_one_line(exam_env):
    clock = Clock()
    state = _start(clock)
    clock.t += 125
    with pytest.raises(KjlabError) as e:
        _start(clock)
    assert "an exam is already running" in str(e.value) and state["id"] in str(e.value)
    assert "07:55 left" in str(e.value)  # 10 minutes from the start, 125 s later
    assert "\n" not in e.value.args[0]
    assert session.running()["id"] == state["id"]  # the refused start left the running exam alone


def test_a_start_that_fails_leaves_no_exam(exam_env, monkeypatch):
    def broken(context, task_id):
        raise KjlabError("the cluster is not reachable", "kjlab up")
    monkeypatch.setattr(session, "_prepare", broken)
    with pytest.raises(KjlabError):
        _start(Clock())
    assert session.running() is None


def test_start_prepares_the_first_task_only_and_points_the_shell_at_it(exam_env):
    state = _start(Clock())
    first, second = (t["task"] for t in state["tasks"])
    assert exam_env["prepared"] == [first] and state["current"] == first
    kubeconfig = yaml.safe_load((session.practice.practice_dir() / "kubeconfig").read_text())
    assert kubeconfig["contexts"][0]["context"]["namespace"] == registry.get(first).namespace()
    session.switch(CONTEXT, "2", now=Clock(T0 + 30))
    kubeconfig = yaml.safe_load((session.practice.practice_dir() / "kubeconfig").read_text())
    assert kubeconfig["contexts"][0]["context"]["namespace"] == registry.get(second).namespace()
    assert exam_env["prepared"] == [first, second]


def test_time_on_tasks_counts_from_each_switch_and_stops_at_the_deadline():
    state = {"deadline": 1600, "switches": [{"task": "a", "t": 1000}, {"task": "b", "t": 1100},
                                            {"task": "a", "t": 1400}, {"task": "b", "t": 1500}]}
    assert exam_state.time_on_tasks(state, ended=1550) == {"a": 200, "b": 350}
    assert exam_state.time_on_tasks(state, ended=9999) == {"a": 200, "b": 400}  # capped at the deadline


def test_time_running_out_mid_check_counts_the_check_and_refuses_later_moves(exam_env):
    clock = Clock()
    state = _start(clock)
    first, second = (t["task"] for t in state["tasks"])
    session.switch(CONTEXT, "2", now=clock)
    clock.t = state["deadline"] - 5  # finish asked 5 s before the end; each check takes 20 s
    graded = session.finish(CONTEXT, now=clock, check=_check_passing({first, second}, clock, advance=20))
    assert graded["graded"]["late_by"] == 0
    assert all(v["t"] > state["deadline"] for v in graded["graded"]["verdicts"].values())  # ended after the deadline
    _, summary = exam_state.results(graded)
    assert (summary["points"], summary["of"]) == (sum(t["weight"] for t in state["tasks"]),) * 2  # and counted
    with pytest.raises(KjlabError) as e:
        exam_state.switch(graded, first, clock.t)
    assert "is refused" in str(e.value)
    with pytest.raises(KjlabError) as e:  # the exam has left current.json: no switch without a new start
        session.switch(CONTEXT, "1", now=clock)
    assert "no exam running" in str(e.value) and "report.html" in str(e.value)


def test_once_time_is_up_the_next_command_grades_and_a_switch_is_refused_as_over_time(exam_env):
    clock = Clock()
    state = _start(clock)
    clock.t = state["deadline"] + 90
    with pytest.raises(KjlabError) as e:
        session.switch(CONTEXT, "2", now=clock)
    assert "refused as over time" in str(e.value) and "01:30 ago" in str(e.value)
    first = state["tasks"][0]["task"]
    graded = session.expire_if_due(None, now=clock, check=_check_passing({first}))
    assert graded["graded"]["late_by"] == 90
    rep = report.build(graded)
    assert [(r["task"], r["points"]) for r in rep["rows"]] == [(first, state["tasks"][0]["weight"]),
                                                               (state["tasks"][1]["task"], 0)]
    assert rep["rows"][1]["why"] == "never opened"  # never switched to: not checked, no points
    assert "graded 01:30 after time was up" in report.render_text(rep)
    assert session.expire_if_due(None, now=clock) is None  # graded once


def test_a_restarted_cluster_resumes_with_the_wall_clock_time_and_rebuilds_the_namespace(exam_env):
    clock = Clock()
    state = _start(clock)
    first = state["tasks"][0]["task"]
    exam_env["namespaces"].clear()  # the cluster came back empty
    clock.t += 7 * 60  # seven minutes later, as the machine's clock says
    assert exam_state.remaining(session.running(), clock.t) == 3 * 60
    session.switch(CONTEXT, "2", now=clock)
    resumed, note = session.switch(CONTEXT, "1", now=clock)
    assert "was gone" in note and registry.get(first).namespace() in note and "rebuilt" in note
    assert exam_env["prepared"].count(first) == 2
    _, note = session.switch(CONTEXT, "1", now=clock)
    assert note == ""  # present now: nothing rebuilt, the learner's work kept


def test_a_deleted_task_namespace_is_checked_with_the_exam_command_that_rebuilds_it(exam_env):
    clock = Clock()
    state = _start(clock)
    session.switch(CONTEXT, "2", now=clock)
    seen = []
    session.finish(CONTEXT, now=clock, check=_check_passing(set(), seen=seen))
    assert seen == [(state["tasks"][0]["task"], "exam", "kjlab exam task 1"),
                    (state["tasks"][1]["task"], "exam", "kjlab exam task 2")]


def test_results_go_to_the_classroom_file_as_exam_rows(exam_env):
    clock = Clock()
    state = _start(clock)
    first = state["tasks"][0]["task"]
    graded = session.finish(CONTEXT, now=clock, check=_check_passing({first}))
    # the fake check does not record; the exam's own summary row does
    rows = [json.loads(line) for line in (Path(session.state_dir()) / "results.jsonl").read_text().splitlines()]
    assert [r["exercise"] for r in rows] == ["exam"]
    _, summary = exam_state.results(graded)
    assert rows[0]["summary"].startswith(f"{summary['points']}/{summary['of']} points")
    from kjlab.classroom import report as class_report
    rep = class_report.summarise({"learners": {"me": "me"}, "rows": {"me": rows + [
        {"exercise": f"exam:{first}", "passed": True, "summary": "ok", "reason": "", "time": ""}]}, "unreadable": []})
    assert "exam" in rep["exercises"] and f"exam:{first}" in rep["exercises"]
    assert "exam" in class_report.render_text(rep)


def test_an_unknown_task_number_says_which_exist(exam_env):
    _start(Clock())
    with pytest.raises(KjlabError) as e:
        session.switch(CONTEXT, "3", now=Clock(T0 + 1))
    assert "its tasks are 1..2" in str(e.value)


def test_left_out_tasks_are_named_in_the_report():
    probe = Task(id="probe", topic="jobs", title="A probe", statement="{ns}", minutes=5, check=lambda v: None,
                 hint="", imperative="", declarative="", engines=("kind",),
                 kind_only_reason="a liveness probe needs a real container")
    drawn = scoring.draw([*registry.all_tasks(), probe], "kwok", 2, seed=1, topics=("jobs",))
    state = exam_state.new(drawn, 10, 1, CONTEXT, "kwok", ("jobs",), T0)
    state = exam_state.graded(state, {}, T0 + 60, T0 + 61)
    rep = report.build(state)
    assert "probe (a liveness probe needs a real container)" in rep["left_out_note"]
    assert "left out" in report.render_text(rep)
    on_kwok = registry.for_engine("kwok")[0]
    nothing = exam_state.graded(exam_state.new(scoring.draw(on_kwok, "kwok", 1, 1), 10, 1, CONTEXT,
                                               "kwok", (), T0), {}, T0, T0)
    assert "none was left out" in report.build(nothing)["left_out_note"]


def test_html_report_is_self_contained_with_a_chart_per_topic(exam_env):
    clock = Clock()
    state = _start(clock, topics=(), count=3)
    for k in ("2", "3"):
        session.switch(CONTEXT, k, now=clock)
    graded = session.finish(CONTEXT, now=clock, check=_check_passing({state["tasks"][0]["task"]}))
    assert sorted(exam_env["cleaned"]) == sorted(t["task"] for t in state["tasks"])  # every opened task undone
    page = (session.exam_dir() / graded["id"] / "report.html").read_text()
    assert page.count("<rect") == 2 * len({t["topic"] for t in state["tasks"]})  # a track and a bar per topic
    assert not re.search(r"<script|<link|src=|url\(", page)
    wrong = registry.get(state["tasks"][1]["task"])
    assert f"{wrong.id} is wrong" in page and html.escape(wrong.imperative.strip().splitlines()[0]) in page


def test_every_named_lab_cell_exists():
    root = Path(__file__).resolve().parents[2]
    named = [t for t in registry.all_tasks() if t.lab_cell]
    assert named
    for t in named:
        notebook, cell = re.match(r"(\S+\.ipynb), cell (\S+):", t.lab_cell).groups()
        ids = [c.get("id") for c in json.loads((root / notebook).read_text())["cells"]]
        assert cell in ids, t.lab_cell


def test_practice_commands_wait_for_the_exam_and_the_shell_follows_it(exam_env, capsys):
    from kjlab.practice import cli as practice_cli

    state = _start(Clock())
    assert practice_cli.main(["check"]) == 1
    assert "an exam is running" in capsys.readouterr().err
    assert practice_cli.main(["env", "--shell", "sh", "--context", CONTEXT]) == 0
    kubeconfig = yaml.safe_load((session.practice.practice_dir() / "kubeconfig").read_text())
    assert kubeconfig["contexts"][0]["context"]["namespace"] == registry.get(state["current"]).namespace()
