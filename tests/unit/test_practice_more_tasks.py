"""The pure readers behind the jobs_more, cronjobs_more and workloads practice tasks: each one against
cases worked out by hand from the controller source the task modules cite."""

import pytest

from kjlab.practice.tasks import cronjobs_more, jobs_more, workloads


@pytest.mark.parametrize("policy,succeeded,rule", [
    ({"rules": [{"succeededIndexes": "0"}]}, {0}, 0),
    ({"rules": [{"succeededIndexes": "0"}]}, {1, 2}, None),
    ({"rules": [{"succeededCount": 1}]}, {2}, 0),                           # any index counts
    ({"rules": [{"succeededIndexes": "0-1"}]}, {0}, None),                  # both named indexes needed
    ({"rules": [{"succeededIndexes": "0-2", "succeededCount": 2}]}, {1, 2}, 0),
    ({"rules": [{"succeededIndexes": "x"}, {"succeededCount": 2}]}, {0, 1}, 1),  # an unparsable rule is skipped
    (None, {0, 1, 2}, None),
])
def test_success_met(policy, succeeded, rule):
    assert jobs_more.success_met(policy, succeeded, 3) == rule


def test_disruption_problems_read_the_policy_by_first_match():
    base = {"backoffLimit": 0, "template": {"spec": {"containers": [{"name": "main"}]}}}
    ignore = {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
    assert jobs_more.disruption_problems({**base, "podFailurePolicy": {"rules": [ignore]}}) == []
    by_code = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [137]}}]}
    assert any("OOM kill" in p for p in jobs_more.disruption_problems({**base, "podFailurePolicy": by_code}))
    count_first = {"rules": [{"action": "Count", "onPodConditions": [{"type": "DisruptionTarget"}]}, ignore]}
    assert any("rule 0 (Count)" in p for p in jobs_more.disruption_problems({**base, "podFailurePolicy": count_first}))


@pytest.mark.parametrize("strategy,replicas,expected", [
    ({}, 4, (1, 1)),                                                        # 25%/25%: up, down
    ({"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "20%"}}, 4, (1, 0)),
    ({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"}}, 4, (0, 1)),  # both 0 -> unavailable 1
    ({"rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 0}}, 4, (2, 0)),
    ({"rollingUpdate": {"maxSurge": "1%", "maxUnavailable": "99%"}}, 4, (1, 3)),
])
def test_fenceposts_round_as_the_deployment_controller(strategy, replicas, expected):
    assert workloads.fenceposts(strategy, replicas) == expected


@pytest.mark.parametrize("schedule,ok", [
    ("30 9 * * 1-5", True), ("30 9 ? * MON-FRI", True), ("30 9 * * *", False), ("30 8 * * 1-5", False),
    ("30 9 1-31 * 1-5", False),  # a named day-of-month ORs with the weekdays: every day
])
def test_berlin_weekdays(schedule, ok):
    assert (cronjobs_more.berlin_weekdays_0930(schedule) is None) == ok


@pytest.mark.parametrize("schedule,ok", [("*/2 * * * *", True), ("0-59/2 * * * *", True), ("2 * * * *", False),
                                         ("*/2 * * * 1-5", False)])
def test_every_two_minutes(schedule, ok):
    assert cronjobs_more.every_two_minutes(schedule) == ok
