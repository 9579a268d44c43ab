"""Practice tasks on Jobs: completions and parallelism, Indexed, backoffLimit, pod failure policy,
activeDeadlineSeconds, suspend.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- defaults: completions and parallelism 1 when both are unset, backoffLimit 6, completionMode
  NonIndexed, suspend false -- pkg/apis/batch/v1/defaults.go:36-61;
- at most min(parallelism, completions - succeeded) pods active -- pkg/controller/job/job_controller.go:1798-1815;
- completedIndexes of an Indexed Job -- job_controller.go:1418;
- BackoffLimitExceeded "Job has reached the specified backoff limit" and DeadlineExceeded "Job was
  active longer than specified deadline" -- job_controller.go:1089-1092;
- a pod failure policy's FailJob message "Container %s for pod %s/%s failed with exit code %v
  matching %v rule at index %d" -- pkg/controller/job/pod_failure_policy.go:57; no match = Count;
- a suspended Job gets the condition Suspended=True (type Suspended, reason JobSuspended --
  pkg/apis/batch/types.go:604) and its active pods are deleted -- job_controller.go:1165-1171;
- with restartPolicy OnFailure the failed containers restart in place and the Job fails once their
  restart counts reach backoffLimit (pastBackoffLimitOnFailure, job_controller.go:1690-1712); only
  with Never does each retry make a new pod;
- completions is immutable for a NonIndexed Job; an Indexed Job may change it together with
  parallelism (equal values) -- pkg/apis/batch/validation/validation.go:902-922;
- completions and parallelism both default to 1 only when both are unset; parallelism alone set
  leaves completions nil (any pod's success completes the Job) -- pkg/apis/batch/v1/defaults.go:37-43.
"""

from __future__ import annotations

from kjlab.api import kube, policy as policy_rules, readers
from kjlab.practice.cluster_view import job_ended
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.verdicts import verdict

SOURCES_DEFAULTS = "pkg/apis/batch/v1/defaults.go:36-61"


def _spec(job: dict) -> dict:
    return job.get("spec") or {}


def _command(job: dict) -> str:
    c = (_spec(job).get("template", {}).get("spec", {}).get("containers") or [{}])[0]
    return " ".join((c.get("command") or []) + (c.get("args") or []))


def _outcome(job: dict) -> str:
    done = readers.finished(job)
    cond = readers.true_condition(job, "FailureTarget") or readers.true_condition(job, done or "")
    counts = readers.counters(job)
    state = done or ("Failing" if readers.is_true(job, "FailureTarget") else "still running")
    return (f"the Job is {state}" + (f" ({cond.get('reason')})" if cond and cond.get("reason") else "")
            + f": succeeded={counts['succeeded']}, failed={counts['failed']}, active={counts['active']}")


def _run_to_end(view, name: str, quiet: float = 20, cap: float = 90, done=job_ended) -> dict:
    """Wait (bounded by progress) until the learner's Job ends, and return it as last seen."""
    _, jobs = view.settle("job", done, f"Job {name} to end", quiet=quiet, cap=cap,
                          field_selector=f"metadata.name={name}")
    return jobs[0] if jobs else view.require("job", name)


# --- completions and parallelism -------------------------------------------------------------------

def check_completions(view):
    job = view.require("job", "batch")
    spec = _spec(job)
    problems = []
    if spec.get("completions") != 4:
        default = ("; left out together with parallelism, both default to 1" if spec.get("completions") == 1
                   and spec.get("parallelism") == 1 else
                   "; left out while parallelism is set, it stays unset: a work queue, complete once one pod "
                   "has succeeded and none still runs" if spec.get("completions") is None else "")
        problems.append(f"completions is {spec.get('completions')}: the Job must finish after 4 successful pods"
                        f"{default} ({SOURCES_DEFAULTS})")
    if spec.get("parallelism") != 2:
        problems.append(f"parallelism is {spec.get('parallelism')}: the controller keeps at most parallelism pods "
                        "active at once (capped by the completions still missing), and the task asks for 2")
    if not problems:
        job = _run_to_end(view, "batch")
        if readers.finished(job) != "Complete" or readers.counter(job, "succeeded") != 4:
            problems.append(f"{_outcome(job)}; expected Complete with 4 succeeded pods (container command: "
                            f"{_command(job)!r})")
    return verdict("job-completions", problems, [f"Job batch: completions={spec.get('completions')}, "
                                                 f"parallelism={spec.get('parallelism')}"],
                   "4 pods completed, at most 2 at a time (parallelism 2)")


