"""Answers to the jobs practice tasks that the cluster test types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

from practice_answers.shapes import job

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "job-completions": [
        ('kubectl create job batch --image=bash:5 -- sh -c "sleep 2"', "completions is 1"),
        (job("batch", "sleep 2", completions=4, parallelism=4), "parallelism is 4"),
        (job("batch", "sleep 2", parallelism=2), "completions is None: the Job must finish after 4 successful pods; "
         "left out while parallelism is set, it stays unset"),
        ('kubectl -n "$OTHER_NS" create job batch --image=bash:5 -- sh -c "sleep 2"', "is in namespace test-"),
    ],
    "job-indexed": [
        (job("shards", "sleep 2", completions=3, parallelism=3), "completionMode is NonIndexed"),
        (job("shards", "sleep 2", completions=2, parallelism=3, completionMode="Indexed"), "completions is 2"),
        (job("shards", "sleep 2", completions=3, parallelism=1, completionMode="Indexed"), "parallelism is 1"),
    ],
    "job-backofflimit": [
        ('kubectl create job flaky --image=bash:5 -- sh -c "sleep 1 && exit 1"', "6 is the default"),
        (job("flaky", "sleep 1 && exit 1", backoffLimit=0), "backoffLimit is 0"),
        (job("flaky", "sleep 1 && exit 1", restart="OnFailure", backoffLimit=1), "restartPolicy is OnFailure"),
    ],
    "job-failure-policy": [
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=6), "without a podFailurePolicy"),
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=6, podFailurePolicy={"rules": [
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1]}}]}),
         "no rule matched, so the failure is counted"),
        # used to pass: the Job did fail at once on 42, but the rule fails it on every non-zero code
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=6, podFailurePolicy={"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "NotIn", "values": [0]}}]}),
         "for exit code 1 in container main, rule 0 (FailJob) matched"),
        # used to pass: the statement says backoffLimit 6
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=2, podFailurePolicy={"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}}]}),
         "backoffLimit is 2"),
    ],
    "job-deadline": [
        (job("bounded", "sleep 600", ttlSecondsAfterFinished=10), "ttlSecondsAfterFinished counts from"),
        (job("bounded", "sleep 600", activeDeadlineSeconds=60), "activeDeadlineSeconds is 60"),
        (job("bounded", "sleep 600", activeDeadlineSeconds=5), "activeDeadlineSeconds is 5"),  # used to pass
    ],
    "job-suspend": [
        ("kubectl patch job nightly-batch --type=merge -p '{\"spec\":{\"parallelism\":0}}'",
         "parallelism 0 stops new pods"),
        ("kubectl delete pods -l job-name=nightly-batch --wait=false", "is replaced by the Job controller"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT: dict[str, list[str]] = {}
