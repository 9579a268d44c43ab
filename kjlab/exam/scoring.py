"""Exam scoring as pure functions over recorded states (no cluster, no clock).

- ``draw``: which tasks an exam asks, given the bank, the engine, the topics, a count and a seed --
  spread over topics (round robin, each topic's tasks shuffled by the seed), tasks the engine cannot
  run left out with their reason;
- ``grade``: one recorded verdict per drawn task (the last one recorded before the end) -> points;
  a task never checked scores 0 and says so;
- ``summary``: the total, the share, pass or not, per topic, and the tasks over their time budget.

A verdict record is a mapping as ``kjlab.checks.verdicts`` writes it (``exercise``, ``passed``,
``summary``, ``reason``, ``time``), with ``practice:<task>`` (a learner's check) or ``exam:<task>``
(the exam's grading) as its exercise.
"""

from __future__ import annotations

import calendar
import random
import time
from dataclasses import dataclass, field

PASS_SHARE = 0.66  # the CKAD's published pass mark is 66 %


@dataclass(frozen=True)
class Drawn:
    task_id: str
    topic: str
    weight: int          # points: the task's time budget in minutes (a longer task is worth more)
    minutes: int


@dataclass
class Draw:
    tasks: list[Drawn]
    left_out: dict[str, str] = field(default_factory=dict)  # task id -> why the engine cannot run it


def draw(bank, engine: str, count: int, seed: int, topics: tuple[str, ...] = ()) -> Draw:
    """``count`` tasks from ``bank`` (kjlab.practice Task objects) that run on ``engine``."""
    left_out = {t.id: t.kind_only_reason for t in bank if not t.runs_on(engine)}
    pool = [t for t in bank if t.runs_on(engine) and (not topics or t.topic in topics)]
    rng = random.Random(seed)
    by_topic: dict[str, list] = {}
    for t in pool:
        by_topic.setdefault(t.topic, []).append(t)
    for tasks in by_topic.values():
        rng.shuffle(tasks)
    order = sorted(by_topic)
    rng.shuffle(order)
    chosen = []
    while len(chosen) < count and any(by_topic.values()):
        for topic in order:
            if by_topic[topic] and len(chosen) < count:
                chosen.append(by_topic[topic].pop(0))
    return Draw([Drawn(t.id, t.topic, t.minutes, t.minutes) for t in chosen], left_out)


@dataclass(frozen=True)
class Graded:
    task_id: str
    topic: str
    points: int
    of: int
    why: str             # the verdict's first line, or "never checked"
    seconds: float | None  # time spent: from the exam's start, or the last task's check, to this task's last check


def recorded_at(record: dict) -> float:
    """A record's time in epoch seconds: ``t`` if present, else its ``time`` as verdicts.record writes it (UTC)."""
    if "t" in record:
        return float(record["t"])
    return calendar.timegm(time.strptime(record["time"], "%Y-%m-%dT%H:%M:%SZ"))


def grade(drawn: list[Drawn], records: list[dict], started: float, ended: float, prefix: str = "practice:",
          spent: dict[str, float] | None = None) -> list[Graded]:
    """Each drawn task's points from its last verdict recorded within [started, ended] (epoch seconds),
    among the records whose exercise is ``prefix``<task>. Time spent is ``spent`` when given (the exam
    measures it from the learner's switches), else the span between consecutive checks in their order."""
    asked = {d.task_id for d in drawn}
    last: dict[str, dict] = {}
    for r in sorted(({**r, "t": recorded_at(r)} for r in records), key=lambda r: r["t"]):
        exercise = r.get("exercise", "")
        task = exercise.removeprefix(prefix)
        if exercise.startswith(prefix) and task in asked and started <= r["t"] <= ended:
            last[task] = r
    # time spent: from the previous distinct task's last check (or the start) to this one's
    spans, previous = {}, started
    for task, r in sorted(last.items(), key=lambda kv: kv[1]["t"]):
        spans[task] = r["t"] - previous
        previous = r["t"]
    if spent is not None:
        spans = spent
    out = []
    for d in drawn:
        r = last.get(d.task_id)
        if r is None:
            out.append(Graded(d.task_id, d.topic, 0, d.weight, "never checked", None))
        else:
            out.append(Graded(d.task_id, d.topic, d.weight if r.get("passed") else 0, d.weight,
                              r.get("reason") or r.get("summary") or "", spans.get(d.task_id)))
    return out


def summary(graded: list[Graded], drawn: list[Drawn]) -> dict:
    total, of = sum(g.points for g in graded), sum(g.of for g in graded)
    share = total / of if of else 0.0
    topics: dict[str, list[int]] = {}
    for g in graded:
        points = topics.setdefault(g.topic, [0, 0])
        points[0] += g.points
        points[1] += g.of
    budget = {d.task_id: d.minutes * 60 for d in drawn}
    over = sorted(g.task_id for g in graded if g.seconds is not None and g.seconds > budget[g.task_id])
    return {"points": total, "of": of, "share": round(share, 3), "passed": share >= PASS_SHARE,
            "topics": {t: {"points": p, "of": o} for t, (p, o) in sorted(topics.items())},
            "over_budget": over, "never_checked": [g.task_id for g in graded if g.why == "never checked"]}
