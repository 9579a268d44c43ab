"""The ``kjlab`` command: up | down | status | doctor | kubectl | lab."""

from __future__ import annotations

import argparse
import json
import os
import sys

from kjlab.errors import KjlabError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kjlab", description="A hands-on lab on Kubernetes Job failure handling.")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="create the lab cluster (or report the running one)")
    up.add_argument("--engine", default="auto", help="auto (kind with Docker, else kwok), kind or kwok")
    up.add_argument("--workers", type=int, default=2, help="worker nodes (default 2)")
    up.add_argument("--time-scale", type=float, default=1.0,
                    help="kwok only: multiply simulated sleeps and grace periods (0.1 = ten times faster)")

    down = sub.add_parser("down", help="remove the lab cluster completely")
    down.add_argument("--engine", choices=["kind", "kwok"], help="only this engine's cluster")

    st = sub.add_parser("status", help="engine, context, server version, nodes")
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.add_argument("--context", help="a kubeconfig context (default: the lab cluster)")

    sub.add_parser("doctor", help="what is present and missing, with the fix for each")

    kc = sub.add_parser("kubectl", help="run kubectl (built at the cluster's version) against the lab context",
                        add_help=False)
    kc.add_argument("args", nargs=argparse.REMAINDER)

    sc = sub.add_parser("scenario", help="run a documented example (or your own Job) and report the outcome")
    scsub = sc.add_subparsers(dest="scenario_command", required=True)
    scsub.add_parser("list", help="the documented examples")
    run = scsub.add_parser("run", help="run NAME, or --manifest FILE")
    run.add_argument("name", nargs="?", help="failjob, ignore, config-issue or failindex")
    run.add_argument("--manifest", help="a Job manifest of your own instead of a documented example")
    run.add_argument("--no-policy", action="store_true", help="the same Job minus its podFailurePolicy")
    run.add_argument("--fast", action="store_true", help="shorter sleeps in the script (nothing else changes)")
    run.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    run.add_argument("--keep", action="store_true", help="keep the namespace for `kjlab kubectl` afterwards")
    run.add_argument("--namespace", help="namespace for the run (default: NAME-policy / NAME-nopolicy)")
    run.add_argument("--context", help="kubeconfig context (default: the lab cluster)")
    run.add_argument("--drain-when-running", action="store_true",
                     help="drain the node of the first running pod (like the ignore example)")
    run.add_argument("--patch-condition", metavar="TYPE",
                     help="add condition TYPE=True to the first pod stuck in ImagePullBackOff")
    run.add_argument("--then-delete", action="store_true", help="with --patch-condition: then delete that pod")
    run.add_argument("--timeout", type=float, default=1200, help="give up after this many seconds (default 1200)")

    ctl = sub.add_parser("controller", help="run the config-issue controller until Ctrl-C")
    ctl.add_argument("kind", choices=["config-issue"])
    ctl.add_argument("--namespace", required=True)
    ctl.add_argument("--context")

    ex = sub.add_parser("exercises", help="generate exercises/ from solutions/")
    exsub = ex.add_subparsers(dest="exercises_command", required=True)
    build = exsub.add_parser("build", help="write exercises/ (a changed exercise notebook is backed up first)")
    build.add_argument("--check", action="store_true", help="write nothing; exit 1 when exercises/ is out of date")

    chk = sub.add_parser("check", help="check an answer on the lab cluster and explain the verdict (exit 0 = pass)")
    chk.add_argument("exercise", nargs="?", help="exercise name (see --list)")
    chk.add_argument("--answer", "--manifest", dest="answer",
                     help="YAML file (policy, manifest or prediction), or a .py file defining mark_and_delete")
    chk.add_argument("--list", action="store_true", help="list the exercises")
    chk.add_argument("--context")

    lab = sub.add_parser("lab", help="start the cluster and open JupyterLab on labs/")
    lab.add_argument("--engine", default="auto")
    lab.add_argument("--no-browser", action="store_true")
    return p


def _print_status(info: dict) -> None:
    print(f"engine:   {info['engine']}")
    print(f"context:  {info['context']}")
    if not info["running"]:
        print(f"server:   not answering ({info.get('error', 'unknown error')})")
        return
    print(f"server:   {info['server_version']}")
    if info.get("memory_mib") is not None:
        what = "node containers, docker stats" if info["engine"] == "kind" else "control plane + kwok"
        print(f"memory:   {info['memory_mib']} MiB ({what})")
    print("nodes:")
    for n in info["nodes"]:
        state = "Ready" if n["ready"] else "NotReady"
        if not n["schedulable"]:
            state += ",SchedulingDisabled"
        print(f"  {n['name']:<24} {state:<28} {n['role']:<14} {n['version']}")


