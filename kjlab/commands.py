"""What each `kjlab` command does (kjlab.cli parses the arguments and calls ``dispatch``)."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import time

import yaml

# The checks (pandas), scenarios and exercises (nbformat) are reached through the package's lazy
# attributes (kjlab.check ...): `kjlab up` paid 2-3 s to import them and never used them.
import kjlab
from kjlab import cluster, examples, files
from kjlab.cluster import doctor, kubectl, provider, tools
from kjlab.errors import KjlabError
from kjlab.paths import REPO_DIR, jupyterlab_args, kubeconfig_path
from kjlab.view.progress import RunProgress


def _print_status(info: dict) -> None:
    print(f"engine:   {info['engine']}")
    print(f"context:  {info['context']}")
    if info.get("lab_cluster"):
        # kjlab keeps its contexts in a kubeconfig of its own, so the learner's is never rewritten.
        print(f"kubectl:  kjlab kubectl ...   or   export KUBECONFIG={kubeconfig_path()}")
    if not info["running"]:
        print(f"server:   not answering ({info.get('error', 'unknown error')})")
    else:
        print(f"server:   {info['server_version']}")
    if info.get("memory_mib") is not None:
        print(f"memory:   {info['memory_mib']} MiB ({provider.kubelet(info['engine']).memory_source})")
    print("nodes:")
    for n in info["nodes"]:
        state = "Ready" if n["ready"] else "NotReady"
        if not n["schedulable"]:
            state += ",SchedulingDisabled"
        print(f"  {n['name']:<24} {state:<28} {n['role']:<14} {n['version']}")
    for problem in info.get("problems") or []:
        print(f"problem:  {problem['what']}\n  fix: {problem['fix']}")


def dispatch(args) -> int:
    if args.command == "up":
        info = cluster.up(engine=args.engine, workers=args.workers, time_scale=args.time_scale, strict=args.strict)
        _print_status(info)
        return 0
    if args.command == "down":
        cluster.down(engine=args.engine, purge=args.purge)
        return 0
    if args.command == "status":
        info = cluster.status(args.context)
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            _print_status(info)
        return 0 if info["running"] and not info.get("problems") else 1
    if args.command == "doctor":
        checks = doctor.run_checks()
        print(doctor.format_checks(checks))
        return 0 if all(c.ok for c in checks if c.required) else 1
    if args.command == "kubectl":
        argv = kubectl.argv(args.args, cluster.lab_context(), str(tools.kubectl_path()))
        os.execve(argv[0], argv, kubectl.environment())
    if args.command == "scenario":
        return _scenario(args)
    if args.command == "exercises":
        changed = kjlab.exercises.build(check=args.check)
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
        cluster.up(engine=args.engine)
        # The repo's root, so labs/, exercises/ and solutions/ are all one click away; the file
        # browser opens in labs/.
        argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={REPO_DIR}",
                "--ServerApp.default_url=/lab/tree/labs", *jupyterlab_args()]
        if args.no_browser:
            argv.append("--no-browser")
        if os.geteuid() == 0:  # containers and CI machines run as root; JupyterLab refuses without this
            argv.append("--allow-root")
        os.execv(argv[0], argv)
    raise AssertionError(args.command)


def _scenario(args) -> int:
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
    job_name = examples.render(args.name)["metadata"]["name"] if args.name else None
    progress = RunProgress(job_name)
    with out:
        try:
            result = kjlab.scenarios.run(
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
        print(result.headline())
        if result.message:
            print(f"message: {result.message}")
        if args.keep:
            print(f"kept: kjlab kubectl get jobs,pods -n {result.namespace}")
    return 0


def load_answer(exercise: str, path: str, untrusted: bool = False):
    """An answer from a file, never executed here: a .py file's text (it runs in the sandbox, and
    only when ``kjlab.answers.may_run`` allows it), a prediction mapping, or YAML text."""
    answers = kjlab.check.answers
    text = answers.read(path)
    if path.endswith(".py"):
        answers.may_run(path, untrusted)
        return kjlab.check.sandbox.Code(source=text, function="mark_and_delete", origin=path)
    if exercise.startswith("predict"):
        try:
            return answers.load_yaml(text, path)
        except yaml.YAMLError as e:
            raise KjlabError(f"{path} is not valid YAML{files.yaml_problem(e, text)}", "check the indentation") from None
    return text  # the check loads it with kjlab.answers.load_yaml (safe_load, alias limit)


def _check(args) -> int:
    if args.list or not args.exercise:
        for ex in kjlab.check.EXERCISES.values():
            print(f"{ex.name:<20} {ex.title}  (answer: {ex.answer})")
        return 0
    if not args.answer:
        raise KjlabError("give your answer with --answer FILE", f"kjlab check {args.exercise} --answer my-answer.yaml")
    verdict = kjlab.check.run(args.exercise, load_answer(args.exercise, args.answer, args.untrusted), context=args.context)
    return 0 if verdict.passed else 1


def _controller(args) -> int:
    ctl = importlib.import_module("kjlab.labs").CONTROLLERS[args.kind](args.context or cluster.lab_context(), args.namespace).start()
    try:
        while ctl.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()
    return 0


