"""A live status line for runs started from a terminal: the Job's counters and STATUS as they
change, so `kjlab scenario run failjob --no-policy` is never nine silent minutes.

Fed by the recorder (the same rows the notebook dashboard reads, through its pure model); drawn
with tqdm on a terminal, one plain line per change otherwise (CI logs, pipes).
"""

from __future__ import annotations

import sys

from tqdm import tqdm

from kjlab.dashboard_model import DashboardModel


def describe(model: DashboardModel) -> str:
    """One line: STATUS, active, succeeded out of completions, failed against the limit, last step."""
    c = model.counters()
    parts = [model.job_status() or "Pending", f"active {c['active']}",
             f"succeeded {c['succeeded']}" + (f"/{c['completions']}" if c.get("completions") else ""),
             f"failed {c['failed']}" + (f" (backoffLimit {c['backoffLimit']})" if c.get("backoffLimit") is not None else "")]
    if c.get("failedIndexes"):
        parts.append(f"failedIndexes {c['failedIndexes']}")
    if model.steps:
        step = model.steps[-1]
        parts.append(f"last step: {step['action']} {step['target']}")
    return " · ".join(parts)


class RunProgress:
    """``attach(recorder)`` as a run's ``on_start``; ``finish()`` when the run returns."""

    def __init__(self, job_name: str | None, stream=None):
        self.stream = stream or sys.stderr
        self.model = DashboardModel(job_name=job_name)
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = tqdm(total=None, bar_format="{desc} [{elapsed}]", desc=f"{job_name}: waiting for the Job",
                        file=self.stream, leave=True) if self.live else None
        self._last = ""

    def attach(self, recorder) -> "RunProgress":
        recorder.subscribe(self.row)
        return self

    def row(self, row: dict) -> None:
        self.model.feed(row)
        line = describe(self.model)
        if line == self._last:
            return
        self._last = line
        if self.bar is not None:
            self.bar.set_description_str(f"{self.model.job_name}: {line}")
        else:
            print(f"  {line}", file=self.stream, flush=True)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
