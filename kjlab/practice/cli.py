"""`kjlab practice list|start|check|hint|solution|reset|env` (dispatched from kjlab.cli)."""

from __future__ import annotations

import argparse
import importlib
import sys

from kjlab.errors import KjlabError, exit_code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kjlab practice",
                                description="Hands-on tasks: you type kubectl, kjlab checks the cluster and explains.")
    sub = p.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", help="the tasks, by topic, with the engines they run on")
    ls.add_argument("--topic")
    st = sub.add_parser("start", help="prepare TASK's namespace and make it the current task")
    st.add_argument("task")
    sub.add_parser("check", help="check the current task on the cluster and explain the verdict (exit 0 = pass)")
    sub.add_parser("hint", help="a hint for the current task")
    so = sub.add_parser("solution", help="a reference solution, imperative and declarative")
    so.add_argument("--declarative", action="store_true", help="only the YAML")
    sub.add_parser("reset", help="rebuild the current task's namespace (your objects in it are deleted)")
    sub.add_parser("show", help="the current task's statement again")
    env = sub.add_parser("env", help='shell lines for: eval "$(kjlab practice env)"')
    env.add_argument("--shell", choices=["bash", "zsh", "sh"], help="default: from $SHELL")
    for s in (st, sub.choices["check"], sub.choices["reset"], env):
        s.add_argument("--context", help="a kubeconfig context (default: the lab cluster)")
    return p


def _load(name: str):
    """kjlab's modules load when a command runs (`kjlab practice --help` loads none of them)."""
    return importlib.import_module(f"kjlab.{name}")


def _context(args) -> str:
    return getattr(args, "context", None) or _load("cluster").lab_context()


def _engine(context: str) -> str | None:
    return (_load("cluster.registry").entry(context) or {}).get("engine")


def _show(task, namespace: str) -> None:
    print(f"task {task.id} ({task.topic}, {task.minutes} min): {task.title}")
    print(f"namespace: {namespace}\n")
    print(task.text())
    if _load("practice.env").follows(_load("practice.session").practice_dir()):
        print(f"\nshell: this one's kubectl (alias k) is in {namespace} now; `kjlab practice check` when done")
    else:
        print('\nshell: eval "$(kjlab practice env)"   then type kubectl (alias k); `kjlab practice check` when done')


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return exit_code(lambda: _run(args))


def _run(args) -> int:
    registry, session = _load("practice.registry"), _load("practice.session")
    exam = _load("exam.session").running()
    if exam and args.action in ("start", "check", "reset", "hint", "solution", "show"):
        raise KjlabError(f"an exam is running ({exam.get('id', 'being prepared')}): `kjlab practice {args.action}` "
                         "waits until it is graded", "kjlab exam status; kjlab exam finish grades it")
    if args.action == "list":
        context_engine = None
        try:
            context_engine = _engine(_context(args))
        except KjlabError:
            pass
        tasks = registry.all_tasks()
        current = (session.current() or {}).get("task")
        for topic in dict.fromkeys(t.topic for t in tasks):
            if args.topic and topic != args.topic:
                continue
            print(f"{topic}:")
            for t in (t for t in tasks if t.topic == topic):
                mark = "*" if t.id == current else " "
                left_out = context_engine and not t.runs_on(context_engine)
                note = f"  [not on {context_engine}: {t.kind_only_reason}]" if left_out else ""
                print(f" {mark} {t.id:<26} {t.minutes:>2} min  {t.title}{note}")
        return 0
    if args.action == "start":
        registry.get(args.task)  # an unknown task is said before anything looks for the cluster
        context = _context(args)
        task, state = session.start(args.task, context, engine=_engine(context))
        _show(task, state["namespace"])
        _write_env(context, state["namespace"])
        return 0
    if args.action == "show":
        task, state = session.current_task()
        _show(task, state["namespace"])
        return 0
    if args.action == "hint":
        task, _ = session.current_task()
        print(task.hint)
        return 0
    if args.action == "solution":
        task, state = session.current_task()
        if not args.declarative:
            print(f"# imperative (in namespace {state['namespace']}, the practice context's)\n{task.imperative.strip()}\n")
        if task.declarative_is_yaml:
            print(f"# declarative: save as answer.yaml, then kubectl apply -f answer.yaml\n{task.declarative.strip()}")
        else:
            print(f"# declarative\n{task.declarative.strip()}")
        return 0
    if args.action == "reset":
        session.current_task()
        context = _context(args)
        task, state = session.reset(context)
        print(f"namespace {state['namespace']} rebuilt for task {task.id}")
        return 0
    if args.action == "check":
        task, _ = session.current_task()
        context = _context(args)
        verdict = session.check(context, task)
        print(verdict)
        print(f"(checked in {verdict.evidence['check_seconds']:.1f} s)")
        return 0 if verdict.passed else 1
    if args.action == "env":
        env = _load("practice.env")
        context = _context(args)
        state = session.current() or {}
        namespace = state.get("namespace", "default")
        if exam and exam.get("current"):  # the exam's current task (kjlab exam task K) is the shell's
            namespace, state = registry.get(exam["current"]).namespace(), exam
        kubeconfig, bin_dir = _write_env(context, namespace)
        print(env.shell_lines(kubeconfig, bin_dir, env.shell_name(args.shell)))
        if not state:
            print(env.no_task_line(), file=sys.stderr)
        return 0
    raise AssertionError(args.action)


def _write_env(context: str, namespace: str):
    """The practice kubeconfig follows the current task: a shell set up once keeps working."""
    env, session = _load("practice.env"), _load("practice.session")
    directory = session.practice_dir()
    return env.write_kubeconfig(directory, context, namespace), env.kubectl_dir(directory, _load("cluster.tools").kubectl_path())
