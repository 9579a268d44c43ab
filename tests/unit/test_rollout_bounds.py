"""The deploy-rolling check's rollout bounds, fed ReplicaSet snapshots as a watch delivers them."""

from kjlab.practice.tasks.workloads import RolloutBounds

NOW = "2026-12-06T00:00:00Z"


def rs(name, asked, available, replicas=None, new=False):
    template = {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": NOW}}} if new else {"metadata": {}}
    return {"metadata": {"name": name}, "spec": {"replicas": asked, "template": template},
            "status": {"replicas": asked if replicas is None else replicas, "availableReplicas": available}}


def test_lagging_statuses_are_not_counted_as_extra_pods():
    bounds = RolloutBounds(NOW)
    # the old ReplicaSet is asked for 3 while its status still shows 4 pods, and the new one has 2 asked:
    # a Deployment's status.replicas would say 6 here, the controller asked for 5
    steps = [
        [rs("old", 4, 4)],
        [rs("old", 4, 4), rs("new", 1, 0, new=True)],
        [rs("old", 4, 4), rs("new", 1, 1, new=True)],
        [rs("old", 3, 4, replicas=4), rs("new", 2, 1, replicas=2, new=True)],
        [rs("old", 3, 3), rs("new", 2, 2, new=True)],
        [rs("old", 0, 2, replicas=2), rs("new", 4, 4, new=True)],
    ]
    assert [bounds.done(step) for step in steps] == [False] * 6
    assert bounds.done([rs("old", 0, 0), rs("new", 4, 4, new=True)])
    assert (bounds.min_available, bounds.max_replicas) == (4, 5)


def test_a_surge_of_two_is_seen():
    bounds = RolloutBounds(NOW)
    bounds.done([rs("old", 4, 4), rs("new", 2, 0, new=True)])
    assert bounds.max_replicas == 6


def test_lost_capacity_is_seen():
    bounds = RolloutBounds(NOW)
    bounds.done([rs("old", 3, 3), rs("new", 1, 0, new=True)])
    assert bounds.min_available == 3


def test_not_done_while_an_old_replica_set_keeps_a_pod():
    bounds = RolloutBounds(NOW)
    assert not bounds.done([rs("old", 0, 0, replicas=1), rs("new", 4, 4, new=True)])
    assert not bounds.done([rs("old", 0, 0), rs("new", 4, 3, new=True)])
