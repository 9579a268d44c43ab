"""The ``kjlab`` command: up | down | status | doctor | kubectl | lab."""

from __future__ import annotations

import argparse
import json
import os
import signal
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
    chk.add_argument("--untrusted", action="store_true",
                     help="the .py answer is someone else's: run it anyway (root only; it runs as nobody)")
    chk.add_argument("--context")

    lab = sub.add_parser("lab", help="start the cluster and open JupyterLab on the repo (labs/, exercises/, solutions/)")
    lab.add_argument("--engine", default="auto")
    lab.add_argument("--no-browser", action="store_true")
    return p


def _print_status(info: dict) -> None:
    print(f"engine:   {info['engine']}")
    print(f"context:  {info['context']}")
    if info.get("lab_cluster"):
        # kjlab keeps its contexts in a kubeconfig of its own, so the learner's is never rewritten.
        from kjlab.paths import kubeconfig_path

        print(f"kubectl:  kjlab kubectl ...   or   export KUBECONFIG={kubeconfig_path()}")
    if not info["running"]:
        print(f"server:   not answering ({info.get('error', 'unknown error')})")
    else:
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
    for problem in info.get("problems") or []:
        print(f"problem:  {problem['what']}\n  fix: {problem['fix']}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kubectl"]:
        # Everything after `kubectl` is kubectl's, flags first included (`kjlab kubectl -n x get pods`).
        args = argparse.Namespace(command="kubectl", args=argv[1:])
    else:
        args = _parser().parse_args(argv)
    # SIGTERM (a closed terminal, `kill`, a CI timeout) unwinds like Ctrl-C, so the same clean-up
    # runs: a drain's cordon is undone, a run's namespace deleted.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _dispatch(args)
    except KjlabError as e:
        print(f"kjlab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        from kjlab import interrupts

        print(interrupts.message(), file=sys.stderr)
        return 130
    except Exception as e:  # the API's or the connection's own errors: one line, not a traceback
        line = _api_error_line(e)
        if line is None:
            raise
        print(f"kjlab: {line}", file=sys.stderr)
        return 1


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def _api_error_line(e: Exception) -> str | None:
    """One line for an error from the API server or the connection to it; None for anything else."""
    module = type(e).__module__
    if module.startswith("kubernetes."):
        from kubernetes.client import ApiException

        if isinstance(e, ApiException):
            from kjlab.ops import api_message

            return f"the API server said: {api_message(e)}"
    if module.startswith("urllib3") or isinstance(e, ConnectionError):
        return (f"the lab cluster's API server does not answer ({type(e).__name__}); "
                "see `kjlab status`, and `kjlab up` to start or repair it")
    return None


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
        return 0 if info["running"] and not info.get("problems") else 1
    if args.command == "doctor":
        from kjlab.cluster import doctor

        checks = doctor.run_checks()
        print(doctor.format_checks(checks))
        return 0 if all(c.ok for c in checks if c.required) else 1
    if args.command == "kubectl":
        from kjlab.cluster import kubectl, tools

        argv = kubectl.argv(args.args, cluster.lab_context(), str(tools.kubectl_path()))
        os.execve(argv[0], argv, kubectl.environment())
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
        # The repo's root, so labs/, exercises/ and solutions/ are all one click away; the file
        # browser opens in labs/.
        argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={REPO_DIR}",
                "--ServerApp.default_url=/lab/tree/labs"]
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
    from kjlab.progress import RunProgress

    job_name = examples.render(args.name)["metadata"]["name"] if args.name else None
    progress = RunProgress(job_name)
    with out:
        try:
            result = scenarios.run(
                args.name, policy=not args.no_policy, fast=args.fast, context=args.context, namespace=args.namespace,
                keep=args.keep, manifest=args.manifest,
                drain_when_running=True if args.drain_when_running else None,
                patch_condition=args.patch_condition, then_delete=True if args.then_delete else None,
                timeout=args.timeout, on_start=progress.attach)
        finally:
            progress.finish()
    if args.json:
        print(result.to_json())
    else:
        print(result.verdict())
        if result.message:
            print(f"message: {result.message}")
        if args.keep:
            print(f"kept: kjlab kubectl get jobs,pods -n {result.namespace}")
    return 0


def load_answer(exercise: str, path: str, untrusted: bool = False):
    """An answer from a file, never executed here: a .py file's text (it runs in the sandbox, and
    only when ``kjlab.answers.may_run`` allows it), a prediction mapping, or YAML text."""
    from kjlab import answers, sandbox

    text = answers.read(path)
    if path.endswith(".py"):
        answers.may_run(path, untrusted)
        return sandbox.Code(source=text, function="mark_and_delete", origin=path)
    if exercise.startswith("predict"):
        import yaml

        try:
            return answers.load_yaml(text, path)
        except yaml.YAMLError as e:
            raise KjlabError(f"{path} is not valid YAML: {str(e).splitlines()[0]}", "check the indentation") from None
    return text  # the check loads it with kjlab.answers.load_yaml (safe_load, alias limit)


def _check(args) -> int:
    from kjlab import check

    if args.list or not args.exercise:
        for ex in check.EXERCISES.values():
            print(f"{ex.name:<20} {ex.title}  (answer: {ex.answer})")
        return 0
    if not args.answer:
        raise KjlabError("give your answer with --answer FILE", f"kjlab check {args.exercise} --answer my-answer.yaml")
    verdict = check.run(args.exercise, load_answer(args.exercise, args.answer, args.untrusted), context=args.context)
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
