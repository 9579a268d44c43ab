"""Pod timeline: one lane per pod, spans coloured by state, markers for exit codes, conditions and
deletion, vertical lines for the Job's conditions and for kjlab's steps. Drawn with matplotlib,
so it renders the same live, in an executed notebook, and as a PNG file.

``timeline_data(rows)`` is the pure part (lanes, spans, markers, lines); the figure functions draw it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from kjlab.api import readers
from kjlab.api.printers import pod_status
from kjlab.view.line_labels import place_line_labels

STATE_COLOURS = {
    "Pending": "#c7c7c7",
    "ImagePullBackOff": "#f0a202",
    "Running": "#4c9be8",
    "CrashLoopBackOff": "#b36bd6",
    "Terminating": "#7f7f7f",
    "Succeeded": "#2ca02c",
    "Failed": "#d62728",
}
LINE_STYLES = {
    "FailureTarget": ("#d62728", ":"), "Failed": ("#d62728", "-"),
    "SuccessCriteriaMet": ("#2ca02c", ":"), "Complete": ("#2ca02c", "-"),
}
STEP_COLOUR = "#555555"


def state_of(pod: dict) -> str:
    """The lane colour for a pod object: its kubectl STATUS folded into a few states."""
    status = pod_status(pod)
    phase = readers.phase(pod)
    if status == "Terminating":
        return "Terminating"
    if status in ("ErrImagePull", "ImagePullBackOff"):
        return "ImagePullBackOff"
    if status == "CrashLoopBackOff":
        return "CrashLoopBackOff"
    if phase in ("Succeeded", "Failed", "Running"):
        return phase
    return "Pending"


@dataclass
class Lane:
    pod: str
    spans: list[tuple[float, float, str]] = field(default_factory=list)   # (start, end, state)
    markers: list[tuple[float, str, str]] = field(default_factory=list)   # (t, kind, label)


@dataclass
class TimelineData:
    lanes: list[Lane]
    lines: list[tuple[float, str, str]]   # (t, kind: "condition"|"step", label)
    end: float


# kjlab's steps drawn as vertical lines (the disruptions lab adds the drain's answers and the node's changes)
TIMELINE_STEPS = ("drain", "uncordon", "patch", "delete", "learner", "evict", "eviction refused", "taint", "untaint",
                  "node NotReady", "node down", "node back")


def timeline_data(rows, end: float | None = None) -> TimelineData:
    """Lanes and lines from recorder rows (live or loaded); times are the rows' ``t`` seconds."""
    rows = [r for r in rows if r.get("t") is not None]
    end = end if end is not None else max((r["t"] for r in rows), default=0.0)
    lanes: dict[str, Lane] = {}
    current: dict[str, tuple[float, str]] = {}
    flags: dict[str, set] = {}
    lines: list[tuple[float, str, str]] = []
    job_seen: set = set()
    for r in rows:
        t, kind, name = r["t"], r.get("kind"), r.get("name")
        obj = r.get("object")
        if kind == "pod" and obj:
            lane = lanes.setdefault(name, Lane(name))
            seen = flags.setdefault(name, set())
            state = state_of(obj)
            if r.get("event") == "DELETED":
                if name in current:
                    start, s = current.pop(name)
                    lane.spans.append((start, t, s))
                lane.markers.append((t, "deleted", "deleted"))
                continue
            if name not in current or current[name][1] != state:
                if name in current:
                    start, s = current[name]
                    lane.spans.append((start, t, s))
                current[name] = (t, state)
            for container, restarts, term in readers.latest_terminations(obj):
                key = ("exit", restarts, container)
                if key not in seen:
                    seen.add(key)
                    lane.markers.append((t, "exit", f"exit {term.get('exitCode')}"))
            for c in readers.true_conditions(obj, ("DisruptionTarget", "ConfigIssue")):
                if c["type"] not in seen:
                    seen.add(c["type"])
                    lane.markers.append((t, c["type"], c["type"]))
        elif kind == "job" and obj:
            for c in readers.true_conditions(obj, LINE_STYLES):
                if c["type"] not in job_seen:
                    job_seen.add(c["type"])
                    lines.append((t, "condition", c["type"]))
        elif kind == "step" and r.get("action") in TIMELINE_STEPS:
            lines.append((t, "step", f"{r['action']} {name or ''}".strip()))
    for name, (start, state) in current.items():
        lanes[name].spans.append((start, end, state))
    ordered = sorted(lanes.values(), key=lambda lane: lane.spans[0][0] if lane.spans else 0.0)
    return TimelineData(lanes=ordered, lines=lines, end=end)


def _short(pod: str, job: str | None) -> str:
    if job and pod.startswith(job + "-"):
        return "…-" + pod[len(job) + 1:]
    return pod


