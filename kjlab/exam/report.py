"""The exam's report from its graded state: a terminal table and a self-contained HTML page (an
inline SVG bar per topic, no network resources) -- score per task and topic, time spent per task,
each failed check's explanation, the reference solution imperative and declarative, and the lab
section that proves it where the task names one."""

from __future__ import annotations

import html

from kjlab.exam import state as exam_state
from kjlab.practice import registry


def build(state: dict) -> dict:
    graded, summary = exam_state.results(state)
    verdicts = state["graded"]["verdicts"]
    rows = []
    for i, g in enumerate(graded, 1):
        task = registry.get(g.task_id)
        v = verdicts.get(g.task_id)
        rows.append({"n": i, "task": g.task_id, "topic": g.topic, "title": task.title, "points": g.points, "of": g.of,
                     "passed": bool(v and v["passed"]), "seconds": g.seconds, "budget": task.minutes * 60,
                     "why": g.why, "headline": v["headline"] if v else g.why,
                     "explanation": [] if (v and v["passed"]) else (v["reasons"] if v else [g.why]),
                     "imperative": task.imperative.strip(), "declarative": task.declarative.strip(),
                     "lab_cell": task.lab_cell})
    engine, left_out = state["engine"], state["left_out"]
    if left_out:
        note = (f"on {engine}, {len(left_out)} task(s) that need a real kubelet were left out of the draw: "
                + "; ".join(f"{t} ({why})" for t, why in sorted(left_out.items())))
    else:
        note = f"no task of the bank needs an engine other than {engine}: none was left out of the draw"
    late = state["graded"]["late_by"]
    return {"id": state["id"], "seed": state["seed"], "minutes": state["minutes"], "engine": engine, "rows": rows,
            "summary": summary, "left_out_note": note,
            "graded_late_by": round(late), "started": state["started"], "deadline": state["deadline"]}


# What a late grading can and cannot tell (kjlab.exam.after_deadline).
LATE_RULE = ("a task you wrote to after the deadline scores 0 (its objects' managedFields say who wrote when); "
             "objects deleted after the deadline cannot be told apart and are graded as found")


def render_text(rep: dict) -> str:
    s = rep["summary"]
    lines = [f"{rep['id']} (seed {rep['seed']}, {rep['minutes']} min, {rep['engine']}): "
             f"{s['points']}/{s['of']} points, {s['share']:.0%} -- {'PASS' if s['passed'] else 'NOT PASSED'} "
             f"(pass mark 66 %)", ""]
    lines.append(f"{'#':>2}  {'task':<24} {'topic':<12} {'points':<7}  {'time spent':<15}  result")
    for r in rep["rows"]:
        spent = exam_state.mmss(r["seconds"]) if r["seconds"] is not None else "--:--"
        lines.append(f"{r['n']:>2}  {r['task']:<24} {r['topic']:<12} {r['points']:>3}/{r['of']:<3}  "
                     f"{spent} of {r['budget'] // 60:>2} min  "
                     f"{'pass' if r['passed'] else 'not yet: ' + r['why']}")
    lines += ["", "per topic:"]
    for topic, p in s["topics"].items():
        lines.append(f"  {topic:<12} {p['points']:>3}/{p['of']:<3} {'#' * round(20 * p['points'] / p['of']):.<20}")
    failed = [r for r in rep["rows"] if not r["passed"]]
    for r in failed:
        lines += ["", f"task {r['n']} {r['task']}: {r['headline']}"] + [f"  - {e}" for e in r["explanation"]]
        lines += ["  imperative:"] + [f"    {x}" for x in r["imperative"].splitlines()]
        lines += ["  declarative:"] + [f"    {x}" for x in r["declarative"].splitlines()]
        if r["lab_cell"]:
            lines.append(f"  the lab that proves it: {r['lab_cell']}")
    lines += ["", rep["left_out_note"]]
    if rep["graded_late_by"]:
        lines.append(f"graded {exam_state.mmss(rep['graded_late_by'])} after time was up, at the first exam command "
                     f"since: {LATE_RULE}")
    return "\n".join(lines)


def _svg(topics: dict) -> str:
    """One bar per topic: points of the topic's total, drawn inline (no script, no network)."""
    width, bar, label = 360, 18, 110
    rows = []
    for i, (topic, p) in enumerate(topics.items()):
        y = 8 + i * (bar + 8)
        share = p["points"] / p["of"] if p["of"] else 0
        rows.append(f"<text x='0' y='{y + 13}' font-size='12'>{html.escape(topic)}</text>"
                    f"<rect x='{label}' y='{y}' width='{width - label}' height='{bar}' fill='#eaeef2'/>"
                    f"<rect x='{label}' y='{y}' width='{round((width - label) * share)}' height='{bar}' "
                    f"fill='{'#1a7f37' if share >= 0.66 else '#cf222e'}'/>"
                    f"<text x='{label + 4}' y='{y + 13}' font-size='12'>{p['points']}/{p['of']}</text>")
    height = 16 + len(topics) * (bar + 8)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='points per topic' width='{width}' "
            f"height='{height}'>{''.join(rows)}</svg>")


def render_html(rep: dict) -> str:
    esc = html.escape
    s = rep["summary"]
    body = "".join(
        f"<tr><td>{r['n']}</td><td>{esc(r['task'])}</td><td>{esc(r['topic'])}</td><td>{r['points']}/{r['of']}</td>"
        f"<td>{exam_state.mmss(r['seconds']) if r['seconds'] is not None else '--:--'} "
        f"of {r['budget'] // 60} min</td><td>{'pass' if r['passed'] else 'not yet: ' + esc(r['why'])}</td></tr>"
        for r in rep["rows"])
    details = "".join(
        f"<h3>Task {r['n']}: {esc(r['task'])} -- {esc(r['title'])}</h3>"
        + ("<p><b style='color:#1a7f37'>PASS</b></p>" if r["passed"] else
           f"<p><b style='color:#cf222e'>NOT YET</b>: {esc(r['headline'])}</p><ul>"
           + "".join(f"<li>{esc(e)}</li>" for e in r["explanation"]) + "</ul>")
        + f"<p>Imperative:</p><pre>{esc(r['imperative'])}</pre><p>Declarative:</p><pre>{esc(r['declarative'])}</pre>"
        + (f"<p>The lab that proves it: {esc(r['lab_cell'])}</p>" if r["lab_cell"] else "")
        for r in rep["rows"])
    late = (f"<p>Graded {exam_state.mmss(rep['graded_late_by'])} after time was up: {esc(LATE_RULE)}.</p>"
            if rep["graded_late_by"] else "")
    return (f"<!doctype html><meta charset=utf-8><title>kjlab {esc(rep['id'])}</title>"
            f"<h1>{esc(rep['id'])}</h1><p>seed {rep['seed']}, {rep['minutes']} min, engine {esc(rep['engine'])}: "
            f"<b>{s['points']}/{s['of']} points ({s['share']:.0%}) -- {'PASS' if s['passed'] else 'NOT PASSED'}</b> "
            f"(pass mark 66 %)</p>{late}"
            f"<table border=1 cellpadding=4><tr><th>#</th><th>task</th><th>topic</th><th>points</th><th>time spent</th>"
            f"<th>result</th></tr>{body}</table><h2>Per topic</h2>{_svg(s['topics'])}"
            f"<p>{esc(rep['left_out_note'])}</p><h2>Tasks</h2>{details}")
