"""A live status line for runs started from a terminal: the Job's counters and STATUS as they
change, so `kjlab scenario run failjob --no-policy` is never nine silent minutes.

Fed by the recorder (the same rows the notebook dashboard reads, through its pure model); drawn
with tqdm on a terminal, one plain line per change otherwise (CI logs, pipes).
"""

from __future__ import annotations

import sys
import threading

from tqdm import tqdm

from kjlab.api import backoff
from kjlab.view.dashboard_model import DashboardModel


# What a recorded step says to someone watching a run (the recorder's action names are terse).
STEP_WORDS = {"learner": "your function was called on", "create": "created", "drain": "drained",
              "uncordon": "uncordoned", "patch": "patched", "delete": "deleted"}


def step_line(step: dict) -> str:
    return f"kjlab: {STEP_WORDS.get(step['action'], step['action'])} {step['target']}".rstrip()


def describe(model: DashboardModel, with_step: bool = True) -> str:
    """One line: STATUS, active, succeeded out of completions, failed against the limit, last step."""
    c = model.counters()
    parts = [model.job_status() or "Pending", f"active {c['active']}",
             f"succeeded {c['succeeded']}" + (f"/{c['completions']}" if c.get("completions") else ""),
             f"failed {c['failed']}" + (f" (backoffLimit {c['backoffLimit']})" if c.get("backoffLimit") is not None else "")]
    if c.get("failedIndexes"):
        parts.append(f"failedIndexes {c['failedIndexes']}")
    if with_step and model.steps:
        parts.append(step_line(model.steps[-1]))
    return " · ".join(parts)


FINISHED = ("Complete", "Failed")
DECIDED = ("FailureTarget", "SuccessCriteriaMet")


def waiting_for(model: DashboardModel, now: float) -> str:
    """What a run is waiting for at ``now`` (seconds on the recording's clock, the one its tables
    use), in words: a minutes-long back-off must not look like a hung cell.

    The back-off is the Job controller's (kjlab.api.backoff): n is every pod of the Job that failed
    since the last success, including those a pod failure policy ignores (they are not in
    status.failed), counted from the last one's finish time (DashboardModel.failures_since_success)."""
    if model.job is None:
        return "waiting for the Job to appear"
    true = {c["type"] for c in (model.job.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}
    if true & set(FINISHED):
        return ""
    if true & set(DECIDED):
        return "the outcome is decided; waiting for the last pods to terminate before the Job's final condition"
    c = model.counters()
    if true & {"Suspended"}:
        return "the Job is suspended; waiting for it to be resumed"
    live = [p for p in model.pods.values()
            if not p.deleted and p.job == model.job_name and p.phase in ("Pending", "Running")]
    if c["active"] or live:
        return f"waiting for {c['active'] or len(live)} active pod(s) to end"
    n = model.failures_since_success
    if not n or model.last_failed_t is None:
        return "waiting for the Job controller to create pods"
    formula, wait = backoff.formula_seconds(min(n, 32)), backoff.seconds(n)
    how = (f"{n} failed pod(s) since the last success (ignored ones included) -> 10 s x 2^{n - 1} = {formula} s"
           + (f", capped at {backoff.BACKOFF_CAP_SECONDS} s" if formula > backoff.BACKOFF_CAP_SECONDS else ""))
    due = model.last_failed_t + wait
    when = (f"next pod due at about {due:.0f} s ({due - now:.0f} s from now)" if due > now
            else f"due at about {due:.0f} s; the controller creates it at its next sync")
    return (f"waiting for the Job controller's back-off before it creates the next pod: {how}, "
            f"counted from the last failed container's finishedAt, {model.last_failed_t:.0f} s; {when}")


class RunProgress:
    """``attach(recorder)`` as a run's ``on_start``; ``finish()`` when the run returns."""

    def __init__(self, job_name: str | None, stream=None):
        self.stream = stream or sys.stderr
        self.model = DashboardModel(job_name=job_name)
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = tqdm(total=None, bar_format="{desc} [{elapsed}]", desc=f"{job_name}: waiting for the Job",
                        file=self.stream, leave=True) if self.live else None
        self._last = ""
        self._steps_shown = 0
        # Rows arrive from three watch threads at once: one line at a time, or two run together.
        self._lock = threading.Lock()

    def attach(self, recorder) -> "RunProgress":
        recorder.subscribe(self.row)
        return self

    def row(self, row: dict) -> None:
        with self._lock:
            self.model.feed(row)
            if self.bar is not None:
                line = describe(self.model)
                if line != self._last:
                    self._last = line
                    self.bar.set_description_str(f"{self.model.job_name}: {line}")
                return
            # A plain stream (a notebook, a log): each new step once, then the counters when they change.
            out = [f"  {step_line(s)}" for s in self.model.steps[self._steps_shown:]]
            self._steps_shown = len(self.model.steps)
            line = describe(self.model, with_step=False)
            if line != self._last:
                self._last = line
                out.append(f"  {line}")
            if out:
                print("\n".join(out), file=self.stream, flush=True)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
