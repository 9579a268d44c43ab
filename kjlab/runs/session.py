"""One recorded session: a namespace recorded from the start, where a lab (or a check, or a
scripted run) acts and waits. Every lab's session is this one; a lab's subclass adds only its
topic's methods (what it creates, what it asks of the recording) and the words of its waits.

* the namespace is made afresh and released one way (``make_namespace``; a scripted run that
  holds its namespace for the whole run makes it itself and passes False);
* the recorder starts once, here, with the kinds the lab watches beyond pods, Jobs and events;
* one ``wait(predicate, what, timeout)``: says what it waits for through ``wait.announced``,
  reads the recording as each row arrives, and is bounded by progress -- it gives up after
  ``timeout`` s in which nothing new was recorded, and at ``limit`` s in all;
* ``now()`` on the recording's axis; ``stop()`` returns the recording.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from kjlab.actions import namespaces
from kjlab.cluster import health, registry
from kjlab.actions.actor import Actor
from kjlab.api import wait
from kjlab.errors import KjlabError
from kjlab.runs.record import Recorder
from kjlab.runs.result import Recording


class Session:
    kinds: tuple[str, ...] = ()         # recorded beyond pods, Jobs and events
    recording_class: type = Recording   # what the recording is read as (a lab's Recording subclass)
    now_digits = 1                      # how ``now()`` rounds
    settle_seconds = 1.0                # ``stop()`` waits this long first: the last updates of the moment arrive
    wait_digits = 0                     # "... after S s" of a wait
    slow_notes = False                  # a wait past ``timeout`` that still sees changes says so every ``timeout`` s

    def __init__(self, context: str, namespace: str, echo: bool = True, make_namespace: bool = True,
                 kinds: tuple[str, ...] | None = None):
        self.context, self.namespace, self.echo = context, namespace, echo
        if make_namespace:
            namespaces.fresh(context, namespace, progress=print if echo else None)
            namespaces.release(namespace)  # held by no run: a cell that makes the session again starts over
        self.recorder = Recorder(context, namespace, kinds=self.kinds if kinds is None else kinds)
        self._listen(self.recorder)
        self.recorder.start()

    def _listen(self, recorder) -> None:
        """Count the rows as they arrive, so a wait wakes at once (and misses none between looks)."""
        self._changed = threading.Condition()
        self._version = 0
        recorder.subscribe(self._notify)

    def _notify(self, _row) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    @property
    def actor(self) -> Actor:
        """Who the session's ops act as: its context, namespace, echo and recorder, in one argument."""
        return Actor(self.context, self.namespace, self.echo, self.recorder)

    def now(self) -> float:
        """Seconds on the recording's axis."""
        return round(self.recorder.elapsed(), self.now_digits)

    def recording(self):
        return self.recording_class(self.recorder.rows)

    # -- the one wait --
    def wait(self, predicate: Callable, what: str, timeout: float = 60, limit: float | None = None, show=()):
        """Wait until ``predicate(recording)`` returns something truthy, and return it; print each new
        row of the kinds in ``show`` as it is recorded. Bounded by progress: it gives up after
        ``timeout`` s in which nothing new was recorded, and at ``limit`` s in all (default
        ``wait_limit(timeout)``)."""
        limit = self.wait_limit(timeout) if limit is None else limit
        with wait.announced(what, limit, self._announce(), digits=self.wait_digits,
                            bound=self.wait_bound(timeout, limit)) as elapsed:
            with self._changed:
                seen = self._version
            shown = len(self.recorder.rows)
            last_change, next_note = elapsed(), timeout
            while True:
                rows = self.recorder.rows
                for row in rows[shown:]:
                    if row["kind"] in show:
                        print(f"  [{row['t']:5.1f} s] {self.describe(row)}", flush=True)
                shown = max(shown, len(rows))
                found = predicate(self.recording_class(rows))
                if found:
                    return found
                now = elapsed()
                if now >= limit:
                    raise self.timed_out(what, now, now - last_change, timeout, limit)
                if now - last_change >= timeout:
                    # Nothing recorded for `timeout` s. A loaded machine (CI beside six busy loops) has kept the
                    # controllers from acting for over 60 s (the controllers lab's replacement pod): if the control plane is
                    # whole, that is slowness, so wait on (to `limit`); a dead or stopped component ends it now.
                    problems = self.control_plane_problems()
                    if problems:
                        raise self.not_whole(what, now, problems)
                    if problems is None:
                        raise self.timed_out(what, now, now - last_change, timeout, limit)
                    if self.echo:
                        print(f"  ... nothing changed for {now - last_change:.0f} s, but every control-plane component "
                              f"runs: a busy machine; still waiting for {what} (at most {limit:.0f} s)", flush=True)
                    last_change = now
                if self.slow_notes and self.echo and now >= next_note:
                    next_note += timeout
                    print(f"  ... still waiting for {what} after {now:.0f} s: the cluster is slow but still making "
                          f"progress (last change {now - last_change:.0f} s ago); waiting while it does "
                          f"(at most {limit:.0f} s)", flush=True)
                with self._changed:
                    if self._changed.wait_for(lambda: self._version != seen,
                                              min(1.0, timeout - (now - last_change), max(0.05, limit - now))):
                        last_change = elapsed()
                    seen = self._version

    def _announce(self) -> bool:
        return self.echo

    def wait_limit(self, timeout: float) -> float:
        return max(5 * timeout, 300.0)

    def wait_bound(self, timeout: float, limit: float) -> str:
        return f"while the namespace changes; it gives up after {timeout:.0f} s without a change, or at {limit:.0f} s"

    def control_plane_problems(self) -> list[str] | None:
        """What is wrong with the lab cluster's control plane ([] when it is whole), or None for a
        cluster kjlab did not create (nothing it could name)."""
        if registry.entry(self.context) is None:
            return None
        return [p.what for p in health.problems(self.context)]

    def not_whole(self, what: str, waited: float, problems: list[str]) -> KjlabError:
        return KjlabError(f"waited {waited:.0f} s for {what}; the lab cluster is not whole: {'; '.join(problems)}",
                          "kjlab up (restarts what stopped; the cluster's state is kept), then run the cell again")

    def timed_out(self, what: str, waited: float, idle: float, timeout: float, limit: float) -> KjlabError:
        hint = f"look at the namespace: kjlab kubectl get all -n {self.namespace}"
        if idle >= timeout:
            return KjlabError(f"waited {waited:.0f} s for {what}; nothing changed in the namespace for the last "
                              f"{idle:.0f} s", hint)
        return KjlabError(f"waited {waited:.0f} s for {what}; the namespace kept changing but it did not happen", hint)

    def describe(self, row: dict) -> str:
        return f"{row['kind']} {row.get('name')}: {row.get('detail') or row.get('event') or ''}"

    # -- the end --
    def stop(self):
        """Stop recording and return the recording."""
        if self.settle_seconds:
            time.sleep(self.settle_seconds)
        self.recorder.stop()
        return self.recording_class(self.recorder.rows)
