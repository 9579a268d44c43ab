"""The checks of exercises 06 (indexed-shards), 07 (index-budget) and 08 (give-up-in-time) on the real cluster: answers
written differently from the solution pass, and each wrong answer gets the explanation that fits it
(the test asserts the explanation, not only the failure)."""

import pytest

from kjlab import check
from verdicts import explained


# --- indexed-shards ---------------------------------------------------------------------------------

def test_shards_as_a_whole_job_manifest_passes(lab):
    answer = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "my-shards"},
              "spec": {"parallelism": 2, "backoffLimit": 0, "completions": 6, "completionMode": "Indexed"}}
    v = check.run("indexed-shards", answer, context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "pods got indexes [0, 1, 2, 3, 4, 5]", "at most 2 pod(s) ran at the same moment", "completedIndexes=0-5")


WRONG_SHARDS = {  # answer -> what the verdict must say about it
    "nonindexed": ("completions: 6\nparallelism: 2",
                   ["the pods got no index", "completionMode is NonIndexed, the default", "Set completionMode: Indexed"]),
    "all-at-once": ("completionMode: Indexed\ncompletions: 6\nparallelism: 6",
                    ["at most 6 pod(s) ran at the same moment", "that is more than 2: `parallelism` bounds"]),
    "too-few": ("completionMode: Indexed\ncompletions: 3\nparallelism: 2",
                ["pods got indexes [0, 1, 2]", "indexes 0..5 are needed", "`completions` is the number of indexes"]),
    "no-completions": ("completionMode: Indexed\nparallelism: 2",
                       ["the API rejected the Job", "spec.completions", "an Indexed Job needs `completions`"]),
}


def test_a_nonindexed_answer_stops_when_its_pods_cannot_run_and_says_only_what_is_true(lab):
    """Issue 26 item 4: `completions: 6, parallelism: 2` (NonIndexed). The given container reads
    JOB_COMPLETION_INDEX, which a NonIndexed pod lacks: on kwok the simulated kubelet cannot run it
    (NotSimulated), so the outcome is decided at once; the verdict names that and the answer's own
    parallelism, and says nothing the answer did not do."""
    import time

    started = time.monotonic()
    v = check.run("indexed-shards", "completions: 6\nparallelism: 2", context=lab["context"], echo=False)
    took = time.monotonic() - started
    assert not v.passed
    text = str(v)
    explained(v, "completionMode is NonIndexed, the default", "your parallelism: 2", "Set completionMode: Indexed")
    assert "with parallelism 0" not in text and "parallelism 0" not in text, text
    if lab["context"].startswith("kwok-"):
        explained(v, "no pod could run, so the check stopped at", "NotSimulated", "JOB_COMPLETION_INDEX")
        assert "within 60 s" not in text, text
        assert took < 45, f"the check took {took:.0f} s: it did not stop when the pods could not run"


# --- index-budget -----------------------------------------------------------------------------------

def test_budget_written_differently_passes(lab):
    v = check.run("index-budget", {"parallelism": 3, "maxFailedIndexes": 1, "backoffLimitPerIndex": 1},
                  context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "index 1: 2, index 2: 2", "MaxFailedIndexesExceeded", "never ran")


WRONG_BUDGETS = {
    "global-backoff-limit": ("backoffLimit: 1",
                             ["with BackoffLimitExceeded", "backoffLimit counts the failures of all indexes together"]),
    "no-max-failed-indexes": ("backoffLimitPerIndex: 1",
                              ["with FailedIndexes", "every index ran", "That limit is maxFailedIndexes"]),
    "max-failed-indexes-alone": ("maxFailedIndexes: 1",
                                 ["the API rejected the Job", "when maxFailedIndexes is specified",
                                  "maxFailedIndexes only works with backoffLimitPerIndex set"]),
}


WRONG_GIVE_UP = {
    "backoff-limit": ("backoffLimit: 1", ["with BackoffLimitExceeded", "backoffLimit counts failed pods, not time",
                                          "A bound on the Job's time is activeDeadlineSeconds"]),
    "ttl": ("ttlSecondsAfterFinished: 15", ["the Job had not ended: still active after 30 s",
                                            "ttlSecondsAfterFinished counts from the moment "
                                            "the Job has finished"]),
    "deadline-too-long": ("activeDeadlineSeconds: 60", ["still active after 30 s",
                                                        "your activeDeadlineSeconds is 60 s, more than 15 s"]),
}
WRONG = {**{("indexed-shards", k): v for k, v in WRONG_SHARDS.items()},
         **{("index-budget", k): v for k, v in WRONG_BUDGETS.items()},
         **{("give-up-in-time", k): v for k, v in WRONG_GIVE_UP.items()}}


@pytest.mark.parametrize("exercise,case", WRONG, ids=lambda x: x)
def test_wrong_answer_is_explained(lab, exercise, case):
    answer, phrases = WRONG[exercise, case]
    v = check.run(exercise, answer, context=lab["context"], echo=False)
    assert not v.passed
    explained(v, *phrases)
    assert "ended Running" not in str(v), str(v)  # a Job that had not ended is not said to have ended


def test_give_up_as_a_whole_job_with_a_shorter_deadline_passes(lab):
    answer = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "mine"},
              "spec": {"backoffLimit": 6, "activeDeadlineSeconds": 10}}
    v = check.run("give-up-in-time", answer, context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "with DeadlineExceeded", "activeDeadlineSeconds ended the Job")


@pytest.mark.parametrize("exercise", ["indexed-shards", "index-budget", "give-up-in-time"])
def test_placeholder_is_not_solved_yet(lab, exercise):
    v = check.run(exercise, None, context=lab["context"], echo=False)
    assert not v.passed and not v.solved
