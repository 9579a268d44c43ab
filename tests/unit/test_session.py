"""The one recorded session (kjlab/runs/session.py) on a recorder without a cluster: its wait reads
the recording as rows arrive and returns what the predicate found; the labs' sessions are it."""

import threading
import time

import pytest

from fake_recorder import session_on
from kjlab.errors import KjlabError
from kjlab.labs.controllers import ControllerSession
from kjlab.labs.cronjobs import CronSession
from kjlab.labs.disruptions import Disruptions
from kjlab.labs.probes import PodSession
from kjlab.runs.session import Session


def _pod(name, ready, labels=None):
    return {"metadata": {"name": name, "labels": labels or {"app": "web"}},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _later(s, seconds, rows):
    def run():
        for row in rows:
            time.sleep(seconds)
            s.recorder.add(row)
    threading.Thread(target=run, daemon=True).start()


def test_every_lab_session_is_the_one_session():
    for cls in (ControllerSession, CronSession, Disruptions, PodSession):
        assert issubclass(cls, Session)
        assert "wait" not in vars(cls) or cls is PodSession  # PodSession only names its defaults
        assert "now" not in vars(cls) and "_listen" not in vars(cls)


def test_wait_returns_what_the_predicate_found_once_the_row_arrives(capsys):
    s = session_on(Session, echo=True)
    _later(s, 0.2, [{"kind": "pod", "name": "a", "t": 0.2}])
    found = s.wait(lambda r: next((row["name"] for row in r.rows if row["kind"] == "pod"), None), "pod a", timeout=5)
    out = capsys.readouterr().out
    assert found == "a"
    assert "waiting for pod a (while the namespace changes; it gives up after 5 s without a change" in out
    assert "  ... after 0 s" in out


def test_a_quiet_session_says_nothing_and_times_out_by_progress(capsys):
    s = session_on(Session, echo=False)
    with pytest.raises(KjlabError) as e:
        s.wait(lambda r: False, "a thing", timeout=0.3)
    assert "nothing changed in the namespace" in e.value.message
    assert capsys.readouterr().out == ""


def test_disruptions_wait_ready_counts_ready_pods_with_the_label(capsys):
    s = session_on(Disruptions, echo=True)
    s.engine = "kwok"
    rows = [{"kind": "pod", "name": f"web-{i}", "event": "MODIFIED", "t": i, "object": _pod(f"web-{i}", True)}
            for i in range(2)]
    rows.append({"kind": "pod", "name": "other", "event": "MODIFIED", "t": 3, "object": _pod("other", True, {"app": "x"})})
    rows.append({"kind": "pod", "name": "web-2", "event": "MODIFIED", "t": 4, "object": _pod("web-2", True)})
    _later(s, 0.1, rows)
    s.wait_ready("app=web", 3, timeout=5)
    assert len(s.recorder.rows) == 4  # it waited for the third web pod, not for the unrelated one
    assert "waiting for 3 ready pods (app=web) (at most 5 s) ..." in capsys.readouterr().out


def test_disruptions_wait_ready_times_out_in_its_own_words():
    s = session_on(Disruptions)
    s.recorder.add({"kind": "pod", "name": "web-0", "event": "ADDED", "t": 0, "object": _pod("web-0", False)})
    with pytest.raises(KjlabError) as e:
        s.wait_ready("app=web", 1, timeout=0.3)
    assert e.value.message == "timed out waiting for 1 ready pods (app=web)"


def test_a_quiet_namespace_on_a_whole_control_plane_is_waited_on_to_the_limit(capsys):
    """Nothing recorded for `timeout` s while every component runs (a loaded machine): the wait goes
    on, says so, and returns when the row comes; a cluster kjlab does not know still gives up."""
    s = session_on(Session, echo=True)
    s.control_plane_problems = lambda: []
    _later(s, 0.8, [{"kind": "pod", "name": "late", "t": 0.8}])
    found = s.wait(lambda r: next((row["name"] for row in r.rows if row["kind"] == "pod"), None), "pod late",
                   timeout=0.3, limit=5)
    assert found == "late"
    assert "every control-plane component runs: a busy machine" in capsys.readouterr().out


def test_a_dead_component_ends_a_quiet_wait_with_its_name():
    s = session_on(Session, echo=False)
    s.control_plane_problems = lambda: ["not running: kube-controller-manager"]
    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        s.wait(lambda r: False, "a thing", timeout=0.3, limit=30)
    assert time.monotonic() - started < 5
    assert "not whole: not running: kube-controller-manager" in e.value.message and "kjlab up" in e.value.fix