def kubectl_argv(args: list[str], context: str, kubectl: str, kubeconfig: str) -> list[str]:
    """kubectl's argv: the lab context and kubeconfig unless the learner names their own."""
    argv = [kubectl]
    if not any(a == "--kubeconfig" or a.startswith("--kubeconfig=") for a in args):
        argv += ["--kubeconfig", kubeconfig]
    if not any(a == "--context" or a.startswith("--context=") for a in args):
        argv += ["--context", context]
    return argv + args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kubectl"]:
        # Everything after `kubectl` is kubectl's, flags first included (`kjlab kubectl -n x get pods`).
        args = argparse.Namespace(command="kubectl", args=argv[1:])
    else:
        args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KjlabError as e:
        print(f"kjlab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kjlab: interrupted", file=sys.stderr)
        return 130


def _dispatch(args) -> int:
    from kjlab import cluster

    if args.command == "up":
        info = cluster.up(engine=args.engine, workers=args.workers, time_scale=args.time_scale)
        _print_status(info)
        return 0
    if args.command == "down":
        cluster.down(engine=args.engine)
        return 0
    if args.command == "status":
        info = cluster.status(args.context)
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            _print_status(info)
        return 0 if info["running"] else 1
    if args.command == "doctor":
        from kjlab.cluster import doctor

        checks = doctor.run_checks()
        print(doctor.format_checks(checks))
        return 0 if all(c.ok for c in checks if c.required) else 1
    if args.command == "kubectl":
        from kjlab.cluster import tools
        from kjlab.paths import kubeconfig_path

        argv = kubectl_argv(args.args, cluster.lab_context(), str(tools.kubectl_path()), str(kubeconfig_path()))
        os.execv(argv[0], argv)
    if args.command == "scenario":
        return _scenario(args)
    if args.command == "exercises":
        from kjlab import exercises

        changed = exercises.build(check=args.check)
        for path in changed:
            print(("out of date: " if args.check else "wrote ") + path)
        if args.check and changed:
            raise KjlabError("exercises/ is out of date with solutions/", "kjlab exercises build")
        if not changed:
            print("exercises/ is up to date")
        return 0
    if args.command == "check":
        return _check(args)
    if args.command == "controller":
        return _controller(args)
    if args.command == "lab":
        from kjlab.paths import REPO_DIR

        cluster.up(engine=args.engine)
        argv = [sys.executable, "-m", "jupyter", "lab", str(REPO_DIR / "labs")]
        if args.no_browser:
            argv.append("--no-browser")
        if os.geteuid() == 0:  # containers and CI machines run as root; JupyterLab refuses without this
            argv.append("--allow-root")
        os.execv(argv[0], argv)
    raise AssertionError(args.command)


def _scenario(args) -> int:
    import contextlib

    from kjlab import examples, scenarios

    if args.scenario_command == "list":
        for name in examples.names():
            print(f"{name:<14} {examples.render(name)['metadata']['name']}")
        return 0
    if bool(args.name) == bool(args.manifest):
        raise KjlabError("give a scenario NAME or --manifest FILE (one of them)", "kjlab scenario run failjob --fast")
    if args.then_delete and not args.patch_condition:
        raise KjlabError("--then-delete goes with --patch-condition TYPE", "kjlab scenario run --manifest job.yaml --patch-condition ConfigIssue --then-delete")
    # With --json, stdout carries only the JSON object; the kubectl echo goes to stderr.
    out = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with out:
        result = scenarios.run(
            args.name, policy=not args.no_policy, fast=args.fast, context=args.context, namespace=args.namespace,
            keep=args.keep, manifest=args.manifest,
            drain_when_running=True if args.drain_when_running else None,
            patch_condition=args.patch_condition, then_delete=True if args.then_delete else None,
            timeout=args.timeout)
    if args.json:
        print(result.to_json())
    else:
        print(result.verdict())
        if result.message:
            print(f"message: {result.message}")
        if args.keep:
            print(f"kept: kjlab kubectl get jobs,pods -n {result.namespace}")
    return 0


def load_answer(exercise: str, path: str):
    """An answer from a file: a .py file's mark_and_delete, a prediction mapping, or YAML text."""
    import runpy
    from pathlib import Path

    import yaml

    file = Path(path)
    if not file.exists():
        raise KjlabError(f"no such answer file: {file}", "check the path")
    if file.suffix == ".py":
        namespace = runpy.run_path(str(file))
        if "mark_and_delete" not in namespace:
            raise KjlabError(f"{file} defines no function mark_and_delete", "def mark_and_delete(context, namespace, pod_name): ...")
        return namespace["mark_and_delete"]
    text = file.read_text()
    if exercise.startswith("predict"):
        return yaml.safe_load(text)
    return text


def _check(args) -> int:
    from kjlab import check

    if args.list or not args.exercise:
        for ex in check.EXERCISES.values():
            print(f"{ex.name:<20} {ex.title}  (answer: {ex.answer})")
        return 0
    if not args.answer:
        raise KjlabError("give your answer with --answer FILE", f"kjlab check {args.exercise} --answer my-answer.yaml")
    verdict = check.run(args.exercise, load_answer(args.exercise, args.answer), context=args.context)
    return 0 if verdict.passed else 1


def _controller(args) -> int:
    import time

    from kjlab import cluster
    from kjlab.controller import ConfigIssueController

    ctl = ConfigIssueController(args.context or cluster.lab_context(), args.namespace).start()
    try:
        while ctl.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
