"""`kjlab exam start|status|task|finish` (dispatched from kjlab.cli). Every command first grades an
exam whose time is up, so the time-out needs no process left running."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from kjlab.errors import KjlabError, exit_code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kjlab exam", description="A timed exam of practice tasks, graded all at once.")
    sub = p.add_subparsers(dest="action", required=True)
    st = sub.add_parser("start", help="draw the tasks and prepare the first one; the clock starts")
    st.add_argument("--minutes", type=int, default=60)
    st.add_argument("--tasks", type=int, default=12, help="how many tasks (spread over the topics)")
    st.add_argument("--topics", nargs="+", default=[], help="only these topics (kjlab practice list shows them)")
    st.add_argument("--seed", type=int, help="the same seed draws the same tasks")
    sub.add_parser("status", help="time left, the tasks, and which one is current")
    tk = sub.add_parser("task", help="switch to task K (1-based): its namespace becomes the practice shell's")
    tk.add_argument("k")
    fi = sub.add_parser("finish", help="grade every task now and write the report")
    fi.add_argument("--json", action="store_true", help="the report as JSON instead of the table")
    for s in sub.choices.values():
        s.add_argument("--context", help="a kubeconfig context (default: the lab cluster)")
    return p


def _load(name: str):
    return importlib.import_module(f"kjlab.{name}")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return exit_code(lambda: _run(args), stopped="kjlab: stopped (the exam's clock goes on: kjlab exam status)")


def _context(args, state: dict | None = None) -> str:
    if args.context:
        return args.context
    if state and state.get("context"):
        return state["context"]
    return _load("cluster").lab_context()


def _show_task(state: dict, note: str = "") -> None:
    registry, exam_state = _load("practice.registry"), _load("exam.state")
    current = state["current"]
    n = [t["task"] for t in state["tasks"]].index(current) + 1
    task = registry.get(current)
    left = exam_state.remaining(state, time.time())
    print(f"task {n} of {len(state['tasks'])}: {task.id} ({task.topic}, {task.minutes} min) -- {task.title}"
          f"   [{exam_state.mmss(left)} left]")
    print(f"namespace: {task.namespace()}\n")
    if note:
        print(f"note: {note}\n")
    print(task.text())
    set_up = _load("practice.env").follows(_load("practice.session").practice_dir())
    shell = ("shell: this one's kubectl follows the current task" if set_up
             else 'shell: eval "$(kjlab practice env)"  (it follows the current task)')
    print(f"\n{shell}   next: kjlab exam task K | kjlab exam status | kjlab exam finish")


def _print_report(state: dict, as_json: bool = False) -> None:
    report, session = _load("exam.report"), _load("exam.session")
    rep = report.build(state)
    if as_json:
        import json
        print(json.dumps(rep, indent=1))
    else:
        print(report.render_text(rep))
        print(f"\nreport: {session.exam_dir() / state['id'] / 'report.html'}")


def _progress_to_stderr():
    """The checks' progress lines go to stderr: stdout stays the report's (`finish --json` is JSON)."""
    import contextlib
    return contextlib.redirect_stdout(sys.stderr)


def _expire(session, args):
    with _progress_to_stderr():
        return session.expire_if_due(args.context)


def _run(args) -> int:
    session, exam_state = _load("exam.session"), _load("exam.state")
    if args.action == "start":
        # an exam whose time ran out is graded first; one still running refuses the start
        expired = _expire(session, args)
        if expired:
            print(f"time was up for {expired['id']}: graded (kjlab exam finish shows its report)\n")
        context = _context(args)
        engine = (_load("cluster.registry").entry(context) or {}).get("engine") or "kind"
        began = time.monotonic()
        state = session.start(context, engine, minutes=args.minutes, count=args.tasks, topics=tuple(args.topics),
                              seed=args.seed)
        print(f"{state['id']}: {len(state['tasks'])} tasks, {args.minutes} min, seed {state['seed']}, "
              f"engine {engine} (first task ready in {time.monotonic() - began:.1f} s)")
        if state["left_out"]:
            print(f"left out on {engine} (they need a real kubelet): {', '.join(sorted(state['left_out']))}")
        print()
        _show_task(state)
        return 0
    expired = _expire(session, args)
    if expired:
        print(f"time is up: {expired['id']} was graded\n", file=sys.stderr)
        if args.action == "task":
            raise KjlabError(f"switching to task {args.k} is refused as over time", "kjlab exam finish (its report)")
        _print_report(expired, getattr(args, "json", False))
        return 0
    if args.action == "status":
        state = session.running()
        if not state or "deadline" not in state:
            last = session.last_report()
            print("no exam running" + (f"; the last one's report: {last}" if last else "; kjlab exam start"))
            return 0
        now = time.time()
        print(f"{state['id']}: {exam_state.mmss(exam_state.remaining(state, now))} left of {state['minutes']} min")
        spent = exam_state.time_on_tasks(state, now)
        for i, t in enumerate(state["tasks"], 1):
            mark = "*" if t["task"] == state["current"] else " "
            opened = exam_state.mmss(spent[t["task"]]) if t["task"] in spent else "not opened"
            print(f" {mark}{i:>2}  {t['task']:<24} {t['topic']:<12} {t['weight']:>2} pts  {opened}")
        return 0
    if args.action == "task":
        state = session.running()
        state, note = session.switch(_context(args, state), args.k)
        _show_task(state, note)
        return 0
    if args.action == "finish":
        state = session.running()
        if not state or "deadline" not in state:
            last = session.last_report()
            if last is None:
                raise KjlabError("no exam to finish", "kjlab exam start")
            _print_report(session.load(last.with_name("exam.json")), args.json)
            return 0
        print(f"grading {len(state['tasks'])} tasks on the cluster ...", file=sys.stderr)
        with _progress_to_stderr():
            graded = session.finish(_context(args, state))
        _print_report(graded, args.json)
        return 0
    raise AssertionError(args.action)
