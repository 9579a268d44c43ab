"""`kjlab class report`: the class as a table (learner x exercise), a small progress chart, and
the most common wrong answers per exercise with their explanations -- what an instructor needs to
decide what to explain again. It reads what it may: as root on the hub, every learner's results;
as a learner, only their own (the others' directories cannot be opened)."""

from __future__ import annotations

import html
import json
import os
from collections import Counter, defaultdict
from pathlib import Path

from kjlab import check
from kjlab.classroom import accounts, hub, kube
from kjlab.checks import verdicts as results
from kjlab.errors import KjlabError


def exercises() -> list[str]:
    return list(check.EXERCISES)


def collect(state: Path | None = None, results_dir: Path | None = None) -> dict:
    """{"learners": {login: label}, "rows": {login: [verdict, ...]}, "unreadable": [login, ...]}"""
    labels: dict[str, str] = {}
    rows: dict[str, list[dict]] = {}
    unreadable: list[str] = []
    if state is not None:
        class_list = state / "class-list.txt"
        try:
            learners = accounts.read_class_list(class_list)
        except KjlabError:
            learners = []
        labels.update(accounts.labels(learners))
        results_dir = results_dir or state / "results"
    if results_dir is not None:
        if not results_dir.is_dir():
            raise KjlabError(f"no results directory at {results_dir}",
                             "run it on the hub's machine (sudo kjlab class report), or pass --results DIR")
        try:
            entries = sorted(results_dir.iterdir())
        except PermissionError:  # a learner on the hub: only their own directory is theirs
            entries = []
        for entry in entries:
            login = entry.name.removeprefix(accounts.PREFIX)
            if not (entry / results.FILE).exists():
                try:
                    os.listdir(entry)
                except PermissionError:
                    unreadable.append(login)
                    continue
            rows[login] = results.read(entry / results.FILE)
            labels.setdefault(login, login)
        if not entries:
            own = results.results_file()
            rows[os.environ.get("KJLAB_LEARNER") or os.environ.get("USER", "me")] = results.read(own)
    else:
        rows[os.environ.get("USER", "me")] = results.read(results.results_file())
    for login in rows:
        labels.setdefault(login, login)
    for login in labels:
        rows.setdefault(login, [])
    return {"learners": labels, "rows": rows, "unreadable": unreadable}


def summarise(data: dict) -> dict:
    names = exercises()
    for verdicts in data["rows"].values():  # an exercise a check recorded but this version lacks
        names += [v["exercise"] for v in verdicts if v["exercise"] not in names]
    table: dict[str, dict[str, dict]] = {}
    wrong: dict[str, Counter] = defaultdict(Counter)
    example: dict[tuple[str, str], str] = {}
    for login, verdicts in data["rows"].items():
        table[login] = {}
        seen_wrong: set[tuple[str, str]] = set()
        for v in verdicts:
            cell = table[login].setdefault(v["exercise"], {"tries": 0, "passed": False, "last": ""})
            cell["tries"] += 1
            cell["passed"] = cell["passed"] or bool(v.get("passed"))
            cell["last"] = v.get("time", "")
            if not v.get("passed") and v.get("solved", True):
                key = (v["exercise"], v.get("summary", ""))
                if key not in seen_wrong:  # learners, not attempts: one learner retrying is one count
                    seen_wrong.add(key)
                    wrong[v["exercise"]][v.get("summary", "")] += 1
                example.setdefault(key, v.get("reason", ""))
    progress = {name: sum(1 for login in table if table[login].get(name, {}).get("passed")) for name in names}
    common = {name: [{"answer": summary, "learners": n, "explanation": example[(name, summary)]}
                     for summary, n in wrong[name].most_common(3)] for name in names if wrong[name]}
    return {"exercises": names, "learners": data["learners"], "table": table, "progress": progress,
            "common_wrong": common, "unreadable": data["unreadable"]}


