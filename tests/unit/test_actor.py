"""One Actor instead of context, namespace, echo, recorder and allow_context on every op call; the
old positional and keyword calls keep working."""

import inspect

import pytest

from kjlab.actions import ops
from kjlab.actions.actor import CARRIED, Actor, acts
from kjlab.errors import KjlabError


@acts
def _namespaced(context, namespace, pod, grace=None, echo=True, recorder=None, allow_context=None):
    return dict(context=context, namespace=namespace, pod=pod, grace=grace, echo=echo, recorder=recorder,
                allow_context=allow_context)


@acts
def _on_node(context, node, echo=True):
    return dict(context=context, node=node, echo=echo)


def test_an_actor_fills_in_what_it_carries():
    rec = object()
    got = _namespaced(Actor("ctx", "ns", echo=False, recorder=rec, allow_context="other"), "p", grace=3)
    assert got == dict(context="ctx", namespace="ns", pod="p", grace=3, echo=False, recorder=rec, allow_context="other")


def test_a_keyword_in_the_call_wins_over_the_actor():
    assert _namespaced(Actor("ctx", "ns", echo=True), "p", echo=False)["echo"] is False


def test_the_old_call_is_unchanged():
    assert _namespaced("ctx", "ns", "p", echo=False) == dict(context="ctx", namespace="ns", pod="p", grace=None,
                                                            echo=False, recorder=None, allow_context=None)


def test_an_op_without_a_namespace_takes_only_the_context_and_the_keywords_it_has():
    assert _on_node(Actor("ctx", "ns", echo=False), "worker") == dict(context="ctx", node="worker", echo=False)


def test_a_namespaced_op_refuses_an_actor_without_a_namespace():
    with pytest.raises(KjlabError, match="names none"):
        _namespaced(Actor("ctx"), "p")


def test_every_op_that_takes_the_keywords_accepts_an_actor():
    takes = [name for name, fn in vars(ops).items() if inspect.isfunction(fn) and not name.startswith("_")
             and fn.__module__ == ops.__name__ and set(CARRIED) & set(inspect.signature(fn).parameters)]
    assert len(takes) >= 19
    assert not [name for name in takes if not hasattr(getattr(ops, name), "__wrapped__")], "ops without @acts"
