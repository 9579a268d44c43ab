"""kjlab.api.watch.follow against a scripted fake of a list call: the one place the watch's fault
handling (dropped, expired, duplicated, refused, stopped) is tested without a cluster."""

import json
import threading

import pytest
import urllib3
from kubernetes import client

from kjlab.api import watch
from kjlab.errors import KjlabError


def pod(name, rv, uid=None):
    return {"kind": "Pod", "metadata": {"name": name, "uid": uid or f"uid-{name}", "resourceVersion": str(rv)}}


def listing(rv, *items):
    return {"kind": "PodList", "metadata": {"resourceVersion": str(rv)}, "items": list(items)}


def event(type_, obj):
    return {"type": type_, "object": obj}


EXPIRED = event("ERROR", {"kind": "Status", "status": "Failure", "reason": "Expired", "code": 410,
                          "message": "too old resource version"})


class Response:
    """What a call with _preload_content=False returns: the list's body, or a watch stream that
    arrives in small chunks (lines split across them) and may break after its lines."""

    def __init__(self, body=None, lines=(), breaks=None):
        self.data = json.dumps(body).encode() if body is not None else b""
        self.lines, self.breaks = lines, breaks
        self.closed = False

    def stream(self, amt=None, decode_content=False):
        data = b"".join(json.dumps(line).encode() + b"\n" for line in self.lines)
        for i in range(0, len(data), 7):
            yield data[i:i + 7]
        if self.breaks:
            raise self.breaks

    def close(self):
        self.closed = True

    def release_conn(self):
        pass


