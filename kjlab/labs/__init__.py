"""The labs' own code, one module per topic; each registers what it adds, so adding a lab adds a
file here (and its notebook) and changes no core module:

* ``@session("name")`` -- a factory the notebook reaches as ``lab.name(...)`` (kjlab.lab.Lab); it
  receives the Lab first (its ``context``, ``prefix``, ``engine``, ``namespace()``).
* ``@on_cleanup`` -- what ``lab.cleanup()`` / ``kjlab.cleanup()`` undoes besides the namespaces
  (node labels, a node left NotReady), called with ``(context, prefix)``.
* ``@controller("name")`` -- a controller ``kjlab controller NAME`` runs (a class taking
  ``(context, namespace)`` with ``start()``/``stop()``).
* the kinds its recordings watch beyond pods, Jobs and events: ``kjlab.runs.record.register_kind``.

This module names no lab: it imports every module of its folder (``_discover``), at the end.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

SESSIONS: dict[str, Callable] = {}
CLEANUPS: list[Callable[[str, str], None]] = []
CONTROLLERS: dict[str, type] = {}


def session(name: str):
    """Register ``fn(lab, *args, **kwargs)`` as the notebook's ``lab.<name>(*args, **kwargs)``."""
    def register(fn):
        if name in SESSIONS:
            raise ValueError(f"two labs register lab.{name}: {SESSIONS[name].__module__} and {fn.__module__}")
        SESSIONS[name] = fn
        return fn
    return register


def on_cleanup(fn: Callable[[str, str], None]) -> Callable[[str, str], None]:
    CLEANUPS.append(fn)
    return fn


def controller(name: str):
    def register(cls):
        CONTROLLERS[name] = cls
        return cls
    return register


def _discover() -> list:
    return [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)
            if not m.name.startswith("_")]


_MODULES = _discover()
