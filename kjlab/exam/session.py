"""The running exam on disk and on the cluster: start (draw, prepare the first task), switch tasks
(the practice kubeconfig follows), finish (grade every task at once, once), and the time-out that finishes
it at the next exam command, where a task written to after the deadline scores 0 (after_deadline).

One exam at a time: ``<state dir>/exam/current.json`` is created exclusively, so a second
`kjlab exam start` -- even one racing the first -- is refused. A graded exam moves to
``<state dir>/exam/<id>/`` with its report. Task namespaces are the practice ones
(``kjlab.practice.session.prepare``): rebuilt on demand when they are gone (deleted by the learner,
or a cluster that restarted), as `kjlab practice reset` does.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Callable

from kjlab.checks import Verdict
from kjlab.checks import verdicts as results
from kjlab.errors import KjlabError
from kjlab.exam import after_deadline, report, scoring, state as exam_state
from kjlab.paths import state_dir
from kjlab.practice import env, registry, session as practice


def exam_dir() -> Path:
    return state_dir() / "exam"


def _current_file() -> Path:
    return exam_dir() / "current.json"


def running() -> dict | None:
    """The exam not yet graded (its time may be up), or None."""
    try:
        return json.loads(_current_file().read_text())
    except (OSError, ValueError):
        return None


def last_report() -> Path | None:
    try:
        return Path((exam_dir() / "last").read_text().strip())
    except OSError:
        return None


def save(state: dict) -> None:
    path = _current_file()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(path)


STALE_CLAIM_SECONDS = 600  # far longer than preparing one task's namespace takes


def _claim(now: float) -> None:
    """Create current.json exclusively: the one-exam-at-a-time rule holds between two racing starts."""
    exam_dir().mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(_current_file(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        other = running() or {}
        if "deadline" in other:
            left = exam_state.remaining(other, now)
            when = time.strftime("%H:%M UTC", time.gmtime(other["started"]))
            status = f"{exam_state.mmss(left)} left" if left else "its time is up, not graded yet"
            raise KjlabError(f"an exam is already running ({other['id']}, started {when}, {status}): "
                             "one exam at a time",
                             "kjlab exam status, or kjlab exam finish first") from None
        if now - float(other.get("claimed", now)) < STALE_CLAIM_SECONDS:
            raise KjlabError("another `kjlab exam start` is preparing an exam: one exam at a time",
                             "kjlab exam status in a moment") from None
        _current_file().unlink(missing_ok=True)  # a start that was killed while preparing: its claim is stale
        return _claim(now)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"claimed": now}))


def start(context: str, engine: str, minutes: int = 60, count: int = 12, topics: tuple[str, ...] = (),
          seed: int | None = None, now: Callable[[], float] = time.time) -> dict:
    """Draw the tasks and prepare the first one; the clock starts when it is ready."""
    if minutes < 1 or count < 1:
        raise KjlabError("an exam needs at least 1 minute and 1 task", "kjlab exam start --minutes 60 --tasks 12")
    _claim(now())
    try:
        _undo_practice(context)
        seed = int(now()) % 100_000 if seed is None else seed
        drawn = scoring.draw(registry.all_tasks(), engine, count, seed, topics)
        state = exam_state.new(drawn, minutes, seed, context, engine, topics, now())
        first = state["tasks"][0]["task"]
        _prepare(context, first)
        ready = now()  # the learner's time starts with a task in front of them
        state = {**state, "started": ready, "deadline": ready + minutes * 60}
        state = exam_state.switch(exam_state.prepared(state, first), first, ready)
        save(state)
        _point_shell(context, first)
        return state
    except BaseException:
        _current_file().unlink(missing_ok=True)
        raise


def _undo_practice(context: str) -> None:
    """A practice task's cordon or taint must not change the exam's tasks (as `kjlab practice start` does)."""
    previous = practice.current() or {}
    try:
        task = registry.get(previous["task"]) if previous.get("task") else None
    except KjlabError:
        task = None
    if task:
        _cleanup(context, task)


def _cleanup(context: str, task) -> None:
    """Undo what ``task`` changed outside its namespace (a node's cordon, taint or labels, a PriorityClass)."""
    if task.cleanup:
        task.cleanup(context)


def _prepare(context: str, task_id: str) -> str:
    return practice.prepare(context, registry.get(task_id))


def _point_shell(context: str, task_id: str) -> None:
    """The practice kubeconfig (`kjlab practice env`) gets the task's namespace: a shell set up once follows."""
    env.write_kubeconfig(practice.practice_dir(), context, registry.get(task_id).namespace())


def switch(context: str, k: str, now: Callable[[], float] = time.time) -> tuple[dict, str]:
    """Make task ``k`` current, preparing its namespace the first time and rebuilding it if it is gone.
    Returns the state and a note ('' or what was rebuilt)."""
    state = _require_running()
    task = exam_state.task_id(state, k)
    exam_state.refuse_if_over(state, now(), f"switching to task {k}")
    note = ""
    namespace = registry.get(task).namespace()
    if task not in state["prepared"]:
        _prepare(context, task)
        state = exam_state.prepared(state, task)
    elif practice._namespace_state(context, namespace) != "present":
        _prepare(context, task)
        note = (f"namespace {namespace} was gone (deleted, or the cluster restarted): rebuilt with the task's "
                "prepared objects; your work in it is lost")
    state = exam_state.switch(state, task, now())
    save(state)
    _point_shell(context, task)
    return state, note


def _require_running() -> dict:
    state = running()
    if not state or "deadline" not in state:
        report = last_report()
        raise KjlabError("no exam running" + (f" (the last one's report: {report})" if report else ""),
                         "kjlab exam start")
    return state


@contextlib.contextmanager
def _grading():
    """One grading at a time: a time-out noticed by two commands at once (or by the timer and a command)
    grades the exam once; the second waits for the first and gets its result."""
    exam_dir().mkdir(parents=True, exist_ok=True)
    with open(exam_dir() / "grading.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _graded_meanwhile(exam_id: str | None) -> dict | None:
    """The exam ``exam_id`` as graded by another command while this one waited, or None."""
    last = last_report()
    if exam_id is None or last is None:
        return None
    try:
        done = load(last.with_name("exam.json"))
    except (OSError, ValueError):
        return None
    return done if done.get("id") == exam_id else None


def _changed_after(context: str, namespace: str, deadline: float) -> list[str]:
    return after_deadline.changes(context, namespace, deadline)


def finish(context: str, now: Callable[[], float] = time.time,
           check: Callable = practice.check) -> dict:
    """Grade every task at once (one check each; a task never opened is not checked), record the
    verdicts for the class report, write the report, and end the exam. Graded once: a second call
    (another command, at the same time or later) returns the first grading.

    Once the deadline has passed, a task whose namespace the learner wrote to after it scores 0
    without a check (kjlab.exam.after_deadline): its objects are looked at before the checks (a late
    grading) and again after them (writes while the checks ran)."""
    seen = running()
    with _grading():
        state = running()
        if not state or "deadline" not in state:
            done = _graded_meanwhile((seen or {}).get("id"))
            if done:
                return done
            state = _require_running()
        grading_started = now()
        deadline = state["deadline"]
        prepared = [t["task"] for t in state["tasks"] if t["task"] in state["prepared"]]

        def late_writes() -> dict[str, list[str]]:
            found = {}
            for task_id in prepared:
                writes = _changed_after(context, registry.get(task_id).namespace(), deadline)
                if writes:
                    found[task_id] = writes
            return found

        voided = late_writes() if grading_started > deadline else {}
        verdicts: dict[str, dict] = {}
        for t in state["tasks"]:
            task = registry.get(t["task"])
            if t["task"] not in prepared or t["task"] in voided:
                continue
            number = state["tasks"].index(t) + 1
            verdict = check(context, task, label="exam", rebuild=f"kjlab exam task {number}")
            verdicts[t["task"]] = {"passed": bool(verdict.passed), "headline": verdict.headline,
                                   "reasons": list(verdict.reasons), "t": now()}
        if now() > deadline:
            for task_id, writes in late_writes().items():
                voided.setdefault(task_id, writes)
        for task_id, writes in voided.items():
            verdicts[task_id] = {"passed": False, "headline": "changed after time was up: not counted",
                                 "reasons": [*writes, "an answer changed after the deadline does not count"],
                                 "t": now(), "after_deadline": True}
        for t in state["tasks"]:
            if t["task"] in state["prepared"]:
                _cleanup(context, registry.get(t["task"]))  # a cordon or taint of a task must not outlive the exam
        state = exam_state.graded(state, verdicts, grading_started, now())
        _, summary = exam_state.results(state)
        results.record(Verdict("exam", summary["passed"],
                               f"{summary['points']}/{summary['of']} points ({summary['share']:.0%}) in {state['id']}",
                               [f"{topic}: {p['points']}/{p['of']}" for topic, p in summary["topics"].items()]))
        _archive(state)
        return state


def _archive(state: dict) -> Path:
    directory = exam_dir() / state["id"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "exam.json").write_text(json.dumps(state, indent=1))
    page = directory / "report.html"
    page.write_text(report.render_html(report.build(state)), encoding="utf-8")
    (exam_dir() / "last").write_text(str(page))
    _current_file().unlink(missing_ok=True)
    return page


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def expire_if_due(context: str | None, now: Callable[[], float] = time.time,
                  check: Callable = practice.check) -> dict | None:
    """At any exam command: an exam whose time is up is graded now. Returns the graded state, or None."""
    state = running()
    if state and "deadline" in state and exam_state.over(state, now()):
        if context is None:
            context = state["context"]
        return finish(context, now=now, check=check)
    return None
