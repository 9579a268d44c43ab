"""The exam as a recorded state and the moves on it: pure functions over a dict and a clock reading
(``now``, epoch seconds), so every rule is tested on recorded states without a cluster.

The state is what ``kjlab.exam.session`` keeps in ``<state dir>/exam/current.json``: the drawn tasks,
the wall-clock start and deadline (so a restarted cluster or machine resumes with the time that is
really left), each switch between tasks (time spent per task is measured from them), which task
namespaces were prepared, and -- once graded -- each task's verdict.
"""

from __future__ import annotations

import time

from kjlab.errors import KjlabError
from kjlab.exam import scoring


def new(drawn: scoring.Draw, minutes: int, seed: int, context: str, engine: str, topics: tuple[str, ...],
        now: float) -> dict:
    if not drawn.tasks:
        raise KjlabError("no task to draw" + (f" for topics {', '.join(topics)}" if topics else "")
                         + f" on the {engine} engine", "kjlab practice list (the topics and engines)")
    tasks = [{"task": d.task_id, "topic": d.topic, "weight": d.weight, "minutes": d.minutes} for d in drawn.tasks]
    return {"id": time.strftime("exam-%Y%m%d-%H%M%S", time.gmtime(now)), "seed": seed, "minutes": minutes,
            "topics": list(topics), "context": context, "engine": engine, "started": now,
            "deadline": now + minutes * 60, "tasks": tasks, "left_out": dict(drawn.left_out),
            "switches": [], "prepared": [], "current": None, "graded": None}


def remaining(state: dict, now: float) -> float:
    return max(0.0, state["deadline"] - now)


def over(state: dict, now: float) -> bool:
    return now >= state["deadline"]


def mmss(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60:02d}:{s % 60:02d}"


def task_id(state: dict, k: str | int) -> str:
    """Task ``k`` (1-based, or the task's id) -> its id; a clear error for anything else."""
    ids = [t["task"] for t in state["tasks"]]
    if str(k) in ids:
        return str(k)
    try:
        i = int(k)
    except ValueError:
        i = 0
    if not 1 <= i <= len(ids):
        raise KjlabError(f"this exam has no task {k}: its tasks are 1..{len(ids)}", "kjlab exam status")
    return ids[i - 1]


def refuse_if_over(state: dict, now: float, what: str) -> None:
    """A move asked for once time is up is refused (a check already under way when it ran out counts)."""
    if state.get("graded"):
        raise KjlabError(f"the exam {state['id']} is over and graded: {what} is refused",
                         "kjlab exam finish (shows its report), or kjlab exam start for a new one")
    if over(state, now):
        raise KjlabError(f"time is up ({mmss(now - state['deadline'])} ago): {what} is refused as over time",
                         "kjlab exam finish grades the exam")


def switch(state: dict, task: str, now: float) -> dict:
    """Make ``task`` the current one from ``now``: its time is counted from here until the next switch."""
    refuse_if_over(state, now, f"switching to task {task}")
    switches = list(state["switches"])
    if state.get("current") != task:
        switches.append({"task": task, "t": now})
    return {**state, "current": task, "switches": switches}


def prepared(state: dict, task: str) -> dict:
    return {**state, "prepared": sorted({*state["prepared"], task})}


def time_on_tasks(state: dict, ended: float) -> dict[str, float]:
    """Seconds on each task: from each switch to it until the next switch (or ``ended``, capped at the deadline)."""
    end = min(ended, state["deadline"])
    spent: dict[str, float] = {}
    switches = state["switches"]
    for i, s in enumerate(switches):
        until = switches[i + 1]["t"] if i + 1 < len(switches) else end
        spent[s["task"]] = spent.get(s["task"], 0.0) + max(0.0, min(until, end) - s["t"])
    return spent


def graded(state: dict, verdicts: dict[str, dict], grading_started: float, now: float) -> dict:
    """Record the grading: ``verdicts`` maps task id -> {passed, headline, reasons, t} (a task never
    opened has none). Grading that began before the deadline counts in full even when its checks run
    past it; grading begun later says how late, since the cluster is not frozen at the deadline."""
    return {**state, "graded": {"verdicts": verdicts, "started": grading_started, "ended": now,
                                "late_by": max(0.0, grading_started - state["deadline"])}}


def drawn(state: dict) -> list[scoring.Drawn]:
    return [scoring.Drawn(t["task"], t["topic"], t["weight"], t["minutes"]) for t in state["tasks"]]


def results(state: dict) -> tuple[list[scoring.Graded], dict]:
    """Points per task and the summary, from the recorded verdicts (scoring.grade/summary), with the
    time spent measured from the switches."""
    g = state["graded"]
    records = [{"exercise": f"exam:{task}", "passed": v["passed"], "reason": (v.get("reasons") or [""])[0]
                or v.get("headline", ""), "t": v["t"]} for task, v in g["verdicts"].items()]
    spent = time_on_tasks(state, g["started"])
    graded_tasks = scoring.grade(drawn(state), records, state["started"], g["ended"], prefix="exam:", spent=spent)
    graded_tasks = [gt if gt.task_id in state["prepared"] or gt.why != "never checked"
                    else scoring.Graded(gt.task_id, gt.topic, 0, gt.of, "never opened", gt.seconds)
                    for gt in graded_tasks]
    return graded_tasks, scoring.summary(graded_tasks, drawn(state))