register(Task(
    id="job-completions", topic="jobs", minutes=4, title="Completions and parallelism",
    statement="""
In namespace {ns}, create a Job named `batch` that runs the image `bash:5` with the command
`sh -c "sleep 2"`. The Job is complete after 4 pods have succeeded, and it runs its pods 2 at a time
(never more).
""",
    check=check_completions,
    hint="`kubectl create job` has no flag for completions: generate YAML with --dry-run=client -o yaml, "
         "then set spec.completions and spec.parallelism before creating it (completions of a NonIndexed Job, the "
         "default, cannot be changed once the Job exists).",
    imperative="""
kubectl create job batch --image=bash:5 --dry-run=client -o yaml -- sh -c "sleep 2" > job.yaml
kubectl patch --local -f job.yaml --type=merge -p '{"spec":{"completions":4,"parallelism":2}}' -o yaml | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: Job
metadata:
  name: batch
spec:
  completions: 4
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: batch
        image: bash:5
        command: ["sh", "-c", "sleep 2"]
""",
    sources=(SOURCES_DEFAULTS, "pkg/controller/job/job_controller.go:1798-1815"),
    lab_cell="labs/06-completions-parallelism.ipynb, cell cell-03: NonIndexed: any five successes",
))


# --- Indexed -----------------------------------------------------------------------------------------

def check_indexed(view):
    job = view.require("job", "shards")
    spec = _spec(job)
    problems = []
    if spec.get("completionMode") != "Indexed":
        problems.append(f"completionMode is {spec.get('completionMode')} (NonIndexed is the default, "
                        f"{SOURCES_DEFAULTS}): its pods get no completion index (no JOB_COMPLETION_INDEX)")
    if spec.get("completions") != 3:
        problems.append(f"completions is {spec.get('completions')}: an Indexed Job runs indexes 0 to completions-1, "
                        "and the task asks for 0, 1 and 2")
    if (spec.get("parallelism") or 0) < 3:
        problems.append(f"parallelism is {spec.get('parallelism')}: at most that many pods run at once, and the "
                        "task lets all three indexes run together")
    if not problems:
        job = _run_to_end(view, "shards")
        done = (job.get("status") or {}).get("completedIndexes")
        if readers.finished(job) != "Complete" or done != "0-2":
            problems.append(f"{_outcome(job)}, completedIndexes={done!r}; expected Complete with indexes 0-2")
    return verdict("job-indexed", problems, [f"Job shards: completionMode={spec.get('completionMode')}, "
                                             f"completions={spec.get('completions')}, "
                                             f"parallelism={spec.get('parallelism')}"],
                   "indexes 0, 1 and 2 each completed (completedIndexes 0-2)")


register(Task(
    id="job-indexed", topic="jobs", minutes=4, title="An Indexed Job",
    statement="""
In namespace {ns}, create a Job named `shards` (image `bash:5`, command `sh -c "sleep 2"`) whose pods
each get a completion index, 0, 1 and 2, one pod per index, all three allowed to run at once.
""",
    check=check_indexed,
    hint="spec.completionMode: Indexed, with completions 3 and parallelism 3.",
    imperative="""
kubectl create job shards --image=bash:5 --dry-run=client -o yaml -- sh -c "sleep 2" > job.yaml
kubectl patch --local -f job.yaml --type=merge -p '{"spec":{"completionMode":"Indexed","completions":3,"parallelism":3}}' -o yaml | kubectl apply -f -
""",
    declarative="""
apiVersion: batch/v1
kind: Job
metadata:
  name: shards
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 3
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: shard
        image: bash:5
        command: ["sh", "-c", "sleep 2"]
""",
    sources=(SOURCES_DEFAULTS, "pkg/controller/job/job_controller.go:1418"),
    lab_cell="labs/06-completions-parallelism.ipynb, cell cell-10: Indexed: one success per index",
))


# --- backoffLimit ------------------------------------------------------------------------------------

