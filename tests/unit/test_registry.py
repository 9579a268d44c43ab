import pytest

from kjlab.cluster import registry
from kjlab.errors import KjlabError


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    monkeypatch.delenv("KJLAB_ALLOW_CONTEXT", raising=False)


def test_record_and_forget():
    entry = registry.record("kwok-kjlab", "kwok", {"workers": 2})
    assert registry.entry("kwok-kjlab")["uid"] == entry["uid"]
    registry.forget("kwok-kjlab")
    assert registry.entry("kwok-kjlab") is None


def test_guard_refuses_an_unknown_context_and_names_the_opt_in():
    with pytest.raises(KjlabError) as e:
        registry.guard("prod-cluster", "drain node worker-1")
    assert "refusing to drain node worker-1 on context 'prod-cluster'" in e.value.message
    assert "KJLAB_ALLOW_CONTEXT=prod-cluster" in e.value.fix


def test_opt_in_is_per_context(monkeypatch):
    monkeypatch.setenv("KJLAB_ALLOW_CONTEXT", "other")
    with pytest.raises(KjlabError):
        registry.guard("prod-cluster", "delete pod x")
    registry.guard("prod-cluster", "delete pod x", allow_context="prod-cluster")
