"""Namespace names: what a run refuses before it makes any API call."""

import threading
import time

import pytest

from kjlab.api import holders, kube
from kjlab.actions import namespaces
from kjlab.errors import KjlabError


@pytest.fixture
def no_api(monkeypatch):
    """Any API call fails the test: these refusals must come first."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("an API call was made")
    monkeypatch.setattr(kube, "core", refuse)
    monkeypatch.setattr(kube, "api_client", refuse)


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease", "kube-anything",
                                  "local-path-storage"])
def test_system_namespaces_are_refused_before_any_api_call(no_api, name):
    for call in (lambda: namespaces.delete("kwok-kjlab", name), lambda: namespaces.fresh("kwok-kjlab", name),
                 lambda: namespaces.create("kwok-kjlab", name=name)):
        with pytest.raises(KjlabError) as e:
            call()
        assert e.value.message == f"refusing to use the system namespace '{name}' for a run: a run deletes its namespace"
        assert "--namespace" in e.value.fix


@pytest.mark.parametrize("name", ["MyProject", "a" * 64, "under_score", "-lead", "trail-", "dots.are.dns"])
def test_names_the_api_would_reject_are_one_line(no_api, name):
    with pytest.raises(KjlabError) as e:
        namespaces.fresh("kwok-kjlab", name)
    assert "is not a valid namespace name" in e.value.message and "\n" not in e.value.message


def test_a_63_character_name_is_fine():
    namespaces.check_name("a" * 63)


def _holding(name: str, stopped: threading.Event, release: threading.Event, stoppable: bool):
    """A thread that holds ``name`` like a run, until ``release`` (or a stop, when stoppable)."""
    def run():
        namespaces._hold(name)
        try:
            release.wait(30)
        finally:
            namespaces.release(name)
            namespaces.stoppable(threading.current_thread(), None)

    t = threading.Thread(target=run, daemon=True)

    def stop():
        stopped.set()
        release.set()
        t.join(5)

    if stoppable:
        namespaces.stoppable(t, stop)
    t.start()
    for _ in range(100):
        if namespaces._held.get(name) is t:
            break
        time.sleep(0.01)
    return t


def test_a_namespace_held_by_a_run_of_this_process_is_refused(no_api):
    stopped, release = threading.Event(), threading.Event()
    _holding("busy-run", stopped, release, stoppable=False)
    try:
        with pytest.raises(KjlabError) as e:
            namespaces.fresh("kwok-kjlab", "busy-run")
        assert "in use by another run in this process" in e.value.message
        assert not stopped.is_set()
    finally:
        release.set()
    for _ in range(100):
        if "busy-run" not in namespaces._held:
            break
        time.sleep(0.01)
    assert "busy-run" not in namespaces._held


def test_a_background_run_holding_the_namespace_is_stopped_and_taken_over():
    """An interrupted cell left its background run going: the cell run again stops it and holds
    the name itself, and the stopped run's late release does not free it."""
    stopped, release = threading.Event(), threading.Event()
    old = _holding("taken-over", stopped, release, stoppable=True)
    said = []
    namespaces._hold("taken-over", progress=said.append)
    try:
        assert stopped.is_set() and not old.is_alive()
        assert namespaces._held.get("taken-over") is threading.current_thread()
        assert said and "stopping the earlier background run in namespace taken-over" in said[0]
    finally:
        namespaces.release("taken-over")
    assert "taken-over" not in namespaces._held


def test_holders(monkeypatch):
    import os
    import socket

    host = socket.gethostname()
    assert not holders.alive_elsewhere("")
    assert not holders.alive_elsewhere(f"{host}/{os.getpid()}")
    assert holders.alive_elsewhere(f"{host}/1")                  # init runs: another live process
    assert holders.alive_elsewhere(f"another-{host}/{os.getpid()}")  # cannot check: refuse
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    assert not holders.alive_elsewhere(f"{host}/{dead}")


@pytest.mark.parametrize("name", ["kube-system", "default", "kube-node-lease"])
def test_the_config_issue_controller_refuses_a_system_namespace_before_any_request(no_api, name):
    from kjlab.labs.config_issue import ConfigIssueController

    with pytest.raises(KjlabError) as e:
        ConfigIssueController("kwok-kjlab", name, echo=False).start()
    assert f"refusing to run the config-issue controller (it deletes pods) in the system namespace '{name}'" in e.value.message


def test_the_config_issue_controller_acts_only_on_a_jobs_pods():
    from kjlab.labs.config_issue import ConfigIssueController

    stuck = {"status": {"containerStatuses": [{"name": "main", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}
    ctl = ConfigIssueController("kwok-kjlab", "some-run", echo=False)
    bare = {**stuck, "metadata": {"name": "mine"}}
    of_a_job = {**stuck, "metadata": {"name": "job-x", "ownerReferences": [{"kind": "Job", "name": "x", "controller": True}]}}
    of_a_replicaset = {**stuck, "metadata": {"name": "rs-x", "ownerReferences": [{"kind": "ReplicaSet", "name": "x", "controller": True}]}}
    assert ctl.stuck(of_a_job)
    assert not ctl.stuck(bare) and not ctl.stuck(of_a_replicaset)


def _namespace(holder: str, deleting: bool = False) -> dict:
    meta = {"name": "lab14-api", "labels": {**namespaces.MANAGED_BY, namespaces.RUN_LABEL: "abc123"},
            "annotations": {namespaces.HOLDER_ANNOTATION: holder}}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-06T17:00:00Z"
    return {"metadata": meta}


def test_left_by_an_earlier_run_is_said_only_of_another_process(monkeypatch):
    """Issue 26 (tour, low): lab 14's api_answers printed "deleting namespace lab14-api left by an
    earlier run" in a first run: the namespace was made minutes before by the same notebook
    (dry_run_jobs uses it too). Only a namespace another process made was left by an earlier run."""
    monkeypatch.setattr(holders.socket, "gethostname", lambda: "host")
    monkeypatch.setattr(holders.os, "getpid", lambda: 100)
    mine = namespaces.leftover_note("lab14-api", _namespace("host/100"))
    assert "earlier run" not in mine and "earlier step in this process" in mine
    assert namespaces.leftover_note("lab14-api", _namespace("host/99")) == \
        "deleting namespace lab14-api left by an earlier run"
    assert "left by an earlier run" in namespaces.leftover_note("lab14-api", _namespace(""))
    going = namespaces.leftover_note("lab14-api", _namespace("host/99", deleting=True))
    assert "already being deleted" in going and "earlier run" not in going


def test_fresh_says_what_it_deletes(monkeypatch):
    said, deleted = [], []
    monkeypatch.setattr(namespaces, "_read", lambda context, name: _namespace(holders.me()))
    monkeypatch.setattr(namespaces, "delete", lambda context, name: deleted.append(name))
    monkeypatch.setattr(namespaces.wait, "gone", lambda *a, **k: True)
    monkeypatch.setattr(namespaces.kube, "core", lambda context: type("Core", (), {"list_namespace": None}))
    monkeypatch.setattr(namespaces, "create", lambda context, name: name)
    assert namespaces.fresh("kwok-kjlab", "lab14-api", progress=said.append) == "lab14-api"
    namespaces.release("lab14-api")
    assert deleted == ["lab14-api"] and said == [namespaces.leftover_note("lab14-api", _namespace(holders.me()))]
    assert "earlier run" not in said[0]
