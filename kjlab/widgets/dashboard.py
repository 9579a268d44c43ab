"""JobDashboard: the live view of a run, fed by its recorder (watch-driven, never polling).

The widget is one ipywidgets.HTML whose value is re-rendered from a DashboardModel at most every
0.2 s. When the run ends the same HTML is left in the cell as a static snapshot, so an executed
notebook (papermill, nbconvert) shows the final state without a kernel.
"""

from __future__ import annotations

import html
import threading
import time

import ipywidgets as w
from IPython.display import HTML, display

from kjlab.view.dashboard_model import DashboardModel

REFRESH_SECONDS = 0.2
STATUS_COLOURS = {"Complete": "#2ca02c", "Failed": "#d62728", "FailureTarget": "#d62728",
                  "SuccessCriteriaMet": "#2ca02c", "Running": "#4c9be8", "Suspended": "#7f7f7f",
                  "Terminating": "#7f7f7f"}


def _table(rows: list[dict], empty: str) -> str:
    if not rows:
        return f"<i>{empty}</i>"
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
                   for r in rows)
    return f"<table style='border-collapse:collapse;font-size:12px'><tr>{head}</tr>{body}</table>"


def _reason(model: DashboardModel) -> str:
    headline = model.headline() if model.job else ""
    return headline[len(model.job_status()):].strip()  # "(PodFailurePolicy)": the status is shown already


def render_html(model: DashboardModel, title: str = "") -> str:
    """The dashboard as static HTML (also the live widget's content)."""
    status = model.job_status() or "waiting for the Job"
    colour = STATUS_COLOURS.get(model.job_status(), "#555")
    c = model.counters()
    limit = f" / backoffLimit {c['backoffLimit']}" if c.get("backoffLimit") is not None else ""
    counters = (f"active <b>{c['active']}</b> · ready <b>{c['ready']}</b> · succeeded <b>{c['succeeded']}</b>"
                f"{' / ' + str(c['completions']) if c.get('completions') else ''} · failed <b>{c['failed']}</b>{limit}")
    if "failedIndexes" in c:
        counters += (f" · failedIndexes <b>{html.escape(c['failedIndexes'] or '-')}</b>"
                     f" · completedIndexes <b>{html.escape(c['completedIndexes'] or '-')}</b>"
                     f" (backoffLimitPerIndex {c['backoffLimitPerIndex']})")
    conditions = [{"t (s)": x.get("t"), "type": x["type"], "status": x["status"], "reason": x.get("reason") or "",
                   "message": x.get("message") or ""} for x in model.job_conditions]
    events = [{"t (s)": e["t"], "type": e["level"], "object": e["object"], "reason": e["reason"],
               "from": e.get("from") or "", "message": e["message"] or ""} for e in model.events]  # in full: it wraps
    steps = [{"t (s)": s["t"], "kjlab did": f"{s['action']} {s['target']}", "detail": s["detail"] or "",
              "kubectl": s["kubectl"] or ""} for s in model.steps]
    return (
        f"<div style='font-family:sans-serif;border:1px solid #ddd;padding:8px;border-radius:4px'>"
        f"<div style='font-size:14px'><b>{html.escape(title or model.job_name or 'Job')}</b> "
        f"<span style='color:{colour};font-weight:bold' data-kjlab='job-status'>{html.escape(status)}</span> "
        f"<span style='color:#666'>{html.escape(_reason(model))}</span></div>"
        f"<div style='margin:4px 0 8px 0' data-kjlab='counters'>{counters}</div>"
        f"<div><b>Pods</b> (STATUS as kubectl prints it)</div>{_table(model.pod_rows(), 'no pods yet')}"
        f"<div style='margin-top:6px'><b>Job conditions</b></div>{_table(conditions, 'none yet')}"
        f"<div style='margin-top:6px'><b>kjlab steps</b></div>{_table(steps, 'none')}"
        f"<div style='margin-top:6px'><b>Recent events</b></div>{_table(events, 'none yet')}"
        f"</div>"
    )


class JobDashboard:
    """Live dashboard for one run. ``attach(recorder)`` starts it; ``finish()`` leaves a snapshot."""

    def __init__(self, title: str = "", job_name: str | None = None):
        self.title = title
        self.model = DashboardModel(job_name=job_name)
        self.widget = w.HTML(value=render_html(self.model, title))
        self._lock = threading.Lock()
        self._last = 0.0
        self._timer: threading.Timer | None = None
        self._closed = False
        self.renders = 0
        self.latencies: list[float] = []   # seconds from a row's arrival to its render
        self._pending_since: float | None = None

    def _ipython_display_(self):
        self._handle = display(self.widget, display_id=True)

    def attach(self, recorder) -> "JobDashboard":
        for row in recorder.rows:
            self.model.feed(row)
        recorder.subscribe(self.on_row)
        self.refresh()
        return self

    def on_row(self, row: dict) -> None:
        if self._closed:
            return
        arrived = time.monotonic()
        with self._lock:
            self.model.feed(row)
            if self._pending_since is None:
                self._pending_since = arrived
            due = arrived - self._last >= REFRESH_SECONDS
            if not due and self._timer is None:
                self._timer = threading.Timer(REFRESH_SECONDS, self.refresh)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.refresh()

    def refresh(self) -> None:
        with self._lock:
            self._timer = None
            if self._closed:
                return
            self.widget.value = render_html(self.model, self.title)
            now = time.monotonic()
            if self._pending_since is not None:
                self.latencies.append(now - self._pending_since)
                self._pending_since = None
            self._last = now
            self.renders += 1

    def snapshot_html(self) -> str:
        return render_html(self.model, self.title)

    def finish(self, title: str | None = None) -> None:
        """Stop updating and replace the live widget by its static HTML in the same output;
        ``title``, if given, is the heading the snapshot keeps (a background run's says it ended)."""
        if title is not None:
            self.title = title
        self.refresh()
        with self._lock:
            self._closed = True
            if self._timer:
                self._timer.cancel()
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.update(HTML(self.snapshot_html()))
        self.widget.close()