def check_backoff(view):
    job = view.require("job", "flaky")
    limit = _spec(job).get("backoffLimit")
    restart = _spec(job).get("template", {}).get("spec", {}).get("restartPolicy")
    problems = []
    if limit != 1:
        default = " (6 is the default when it is left out, " + SOURCES_DEFAULTS + ")" if limit == 6 else ""
        problems.append(f"backoffLimit is {limit}{default}: it is the number of retries, so with restartPolicy "
                        f"Never the Job is marked failed once {limit + 1 if isinstance(limit, int) else '?'} pods "
                        "have failed; the task allows one retry (2 pods in all), i.e. backoffLimit 1")
    if restart != "Never":
        problems.append(f"restartPolicy is {restart}: the task asks for Never, so each retry is a new pod; with "
                        "OnFailure the container restarts in the same pod and the Job fails when the restart "
                        "counts reach backoffLimit (job_controller.go:1690), with one failed pod")
    if not problems:
        job = _run_to_end(view, "flaky", quiet=25)
        reason = (readers.true_condition(job, "Failed") or readers.true_condition(job, "FailureTarget") or {}).get("reason")
        if reason != "BackoffLimitExceeded" or readers.counter(job, "failed") != 2:
            problems.append(f"{_outcome(job)}; expected Failed with BackoffLimitExceeded after 2 failed pods "
                            f"(container command: {_command(job)!r} must exit non-zero)")
    return verdict("job-backofflimit", problems, [f"Job flaky: backoffLimit={limit}, restartPolicy={restart}"],
                   "the failing pod was retried once, then the Job failed with BackoffLimitExceeded")


register(Task(
    id="job-backofflimit", topic="jobs", minutes=3, title="Retries: backoffLimit",
    statement="""
In namespace {ns}, create a Job named `flaky` (image `bash:5`, command `sh -c "sleep 1 && exit 1"`,
restartPolicy `Never`). When its pod fails, Kubernetes may retry it once, no more: after the second
failed pod the Job is failed.
""",
    check=check_backoff,
    hint="backoffLimit counts retries, not pods.",
    imperative="""
kubectl create job flaky --image=bash:5 --dry-run=client -o yaml -- sh -c "sleep 1 && exit 1" > job.yaml
kubectl patch --local -f job.yaml --type=merge -p '{"spec":{"backoffLimit":1}}' -o yaml | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: Job
metadata:
  name: flaky
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: flaky
        image: bash:5
        command: ["sh", "-c", "sleep 1 && exit 1"]
""",
    sources=(SOURCES_DEFAULTS, "pkg/controller/job/job_controller.go:1089"),
    lab_cell="labs/07-failure-and-retry.ipynb, cell cell-13: The back-off, measured",
))


# --- pod failure policy ----------------------------------------------------------------------------

def _failed_twice_or_ended(jobs: list[dict]) -> bool:
    # A second failed pod proves the first failure was retried: no need to wait for the back-off to run
    # out. FailureTarget alone is not the end: the failed pod is counted after it (status.failed 0 then 1).
    return any(readers.finished(j) or readers.counter(j, "failed") >= 2 for j in jobs)


def failed_pod(container: str, exit_code: int) -> dict:
    """A pod as the Job controller sees it after ``container`` exited with ``exit_code``: to ask the
    learner's policy what it would do with a failure the task's command never produces."""
    return {"status": {"phase": "Failed", "containerStatuses": [
        {"name": container, "state": {"terminated": {"exitCode": exit_code}}}]}}


def policy_problems(spec: dict) -> list[str]:
    """What the statement asks of the Job's spec, read before it runs: backoffLimit 6, container main,
    a FailJob rule for exit 42 and none for other codes (read with the controller's first-match rule)."""
    policy = spec.get("podFailurePolicy")
    problems = []
    if spec.get("backoffLimit") != 6:
        problems.append(f"backoffLimit is {spec.get('backoffLimit')}: the task asks for 6, so that other failures "
                        "are retried as usual")
    names = [c.get("name") for c in spec.get("template", {}).get("spec", {}).get("containers") or []]
    if "main" not in names:
        problems.append(f"the container is named {', '.join(map(str, names))}, not main")
    on_42 = policy_rules.first_match(policy, failed_pod("main", 42))
    if policy and on_42.action != "FailJob":
        problems.append(f"for exit code 42 in container main, {on_42.why}: the Job would not fail at once")
    on_1 = policy_rules.first_match(policy, failed_pod("main", 1))
    if on_1.action == "FailJob":
        problems.append(f"for exit code 1 in container main, {on_1.why}: the Job would fail at once on any "
                        "other failure too, which the task says must be retried")
    return problems


