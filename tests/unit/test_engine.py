import pytest

from kjlab.cluster import kind
from kjlab.cluster.engine import choose_engine
from kjlab.cluster.kind.image_state import node_image_state
from kjlab.cluster.names import context_for
from kjlab.errors import KjlabError


@pytest.mark.parametrize("requested,docker,expected", [
    ("auto", True, "kind"),
    ("auto", False, "kwok"),
    ("kwok", True, "kwok"),
    ("kwok", False, "kwok"),
    ("kind", True, "kind"),
])
def test_choose_engine(requested, docker, expected):
    assert choose_engine(requested, docker) == expected


def test_kind_without_docker_says_how_to_fix():
    with pytest.raises(KjlabError) as e:
        choose_engine("kind", False)
    assert "Docker" in e.value.message
    assert "--engine kwok" in e.value.fix


def test_unknown_engine():
    with pytest.raises(KjlabError) as e:
        choose_engine("minikube", True)
    assert "minikube" in e.value.message and "kind" in e.value.message


def test_context_names_match_the_tools():
    assert context_for("kind") == "kind-kjlab"
    assert context_for("kwok") == "kwok-kjlab"


def _fake_kind(monkeypatch, tmp_path, *, docker=True, kind_found=True, go=True, published=False, offline=False):
    from kjlab.cluster import engine, kind

    monkeypatch.setattr(engine, "docker_available", lambda timeout=5.0: docker)
    path = tmp_path / "kind" if kind_found else None
    monkeypatch.setattr(kind, "find_kind", lambda: kind.KindBinary(path, "tools cache" if path else "", "v0.33.0" if path else None,
                                                                    problem="" if path else "kind v0.33.0 is not built yet"))
    monkeypatch.setattr(engine.shutil, "which", lambda name: "/usr/bin/go" if (name == "go" and go) else None)
    monkeypatch.setattr(kind, "_go_present", lambda: go)
    monkeypatch.setattr(kind, "image_present", lambda ref: (published and ref.startswith("kindest/")) or
                        (offline and ref.startswith("kjlab.local/")))
    monkeypatch.setattr(kind, "offline_node_image", lambda: "kjlab.local/kind-node:v1.36.4-test")


def test_auto_picks_kind_when_it_can_run_and_says_why(monkeypatch, tmp_path):
    from kjlab.cluster import engine

    _fake_kind(monkeypatch, tmp_path, offline=True)
    chosen, why = engine.decide("auto")
    assert chosen == "kind" and why.startswith("engine: kind (") and "offline node image is in Docker" in why


def test_auto_picks_kwok_without_docker_and_says_why(monkeypatch, tmp_path):
    from kjlab.cluster import engine

    _fake_kind(monkeypatch, tmp_path, docker=False)
    chosen, why = engine.decide("auto")
    assert chosen == "kwok" and "no Docker engine answers" in why


def test_auto_picks_kwok_when_docker_answers_but_kind_is_missing_and_go_too(monkeypatch, tmp_path):
    from kjlab.cluster import engine

    _fake_kind(monkeypatch, tmp_path, kind_found=False, go=False)
    chosen, why = engine.decide("auto")
    assert chosen == "kwok" and "Docker answers, but kind v0.33.0 is not built yet and Go is missing" in why
    with pytest.raises(KjlabError) as e:
        engine.decide("kind")
    assert "cannot run here" in e.value.message and "\n" not in e.value.message and "--engine kwok" in e.value.fix


def test_kind_without_go_still_runs_when_the_image_may_be_pulled(monkeypatch, tmp_path):
    from kjlab.cluster import engine

    _fake_kind(monkeypatch, tmp_path, go=False)
    chosen, why = engine.decide("auto")
    assert chosen == "kind" and "will be pulled (Go is missing: no offline build)" in why


@pytest.mark.parametrize("present, possible, source", [
    ({"pub"}, True, "published"), ({"off"}, False, "offline"), (set(), True, "pull-or-build"), (set(), False, "pull-only")])
def test_one_node_image_decision_for_up_and_doctor(monkeypatch, present, possible, source):
    monkeypatch.setattr(kind, "published_node_image", lambda: "pub")
    monkeypatch.setattr(kind, "offline_node_image", lambda: "off")
    monkeypatch.setattr(kind, "offline_build_possible", lambda: (possible, "" if possible else "go is missing"))
    monkeypatch.setattr(kind, "image_present", lambda image: image in present)
    state = node_image_state()
    assert state.source == source and state.published == "pub"
    assert state.missing == ("" if possible else "go is missing") or source in ("published", "offline")
