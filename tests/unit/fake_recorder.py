"""A recorder without a cluster, for sessions in unit tests: rows are added by hand and reach the
session's subscribers as the real recorder's do."""

import time


class FakeRecorder:
    def __init__(self):
        self._rows, self._subscribers, self._t0 = [], [], time.monotonic()

    @property
    def rows(self):
        return list(self._rows)

    def subscribe(self, fn):
        self._subscribers.append(fn)

    def add(self, row):
        self._rows.append(row)
        for fn in self._subscribers:
            fn(row)

    def elapsed(self):
        return time.monotonic() - self._t0

    def step(self, *args, **kwargs):
        pass

    def stop(self):
        pass


def session_on(cls, namespace="test", echo=False, context="kwok-kjlab"):
    """A ``cls`` session over a FakeRecorder (its __init__ would make a namespace and start watching)."""
    s = object.__new__(cls)
    s.context, s.namespace, s.echo = context, namespace, echo
    s.recorder = FakeRecorder()
    s._listen(s.recorder)
    # no cluster behind it: nothing to ask about its control plane (a test sets what it needs)
    s.control_plane_problems = lambda: None
    return s
