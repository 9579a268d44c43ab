"""Answers to the jobs_more practice tasks that the cluster test types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

from kjlab.practice.tasks import jobs_more
from practice_answers.shapes import job

# the commands in a YAML double-quoted string (shapes.JOB)
PER_INDEX_COMMAND = jobs_more.PER_INDEX_COMMAND.replace('"', '\\"')
LEADER_COMMAND = jobs_more.LEADER_COMMAND.replace('"', '\\"')

IGNORE_DISRUPTION = {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
INDEXED = {"completionMode": "Indexed", "completions": 4, "parallelism": 4}
LEADER = {"completionMode": "Indexed", "completions": 3, "parallelism": 3}

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "job-ttl": [
        ("kubectl patch job report --type=merge -p '{\"spec\":{\"ttlSecondsAfterFinished\":60}}'",
         "ttlSecondsAfterFinished is 60"),
        ("kubectl patch job report --type=merge -p '{\"spec\":{\"activeDeadlineSeconds\":5}}'",
         "activeDeadlineSeconds counts from the Job's start"),
        # the same Job made again with the right TTL: not the prepared Job
        ("kubectl delete job report --wait=true\n"
         "kubectl create job report --image=bash:5 --dry-run=client -o yaml -- sh -c 'sleep 2' | kubectl patch "
         "--local -f - --type=merge -p '{\"spec\":{\"suspend\":true,\"ttlSecondsAfterFinished\":5}}' -o yaml "
         "| kubectl create -f -", "deleted and created again"),
    ],
    "job-ignore-disruption": [
        (job("resilient", "sleep 600", backoffLimit=0), "there is no pod failure policy, so every failure is counted"),
        (job("resilient", "sleep 600", backoffLimit=0, podFailurePolicy={"rules": [
            {"action": "Ignore", "onExitCodes": {"containerName": "main", "operator": "In", "values": [137]}}]}),
         "(an OOM kill), rule 0 (Ignore) matched"),
        (job("resilient", "sleep 600", backoffLimit=0, podFailurePolicy={"rules": [
            {"action": "Count", "onPodConditions": [{"type": "DisruptionTarget"}]}]}), "rule 0 (Count) matched"),
        (job("resilient", "sleep 600", backoffLimit=2, podFailurePolicy={"rules": [IGNORE_DISRUPTION]}),
         "backoffLimit is 2"),
    ],
    "job-per-index": [
        (job("per-index", PER_INDEX_COMMAND, backoffLimit=1, **INDEXED), "backoffLimitPerIndex is None: backoffLimit (1)"),
        (job("per-index", PER_INDEX_COMMAND, backoffLimitPerIndex=1, **INDEXED), "maxFailedIndexes is None"),
        (job("per-index", PER_INDEX_COMMAND, backoffLimitPerIndex=1, maxFailedIndexes=3, **INDEXED),
         "maxFailedIndexes is 3"),
    ],
    "job-success-policy": [
        (job("leader", LEADER_COMMAND, **LEADER), "there is no successPolicy"),
        (job("leader", LEADER_COMMAND, successPolicy={"rules": [{"succeededCount": 1}]}, **LEADER),
         "rule 0 of the successPolicy is met when only worker index(es) [1]"),
        (job("leader", LEADER_COMMAND, successPolicy={"rules": [{"succeededIndexes": "0-1"}]}, **LEADER),
         "no rule of the successPolicy is met when index 0 alone"),
    ],
    "job-parallelism": [
        ("kubectl patch job crunch --type=merge -p '{\"spec\":{\"parallelism\":2}}'", "parallelism is 2"),
        ("kubectl delete job crunch --wait=true\n"
         "kubectl create job crunch --image=bash:5 --dry-run=client -o yaml -- sh -c 'sleep 300' | kubectl patch "
         "--local -f - --type=merge -p '{\"spec\":{\"completions\":6,\"parallelism\":3}}' -o yaml | kubectl create -f -",
         "deleted and created again"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT = {
    "job-ignore-disruption": [
        # an explicit status, and a FailJob rule for every exit code after the Ignore rule
        job("resilient", "sleep 600", backoffLimit=0, podFailurePolicy={"rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            {"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [0]}}]}),
    ],
    "job-success-policy": [
        job("leader", LEADER_COMMAND, successPolicy={"rules": [{"succeededIndexes": "0", "succeededCount": 1}]},
            **LEADER),
    ],
    "job-parallelism": [
        # Without its resourceVersion: the Job controller writes crunch's status while it starts the
        # pods, and a replace of the copy read a moment before then meets a Conflict ("the object has
        # been modified", CI at load ~30), as a learner would. A Job may be updated unconditionally
        # (pkg/registry/batch/job/strategy.go AllowUnconditionalUpdate), and the status in the copy is
        # ignored (PrepareForUpdate keeps the stored one).
        "kubectl get job crunch -o yaml | sed -e 's/^  parallelism: 1$/  parallelism: 3/' -e '/^  resourceVersion: /d' "
        "| kubectl replace -f -",
    ],
}
