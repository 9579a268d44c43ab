"""kjlab: a hands-on lab on how Kubernetes Jobs handle pod failures, on a real control plane.

Notebooks start with ``lab = kjlab.Lab(CONTEXT, NAMESPACE, fast=FAST)`` (see kjlab.lab); the CLI
is ``kjlab`` (see ``kjlab --help``).

Attributes load on first use, so ``import kjlab`` (and the CLI, which imports only what a command
needs) stays cheap: the kubernetes client, pandas and the widgets come in when a notebook asks.
"""

from __future__ import annotations

import importlib

from kjlab import aliases as _aliases
from kjlab.errors import KjlabError
from kjlab.interrupts import install_in_ipython as _install_in_ipython

__version__ = "0.1.0"

# name -> (module, attribute or None for the module itself)
_LAZY = {
    "Lab": ("kjlab.lab", "Lab"),
    "connect": ("kjlab.lab", "connect"),
    "cleanup": ("kjlab.lab", "cleanup"),
    "kubectl": ("kjlab.lab", "kubectl"),
    "run": ("kjlab.runs.scenarios", "run"),
    "compare": ("kjlab.runs.result", "compare"),
    "RunResult": ("kjlab.runs.result", "RunResult"),
    "ConfigIssueController": ("kjlab.labs.config_issue", "ConfigIssueController"),
    "show_comparison": ("kjlab.widgets", "show_comparison"),
    "show_timeline": ("kjlab.widgets", "show_timeline"),
    "explain_empty": ("kjlab.view.tables", "explain_empty"),
    # modules, by their old names too (a notebook's `kjlab.policy`, `kjlab.probes` ...: every moved one)
    **{name: (_aliases.MOVED.get(f"kjlab.{name}", f"kjlab.{name}"), None) for name in (
        "check", "cluster", "examples", "exercises", "quiz", "widgets",
        *(old.split(".", 1)[1] for old in _aliases.MOVED if old.count(".") == 1))},
}

__all__ = ["KjlabError", "__version__", *_LAZY]

_aliases.install()  # the modules' old names (kjlab.readers, kjlab.check, ...) still import


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'kjlab' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    if attribute:
        value = getattr(value, attribute)
    globals()[name] = value  # next time a plain attribute
    return value


def __dir__():
    return sorted(__all__)


_install_in_ipython()
