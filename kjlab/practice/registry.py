"""The task bank: every module under kjlab/practice/tasks/ registers its tasks with ``@task``
(one file per topic), so adding a task adds a file or a function, never an edit here."""

from __future__ import annotations

import importlib
import pkgutil

from kjlab.errors import KjlabError
from kjlab.practice.model import Task

TASKS: dict[str, Task] = {}
# The order `kjlab practice list` shows topics in (others follow, by name).
TOPICS = ("jobs", "cronjobs", "pods", "deployments", "disruptions")


def register(t: Task) -> Task:
    if t.id in TASKS:
        raise ValueError(f"two practice tasks are called {t.id}")
    TASKS[t.id] = t
    return t


_discovered = False


def _discover() -> None:
    """Import every task module once (a module imported before -- by a test -- is not registered twice:
    Python imports it once)."""
    global _discovered
    tasks = importlib.import_module("kjlab.practice.tasks")
    for m in pkgutil.iter_modules(tasks.__path__):
        if not m.name.startswith("_"):
            importlib.import_module(f"{tasks.__name__}.{m.name}")
    _discovered = True


def all_tasks() -> list[Task]:
    if not _discovered:
        _discover()
    rank = {t: i for i, t in enumerate(TOPICS)}
    return sorted(TASKS.values(), key=lambda t: (rank.get(t.topic, len(TOPICS)), t.topic))  # stable within a topic


def get(task_id: str) -> Task:
    all_tasks()
    if task_id not in TASKS:
        raise KjlabError(f"no practice task '{task_id}'", "kjlab practice list")
    return TASKS[task_id]


def for_engine(engine: str) -> tuple[list[Task], list[Task]]:
    """(tasks that run on ``engine``, tasks left out there) -- the left-out ones carry their reason."""
    tasks = all_tasks()
    return [t for t in tasks if t.runs_on(engine)], [t for t in tasks if not t.runs_on(engine)]