def draw(ax, data: TimelineData, job: str | None = None, title: str | None = None, legend: bool = True) -> list:
    """Draw one run on ``ax``; returns the labels of its vertical lines for ``place_line_labels``, which
    measures them once the whole figure is laid out."""
    n = len(data.lanes)
    dense = n > 20
    for i, lane in enumerate(data.lanes):
        y = n - 1 - i
        for start, end, state in lane.spans:
            ax.barh(y, max(end - start, 0.05), left=start, height=0.6, color=STATE_COLOURS[state], edgecolor="none",
                    zorder=2)
        for t, kind, label in lane.markers:
            if kind == "exit":
                ax.plot(t, y, marker="|", color="black", markersize=10, zorder=4)
                if not dense:
                    ax.annotate(label, (t, y + 0.32), fontsize=7, ha="center", va="bottom")
            elif kind == "deleted":
                ax.plot(t, y, marker="x", color="black", markersize=6, zorder=4)
            else:
                ax.plot(t, y, marker="D" if kind == "DisruptionTarget" else "s", color="#ff7f0e", markersize=7,
                        markeredgecolor="black", zorder=5)
    # Steps a moment apart (patch, then delete) share one line and one label.
    merged, gap = [], 0.03 * max(data.end, 1)
    for t, kind, label in data.lines:
        if kind == "step":
            # the target (kind/name) is the last word; an action may have two ("eviction refused")
            action, _, target = label.rpartition(" ") if "/" in label else (label, "", "")
            short = f"{action} {_short(target.split('/')[-1], job)}".strip()
            if merged and merged[-1][1] == "step" and t - merged[-1][0] < gap:
                merged[-1] = (merged[-1][0], "step", merged[-1][2] + " + " + action)
                continue
            merged.append((t, "step", short))
        elif merged and merged[-1][1] == "condition" and t - merged[-1][0] < gap:
            merged[-1] = (merged[-1][0], "condition", merged[-1][2] + " → " + label)
        else:
            merged.append((t, kind, label))
    labels = []
    for t, kind, label in merged:
        if kind == "condition":
            colour, style = LINE_STYLES[label.split(" → ")[-1]]
            ax.axvline(t, color=colour, linestyle=style, linewidth=1.2, zorder=1)
            # Job conditions are labelled at the top, kjlab's steps at the bottom (where they fit)
            labels.append((t, label, "top", colour))
        else:
            ax.axvline(t, color=STEP_COLOUR, linestyle="--", linewidth=0.8, zorder=1)
            labels.append((t, label, "bottom", STEP_COLOUR))
    ax.set_yticks(range(n))
    ax.set_yticklabels([_short(l.pod, job) for l in reversed(data.lanes)], fontsize=6 if dense else 8)
    ax.set_ylim(-0.7, max(n, 1) - 0.3)
    ax.set_xlim(0, max(data.end, 1) * 1.02)
    ax.set_xlabel("seconds since the run started")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    if legend:
        handles = [Patch(color=c, label=s) for s, c in STATE_COLOURS.items()]
        handles += [Line2D([], [], marker="D", color="#ff7f0e", linestyle="none", label="DisruptionTarget"),
                    Line2D([], [], marker="s", color="#ff7f0e", linestyle="none", label="ConfigIssue"),
                    Line2D([], [], marker="x", color="black", linestyle="none", label="deleted")]
        ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return labels


def _label_lines(ax, labels) -> None:
    place_line_labels(ax, labels, fontsize=6, bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 0.5})


def timeline_figure(result, title: str | None = None):
    """A matplotlib Figure of one run (a RunResult, or recorder rows)."""
    rows = result.rows if hasattr(result, "rows") else list(result)
    data = timeline_data(rows)
    job = getattr(result, "job", None) or next((r["name"] for r in rows if r.get("kind") == "job"), None)
    height = min(2 + 0.28 * max(len(data.lanes), 1), 16)
    fig = Figure(figsize=(10, height), layout="constrained")
    ax = fig.add_subplot()
    labels = draw(ax, data, job=job, title=title or (result.headline() if hasattr(result, "headline") else None))
    _label_lines(ax, labels)
    return fig


def comparison_figure(results):
    """Several runs on one time axis, one panel each, each titled with its headline."""
    datas = [timeline_data(r.rows) for r in results]
    end = max(d.end for d in datas) if datas else 1.0
    heights = [1 + 0.28 * max(len(d.lanes), 1) for d in datas]
    fig = Figure(figsize=(10, min(sum(heights) + 1, 20)), layout="constrained")
    axes = fig.subplots(len(results), 1, sharex=True, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    labels = []
    for i, (ax, r, d) in enumerate(zip(axes, results, datas)):
        d.end = end
        title = r.headline()
        if hasattr(r, "namespace") and [x.headline().split(":")[0] for x in results].count(title.split(":")[0]) > 1:
            title = f"{title} [namespace {r.namespace}]"  # one example run two ways: tell the panels apart
        labels.append(draw(ax, d, job=r.job, title=title, legend=i == 0))
        if i < len(results) - 1:
            ax.set_xlabel("")
    for ax, panel_labels in zip(axes, labels):  # once every panel is drawn: the layout is final
        _label_lines(ax, panel_labels)
    return fig


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
