"""What the practice-task tests type, one module per topic (as kjlab/practice/tasks/ is): a new task's
answers go in a file of its own topic, never in the test. Each module has WRONG (task -> [(commands,
a phrase the explanation must contain)]) and RIGHT (task -> commands, right answers other than the
task's two references); this package merges them and runs them as a learner's shell would."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import time

import pytest

from kjlab.cluster import tools
from kjlab.practice import env as practice_env
from kjlab.practice import registry, session

WRONG: dict[str, list[tuple[str, str]]] = {}
RIGHT: dict[str, list[str]] = {}

for _m in pkgutil.iter_modules(__path__):
    if _m.name == "shapes":
        continue
    _module = importlib.import_module(f"{__name__}.{_m.name}")
    for _table, _into in ((_module.WRONG, WRONG), (_module.RIGHT, RIGHT)):
        _twice = set(_table) & set(_into)
        if _twice:
            raise ValueError(f"answers for {sorted(_twice)} in two modules (the second: {_m.name})")
        _into.update(_table)


def learner_types(context, task, commands, tmp_path, other_ns=""):
    """Run ``commands`` in bash as a learner would after `eval "$(kjlab practice env)"`."""
    directory = session.practice_dir()
    kubeconfig = practice_env.write_kubeconfig(directory, context, task.namespace())
    bin_dir = practice_env.kubectl_dir(directory, tools.kubectl_path())
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path),
                   "OTHER_NS": other_ns}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", commands], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=180)


def cases(engine: str):
    """pytest params (task, route, phrase) for every task that runs on ``engine``: the two references,
    each wrong answer (with its phrase) and each other right answer."""
    for task in registry.all_tasks():
        if not task.runs_on(engine):
            continue
        yield pytest.param(task.id, "imperative", None, id=f"{task.id}-imperative")
        yield pytest.param(task.id, "declarative", None, id=f"{task.id}-declarative")
        for i, (_, phrase) in enumerate(WRONG.get(task.id, [])):
            yield pytest.param(task.id, f"wrong{i}", phrase, id=f"{task.id}-wrong{i}")
        for i, _ in enumerate(RIGHT.get(task.id, [])):
            yield pytest.param(task.id, f"right{i}", None, id=f"{task.id}-right{i}")


def try_answer(context, engine, task_id, route, phrase, tmp_path, other_ns=""):
    """Start the task, type the route's commands as a learner, check: a right route must pass, a wrong
    one must fail with ``phrase`` in its explanation."""
    task = registry.get(task_id)
    session.start(task.id, context, engine=engine)
    try:
        if route == "imperative":
            commands = task.imperative
        elif route == "declarative":
            if task.declarative_is_yaml:
                (tmp_path / "answer.yaml").write_text(task.declarative)
                commands = "kubectl apply -f answer.yaml"
            else:
                commands = task.declarative
        elif route.startswith("right"):
            commands = RIGHT[task_id][int(route[5:])]
        else:
            commands = WRONG[task_id][int(route[5:])][0]
        typed = learner_types(context, task, commands, tmp_path, other_ns=other_ns)
        assert typed.returncode == 0, typed.stderr
        started = time.monotonic()
        verdict = session.check(context, task)
        _record_time(task_id, route, time.monotonic() - started, verdict.passed)
        text = str(verdict)
        if phrase is None:
            assert verdict.passed, text
        else:
            assert not verdict.passed, text
            assert phrase in text, text
    finally:
        if task.cleanup:
            task.cleanup(context)


def _record_time(task_id, route, seconds, passed):
    path = os.environ.get("KJLAB_PRACTICE_TIMINGS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"task": task_id, "route": route, "seconds": round(seconds, 2), "passed": passed}) + "\n")
