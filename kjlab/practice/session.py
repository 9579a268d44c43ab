"""The learner's current task: start it (a prepared namespace of its own), check it, reset it.

The current task is kept in ``<state dir>/practice/current.json`` so `kjlab practice check` in
another shell (or after a reboot) knows what to check. A task's namespace is one kjlab made
(``kjlab.actions.namespaces``), so reset may delete it and nothing of the learner's own is touched.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from kjlab.actions import namespaces
from kjlab.checks import Verdict
from kjlab.checks import verdicts as results
from kjlab.api import kube, wait
from kjlab.errors import KjlabError
from kjlab.paths import state_dir
from kjlab.practice import registry
from kjlab.practice.cluster_view import Missing, View
from kjlab.practice.model import Task


def practice_dir() -> Path:
    return state_dir() / "practice"


def _state_file() -> Path:
    return practice_dir() / "current.json"


def current() -> dict | None:
    try:
        return json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None


def current_task() -> tuple[Task, dict]:
    state = current()
    if not state:
        raise KjlabError("no practice task started", "kjlab practice list, then kjlab practice start TASK")
    return registry.get(state["task"]), state


def _save(state: dict) -> None:
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(path)


def _namespace_state(context: str, name: str) -> str:
    """'present', 'terminating' or 'gone'."""
    ns = namespaces._read(context, name)
    if ns is None:
        return "gone"
    return "terminating" if (ns.get("status") or {}).get("phase") == "Terminating" else "present"


def _clear(context: str, name: str, timeout: float = 90) -> None:
    """Delete the task's namespace (kjlab's own only) and wait until it has gone, so the next create
    does not reuse a namespace that is still terminating."""
    namespaces.delete_and_clear(context, name, timeout=timeout)
    if not wait.gone(kube.core(context).list_namespace, name, timeout):
        raise KjlabError(f"namespace {name} is still terminating after {timeout:.0f} s",
                         f"look with: kjlab kubectl get ns {name} -o yaml")


def prepare(context: str, task: Task) -> str:
    """A fresh namespace for ``task`` with its prepared objects; returns the namespace."""
    name = task.namespace()
    if task.cleanup:
        task.cleanup(context)
    _clear(context, name)
    namespaces.create(context, name=name)
    if task.setup:
        task.setup(View(context, name))
    return name


def start(task_id: str, context: str, engine: str | None = None) -> tuple[Task, dict]:
    task = registry.get(task_id)
    if engine and not task.runs_on(engine):
        raise KjlabError(f"task {task.id} does not run on the {engine} engine: {task.kind_only_reason}",
                         "kjlab up --engine kind, or pick another task: kjlab practice list")
    previous = current()
    if previous and previous.get("task") != task.id:
        try:
            old = registry.get(previous["task"])
        except KjlabError:
            old = None
        if old and old.cleanup:  # a cordon or taint of the last task must not change this one
            old.cleanup(context)
        # One task at a time: the last task's pods would otherwise sit on the nodes this one drains.
        if previous.get("namespace") and previous.get("context") == context:
            _clear(context, previous["namespace"])
    namespace = prepare(context, task)
    state = {"task": task.id, "namespace": namespace, "context": context, "started": time.time()}
    _save(state)
    return task, state


def reset(context: str) -> tuple[Task, dict]:
    task, state = current_task()
    prepare(context, task)
    state = {**state, "context": context, "started": time.time()}
    _save(state)
    return task, state


def check(context: str, task: Task | None = None, label: str = "practice",
          rebuild: str = "kjlab practice reset"):
    """Check the current task (or ``task``) on the cluster; returns the Verdict (not printed), recorded
    as ``<label>:<task>`` (the exam grades with label ``exam``; ``rebuild`` is its command that rebuilds
    a deleted namespace)."""
    if task is None:
        task, _ = current_task()
    name = task.namespace()
    started = time.monotonic()
    where = _namespace_state(context, name)
    if where != "present":
        verdict = Verdict(f"{label}:{task.id}", False, f"the task's namespace {name} is {where}",
                          [f"namespace {name} holds the task's objects; it was deleted"
                           + (" and is still being removed" if where == "terminating" else ""),
                           f"{rebuild} rebuilds it (the prepared objects come back; your work is gone)"])
    else:
        try:
            verdict = task.check(View(context, name))
        except Missing as e:
            verdict = Verdict(f"{label}:{task.id}", False, "an object the task asks for is missing", [str(e)])
        except KeyboardInterrupt:
            raise KjlabError("check interrupted: the check only reads the cluster, nothing was changed",
                             "kjlab practice check") from None
    verdict.exercise = f"{label}:{task.id}"
    verdict.evidence = {**verdict.evidence, "check_seconds": round(time.monotonic() - started, 2)}
    results.record(verdict)
    return verdict
