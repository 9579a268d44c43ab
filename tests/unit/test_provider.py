"""provider.for_context: how code outside kjlab/cluster/ learns what a context's kubelets can do."""

import pytest

from kjlab.actions import ops
from kjlab.cluster import provider, registry


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))


def test_the_recorded_engine_decides_then_the_context_name():
    registry.record("lab", "kwok", {})          # a context renamed by hand: kjlab's record still knows it
    assert provider.engine_of("lab") == "kwok" and not provider.for_context("lab").real
    registry.record("kind-kjlab", "kind", {})
    assert provider.engine_of("kind-kjlab") == "kind" and provider.for_context("kind-kjlab").real
    assert provider.engine_of("kwok-kjlab") == "kwok" and not provider.for_context("kwok-kjlab").real  # no record
    assert provider.engine_of("kwok-class") is None and provider.for_context("kwok-class").real  # not kjlab's


def test_the_not_simulated_warning_asks_the_provider(capsys):
    job = {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "bash", "command": ["bash", "-c", "exit $((40+2))"]}]}}}}
    registry.record("lab", "kwok", {})
    ops._warn_not_simulated("lab", job, echo=True, recorder=None)
    assert "container main runs" in capsys.readouterr().out
    ops._warn_not_simulated("kwok-class", job, echo=True, recorder=None)  # before: warned on any kwok-* name
    assert capsys.readouterr().out == ""


def test_no_engine_branch_outside_cluster():
    import re
    from pathlib import Path

    root = Path(provider.__file__).resolve().parents[1]
    branch = re.compile(r'(==|!=) ?"(kind|kwok)"|"(kind|kwok)" ?(==|!=)|startswith\("(kind|kwok)-?"\)|in \("(kind|kwok)"')
    found = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py") if "cluster" not in p.relative_to(root).parts[:1]
             for n, line in enumerate(p.read_text().splitlines(), 1) if branch.search(line)]
    assert found == []
