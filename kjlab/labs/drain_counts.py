"""A drained Job's counts (``labs/02-ignore-disruptions.ipynb``): how the Job controller counted
each pod of a drained Job, next to what the recording shows of that pod -- so a pod that ended
``Succeeded`` yet counts as failed, or an evicted pod whose last phase is ``Running``, is explained
from the run itself.

What the counts rest on (Kubernetes v1.36.4):

* Without a podFailurePolicy (``podReplacementPolicy: TerminatingOrFailed``) a pod with a
  ``deletionTimestamp`` that has not Succeeded *is* failed for the Job controller (``isPodFailed``,
  pkg/controller/job/job_controller.go), and once the Job has failed every pod not finished counts
  as failed (``trackJobStatusAndRemoveFinalizers``, same file). The controller counts it at once and
  takes its tracking finalizer off; nothing the kubelet reports about the pod later changes a count.
* An evicted pod (``drain --grace-period=0``: ``deletionGracePeriodSeconds: 0``) is removed by the
  API server as soon as its last finalizer is gone (``ShouldDeleteDuringUpdate``,
  k8s.io/apiserver registry/generic/registry/store.go) -- before the kubelet reports its
  container's end: its last recorded phase is the one it had when evicted.
* A pod the Job controller deletes itself gets its own grace period; ``bash`` as PID 1 ignores
  SIGTERM, so its script may run to the end and exit 0: phase ``Succeeded``, counted as failed before.
"""

from __future__ import annotations

import pandas as pd


def _at(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def how_counted(result) -> pd.DataFrame:
    """One row per pod of ``result`` (a RunResult with a drain): who deleted it and when, whether it
    had finished then, what was recorded of it last, and how the Job controller counted it."""
    evicted = set(result.drain.evicted) if result.drain else set()
    rows = []
    for p in result.recording.pod_lifecycles().itertuples():
        deleted, ended, gone = _at(p.terminating), _at(p.ended), _at(p.gone)
        finished_first = ended is not None and (deleted is None or ended <= deleted)
        if deleted is not None and not (finished_first and p.phase == "Succeeded"):
            counted = "failed (deleted before it finished)"
        else:
            counted = {"Failed": "failed", "Succeeded": "succeeded"}.get(p.phase, "not counted yet")
        rows.append({"pod": p.pod,
                     "deleted by": ("the drain (eviction)" if p.pod in evicted else
                                    "the Job controller" if deleted is not None else None),
                     "deleted at (s)": deleted, "finished before that": finished_first,
                     "last phase recorded": p.phase, "exit code": p.exit_code,
                     "container ended at (s)": ended, "gone at (s)": gone, "counted as": counted})
    return pd.DataFrame(rows, columns=["pod", "deleted by", "deleted at (s)", "finished before that",
                                       "last phase recorded", "exit code", "container ended at (s)",
                                       "gone at (s)", "counted as"])


def explain(result) -> str:
    """Markdown: one sentence per deleted pod, from :func:`how_counted`, saying why its last phase and
    the way it was counted differ where they do."""
    lines = []
    for r in how_counted(result).to_dict("records"):
        if not isinstance(r["deleted by"], str):
            continue
        pod, at, phase = f"`{r['pod']}`", _at(r["deleted at (s)"]), r["last phase recorded"]
        ended, gone = _at(r["container ended at (s)"]), _at(r["gone at (s)"])
        code = "" if pd.isna(r["exit code"]) else f", exit code {int(r['exit code'])}"
        if r["deleted by"].startswith("the drain"):
            end = f"it was gone at {gone:.1f} s" if gone is not None else "it was still there when the recording ended"
            seen = (f"before the kubelet reported its container's end, so its last recorded phase is **{phase}**{code}"
                    if ended is None else f"after the kubelet reported **{phase}**{code} at {ended:.1f} s")
            lines.append(f"* {pod} was evicted at {at:.1f} s and counted as failed at once (a pod being deleted "
                         f"that has not succeeded is a failed pod to the Job controller); the eviction's grace "
                         f"period 0 let the API server remove it as soon as the controller took its finalizer "
                         f"off: {end}, {seen}.")
        else:
            after = (f"It ran on through its grace period (`bash` ignores SIGTERM) and its container ended at "
                     f"{ended:.1f} s with phase **{phase}**{code}: too late to change the count."
                     if ended is not None and not r["finished before that"] else
                     f"Its last recorded phase is **{phase}**{code}.")
            lines.append(f"* {pod} was deleted by {r['deleted by']} at {at:.1f} s, once the Job's failure was decided, and "
                         f"counted as failed then (every pod not finished counts as failed once the Job has "
                         f"failed). {after}")
    return "\n".join(lines)
