"""The labels of kjlab's steps and a Job's conditions in the plots of labs 11 and 12, drawn from recorded
runs (tests/data/runs), measured with matplotlib's renderer: no two labels overlap and none runs out of
its axes (where it would be cut)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from kjlab.labs import controllers  # noqa: E402
from kjlab.runs import saved as saved_runs  # noqa: E402
from kjlab.runs.result import Recording  # noqa: E402
from kjlab.view.line_labels import GID, hidden_labels, overlaps_and_cuts  # noqa: E402
from kjlab.widgets.timeline import comparison_figure, timeline_figure  # noqa: E402

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


@pytest.fixture(scope="module")
def disruptions():
    return {name: Recording(rows) for name, rows in saved_runs.load(RUNS / "disruptions.json").items()}


@pytest.fixture(scope="module")
def workloads():
    return controllers.WorkloadRecording(saved_runs.load(RUNS / "controllers.json")["rows"])


class Panel:
    """What comparison_figure reads of a run: rows, job, namespace, headline()."""

    def __init__(self, name, recording):
        self.rows, self.job, self.namespace, self.name = recording.rows, None, name, name

    def headline(self):
        return self.name


def labels_of(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == GID]


def assert_readable(fig):
    for ax in fig.axes:
        pairs, cut = overlaps_and_cuts(ax)
        assert pairs == [], f"overlapping labels: {pairs}"
        assert cut == [], f"labels cut at the axes' edge: {cut}"


@pytest.mark.parametrize("part", ["budget", "taint"])
def test_lab12_timelines_labels_are_apart_and_whole(disruptions, part):
    fig = timeline_figure(disruptions[part], title=part)
    assert labels_of(fig)
    assert_readable(fig)


def test_lab12_drain_labels_every_eviction(disruptions):
    # the drain's steps: each eviction and each refusal is named on some label
    labels = " ".join(labels_of(timeline_figure(disruptions["budget"])))
    assert "drain" in labels and "eviction refused" in labels and "uncordon" in labels


def test_short_panels_of_a_comparison_keep_labels_whole(disruptions):
    # three runs on one axis: one- and two-lane panels are short for "drain kjlab-worker + evict + ..."
    runs = [Panel(part, disruptions[part]) for part in ("budget", "taint", "preempt")]
    fig = comparison_figure(runs)
    assert labels_of(fig)
    assert_readable(fig)


def test_lab11_rollout_labels_of_steps_a_moment_apart(workloads):
    # every recorded step on the rollout plot: annotate and label come 7 ms apart, create and label 9 ms
    steps = [(s["t"], f"{s['action']} {s['target']}") for s in workloads.steps()]
    fig = controllers.plot_rollout(workloads, "api", steps, title="every step")
    shown = " ".join(labels_of(fig)).replace("\n", " ")
    assert all(label in shown for _, label in steps)
    assert_readable(fig)


def test_lab11_rollout_labels_as_the_lab_draws_them(workloads):
    rolled = next(s["t"] for s in workloads.steps() if s["action"] == "patch")
    steps = [(s["t"], s["action"]) for s in workloads.steps() if s["target"] == "deployment/api" and s["t"] >= rolled]
    fig = controllers.plot_rollout(workloads, "api", steps, title="Deployment api")
    assert sorted(labels_of(fig)) == sorted(label for _, label in steps)
    assert_readable(fig)


def test_lines_a_moment_apart_in_a_short_panel_are_never_labelled_over_each_other(disruptions):
    # As lab 02's run without the policy: drain, evictions and uncordon within a second or two, conditions
    # beside them, in a two-lane panel of a comparison. The recorded drain's steps and the taint run's
    # Job conditions are moved to within 1.5 s of each other.
    budget = disruptions["budget"].rows
    pods = sorted({r["name"] for r in budget if r.get("kind") == "pod"})[:2]
    steps = [r for r in budget if r.get("kind") == "step"]
    crowded = [r for r in budget if r.get("kind") == "pod" and r["name"] in pods]
    crowded += [{**r, "t": 1.0 + 0.3 * i} for i, r in enumerate(steps)]
    crowded += [{**r, "t": 1.2} for r in disruptions["taint"].rows if r.get("kind") == "job"]
    fig = comparison_figure([Panel("taint", disruptions["taint"]), Panel("crowded", Recording(crowded))])
    assert_readable(fig)
    crowded_ax = fig.axes[1]
    shown = " ".join(t.get_text() for t in crowded_ax.texts if t.get_gid() == GID and t.get_visible())
    assert shown  # some labels have room
    for label in hidden_labels(crowded_ax):
        assert label not in shown.replace("\n", " ")