def check_failure_policy(view):
    job = view.require("job", "exit-rules")
    policy = _spec(job).get("podFailurePolicy")
    found = [f"Job exit-rules: backoffLimit={_spec(job).get('backoffLimit')}, podFailurePolicy="
             + (str(len(policy.get('rules') or [])) + " rule(s)" if policy else "none")]
    problems = policy_problems(_spec(job))
    if problems:  # the spec already says the answer is wrong: no need to wait for its pods
        return verdict("job-failure-policy", problems, found, "")
    job = _run_to_end(view, "exit-rules", quiet=25, done=_failed_twice_or_ended)
    target = readers.true_condition(job, "FailureTarget") or readers.true_condition(job, "Failed") or {}
    if target.get("reason") != "PodFailurePolicy" or readers.counter(job, "failed") != 1:
        problems.append(f"{_outcome(job)}; expected the Job to fail at the first pod's exit code 42 "
                        "(reason PodFailurePolicy, failed=1)")
        failed = [p for p in view.list("pod", "job-name=exit-rules") if readers.phase(p) == "Failed"]
        for pod in failed[:1]:
            found.append(f"pod {readers.name(pod)}: {policy_rules.first_match(policy, pod).why}")
        if not policy:
            problems.append("without a podFailurePolicy every failed pod counts toward backoffLimit, so the "
                            "pod is retried whatever its exit code")
    elif target.get("message"):
        found.append(f"the Job's condition says: {target['message']}")
    return verdict("job-failure-policy", problems, found,
                   "exit code 42 failed the Job at once (PodFailurePolicy), without a retry")


register(Task(
    id="job-failure-policy", topic="jobs", minutes=6, title="Pod failure policy: exit code 42 is fatal",
    statement="""
In namespace {ns}, create a Job named `exit-rules` (image `bash:5`, container name `main`, command
`sh -c "sleep 1 && exit 42"`, backoffLimit 6). Exit code 42 means the input is bad: when a pod's
container `main` exits with 42, the whole Job must fail at once, without retries. Other failures are
retried as usual.
""",
    check=check_failure_policy,
    hint="spec.podFailurePolicy with one rule: action FailJob, onExitCodes {containerName: main, operator: In, "
         "values: [42]}. A pod failure policy needs restartPolicy Never.",
    imperative="""
kubectl create job exit-rules --image=bash:5 --dry-run=client -o yaml -- sh -c "sleep 1 && exit 42" > job.yaml
kubectl patch --local -f job.yaml --type=json -o yaml -p '[{"op":"replace","path":"/spec/template/spec/containers/0/name","value":"main"},{"op":"add","path":"/spec/backoffLimit","value":6},{"op":"add","path":"/spec/podFailurePolicy","value":{"rules":[{"action":"FailJob","onExitCodes":{"containerName":"main","operator":"In","values":[42]}}]}}]' | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: Job
metadata:
  name: exit-rules
spec:
  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes:
        containerName: main
        operator: In
        values: [42]
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: bash:5
        command: ["sh", "-c", "sleep 1 && exit 42"]
""",
    sources=("pkg/controller/job/pod_failure_policy.go:57", "pkg/apis/batch/validation/validation.go"),
))


# --- activeDeadlineSeconds -------------------------------------------------------------------------

def _deadline_hit(jobs: list[dict]) -> bool:
    return any(readers.finished(j) or readers.is_true(j, "FailureTarget") for j in jobs)


def check_deadline(view):
    job = view.require("job", "bounded")
    spec = _spec(job)
    deadline = spec.get("activeDeadlineSeconds")
    problems = []
    if deadline != 10:
        problems.append(f"activeDeadlineSeconds is {deadline}: it is the Job's time limit, counted from its start; "
                        "the task asks for 10 s")
        if spec.get("ttlSecondsAfterFinished") is not None:
            problems.append("ttlSecondsAfterFinished counts from the moment the Job has finished: it deletes a "
                            "finished Job, it never ends a running one")
    else:
        job = _run_to_end(view, "bounded", quiet=deadline + 10, cap=deadline + 40, done=_deadline_hit)
        reason = (readers.true_condition(job, "FailureTarget") or readers.true_condition(job, "Failed") or {}).get("reason")
        if reason != "DeadlineExceeded":
            problems.append(f"{_outcome(job)}; expected the Job to fail with DeadlineExceeded")
    return verdict("job-deadline", problems, [f"Job bounded: activeDeadlineSeconds={deadline}, "
                                              f"backoffLimit={spec.get('backoffLimit')}"],
                   "the Job was stopped by its deadline (DeadlineExceeded)")


