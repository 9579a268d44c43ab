"""A Job's pod selector written by hand (``manualSelector``), and what a careless one does
(``labs/08-ending-early.ipynb``).

Normally the API server generates a Job's selector from a label unique to the Job
(``batch.kubernetes.io/controller-uid``), so no other pod can match it. A selector of your own
needs ``manualSelector: true``, and then nothing stops it from matching another Job's pods. The
Job controller never takes a pod that has another controller (its ``ownerReferences``), but it
**adopts** any matching pod that has none -- e.g. the pods of a Job deleted with
``--cascade=orphan`` -- and counts it as its own.

``careless`` runs that story, recorded: the API's refusal without manualSelector, a Job ``old``
whose pods carry ``app: report``, the careless Job with ``manualSelector: true`` and selector
``app: report``, then ``old`` deleted with ``--cascade=orphan``.
"""

from __future__ import annotations

import time

import pandas as pd

from kjlab import examples
from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.api import readers, wait
from kjlab.errors import KjlabError
from kjlab.runs.session import Session
from kjlab.runs.result import RunResult, summarize


def manifest(name: str) -> dict:
    """``old`` or ``careless`` (kjlab/examples/selector-*.yaml)."""
    return examples.objects(f"selector-{name}.yaml")[0]


def owner(pod: dict) -> str | None:
    """The pod's controller (``Kind/name``), or None for an orphan."""
    for ref in readers.meta(pod).get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return None


def owners(recording) -> pd.DataFrame:
    """Each pod's controllers over time: the first, when it became an orphan, when another adopted
    it (and which), and when the pod was deleted -- from the pod objects in the recording."""
    rows: dict[str, dict] = {}
    for r in recording.of("pod"):
        obj = r.get("object")
        if obj is None:
            continue
        name, now = r["name"], owner(obj)
        row = rows.setdefault(name, {"pod": name, "created by": now, "orphaned": None, "adopted by": None,
                                     "adopted": None, "deleted": None, "phase": None})
        if now is None and row["orphaned"] is None and row["created by"] is not None:
            row["orphaned"] = r["t"]
        if now is not None and now != row["created by"] and row["adopted"] is None:
            row["adopted by"], row["adopted"] = now, r["t"]
        if readers.deleting(obj) and row["deleted"] is None:
            row["deleted"] = r["t"]
        row["phase"] = readers.phase(obj)
    return pd.DataFrame(list(rows.values()),
                        columns=["pod", "created by", "orphaned", "adopted by", "adopted", "deleted", "phase"])


def careless(context: str, namespace: str, echo: bool = True, timeout: float = 120) -> tuple[str, RunResult]:
    """The API's refusal of a hand-written selector without manualSelector (its message), and the
    recorded run of the careless Job (its RunResult; ``owners(result.recording)`` shows the adoption)."""
    session = Session(context, namespace, echo)  # a fresh namespace, recorded from here
    refused = manifest("careless")
    refused["spec"].pop("manualSelector")
    try:
        ops.apply(Actor(context, namespace, echo), refused)  # refused: nothing to record
        refusal = ""
    except KjlabError as e:
        refusal = e.message
        if echo:
            print(f"$ kubectl create -f careless.yaml   (without manualSelector)\n{refusal}")
    recorder, actor = session.recorder, session.actor
    try:
        ops.apply(actor, manifest("old"))
        wait.pod(context, namespace, lambda p: readers.phase(p) == "Running", "the pod of Job old to run",
                 timeout=60, label_selector="job-name=old")
        ops.apply(actor, manifest("careless"))
        wait.job(context, namespace, "careless", lambda j: readers.counter(j, "active") >= 2,
                 "Job careless to have 2 pods active", timeout=60)
        ops.delete_job(actor, "old", cascade="orphan")
        final = wait.job(context, namespace, "careless", lambda j: readers.finished(j) is not None,
                         "Job careless to finish", timeout=timeout)
        time.sleep(1.0)  # the last pod updates arrive before the recording stops
    finally:
        recorder.stop()
    return refusal, summarize("careless-selector", namespace, "careless", True, recorder.recording(), final)

