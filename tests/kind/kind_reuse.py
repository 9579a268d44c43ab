"""Load a test module of the kwok suite by path, so the kind suite runs the very same test
functions (pytest resolves their fixtures from tests/kind: ``lab`` is the kind cluster there)."""

import importlib.util
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def load(relative: str):
    path = TESTS / relative
    name = "kjlab_kind_reuse_" + relative.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reused_tests(module, skip=()):
    """The module's test functions (and their parametrize marks), minus ``skip``."""
    return {name: obj for name, obj in vars(module).items()
            if name.startswith("test_") and callable(obj) and name not in skip}