register(Task(
    id="job-deadline", topic="jobs", minutes=3, title="A time limit: activeDeadlineSeconds",
    statement="""
In namespace {ns}, create a Job named `bounded` (image `bash:5`, command `sh -c "sleep 600"`).
Kubernetes must stop it and mark it failed once it has been active for 10 seconds, whatever its
retries would still allow.
""",
    check=check_deadline,
    hint="spec.activeDeadlineSeconds (not ttlSecondsAfterFinished, which starts when the Job has finished).",
    imperative="""
kubectl create job bounded --image=bash:5 --dry-run=client -o yaml -- sh -c "sleep 600" > job.yaml
kubectl patch --local -f job.yaml --type=merge -p '{"spec":{"activeDeadlineSeconds":10}}' -o yaml | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: Job
metadata:
  name: bounded
spec:
  activeDeadlineSeconds: 10
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: bounded
        image: bash:5
        command: ["sh", "-c", "sleep 600"]
""",
    sources=("pkg/controller/job/job_controller.go:1091-1092",),
    lab_cell="labs/08-ending-early.ipynb, cell cell-03: activeDeadlineSeconds vs backoffLimit",
))


# --- suspend -----------------------------------------------------------------------------------------

SUSPEND_JOB = {
    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "nightly-batch"},
    "spec": {"completions": 4, "parallelism": 2, "template": {"spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "work", "image": "bash:5", "command": ["sh", "-c", "sleep 300"]}]}}},
}


def setup_suspend(view):
    created = kube.create(view.context, view.namespace, SUSPEND_JOB)
    # the Job's uid, so the check can tell the same Job from one deleted and created again
    kube.core(view.context).create_namespaced_config_map(view.namespace, {
        "metadata": {"name": "practice-setup"}, "data": {"job-uid": readers.uid(created)}})
    view.settle("pod", lambda pods: sum(readers.phase(p) == "Running" for p in pods) >= 2,
                "the Job's 2 pods to run", quiet=30, cap=60)


def _suspended_and_idle(jobs: list[dict]) -> bool:
    return any(readers.is_true(j, "Suspended") and not readers.counter(j, "active") for j in jobs)


def check_suspend(view):
    job = view.require("job", "nightly-batch")
    setup = kube.raw(kube.core(view.context).read_namespaced_config_map, "practice-setup", view.namespace)
    problems = []
    if readers.uid(job) != setup["data"]["job-uid"]:
        problems.append("this is not the Job the task prepared: it was deleted and created again (its uid "
                        "changed); suspending keeps the Job, its status and its counters")
    if not _spec(job).get("suspend"):
        pods = [p for p in view.list("pod", "job-name=nightly-batch") if not readers.ended(p)]
        problems.append(f"spec.suspend is {_spec(job).get('suspend')}: the Job is not suspended, and it has "
                        f"{len(pods)} pod(s) not yet ended" + (
                            f" (parallelism {_spec(job).get('parallelism')} stops new pods, but a Job is suspended "
                            "only by spec.suspend: true, which also records Suspended=True)"
                            if _spec(job).get("parallelism") == 0 else
                            "; a deleted pod of a running Job is replaced by the Job controller"))
    elif not problems:
        _, jobs = view.settle("job", _suspended_and_idle, "the Job to be Suspended with no active pod",
                              quiet=15, cap=60, field_selector="metadata.name=nightly-batch")
        if not _suspended_and_idle(jobs):
            problems.append(f"{_outcome(jobs[0] if jobs else job)}; expected Suspended=True and active=0")
    return verdict("job-suspend", problems, [f"Job nightly-batch: suspend={_spec(job).get('suspend')}, "
                                             f"parallelism={_spec(job).get('parallelism')}, {_outcome(job)}"],
                   "the Job is suspended (Suspended=True) and its pods are gone")


register(Task(
    id="job-suspend", topic="jobs", minutes=2, title="Suspend a running Job",
    statement="""
In namespace {ns}, the Job `nightly-batch` is running two pods and must pause for maintenance: suspend
it, so that none of its pods runs, without deleting the Job (it must be resumable later).
""",
    setup=setup_suspend,
    check=check_suspend,
    hint="spec.suspend is mutable: kubectl patch, or kubectl edit.",
    imperative="""
kubectl patch job nightly-batch --type=merge -p '{"spec":{"suspend":true}}'
""",
    declarative="""
# kubectl get job nightly-batch -o yaml > job.yaml, set spec.suspend: true, then kubectl apply -f job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-batch
spec:
  suspend: true
""",
    sources=("pkg/controller/job/job_controller.go:1165-1171",),
    lab_cell="labs/08-ending-early.ipynb, cell suspend-md: suspend: pause a Job, change where it runs, resume it",
))
