"""kwok's create runs what needs no ready API server (the log endpoint) while it waits for
/readyz (issue 27), and an error there still ends `up` in its own thread."""

import threading

import pytest

from kjlab.cluster import kwok
from kjlab.errors import KjlabError


@pytest.fixture
def quiet_kwokctl(monkeypatch, tmp_path):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path / "state"))
    monkeypatch.setattr(kwok, "kwokctl_config", lambda *a, **k: "")
    monkeypatch.setattr(kwok, "_run", lambda *a, **k: None)
    monkeypatch.setattr(kwok, "_listening_ports", lambda: {})  # kwokctl's kwok.yaml: no kwokctl ran
    started = threading.Event()
    # /readyz turns ready only once the helper has started: run one after the other, this waits out
    # its 5 s and create fails
    monkeypatch.setattr(kwok, "_wait_ready", lambda timeout: started.wait(5) or pytest.fail("ran in sequence"))
    return started


def test_the_helper_runs_during_the_readyz_wait_and_its_result_comes_back(quiet_kwokctl, tmp_path):
    def helper():
        quiet_kwokctl.set()
        return 4242

    said = []
    assert kwok.create(tmp_path / "bin", 1.0, said.append, while_waiting=helper) == 4242
    assert said == ["  the API server is ready"]


def test_an_error_in_the_helper_is_raised_by_create(quiet_kwokctl, tmp_path):
    def helper():
        quiet_kwokctl.set()
        raise KjlabError("the kwok cluster's log endpoint did not start", "kjlab down, then kjlab up again")

    with pytest.raises(KjlabError, match="log endpoint did not start"):
        kwok.create(tmp_path / "bin", 1.0, lambda _m: None, while_waiting=helper)
