"""The check of exercise 12 (drain-budget) on the real cluster: answers written differently from the
solution pass, and each wrong answer gets the explanation that fits it (the test asserts the
explanation, not only the failure). Each answer drains kjlab-worker, so they run one after another."""

import pytest

from kjlab import check
from verdicts import explained

WRONG = {  # answer -> what the verdict must say about it
    "too-loose": ("maxUnavailable: 2\nselector:\n  matchLabels: {app: web}",
                  ["allowed 2 disruption(s) at once", "the fewest ready web pods during the drain was 1",
                   "a budget must allow at most 3 - 2 = 1 disruption"]),
    "blocks-every-eviction": ("minAvailable: 3\nselector:\n  matchLabels: {app: web}",
                              ["allowed 0 disruption(s) at once", "did not finish",
                               "the Eviction API answers 429 for ever, so a drain can never finish"]),
    "selects-nothing": ("minAvailable: 2\nselector:\n  matchLabels: {app: api}",
                        ["covered 0 of the 3 web pods", "0 refusal(s) (429)",
                         "the budget's selector matches none of the web pods"]),
    "both-fields": ("minAvailable: 2\nmaxUnavailable: 1\nselector:\n  matchLabels: {app: web}",
                    ["the API does not accept this PodDisruptionBudget",
                     "minAvailable and maxUnavailable cannot be both set", "not both"]),
}
RIGHT = {  # written differently from the solution's minAvailable: 2 + matchLabels
    "max-unavailable-whole-object": {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "mine"},
                                     "spec": {"maxUnavailable": 1, "selector": {"matchExpressions": [
                                         {"key": "app", "operator": "In", "values": ["web"]}]}}},
    "percentage": "minAvailable: 60%\nselector:\n  matchLabels: {app: web}",   # 60 % of 3 = 1.8, rounded up: 2
}


@pytest.mark.parametrize("case", RIGHT)
def test_right_answer_written_differently_passes(lab, case):
    v = check.run("drain-budget", RIGHT[case], context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "covered 3 of the 3 web pods", "allowed 1 disruption(s) at once", "finished in",
              "the fewest ready web pods during the drain was 2")
    assert v.evidence["refusals"] >= 1


@pytest.mark.parametrize("case", WRONG)
def test_wrong_answer_is_explained(lab, case):
    v = check.run("drain-budget", WRONG[case][0], context=lab["context"], echo=False)
    assert not v.passed and v.solved
    explained(v, *WRONG[case][1])
