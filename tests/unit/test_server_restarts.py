"""A learner whose classroom server was started again is told why, once (issue 29): the hub's
kjlab-results service reads their pod's lastState (GET .../server with their own token), kjlab.oom
says it at the next kjlab.Lab(). The service runs here as in the hub, over HTTP; the pods it is given
are API-shaped dicts (tests/kind/test_oom_on_kind.py feeds it a pod a real kubelet restarted)."""

import json
import threading
from http.server import ThreadingHTTPServer

import pytest

from kjlab import oom
from kjlab.classroom import verdict_service


def _pod(user, restarts=0, last=None, servername=None, name=None):
    notes = {"hub.jupyter.org/username": user, **({"hub.jupyter.org/servername": servername} if servername else {})}
    status = {"name": "notebook", "restartCount": restarts, "lastState": {"terminated": last} if last else {}}
    return {"metadata": {"name": name or f"jupyter-{user}", "annotations": notes},
            "status": {"containerStatuses": [status]}}


OOM = {"reason": "OOMKilled", "exitCode": 137, "startedAt": "2026-12-07T10:00:00Z", "finishedAt": "2026-12-07T10:05:00Z"}


def test_the_pod_is_found_by_the_annotation_that_names_the_user_as_is():
    pods = [_pod("ada@uni.edu", servername="second", name="jupyter-ada-40uni-2eedu--second"),
            _pod("ada@uni.edu", 1, OOM, name="jupyter-ada-40uni-2eedu"), _pod("bob")]
    found = verdict_service.server_pod(pods, "ada@uni.edu")
    assert found["metadata"]["name"] == "jupyter-ada-40uni-2eedu"  # the default server, not "second"
    assert verdict_service.server_restarts(found) == {"pod": "jupyter-ada-40uni-2eedu", "restarts": 1, "last": OOM}
    assert verdict_service.server_restarts(verdict_service.server_pod(pods, "bob"))["last"] is None
    assert verdict_service.server_restarts(verdict_service.server_pod(pods, "eve")) == {
        "pod": None, "restarts": 0, "last": None}


def test_the_line_is_said_once_per_ended_run_and_names_the_cause():
    answer = {"pod": "jupyter-ada", "restarts": 1, "last": OOM}
    line = oom.restart_news(None, answer, 2 * 2**30)
    assert "ran out of memory at 2026-12-07 10:05:00 UTC" in line and "(2.0 GiB)" in line and "OOMKilled" in line
    assert oom.restart_news({"pod": "jupyter-ada", "finishedAt": OOM["finishedAt"]}, answer) is None
    later = {**OOM, "finishedAt": "2026-12-07T11:00:00Z", "reason": "Error", "exitCode": 1}
    other = oom.restart_news({"pod": "jupyter-ada", "finishedAt": OOM["finishedAt"]}, {**answer, "last": later})
    assert "reason Error, exit code 1" in other and "memory" not in other
    # a new pod (culled, then started again) with the same times is another run
    assert oom.restart_news({"pod": "jupyter-ada-old", "finishedAt": OOM["finishedAt"]}, answer) is not None
    assert oom.restart_news(None, {"pod": "jupyter-ada", "restarts": 0, "last": None}) is None


@pytest.fixture
def service(tmp_path):
    pods = [_pod("ada", 1, OOM), _pod("bob")]
    servers = []

    def start(list_pods):
        server = ThreadingHTTPServer(("127.0.0.1", 0), verdict_service.handler(
            tmp_path, {"tok-ada": "ada", "tok-bob": "bob"}.get, list_pods))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/services/kjlab-results/verdict"

    yield start, pods
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_learner_asks_with_their_token_and_hears_of_their_own_pod_once(service, tmp_path):
    start, pods = service
    url = start(lambda: pods)
    record = tmp_path / "state" / "server-restarts.json"
    line = oom.restarts_since_last_look(record, url, "tok-ada")
    assert line is not None and "OOMKilled" in line
    assert json.loads(record.read_text()) == {"pod": "jupyter-ada", "finishedAt": OOM["finishedAt"]}
    assert oom.restarts_since_last_look(record, url, "tok-ada") is None  # said once
    assert oom.restarts_since_last_look(tmp_path / "bob.json", url, "tok-bob") is None  # bob's pod never restarted
    assert oom.restarts_since_last_look(tmp_path / "x.json", url, "forged") is None  # 403: nothing said
    assert oom.ask_hub(url[:-len("verdict")] + "server", "forged") is None
    assert oom.restarts_since_last_look(tmp_path / "y.json", None, None) is None  # not in a hub pod


def test_a_hub_without_pods_or_api_answers_and_the_learner_is_told_nothing(service, tmp_path):
    start, _ = service
    import urllib.error
    import urllib.request

    for list_pods, code in ((None, 501), (lambda: (_ for _ in ()).throw(OSError("connection refused")), 502)):
        url = start(list_pods)
        server_url = url[:-len("verdict")] + "server"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(server_url, headers={"Authorization": "token tok-ada"}))
        assert refused.value.code == code
        assert oom.restarts_since_last_look(tmp_path / f"{code}.json", url, "tok-ada") is None


def test_the_service_gets_what_it_needs_to_read_pods_and_nothing_else_of_the_hubs_environment():
    from kjlab.classroom import k8s_hub

    services, _ = k8s_hub.services_and_roles({}, python="py", environ={
        "POD_NAMESPACE": "class", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
        "CONFIGPROXY_AUTH_TOKEN": "secret"})
    env = next(s for s in services if s["name"] == "kjlab-results")["environment"]
    assert env == {"KJLAB_HUB_DATA_DIR": str(k8s_hub.DATA_DIR), "POD_NAMESPACE": "class",
                   "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def test_a_kill_without_the_oom_reason_is_named_as_a_kill_and_other_ends_as_they_are():
    killed = oom.restart_news(None, {"pod": "p", "last": {**OOM, "reason": "Error"}})
    assert "reason Error, exit code 137" in killed and "killed (exit code 137, SIGKILL)" in killed
    sticky = oom.restart_news(None, {"pod": "p", "last": {**OOM, "exitCode": 1}})  # a child's OOM marks the container
    assert "reason OOMKilled, exit code 1" in sticky and "SIGKILL" not in sticky
