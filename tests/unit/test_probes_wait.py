"""PodSession.wait is bounded by progress: a kubelet that keeps reporting (rows keep arriving) is
waited for past ``timeout``; a silent one fails after ``timeout``; the cap ends even a chatty one."""

import threading
import time

import pytest

from fake_recorder import session_on
from kjlab.errors import KjlabError
from kjlab.labs.probes import PodSession


def _session():
    return session_on(PodSession)


def _append_every(s, seconds, count, last=None):
    def run():
        for i in range(count):
            time.sleep(seconds)
            s.recorder.add(last if (last and i == count - 1) else {"kind": "pod", "name": f"p{i}", "t": i})
    threading.Thread(target=run, daemon=True).start()


def test_rows_arriving_keep_the_wait_going_past_its_timeout():
    s = _session()
    _append_every(s, 0.2, 8, last={"kind": "pod", "name": "done", "t": 9})  # 1.6 s of changes, timeout 0.6 s
    found = s.wait(lambda r: any(row["name"] == "done" for row in r.rows), "done", timeout=0.6, show=())
    assert found


def test_nothing_recorded_fails_after_timeout():
    s = _session()
    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        s.wait(lambda r: False, "a thing that never comes", timeout=0.5, show=())
    assert "nothing changed for 0 s" in e.value.message or "nothing changed for 1 s" in e.value.message
    assert 0.4 < time.monotonic() - started < 3


def test_the_cap_ends_a_wait_that_keeps_changing():
    s = _session()
    _append_every(s, 0.1, 60)
    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        s.wait(lambda r: False, "never", timeout=0.5, show=(), cap_factor=2)
    assert "1 s passed" in e.value.message
    assert time.monotonic() - started < 3
