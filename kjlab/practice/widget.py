"""The practice task in a notebook: its statement, a clock against its time budget, and a Check
button that runs the same check as `kjlab practice check` and shows the verdict below it.

The learner still types kubectl in a terminal (JupyterLab's comes up set up: kjlab/jupyterlab/terminal.bashrc);
the panel only reads the current task from the state dir and checks it.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Callable

import ipywidgets as w

from kjlab.cluster import lab_context
from kjlab.practice import session
from kjlab.quiz import question_html

TICK_SECONDS = 1.0


def clock_text(elapsed: float, minutes: int) -> str:
    """'03:12 of 04:00', or '04:20 of 04:00 (over by 00:20)' once the budget is spent."""
    def mmss(s: float) -> str:
        s = max(0, int(s))
        return f"{s // 60:02d}:{s % 60:02d}"
    budget = minutes * 60
    over = f" (over by {mmss(elapsed - budget)})" if elapsed > budget else ""
    return f"{mmss(elapsed)} of {mmss(budget)}{over}"


class PracticePanel:
    def __init__(self, task, state: dict, context: str, check: Callable = session.check, now: Callable = time.time):
        self.task, self.state, self.context, self._check, self._now = task, state, context, check, now
        self.statement = w.HTML(f"<b>{html.escape(task.id)}</b> ({html.escape(task.topic)}, {task.minutes} min): "
                                f"{html.escape(task.title)}<pre style='white-space:pre-wrap'>"
                                f"{question_html(task.text())}</pre>")  # `code` spans as code, not raw backticks
        self.clock = w.Label(self.clock_value())
        self.check_button = w.Button(description="Check", button_style="primary")
        self.verdict = w.HTML()
        self.check_button.on_click(lambda _b: self.run_check())
        self.box = w.VBox([self.statement, w.HBox([self.check_button, self.clock]), self.verdict])
        self._stop = threading.Event()

    def clock_value(self) -> str:
        return clock_text(self._now() - self.state.get("started", self._now()), self.task.minutes)

    def run_check(self):
        self.check_button.disabled = True
        self.verdict.value = "<i>checking on the cluster ...</i>"
        try:
            verdict = self._check(self.context, self.task)
            self.verdict.value = _verdict_html(verdict)
            return verdict
        finally:
            self.check_button.disabled = False

    def start_clock(self) -> "PracticePanel":
        def tick():
            while not self._stop.wait(TICK_SECONDS):
                self.clock.value = self.clock_value()
        threading.Thread(target=tick, daemon=True).start()
        return self

    def close(self) -> None:
        self._stop.set()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.box)


def _verdict_html(verdict) -> str:
    word, colour = ("PASS", "#1a7f37") if verdict.passed else ("NOT YET", "#cf222e")
    items = "".join(f"<li>{html.escape(r)}</li>" for r in verdict.reasons)
    return f"<b style='color:{colour}'>{word}</b>: {html.escape(verdict.headline)}<ul>{items}</ul>"


def panel(task_id: str | None = None, context: str | None = None) -> PracticePanel:
    """``kjlab.practice.widget.panel("pdb")`` starts the task (a fresh namespace) and shows it;
    without a task, the current one."""
    context = context or lab_context()
    task, state = session.start(task_id, context) if task_id else session.current_task()
    return PracticePanel(task, state, context).start_clock()
