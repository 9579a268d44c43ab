import pytest

from kjlab.cluster.engine import choose_engine, context_for
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
