"""The package's old module names, kept working for one release: ``import kjlab.readers`` (or
``from kjlab import readers``) gives the very module that now lives at ``kjlab.api.readers`` -- the
same object, so attributes set on one are seen through the other. Nothing is imported until an
old name is asked for. New code imports the new names; notebooks may keep the old ones.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys

# old name -> where the module lives now
MOVED = {
    "kjlab.kube": "kjlab.api.kube",
    "kjlab.readers": "kjlab.api.readers",
    "kjlab.printers": "kjlab.api.printers",
    "kjlab.policy": "kjlab.api.policy",
    "kjlab.watch": "kjlab.api.watch",
    "kjlab.wait": "kjlab.api.wait",
    "kjlab.ops": "kjlab.actions.ops",
    "kjlab.namespaces": "kjlab.actions.namespaces",
    "kjlab.record": "kjlab.runs.record",
    "kjlab.result": "kjlab.runs.result",
    "kjlab.scenarios": "kjlab.runs.scenarios",
    "kjlab.dashboard_model": "kjlab.view.dashboard_model",
    "kjlab.progress": "kjlab.view.progress",
    "kjlab.cronjobs": "kjlab.labs.cronjobs",
    "kjlab.controllers": "kjlab.labs.controllers",
    "kjlab.controller": "kjlab.labs.config_issue",
    "kjlab.disruptions": "kjlab.labs.disruptions",
    "kjlab.probes": "kjlab.labs.probes",
    "kjlab.lifecycle": "kjlab.labs.lifecycle",
    "kjlab.selectors": "kjlab.labs.manual_selector",
    "kjlab.check": "kjlab.checks",
    "kjlab.sandbox": "kjlab.checks.sandbox",
    "kjlab.access": "kjlab.checks.access",
    "kjlab.answers": "kjlab.checks.answers",
    "kjlab.classroom.results": "kjlab.checks.verdicts",
    "kjlab.cluster.stages": "kjlab.cluster.kwok.stages",
    "kjlab.cluster.grammar": "kjlab.cluster.kwok.grammar",
    "kjlab.cluster.container_logs": "kjlab.cluster.kwok.container_logs",
    "kjlab.cluster.log_endpoint": "kjlab.cluster.kwok.log_endpoint",
}


class _OldNames:  # a meta path finder and its loader (not importlib.abc's classes: they cost 17 ms to import)
    """A finder for the old names: the module it "loads" is the one imported under the new name."""

    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name in MOVED else None

    def __init__(self):
        self._specs = {}

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        self._specs[spec.name] = module.__spec__  # the import system writes the old name's spec over it
        return module

    def exec_module(self, module):
        module.__spec__ = self._specs.pop(module.__spec__.name)


def install() -> None:
    if not any(isinstance(f, _OldNames) for f in sys.meta_path):
        sys.meta_path.append(_OldNames())
