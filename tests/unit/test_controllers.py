"""kjlab.controllers on a recorded run of lab 11's steps (tests/data/runs/controllers.json, recorded on
the kwok engine by tests/data/record_runs.py controllers), and the deletion ranking on hand-made pods.
The expectations are what the ReplicaSet, DaemonSet and Deployment controllers must do with the lab's
specs (replicas 3, maxSurge 1, maxUnavailable 0, a pod with pod-deletion-cost -1 ...), not numbers read
off the recording."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kjlab.labs import controllers
from kjlab.api import readers
from kjlab.labs.controllers import workload_row
from kjlab.runs import saved as saved_runs

RUN = Path(__file__).resolve().parents[1] / "data" / "runs" / "controllers.json"


@pytest.fixture(scope="module")
def rec():
    return controllers.WorkloadRecording(saved_runs.load(RUN)["rows"])


def test_the_recorder_watched_every_workload_kind(rec):
    assert {"replicaset", "deployment", "daemonset", "pod", "event", "step"} <= {r["kind"] for r in rec.rows}


def test_a_deleted_pod_is_replaced_by_a_new_pod_of_the_same_replicaset(rec):
    replaced = rec.replacements()
    deleted = replaced[replaced["step"].str.startswith("delete pod/")].iloc[0]
    assert deleted["owner"] == "replicaset/web"
    assert deleted["replacement"] != deleted["step"].split("/")[-1]     # a new pod, a new name
    assert 0 <= deleted["created after (s)"] < deleted["running after (s)"] < 10
    pods = rec.pods().set_index("pod")
    assert pods.loc[deleted["replacement"], "first_owner"] == "replicaset/web"


def test_relabelled_out_the_pod_is_released_and_replaced_then_adopted_back(rec):
    labels = [s for s in rec.steps() if s["action"] == "label" and s["target"].startswith("pod/")]
    assert [s["detail"] for s in labels] == ["app=debug", "app=web"]
    pod = labels[0]["target"].split("/", 1)[1]
    ownership = rec.ownership(pod)
    assert list(dict.fromkeys(ownership["controller"])) == ["replicaset/web", "(none: an orphan)"]
    assert ownership["controller"].iloc[-1] == "replicaset/web"
    out = ownership[ownership["controller"].str.startswith("(none")]
    assert (out["phase"] == "Running").all() and not out["deleting"].any()   # the orphan keeps running
    replaced = rec.replacements()
    # the relabel out is replaced, the relabel back in is not
    assert list(replaced["step"]) == [replaced["step"].iloc[0], f"label pod/{pod}"]


def test_the_adopted_surplus_pod_with_the_lowest_deletion_cost_is_deleted(rec):
    annotate = next(s for s in rec.steps() if s["action"] == "annotate")
    ranking = rec.deletion_ranking("web", after=annotate["t"])
    assert len(ranking) == 4 and ranking["deleted"].sum() == 1
    first = ranking.iloc[0]
    assert first["deleted"] and f"pod/{first['pod']}" == annotate["target"] and first["deletion cost"] == "-1"
    assert set(ranking["deletion cost"].iloc[1:]) == {"0"}


def test_the_daemonset_follows_the_node_label(rec):
    daemon = rec.daemon_pods("disk-monitor")
    node_steps = [s for s in rec.steps() if s["target"].startswith("node/")]
    first = node_steps[0]["target"].split("/")[1]
    removed = next(s["t"] for s in node_steps if s["detail"].endswith("-"))
    assert len(daemon) == 2 and set(daemon["node"]) == {s["target"].split("/")[1] for s in node_steps}
    on_first = daemon[daemon["node"] == first].iloc[0]
    assert on_first["running"] < removed < on_first["deleting"] <= on_first["gone"]
    assert daemon[daemon["node"] != first]["gone"].isna().all()


def test_the_rollout_stays_within_max_surge_and_max_unavailable(rec):
    patch = next(s for s in rec.steps() if s["target"] == "deployment/api" and s["action"] == "patch")
    undo = next(s for s in rec.steps() if s["action"] == "rollout undo")
    # replicas 3, maxSurge 1, maxUnavailable 0: at most 4 replicas asked for, never fewer than 3 Ready
    for bounds in (rec.rollout_bounds("api", patch["t"], undo["t"]), rec.rollout_bounds("api", undo["t"])):
        assert bounds["most replicas"] == 4 and bounds["fewest ready"] == 3 and bounds["most pods"] >= 4, bounds
    frame = rec.rollout("api")
    old, new = rec.replicasets_of("api")
    during = frame[(frame["t"] > patch["t"]) & (frame["t"] < undo["t"])]
    # the new ReplicaSet is created at maxSurge (1) and goes up one at a time while the old one goes down
    assert sorted(set(during[new])) == [1, 2, 3] and sorted(set(during[old])) == [0, 1, 2, 3] and during[old].iloc[-1] == 0 and during[new].iloc[-1] == 3
    assert rec.rollout_complete("api")


def test_undo_reuses_the_old_replicaset_as_the_newest_revision(rec):
    revisions = rec.revisions("api").set_index("replicaset")
    old, new = rec.replicasets_of("api")
    assert revisions.loc[old, "revisions"] == "1 then 3" and revisions.loc[new, "revisions"] == "2"
    assert revisions.loc[old, "env"] == {"GREETING": "hello"} and revisions.loc[new, "env"] == {"GREETING": "bonjour"}


def test_workload_row_reads_counts_of_each_kind():
    rs = {"metadata": {"name": "web", "annotations": {controllers.REVISION: "2"}}, "spec": {"replicas": 3},
          "status": {"replicas": 4, "readyReplicas": 3, "availableReplicas": 2}}
    assert workload_row("replicaset")("MODIFIED", rs)["detail"] == "desired=3 current=4 ready=3 available=2 revision=2"
    ds = {"metadata": {"name": "d"}, "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 1, "numberReady": 1}}
    assert workload_row("daemonset")("ADDED", ds)["detail"] == "desired=2 current=1 ready=1 available=0"


# --- the ranking on hand-made pods -------------------------------------------------------------------

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def pod(name, node="n1", phase="Running", ready_ago=100.0, created_ago=100.0, cost=None, uid=None, restarts=0):
    def stamp(seconds):
        return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conditions = [{"type": "Ready", "status": "True", "lastTransitionTime": stamp(ready_ago)}] if ready_ago is not None else []
    return {"metadata": {"name": name, "uid": uid or f"uid-{name}", "creationTimestamp": stamp(created_ago),
                         "annotations": {controllers.DELETION_COST: str(cost)} if cost is not None else {}},
            "spec": {"nodeName": node}, "status": {"phase": phase, "conditions": conditions,
                                                     "containerStatuses": [{"name": "main", "restartCount": restarts}]}}


def order(*pods):
    return [readers.name(p) for p in controllers.deletion_order(list(pods), list(pods), NOW)]


def test_ranking_unscheduled_pending_and_not_ready_go_first():
    assert order(pod("running"), pod("unscheduled", node="", phase="Pending", ready_ago=None))[0] == "unscheduled"
    assert order(pod("running"), pod("pending", phase="Pending", ready_ago=None))[0] == "pending"
    assert order(pod("ready"), pod("not-ready", ready_ago=None))[0] == "not-ready"


def test_ranking_deletion_cost_beats_node_spread_and_age():
    a, b = pod("crowded", node="n1"), pod("crowded2", node="n1")
    cheap = pod("cheap", node="n2", ready_ago=1000, cost=-1)
    assert order(a, b, cheap)[0] == "cheap"
    assert order(a, b, pod("alone", node="n2"))[-1] == "alone"       # without a cost: spread first


def test_ranking_ages_compare_on_a_log2_scale_then_by_uid():
    # 100 s and 70 s ready fall in one log2 bucket (2^36 ns = 68.7 s .. 137 s): the UID decides
    assert order(pod("older", ready_ago=100, uid="b"), pod("newer", ready_ago=70, uid="a")) == ["newer", "older"]
    assert order(pod("older", ready_ago=100, uid="a"), pod("newer", ready_ago=70, uid="b")) == ["older", "newer"]
    # 100 s and 10 s do not: the one ready for less time goes first
    assert order(pod("older", ready_ago=100, uid="a"), pod("newer", ready_ago=10, uid="b")) == ["newer", "older"]


def test_selector_matching():
    sel = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["debug"]}]}
    assert controllers.matches(sel, {"app": "web"}) and controllers.matches(sel, {"app": "web", "tier": "front"})
    assert not controllers.matches(sel, {"app": "web", "tier": "debug"}) and not controllers.matches(sel, {"app": "debug"})


def test_daemonset_node_label_is_per_namespace():
    doc = controllers.render("daemonset", "lab11-ctl")
    assert doc["spec"]["template"]["spec"]["nodeSelector"] == {"lab11-ctl.kjlab.io/disk": "ssd"}


def test_rollout_plot_names_each_replicaset_with_its_revisions(rec):
    import matplotlib

    matplotlib.use("Agg")
    fig = controllers.plot_rollout(rec, "api", [(1.0, "patch")])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    old, new = rec.replicasets_of("api")
    assert labels == [f"{old} (revision 1 then 3)", f"{new} (revision 2)", "pods", "ready"]


def test_a_replacement_seen_before_the_delete_step_is_recorded_still_counts(rec):
    """On a loaded machine the step row (written after the API call returned and the command was
    printed) can come after the controller's replacement: move lab 11's recorded delete step after
    the replacement's first row, as happened in CI on both engines, and the replacement is still found."""
    rows = [dict(r) for r in rec.rows]
    step = next(r for r in rows if r["kind"] == "step" and r.get("action") == "delete" and r["name"].startswith("pod/"))
    before = controllers.WorkloadRecording(rows).replacements()
    replaced = before[before["step"] == f"delete {step['name']}"].iloc[0]
    late = next(r for r in rows if r["kind"] == "pod" and r["name"] == replaced["replacement"])
    step["t"] = late["t"] + 0.5  # the step written after the replacement was seen
    after = controllers.WorkloadRecording(rows).replacements()
    moved = after[after["step"] == f"delete {step['name']}"].iloc[0]
    assert moved["replacement"] == replaced["replacement"]
    assert moved["running after (s)"] is not None and moved["running after (s)"] >= 0


def test_a_deleted_pod_reads_as_terminating_until_it_is_gone(rec):
    """Lab 11 lists the pods right after a delete: the deleted pod is still there, Running by its
    phase; the note read from the recording says it is terminating (kubectl's STATUS), then gone."""
    victim = next(s["target"].split("/", 1)[1] for s in rec.steps() if s["action"] == "delete")
    row = rec.pods().set_index("pod").loc[victim]
    assert row["deleting"] < row["gone"]
    between = rec.deletion_note(victim, (row["deleting"] + row["gone"]) / 2)
    assert "still terminating" in between and "STATUS Terminating" in between and "phase is still Running" in between
    assert f"gone at {row['gone']:.1f} s" in rec.deletion_note(victim)
    assert "not being deleted" in rec.deletion_note(victim, row["deleting"] - 0.1)
