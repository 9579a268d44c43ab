"""scenarios.run takes its steps and options as two small frozen dataclasses; every keyword its
callers pass by name (the CLI, Lab.run, the checks, notebooks) still reaches the run as before."""

import pytest

from kjlab.runs import scenarios


@pytest.fixture
def captured(monkeypatch):
    seen = {}
    monkeypatch.setattr(scenarios, "guard", lambda *a, **k: None)
    monkeypatch.setattr(scenarios, "check_health", lambda context: None)
    monkeypatch.setattr(scenarios.namespaces, "fresh", lambda *a, **k: seen.setdefault("fresh", k))
    monkeypatch.setattr(scenarios.namespaces, "release", lambda name: None)
    monkeypatch.setattr(scenarios, "_run_in", lambda context, namespace, scenario, doc, plan, policy, options:
                        seen.update(namespace=namespace, plan=plan, options=options, doc=doc))
    return seen


def test_keywords_by_name_reach_the_plan_and_the_options(captured):
    scenarios.run("ignore", context="kwok-kjlab", echo=False, timeout=60, keep=True, patch_condition="ConfigIssue",
                  decided_when_waiting=("NotSimulated",))
    assert captured["plan"] == {"drain_when_running": True, "patch_condition": "ConfigIssue"}  # PLANS["ignore"] kept
    o = captured["options"]
    assert (o.echo, o.timeout, o.keep, o.decided_when_waiting) == (False, 60, True, ("NotSimulated",))
    assert captured["fresh"] == {"progress": None}  # a quiet run says nothing while making its namespace
    assert captured["namespace"] == "ignore-policy"


def test_a_step_given_overrides_the_example_plan_and_none_leaves_it(captured):
    scenarios.run("ignore", context="kwok-kjlab", drain_when_running=False, then_delete=None)
    assert captured["plan"] == {"drain_when_running": False}
    scenarios.run("failjob", context="kwok-kjlab", suspend_when_running=5, while_suspended={"spec": {}})
    assert captured["plan"] == {"suspend_when_running": 5, "while_suspended": {"spec": {}}}
    assert captured["options"] == scenarios.RunOptions()


def test_the_dataclasses_and_names_combine(captured):
    scenarios.run("failjob", context="kwok-kjlab", steps=scenarios.Steps(delete_when_running=True),
                  options=scenarios.RunOptions(echo=False), timeout=9)
    assert captured["plan"] == {"delete_when_running": True}
    assert (captured["options"].echo, captured["options"].timeout) == (False, 9)


def test_an_unknown_keyword_is_refused_as_before():
    with pytest.raises(TypeError, match="unexpected keyword argument 'dran_when_running'"):
        scenarios.run("failjob", dran_when_running=True)
