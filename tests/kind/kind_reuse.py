"""Load a helper from a test module of another folder by path (tests/cluster and tests/notebooks are
not packages). The tests that run on both engines are not loaded here: they carry
``pytest.mark.engines("kwok", "kind")`` and ``pytest --engine kind`` selects them where they are."""

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
