"""The checks of exercises 06 (indexed-shards) and 07 (index-budget) on the real cluster: answers
written differently from the solution pass, and each wrong answer gets the explanation that fits it
(the test asserts the explanation, not only the failure)."""

import pytest

from kjlab import check


def explained(verdict, *phrases):
    text = str(verdict)
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{missing} not in:\n{text}"


# --- indexed-shards ---------------------------------------------------------------------------------

def test_shards_as_a_whole_job_manifest_passes(lab):
    answer = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "my-shards"},
              "spec": {"parallelism": 2, "backoffLimit": 0, "completions": 6, "completionMode": "Indexed"}}
    v = check.run("indexed-shards", answer, context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "pods got indexes [0, 1, 2, 3, 4, 5]", "at most 2 pod(s) ran at the same moment", "completedIndexes=0-5")


def test_shards_nonindexed_get_no_index(lab):
    v = check.run("indexed-shards", "completions: 6\nparallelism: 2", context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the pods got no index", "completionMode is NonIndexed, the default", "Set completionMode: Indexed")


def test_shards_all_at_once(lab):
    v = check.run("indexed-shards", "completionMode: Indexed\ncompletions: 6\nparallelism: 6",
                  context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "at most 6 pod(s) ran at the same moment", "that is more than 2: `parallelism` bounds")


def test_shards_too_few_completions(lab):
    v = check.run("indexed-shards", "completionMode: Indexed\ncompletions: 3\nparallelism: 2",
                  context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "pods got indexes [0, 1, 2]", "indexes 0..5 are needed", "`completions` is the number of indexes")


def test_shards_indexed_without_completions_is_refused(lab):
    v = check.run("indexed-shards", "completionMode: Indexed\nparallelism: 2", context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the API rejected the Job", "spec.completions", "an Indexed Job needs `completions`")


# --- index-budget -----------------------------------------------------------------------------------

def test_budget_written_differently_passes(lab):
    v = check.run("index-budget", {"parallelism": 3, "maxFailedIndexes": 1, "backoffLimitPerIndex": 1},
                  context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "index 1: 2, index 2: 2", "MaxFailedIndexesExceeded", "never ran")


def test_budget_with_a_global_backoff_limit(lab):
    v = check.run("index-budget", "backoffLimit: 1", context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "with BackoffLimitExceeded", "backoffLimit counts the failures of all indexes together")


def test_budget_without_max_failed_indexes_runs_to_the_end(lab):
    v = check.run("index-budget", "backoffLimitPerIndex: 1", context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "with FailedIndexes", "every index ran", "That limit is maxFailedIndexes")


def test_budget_max_failed_indexes_alone_is_refused(lab):
    v = check.run("index-budget", "maxFailedIndexes: 1", context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the API rejected the Job", "when maxFailedIndexes is specified",
              "maxFailedIndexes only works with backoffLimitPerIndex set")


@pytest.mark.parametrize("exercise", ["indexed-shards", "index-budget"])
def test_placeholder_is_not_solved_yet(lab, exercise):
    v = check.run(exercise, None, context=lab["context"], echo=False)
    assert not v.passed and not v.solved
