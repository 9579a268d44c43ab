"""Exam scoring on recorded states: draws, grades and summaries from verdict records."""

from __future__ import annotations

from kjlab.exam import scoring
from kjlab.practice import registry
from kjlab.practice.model import Task


def _records():
    # as kjlab.checks.verdicts records them, plus the epoch second `t` an exam reads
    return [
        {"exercise": "practice:pdb", "passed": False, "reason": "the budget counts 0 pods", "t": 1060},
        {"exercise": "practice:pdb", "passed": True, "reason": "PodDisruptionBudget web-pdb ...", "t": 1150},
        {"exercise": "practice:job-deadline", "passed": False, "reason": "activeDeadlineSeconds is 60", "t": 1450},
        {"exercise": "practice:drain", "passed": True, "reason": "node kjlab-worker2 ...", "t": 4000},  # after the end
        {"exercise": "no-late-runs", "passed": True, "reason": "a lab exercise, not an exam task", "t": 1300},
    ]


def _drawn():
    return [scoring.Drawn("pdb", "disruptions", 3, 3), scoring.Drawn("job-deadline", "jobs", 3, 3),
            scoring.Drawn("drain", "disruptions", 3, 3)]


def test_last_verdict_within_the_exam_counts():
    graded = scoring.grade(_drawn(), _records(), started=1000, ended=3600)
    assert [(g.task_id, g.points, g.of) for g in graded] == [("pdb", 3, 3), ("job-deadline", 0, 3), ("drain", 0, 3)]
    assert graded[2].why == "never checked"  # its only check came after the end
    assert graded[1].why == "activeDeadlineSeconds is 60"
    assert (graded[0].seconds, graded[1].seconds) == (150, 300)  # the lab exercise's record does not count


def test_summary_per_topic_budget_and_pass_mark():
    drawn = _drawn()
    s = scoring.summary(scoring.grade(drawn, _records(), 1000, 3600), drawn)
    assert (s["points"], s["of"], s["passed"]) == (3, 9, False)
    assert s["topics"] == {"disruptions": {"points": 3, "of": 6}, "jobs": {"points": 0, "of": 3}}
    assert s["over_budget"] == ["job-deadline"] and s["never_checked"] == ["drain"]  # 300 s for a 3-minute task
    late = scoring.summary(scoring.grade(drawn, _records(), 900, 3600), drawn)
    assert late["over_budget"] == ["job-deadline", "pdb"]  # pdb: 250 s from an earlier start


def test_draw_spreads_over_topics_and_is_reproducible():
    bank = registry.all_tasks()
    a = scoring.draw(bank, "kwok", 4, seed=7)
    assert a == scoring.draw(bank, "kwok", 4, seed=7)
    assert len({d.topic for d in a.tasks}) == 4  # four topics, one task each before any repeats
    on_kwok = registry.for_engine("kwok")[0]
    assert len({d.task_id for d in scoring.draw(bank, "kwok", 100, seed=1).tasks}) == len(on_kwok)
    only = scoring.draw(bank, "kwok", 3, seed=1, topics=("jobs",))
    assert {d.topic for d in only.tasks} == {"jobs"}


def test_draw_leaves_out_what_the_engine_cannot_run_and_says_why():
    probe = Task(id="probe", topic="pods", title="A probe", statement="{ns}", minutes=5, check=lambda v: None,
                 hint="", imperative="", declarative="", engines=("kind",),
                 kind_only_reason="a liveness probe needs a real container")
    d = scoring.draw([*registry.all_tasks(), probe], "kwok", 100, seed=3)
    assert "probe" not in [t.task_id for t in d.tasks]
    assert d.left_out["probe"] == "a liveness probe needs a real container"
    assert set(d.left_out) == {"probe", *(t.id for t in registry.for_engine("kwok")[1])}
    assert "probe" in [t.task_id for t in scoring.draw([probe], "kind", 1, seed=3).tasks]



def test_records_as_the_results_file_writes_them(monkeypatch, tmp_path):
    import json
    import time

    from kjlab.checks import Verdict, verdicts

    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    monkeypatch.delenv("KJLAB_RESULTS_DIR", raising=False)
    started = time.time() - 1
    verdicts.record(Verdict("practice:pdb", True, "voluntary disruptions can take at most one web pod at a time",
                            ["PodDisruptionBudget web-pdb (maxUnavailable: 1 ...)"]))
    records = [json.loads(line) for line in verdicts.results_file().read_text().splitlines()]
    graded = scoring.grade([scoring.Drawn("pdb", "disruptions", 3, 3)], records, int(started), time.time() + 1)
    assert graded[0].points == 3 and graded[0].why.startswith("PodDisruptionBudget web-pdb")