class FakeList:
    """A list function (list_namespaced_pod's signature) that plays a script: each call takes
    the next step, an exception to raise or a Response; lists and watches are told apart."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls = []
        self.responses = []

    def __call__(self, namespace, **kwargs):
        assert kwargs.pop("_preload_content") is False, "objects must stay raw dicts"
        is_watch = bool(kwargs.get("watch"))
        self.calls.append(("watch" if is_watch else "list", kwargs.get("resource_version")))
        assert namespace == "ns" and kwargs.get("label_selector") == "app=x"
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        kind, response = step
        assert kind == ("watch" if is_watch else "list"), f"expected a {kind} call, got {self.calls[-1]}"
        self.responses.append(response)
        return response


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(watch, "_now", lambda: now[0])
    monkeypatch.setattr(watch, "_sleep", lambda s: now.__setitem__(0, now[0] + s))
    return now


def seen(changes):
    return [(c.type, c.object["metadata"]["name"], c.object["metadata"]["resourceVersion"],
             "listed" if c.listed else "", "vanished" if c.vanished else "") for c in changes]


def test_no_change_is_lost_or_doubled_through_every_fault(clock):
    refused = urllib3.exceptions.MaxRetryError(None, "/api/v1/pods", ConnectionRefusedError(111, "refused"))
    fake = FakeList(
        refused, ConnectionRefusedError(111, "refused"),  # the API server is restarting
        ("list", Response(listing(10, pod("a", 1), pod("b", 2)))),
        # the connection drops mid-stream, after a duplicated event
        ("watch", Response(lines=[event("MODIFIED", pod("a", 11)), event("MODIFIED", pod("a", 11)),
                                  event("ADDED", pod("c", 12))],
                           breaks=urllib3.exceptions.ProtocolError("Connection broken"))),
        # resumes from 12; a bookmark moves the resourceVersion on; then the watch expires (ERROR event)
        ("watch", Response(lines=[{"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "13"}}},
                                  event("MODIFIED", pod("c", 14)), EXPIRED])),
        # re-list: a unchanged, c changed meanwhile, d new, b deleted while the watch was down
        ("list", Response(listing(20, pod("a", 11), pod("c", 15), pod("d", 16)))),
        client.ApiException(status=410, reason="Gone"),  # expired as the call's status this time
        ("list", Response(listing(21, pod("a", 11), pod("c", 15), pod("d", 16)))),
        ("watch", Response(lines=[event("DELETED", pod("d", 22)), event("DELETED", pod("d", 22)),
                                  event("DELETED", pod("b", 23))])),  # b's late deletion was reported already
        client.ApiException(status=503, reason="Service Unavailable"),
        ("watch", Response(lines=[event("ADDED", pod("e", 24)), event("MODIFIED", pod("e", 25))])),
    )
    stop, listed = threading.Event(), threading.Event()
    follow = watch.follow(fake, "ns", stop=stop, listed=listed, label_selector="app=x")
    changes = []
    for change in follow:
        changes.append(change)
        assert listed.is_set() or change.listed  # set once the first list has been handed over
        if change.object["metadata"]["name"] == "e":
            stop.set()

    assert seen(changes) == [
        ("ADDED", "a", "1", "listed", ""), ("ADDED", "b", "2", "listed", ""),
        ("MODIFIED", "a", "11", "", ""), ("ADDED", "c", "12", "", ""),
        ("MODIFIED", "c", "14", "", ""),
        ("MODIFIED", "c", "15", "listed", ""), ("ADDED", "d", "16", "listed", ""), ("DELETED", "b", "2", "listed", "vanished"),
        ("DELETED", "d", "22", "", ""),
        ("ADDED", "e", "24", "", ""),
    ]
    assert fake.calls == [("list", None)] * 3 + [("watch", "10"), ("watch", "12"), ("list", None), ("watch", "20"),
                                                   ("list", None), ("watch", "21"), ("watch", "23"), ("watch", "23")]
    assert follow.restarts == 6  # 2 refused, dropped, expired twice, 503
    assert all(r.closed for r in fake.responses if r.lines or r.breaks)
    assert not fake.steps


def test_api_server_gone_for_a_minute_ends_in_one_line(clock):
    fake = FakeList(*[ConnectionRefusedError(111, "refused")] * 500)
    with pytest.raises(KjlabError) as e:
        list(watch.follow(fake, "ns", what="pod p to run", label_selector="app=x"))
    assert "stopped answering while kjlab waited for pod p to run" in e.value.message
    assert "\n" not in e.value.message and "kjlab up" in e.value.fix
    assert watch.API_GONE_SECONDS <= clock[0] - 1000 <= watch.API_GONE_SECONDS + 2


def test_other_api_errors_are_not_retried(clock):
    fake = FakeList(client.ApiException(status=403, reason="Forbidden"))
    with pytest.raises(client.ApiException) as e:
        list(watch.follow(fake, "ns", label_selector="app=x"))
    assert e.value.status == 403


def test_breaking_out_closes_the_stream(clock):
    stream = Response(lines=[event("ADDED", pod("a", 2)), event("MODIFIED", pod("a", 3))])
    fake = FakeList(("list", Response(listing(1))), ("watch", stream))
    for change in watch.follow(fake, "ns", label_selector="app=x"):
        break
    assert change.object["metadata"]["resourceVersion"] == "2"
    assert stream.closed


def test_a_spent_deadline_still_lists_once_then_ends(clock):
    fake = FakeList(("list", Response(listing(5, pod("a", 1)))))
    changes = list(watch.follow(fake, "ns", deadline=clock[0] - 1, label_selector="app=x"))
    assert seen(changes) == [("ADDED", "a", "1", "listed", "")]
    assert fake.calls == [("list", None)]


def test_the_deadline_ends_a_quiet_watch(clock):
    def quiet_then_late():
        clock[0] += 30  # the server held the request open until its timeout
        return Response(lines=[])

    fake = FakeList(("list", Response(listing(5))))
    calls = []
    original = fake.__call__

    def call(namespace, **kwargs):
        if kwargs.get("watch"):
            calls.append(kwargs["timeout_seconds"])
            return quiet_then_late()
        return original(namespace, **kwargs)

    assert list(watch.follow(call, "ns", deadline=clock[0] + 25, label_selector="app=x")) == []
    assert calls == [26]  # the watch request itself ends near the deadline


def test_follow_lines_yields_each_line_as_it_arrives_and_releases_the_connection():
    class Response:
        released = False

        def stream(self, amt=None, decode_content=False):
            yield from (b"first li", b"ne\nsecond\n", b"third\n")

        def release_conn(self):
            Response.released = True

    calls = []

    def read_log(pod, namespace, **kwargs):
        calls.append((pod, namespace, kwargs))
        return Response()

    assert list(watch.follow_lines(read_log, "web-a", "ns")) == ["first line", "second", "third"]
    assert calls == [("web-a", "ns", {"follow": True, "_preload_content": False})] and Response.released
