"""Lab 15's reading of a DaemonSet update from a recording (no cluster: rows written by hand, as the
recorder writes them). The outcomes on the cluster are asserted by the notebook's check cell."""

import pytest

from kjlab.errors import KjlabError
from kjlab.labs import rollouts_scheduling as rs
from kjlab.runs.result import Recording

OWNER = [{"kind": "DaemonSet", "name": "ds", "controller": True}]


def _pod(t, name, node, template, ready=True, deleting=False, event="MODIFIED", owner=OWNER):
    meta = {"name": name, "labels": {rs.REVISION_HASH: template}, "ownerReferences": owner}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-06T10:00:00Z"
    obj = {"metadata": meta, "spec": {"nodeName": node},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
    return {"kind": "pod", "name": name, "t": t, "event": event, "object": obj}


def _ds(t, generation, observed, desired, updated, available):
    obj = {"metadata": {"name": "ds", "generation": generation},
           "status": {"observedGeneration": observed, "desiredNumberScheduled": desired,
                      "updatedNumberScheduled": updated, "numberAvailable": available}}
    return {"kind": "daemonset", "name": "ds", "t": t, "event": "MODIFIED", "object": obj}


# a surge on two nodes: the new pod next to the old one, the old deleted once the new is Ready
SURGE = [_pod(0, "a1", "n1", "old"), _pod(0, "b1", "n2", "old"),
         _pod(1, "a2", "n1", "new", ready=False), _pod(2, "a2", "n1", "new"),
         _pod(3, "a1", "n1", "old", deleting=True), _pod(3.5, "a1", "n1", "old", event="DELETED"),
         _pod(4, "b2", "n2", "new", ready=False), _pod(5, "b2", "n2", "new"),
         _pod(6, "b1", "n2", "old", deleting=True),
         _pod(6, "other", "n2", "x", owner=[{"kind": "DaemonSet", "name": "other", "controller": True}])]


def test_bounds_of_a_surge_count_pods_per_node_and_ready_ones_not_being_deleted():
    bounds = rs.daemon_update_bounds(Recording(SURGE), "ds", start=0.5)
    assert bounds == {"most pods": 3, "most on one node": 2, "fewest ready": 2, "from the new template": 2}
    # up to t=1.5 only the first new pod exists, not yet Ready
    assert rs.daemon_update_bounds(Recording(SURGE), "ds", start=0.5, end=1.5)["from the new template"] == 1


def test_rollout_columns_follow_the_templates_in_the_order_they_appeared():
    frame = rs.daemon_rollout(Recording(SURGE), "ds")
    assert list(frame.columns) == ["t", "pods", "ready", "most on one node", "revision 1", "revision 2"]
    last = frame.iloc[-1]
    assert (last["revision 1"], last["revision 2"]) == (0, 2)
    assert len(frame) < len(SURGE)   # rows where nothing counted changed are dropped


def test_deleting_first_lowers_ready_not_the_most_on_one_node():
    rows = [_pod(0, "a1", "n1", "old"), _pod(0, "b1", "n2", "old"),
            _pod(1, "a1", "n1", "old", deleting=True), _pod(2, "a1", "n1", "old", event="DELETED"),
            _pod(3, "a2", "n1", "new", ready=False), _pod(4, "a2", "n1", "new")]
    assert rs.daemon_update_bounds(Recording(rows), "ds", start=0.5) == {
        "most pods": 2, "most on one node": 1, "fewest ready": 1, "from the new template": 1}


def test_updated_needs_the_new_spec_seen_every_pod_updated_and_no_old_pod_left():
    pods = [_pod(0, "a2", "n1", "new"), _pod(0, "b2", "n2", "new")]
    assert rs.daemon_updated(Recording(pods + [_ds(1, 2, 2, 2, 2, 2)]), "ds")
    assert not rs.daemon_updated(Recording(pods + [_ds(1, 2, 1, 2, 2, 2)]), "ds")   # spec not yet observed
    assert not rs.daemon_updated(Recording(pods + [_ds(1, 2, 2, 2, 1, 2)]), "ds")   # one pod still old
    extra = pods + [_pod(0, "b1", "n2", "old")]
    assert not rs.daemon_updated(Recording(extra + [_ds(1, 2, 2, 2, 2, 2)]), "ds")  # an old pod left over
    assert not rs.daemon_updated(Recording(pods), "ds")                              # no status recorded


def test_bounds_of_a_daemonset_never_recorded_say_so():
    with pytest.raises(KjlabError, match="no pod of DaemonSet nope"):
        rs.daemon_update_bounds(Recording(SURGE), "nope", start=0)


def test_the_three_daemonsets_differ_only_in_their_update_strategy():
    docs = [rs.manifest("DaemonSet", n) for n in rs.UPDATE_DAEMONSETS]
    strategies = [d["spec"].pop("updateStrategy") for d in docs]
    for d in docs:
        for key in ("metadata", "selector"):
            d.pop(key) if key == "metadata" else d["spec"].pop(key)
        d["spec"]["template"]["metadata"]["labels"].pop("app")
    assert docs[0] == docs[1] == docs[2]
    assert [s["type"] for s in strategies] == ["RollingUpdate", "RollingUpdate", "OnDelete"]
    for s in strategies[:2]:  # the API accepts exactly one of them non-zero
        assert sorted([s["rollingUpdate"]["maxSurge"], s["rollingUpdate"]["maxUnavailable"]]) == [0, 1]
