"""Lab 11's waits are bounded by progress (issue 26 item 9): a slow cluster that still changes
is waited for, and said so; a namespace where nothing changes ends the wait at ``timeout``; one
that changes for ever ends at ``limit``. A session without a cluster: the recording is a stub."""

import threading
import time

import pytest

from fake_recorder import session_on
from kjlab.errors import KjlabError
from kjlab.labs.controllers import ControllerSession


def session(echo=False):
    return session_on(ControllerSession, "lab11-test", echo)


def changing(s, every: float, until: float):
    """A thread that signals a change every ``every`` s for ``until`` s (a slow cluster at work)."""
    def run():
        end = time.monotonic() + until
        while time.monotonic() < end:
            time.sleep(every)
            s.recorder.add({"kind": "pod", "name": "p", "t": 0})
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_a_slow_cluster_that_makes_progress_is_waited_for_and_said_so(capsys):
    s = session(echo=True)
    done_at = time.monotonic() + 1.6
    changing(s, 0.1, 2.0)
    s.wait_until(lambda rec: time.monotonic() >= done_at, "the replacement pod to run", timeout=0.5)
    out = capsys.readouterr().out
    assert "still waiting for the replacement pod to run" in out and "still making progress" in out, out


def test_nothing_changing_ends_the_wait_at_the_timeout():
    s = session()
    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        s.wait_until(lambda rec: False, "the replacement pod to run", timeout=0.4)
    assert time.monotonic() - started < 1.5
    assert "nothing changed in the namespace" in e.value.message


def test_changes_for_ever_end_at_the_limit():
    s = session()
    changing(s, 0.05, 3.0)
    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        s.wait_until(lambda rec: False, "the replacement pod to run", timeout=0.4, limit=1.0)
    assert 0.9 <= time.monotonic() - started < 2.0
    assert "kept changing but it did not happen" in e.value.message


def test_set_env_shows_the_kubectl_set_env_the_lab_taught(capsys, monkeypatch):
    """Issue 26 item 7: lab 11's text teaches `kubectl set env`; the cell shows that command (the
    same strategic merge of the container's env), not a `kubectl patch`."""
    from types import SimpleNamespace

    from kjlab.actions import ops
    from kjlab.api import kube

    sent = {}
    monkeypatch.setattr(ops, "guard", lambda *a, **k: None)
    monkeypatch.setattr(kube, "apps", lambda context: SimpleNamespace(patch_namespaced_deployment="patch"))
    monkeypatch.setattr(kube, "raw", lambda call, name, namespace, body, **kw: sent.update(body=body) or {})
    s = session(echo=True)
    s.recorder.step = lambda *a, **k: sent.update(step=a)
    s.set_env("api", "main", GREETING="bonjour")
    out = capsys.readouterr().out
    assert "kubectl set env deployment/api -c main GREETING=bonjour -n lab11-test" in out, out
    assert "deployment.apps/api env updated" in out and "kubectl patch" not in out
    assert sent["body"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "main", "env": [{"name": "GREETING", "value": "bonjour"}]}]