def _cell(cell: dict | None) -> str:
    if not cell:
        return "-"
    return f"pass ({cell['tries']})" if cell["passed"] else f"not yet ({cell['tries']})"


def render_text(rep: dict) -> str:
    names, learners = rep["exercises"], rep["learners"]
    width = max([7] + [len(label) for label in learners.values()])
    cols = [max(len(n), 12) for n in names]
    lines = ["learner".ljust(width) + "  " + "  ".join(n.ljust(c) for n, c in zip(names, cols))]
    for login in sorted(learners, key=lambda x: learners[x].lower()):
        cells = [_cell(rep["table"].get(login, {}).get(n)) for n in names]
        lines.append(learners[login].ljust(width) + "  " + "  ".join(c.ljust(w) for c, w in zip(cells, cols)))
    total = len(learners)
    lines += ["", f"progress (learners who passed, of {total}):"]
    for n in names:
        done = rep["progress"][n]
        bar = "#" * round(20 * done / total) if total else ""
        lines.append(f"  {n.ljust(max(cols))}  {bar.ljust(20, '.')}  {done}/{total}")
    if rep["common_wrong"]:
        lines += ["", "most common wrong answers (learners with that verdict):"]
        for n, items in rep["common_wrong"].items():
            lines.append(f"  {n}:")
            for item in items:
                lines.append(f"    {item['learners']} x {item['answer']}")
                if item["explanation"]:
                    lines.append(f"        why: {item['explanation']}")
    if rep["unreadable"]:
        lines += ["", f"not readable from this account: {', '.join(rep['unreadable'])} (run as root on the hub)"]
    return "\n".join(lines)


def render_html(rep: dict) -> str:
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, total = rep["exercises"], max(1, len(rep["learners"]))
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(names) + 0.8))
    ax.barh(names[::-1], [rep["progress"][n] for n in names[::-1]], color="#1a7f37")
    ax.set_xlim(0, total)
    ax.set_xlabel("learners who passed")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    chart = base64.b64encode(buf.getvalue()).decode()
    esc = html.escape
    head = "".join(f"<th>{esc(n)}</th>" for n in names)
    body = "".join(
        f"<tr><td>{esc(rep['learners'][login])}</td>"
        + "".join(f"<td>{esc(_cell(rep['table'].get(login, {}).get(n)))}</td>" for n in names) + "</tr>"
        for login in sorted(rep["learners"], key=lambda x: rep["learners"][x].lower()))
    wrong = "".join(
        f"<h3>{esc(n)}</h3><ul>" + "".join(
            f"<li><b>{i['learners']}</b> x {esc(i['answer'])}<br><small>{esc(i['explanation'])}</small></li>"
            for i in items) + "</ul>" for n, items in rep["common_wrong"].items())
    return (f"<!doctype html><meta charset=utf-8><title>kjlab class report</title>"
            f"<h1>Class report</h1><table border=1 cellpadding=4><tr><th>learner</th>{head}</tr>{body}</table>"
            f"<h2>Progress</h2><img alt='progress chart' src='data:image/png;base64,{chart}'>"
            f"<h2>Most common wrong answers</h2>{wrong or '<p>none yet</p>'}")


def main(args) -> int:
    state = args.state
    if state is None and args.results is None and hub.DEFAULT_STATE.exists():
        state = hub.DEFAULT_STATE
    if getattr(args, "kubernetes", None):  # issue 29: computed in the hub pod, from the verdicts posted to it
        rep = kube.report_json(args.kubernetes, args.namespace)
    else:
        rep = summarise(collect(state, args.results))
    if args.json:
        print(json.dumps(rep, indent=1))
    else:
        print(render_text(rep))
    if args.html:
        try:
            args.html.write_text(render_html(rep), encoding="utf-8")
        except OSError as e:
            raise KjlabError(f"cannot write the report to {args.html}: {e.strerror or e}",
                             f"create its directory first (mkdir -p {args.html.parent}), or pick another path") from None
        print(f"\nwritten: {args.html}")
    return 0
