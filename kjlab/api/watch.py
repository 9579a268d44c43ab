"""One resumable list-then-watch: every consumer (the recorder, the waits, the config-issue
controller, the node wait) is a short loop over ``follow``.

It lists, then watches from the list's resourceVersion. A dropped connection resumes from the
last resourceVersion seen; an expired one (HTTP 410, as an ERROR event or as the call's status)
lists again, and objects that vanished meanwhile come back as synthesised DELETED changes. No
(uid, resourceVersion) is yielded twice, so a consumer sees each change of the collection once.

Objects stay as the API serves them (camelCase dicts, read through kjlab.readers): the list and
watch calls are asked for their responses unparsed, and the watch lines are parsed here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import urllib3
from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines

from kjlab.errors import KjlabError

# How long kjlab keeps trying while the API server does not answer (it is being restarted by
# `kjlab up`, or the machine was suspended) before it ends in one line.
API_GONE_SECONDS = 60

# A watch request ends at least this often, so a set ``stop`` is noticed even on a quiet
# collection (a blocked read cannot be interrupted from another thread).
STOP_POLL_SECONDS = 5

_UNANSWERED = (500, 502, 503, 504)

# Seams for the unit test's fake clock.
_now = time.monotonic
_sleep = time.sleep


# A thread's own stop event (kjlab.lab's background runs): every follow in that thread that was
# given no ``stop`` of its own ends when it is set, so the run can be stopped within seconds.
_local = threading.local()


def stop_this_thread_with(stop: threading.Event | None) -> None:
    """Make ``stop`` the stop event of every later follow in this thread that names none."""
    _local.stop = stop


@dataclass
class Change:
    """One change of a watched collection: ``type`` is ADDED, MODIFIED or DELETED, ``object`` the
    object as the API served it. ``listed``: it came from a (re-)list rather than the watch
    stream; ``vanished``: a DELETED made up because the object was missing from a re-list."""

    type: str
    object: dict
    listed: bool = False
    vanished: bool = False


# With ``synced=True``, each (re-)list is followed by Change(SYNCED, the list's metadata): the
# consumer then holds the whole collection (e.g. "no such Job", "every node Ready").
SYNCED = "SYNCED"


class _Expired(Exception):
    """The resourceVersion is too old to watch from: list again."""


class Follow:
    """Iterate to get the changes; ``restarts`` counts the watches that broke (dropped, expired,
    unanswered) and had to be resumed or re-listed."""

    def __init__(self, list_call, *args, stop: threading.Event | None = None, deadline: float | None = None,
                 listed: threading.Event | None = None, what: str = "the cluster", synced: bool = False, **kwargs):
        self.list_call, self.args, self.kwargs = list_call, args, kwargs
        self.synced = synced
        stop = stop if stop is not None else getattr(_local, "stop", None)
        self.stop, self.deadline, self.listed, self.what = stop, deadline, listed, what
        self.restarts = 0
        self._seen: set[tuple[str, str]] = set()  # (uid, resourceVersion) already yielded
        self._live: dict[str, dict] = {}  # uid -> last object, to spot objects gone during a re-list
        self._gone: set[str] = set()  # uids reported DELETED (a late DELETED event must not repeat it)
        self._down_since: float | None = None

    def __iter__(self):
        return self._run()

    # -- the loop ---------------------------------------------------------------------------
    def _done(self) -> bool:
        return (self.stop is not None and self.stop.is_set()) or (
            self.deadline is not None and _now() >= self.deadline)

    def _run(self):
        rv = None
        first = True
        while first or not self._done():  # list at least once: a spent deadline still gets an answer
            first = False
            try:
                if rv is None:
                    listing = self._list()
                    yield from self._relisted(listing)
                    if self.synced:
                        yield Change(SYNCED, listing.get("metadata") or {}, listed=True)
                    rv = (listing.get("metadata") or {}).get("resourceVersion")
                    if self.listed is not None:
                        self.listed.set()
                    continue  # the consumer may have met its deadline while reading the list
                for change, rv in self._stream(rv):
                    if change is not None:
                        yield change
                    if self._done():
                        return
            except _Expired:
                self.restarts += 1
                rv = None
            except client.ApiException as e:
                if e.status == 410:
                    self.restarts += 1
                    rv = None
                elif e.status in _UNANSWERED:
                    self._unanswered(e)
                else:
                    raise
            except (OSError, urllib3.exceptions.HTTPError) as e:  # refused, reset, dropped mid-stream
                self._unanswered(e)

    def _unanswered(self, error: Exception) -> None:
        self.restarts += 1
        if self._down_since is None:
            self._down_since = _now()
        elif _now() - self._down_since > API_GONE_SECONDS:
            raise KjlabError(f"the lab cluster's API server stopped answering while kjlab waited for {self.what} "
                             f"({type(error).__name__}, for {API_GONE_SECONDS}s)",
                             "kjlab status names what is down; kjlab up repairs it, then run again") from None
        _sleep(0.5)

    def _answered(self) -> None:
        self._down_since = None

    # -- list -------------------------------------------------------------------------------
    def _list(self) -> dict:
        response = self.list_call(*self.args, _preload_content=False, **self.kwargs)
        try:
            listing = json.loads(response.data)
        finally:
            response.release_conn()
        self._answered()
        return listing

    def _relisted(self, listing: dict):
        items = listing.get("items") or []
        present = set()
        for obj in items:
            uid = _uid(obj)
            present.add(uid)
            change = self._take("MODIFIED" if uid in self._live else "ADDED", obj, listed=True)
            if change is not None:
                yield change
        for uid in [u for u in self._live if u not in present]:
            self._gone.add(uid)
            yield Change("DELETED", self._live.pop(uid), listed=True, vanished=True)

    # -- watch ------------------------------------------------------------------------------
    def _stream(self, rv: str | None):
        """(change or None, resourceVersion to resume from) per line of one watch request."""
        seconds = STOP_POLL_SECONDS if self.stop is not None else 300
        if self.deadline is not None:
            seconds = min(seconds, max(1, int(self.deadline - _now()) + 1))
        response = self.list_call(*self.args, watch=True, resource_version=rv, allow_watch_bookmarks=True,
                                  timeout_seconds=seconds, _preload_content=False,
                                  _request_timeout=(10, seconds + 10), **self.kwargs)
        try:
            self._answered()
            for line in iter_resp_lines(response):
                if not line:
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise _Expired()
                    raise client.ApiException(status=obj.get("code") or 500, reason=obj.get("message"))
                rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                if kind == "BOOKMARK":
                    yield None, rv
                else:
                    yield self._take(kind, obj), rv
        finally:  # also when the consumer breaks out: the generator is closed here
            response.close()
            response.release_conn()

    def _take(self, kind: str, obj: dict, listed: bool = False) -> Change | None:
        uid = _uid(obj)
        key = (uid, (obj.get("metadata") or {}).get("resourceVersion"))
        if key in self._seen:
            return None
        if uid in self._gone:
            return None  # already reported gone (e.g. vanished during a re-list)
        if kind == "DELETED":
            self._gone.add(uid)
            self._live.pop(uid, None)
        else:
            self._live[uid] = obj
        self._seen.add(key)
        return Change(kind, obj, listed=listed)


def _uid(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"


def follow(list_call, *args, stop: threading.Event | None = None, deadline: float | None = None,
           listed: threading.Event | None = None, what: str = "the cluster", synced: bool = False,
           **kwargs) -> Follow:
    """The changes of the collection ``list_call(*args, **kwargs)`` lists (e.g.
    ``core.list_namespaced_pod, namespace, label_selector=...``): first every object listed, as
    ADDED, then each change as it happens, until ``stop`` is set or the monotonic ``deadline``
    passes (then the iteration just ends). ``listed`` is set once the first list is in;
    ``synced`` adds a SYNCED change after each (re-)list.

    A refused connection or a 5xx is retried for about a minute (API_GONE_SECONDS), then a
    KjlabError naming ``what`` the caller waited for; other API errors (403, 404 ...) raise."""
    return Follow(list_call, *args, stop=stop, deadline=deadline, listed=listed, what=what, synced=synced, **kwargs)


def follow_lines(stream_call, *args, **kwargs) -> Iterator[str]:
    """The lines of a streamed response (``core.read_namespaced_pod_log, pod, namespace``: a
    container's output as `kubectl logs -f` shows it) as they arrive, until the server ends it."""
    response = stream_call(*args, follow=True, _preload_content=False, **kwargs)
    try:
        yield from iter_resp_lines(response)
    finally:
        response.release_conn()
