"""The check of exercise 09 (no-late-runs) on the real cluster. A CronJob check waits for whole
minutes, so the answers run at the same time, in threads, and share those minutes (about 2.5 min
for all of them). A right answer written differently from the solution passes; each wrong answer
gets the explanation that fits it (the test asserts the explanation, not only the failure)."""

import pytest

from kjlab import check
from verdicts import check_all, explained

RIGHT = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "mine"},   # a whole CronJob, a shorter deadline
         "spec": {"startingDeadlineSeconds": 5, "concurrencyPolicy": "Forbid", "schedule": "0 0 1 1 *"}}
WRONG = {  # answer -> what the verdict must say about it
    "forbid-alone": ("concurrencyPolicy: Forbid",
                     ["started", "s after its schedule time: Forbid holds a run back", "unless startingDeadlineSeconds"]),
    "replace": ("concurrencyPolicy: Replace\nstartingDeadlineSeconds: 10",
                ["1 deleted while running", "concurrencyPolicy Replace deletes the active Job"]),
    "allow-default": ("startingDeadlineSeconds: 10",
                      ["at most 2 active at once", "with concurrencyPolicy Allow (the default)"]),
}


@pytest.fixture(scope="module")
def verdicts(lab):
    answers = {"right": RIGHT, **{k: v[0] for k, v in WRONG.items()}}
    return check_all("no-late-runs", answers, lab["context"])


def test_right_answer_written_differently_passes(verdicts):
    v = verdicts["right"]
    assert v.passed, v
    explained(v, "at most 1 active at once", "0 deleted while running", "held back and then dropped")


@pytest.mark.parametrize("case", WRONG)
def test_wrong_answer_is_explained(verdicts, case):
    v = verdicts[case]
    assert not v.passed and v.solved
    explained(v, *WRONG[case][1])


def test_a_policy_the_api_refuses_is_explained(lab):
    v = check.run("no-late-runs", "concurrencyPolicy: Skip", context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the API does not accept this CronJob", "spec.concurrencyPolicy", "Unsupported value")


def test_placeholder_is_not_solved_yet(lab):
    v = check.run("no-late-runs", None, context=lab["context"], echo=False)
    assert not v.passed and not v.solved
