"""More practice tasks on Jobs: ttlSecondsAfterFinished, a pod failure policy that ignores disruptions,
backoffLimitPerIndex with maxFailedIndexes, successPolicy, and parallelism changed on a running Job.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- the TTL-after-finished controller deletes a finished Job once ttlSecondsAfterFinished has passed
  since it finished, with foreground propagation (its pods go first) --
  pkg/controller/ttlafterfinished/ttlafterfinished_controller.go:243-257, :288-330;
  ttlSecondsAfterFinished and activeDeadlineSeconds are mutable (neither is among the immutable
  fields, pkg/apis/batch/validation/validation.go:623-635); activeDeadlineSeconds fails a Job that
  has been active too long (DeadlineExceeded) and deletes nothing -- pkg/controller/job/job_controller.go:1089-1092;
- the Eviction API adds the pod condition DisruptionTarget=True, reason EvictionByEvictionAPI, before
  it deletes the pod -- pkg/registry/core/pod/storage/eviction.go:341-349; a rule whose action is
  Ignore does not count the failed pod towards backoffLimit, the first matching rule wins, no match
  counts -- pkg/controller/job/pod_failure_policy.go:36-90; with a podFailurePolicy,
  podReplacementPolicy defaults to Failed (the replacement is created once the old pod has failed)
  -- pkg/apis/batch/v1/defaults.go:62-67;
- backoffLimitPerIndex counts retries per index; an index whose pods failed more than it allows is
  failed for good (status.failedIndexes) while the others run on; more failed indexes than
  maxFailedIndexes fail the Job at once (MaxFailedIndexesExceeded), else the Job fails with
  FailedIndexes once every index has succeeded or failed -- pkg/controller/job/indexed_job_utils.go:80-112,
  job_controller.go:1102-1110; with backoffLimitPerIndex set, backoffLimit defaults to MaxInt32 --
  pkg/apis/batch/v1/defaults.go:45-46; backoffLimitPerIndex is immutable (maxFailedIndexes is not) -- validation.go:631;
- a successPolicy rule with succeededIndexes is met when all those indexes succeeded (or
  succeededCount of them); a rule with succeededCount alone, when that many indexes succeeded, any
  of them; the Job then gets SuccessCriteriaMet (reason SuccessPolicy) and Complete, and its
  remaining pods are deleted -- pkg/controller/job/success_policy.go:29-50, :67-90,
  job_controller.go:1114-1130; without one an Indexed Job is complete when every index succeeded;
- parallelism is mutable and the controller keeps min(parallelism, completions - succeeded) pods
  active -- job_controller.go:1798-1815; completions of a NonIndexed Job is immutable --
  validation.go:902-906; a Job has no scale subresource (pkg/registry/batch/job/storage/storage.go:38-41:
  the Job and its status only), so `kubectl scale job` gets "the server could not find the requested
  resource" (kubectl scale's kinds: k8s.io/kubectl@v0.36.4 pkg/cmd/scale/scale.go:43).
"""

from __future__ import annotations

from kjlab.api import kube, policy as policy_rules, readers
from kjlab.practice.cluster_view import Missing
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.tasks.jobs import _outcome, _run_to_end, _spec
from kjlab.practice.verdicts import verdict

SETUP = "practice-setup"  # a ConfigMap: the uid of the prepared Job, to tell it from one made again


def _job(name: str, command: str, **spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {**spec, "template": {"spec": {
                "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "main", "image": "bash:5", "command": ["sh", "-c", command]}]}}}}


def _remember(view, created: dict) -> None:
    kube.core(view.context).create_namespaced_config_map(view.namespace, {
        "metadata": {"name": SETUP}, "data": {"job-uid": readers.uid(created)}})


def _remembered_uid(view) -> str:
    return kube.raw(kube.core(view.context).read_namespaced_config_map, SETUP, view.namespace)["data"]["job-uid"]


def _recreated(view, job: dict) -> list[str]:
    if readers.uid(job) != _remembered_uid(view):
        return [f"this is not the Job the task prepared: it was deleted and created again (its uid changed); "
                f"the task asks to change job/{readers.name(job)} in place"]
    return []


def _containers(job: dict) -> list[dict]:
    return _spec(job).get("template", {}).get("spec", {}).get("containers") or []


# --- ttlSecondsAfterFinished ------------------------------------------------------------------------------

def setup_ttl(view):
    _remember(view, kube.create(view.context, view.namespace, _job("report", "sleep 2", suspend=True)))


def _gone(jobs: list[dict]) -> bool:
    return not jobs


def check_ttl(view):
    try:
        job = view.require("job", "report")
    except Missing:
        ran = [e for e in view.events(uid=_remembered_uid(view)) if e.get("reason") == "Completed"]
        if not ran:
            raise
        return verdict("job-ttl", ["Job report completed and is gone already (its events remain), so the check "
                                   "could not see what deleted it: the task asks to leave it suspended, for the "
                                   "check to resume it and watch (kjlab practice reset prepares it again)"],
                       [], "")
    spec = _spec(job)
    ttl = spec.get("ttlSecondsAfterFinished")
    found = [f"Job report: ttlSecondsAfterFinished={ttl}, activeDeadlineSeconds={spec.get('activeDeadlineSeconds')}, "
             f"suspend={spec.get('suspend')}"]
    problems = _recreated(view, job)
    if ttl != 5:
        problems.append(f"ttlSecondsAfterFinished is {ttl}: it is how long after the Job has finished the "
                        "TTL-after-finished controller deletes it (with its pods); the task asks for 5 s")
        if spec.get("activeDeadlineSeconds") is not None:
            problems.append("activeDeadlineSeconds counts from the Job's start and fails a Job still running then "
                            "(DeadlineExceeded); it deletes nothing")
    if problems:
        return verdict("job-ttl", problems, found, "")
    if spec.get("suspend"):
        print("check: resuming Job report (spec.suspend: false) to watch it finish and go", flush=True)
        kube.batch(view.context).patch_namespaced_job("report", view.namespace, {"spec": {"suspend": False}})
    ok, jobs = view.settle("job", _gone, "Job report to complete, then to be deleted 5 s later", quiet=15, cap=45,
                           field_selector="metadata.name=report")
    if not ok:
        problems.append(f"{_outcome(jobs[0]) if jobs else 'the Job'}; it was still there when nothing had "
                        "changed for 15 s (expected it deleted 5 s after it finished)")
    else:
        left = [readers.name(p) for p in view.list("pod", "job-name=report")]
        found.append("Job report completed and was deleted" + (f"; pods left: {', '.join(left)}" if left else
                                                                 ", its pods with it"))
    return verdict("job-ttl", problems, found, "the finished Job was deleted 5 s after it completed, with its pods")


register(Task(
    id="job-ttl", topic="jobs", minutes=3, title="Clean up after finishing: ttlSecondsAfterFinished",
    statement="""
In namespace {ns}, the Job `report` is suspended. Finished Jobs pile up in this namespace: make
Kubernetes delete `report` (and its pods) by itself 5 seconds after it finishes. Change the Job in
place and leave it suspended: the check resumes it and watches what happens.
""",
    setup=setup_ttl,
    check=check_ttl,
    hint="spec.ttlSecondsAfterFinished is one of the fields a Job lets you change after it was created "
         "(kubectl patch or kubectl edit).",
    imperative="""
kubectl patch job report --type=merge -p '{"spec":{"ttlSecondsAfterFinished":5}}'
""",
    declarative="""
# kubectl get job report -o yaml > job.yaml, add spec.ttlSecondsAfterFinished: 5, then kubectl apply -f job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: report
spec:
  ttlSecondsAfterFinished: 5
""",
    sources=("pkg/controller/ttlafterfinished/ttlafterfinished_controller.go:243-257",
             "pkg/apis/batch/validation/validation.go:623-635"),
    lab_cell="labs/08-ending-early.ipynb, cell cell-09: ttlSecondsAfterFinished: clean up after yourself",
))


# --- podFailurePolicy: Ignore disruptions ------------------------------------------------------------

def _failed_pod(exit_code: int, conditions: list[dict]) -> dict:
    return {"status": {"phase": "Failed", "conditions": conditions, "containerStatuses": [
        {"name": "main", "state": {"terminated": {"exitCode": exit_code}}}]}}


EVICTED = _failed_pod(137, [{"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}])
CRASHED = _failed_pod(1, [])
OOM_KILLED = _failed_pod(137, [])  # killed by the kernel, not disrupted: no DisruptionTarget condition


def disruption_problems(spec: dict) -> list[str]:
    """The statement's demands on the spec, read with the controller's first-match rule before the run."""
    policy = spec.get("podFailurePolicy")
    problems = []
    if spec.get("backoffLimit") != 0:
        problems.append(f"backoffLimit is {spec.get('backoffLimit')}: the task asks for 0, so that any other failure "
                        "fails the Job at once")
    names = [c.get("name") for c in _containers({"spec": spec})]
    if names != ["main"]:
        problems.append(f"the containers are {names}; the task asks for one, named main")
    evicted = policy_rules.first_match(policy, EVICTED)
    if evicted.action != "Ignore":
        problems.append(f"for an evicted pod (condition DisruptionTarget=True, killed with 137), {evicted.why}: "
                        "with backoffLimit 0 the eviction would fail the Job")
    for pod, what in ((CRASHED, "a pod whose container main exits 1"),
                      (OOM_KILLED, "a pod killed with 137 without a DisruptionTarget condition (an OOM kill)")):
        m = policy_rules.first_match(policy, pod)
        if m.action == "Ignore":
            problems.append(f"for {what}, {m.why}: that failure would be ignored too, and retried forever; only "
                            "disruptions may be ignored (onPodConditions type DisruptionTarget)")
    return problems


def _running(pods: list[dict]) -> bool:
    return any(readers.phase(p) == "Running" and not readers.deleting(p) for p in pods)


def evict(view, pod: dict) -> None:
    """What a drain does to one pod: the Eviction API (it adds DisruptionTarget), a short grace period."""
    name = readers.name(pod)
    print(f"check: evicting pod {name} through the Eviction API (as kubectl drain --grace-period=1 does)", flush=True)
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": view.namespace},
            "deleteOptions": {"gracePeriodSeconds": 1}}
    kube.core(view.context).create_namespaced_pod_eviction(name, view.namespace, body)


def check_ignore_disruption(view):
    job = view.require("job", "resilient")
    policy = _spec(job).get("podFailurePolicy")
    found = [f"Job resilient: backoffLimit={_spec(job).get('backoffLimit')}, podFailurePolicy="
             + (f"{len(policy.get('rules') or [])} rule(s)" if policy else "none")]
    problems = disruption_problems(_spec(job))
    if problems:
        return verdict("job-ignore-disruption", problems, found, "")
    ok, pods = view.settle("pod", _running, "a pod of Job resilient to run", quiet=20, cap=40,
                           label_selector="job-name=resilient")
    if not ok:
        return verdict("job-ignore-disruption", [f"no pod of the Job runs; {_outcome(view.require('job', 'resilient'))}"],
                       found, "")
    victim = next(p for p in pods if readers.phase(p) == "Running" and not readers.deleting(p))
    evict(view, victim)
    gone = readers.uid(victim)
    last = {}

    def replaced(ps: list[dict]) -> bool:
        for p in ps:
            if readers.uid(p) == gone:
                last["pod"] = p
        return any(readers.uid(p) != gone for p in ps)

    view.settle("pod", replaced, f"pod {readers.name(victim)} to fail and a replacement to be created", quiet=12,
                cap=45, label_selector="job-name=resilient")
    _, jobs = view.settle("job", lambda js: any(readers.finished(j) or readers.counter(j, "active") for j in js),
                          "the Job to count the evicted pod", quiet=8, cap=20, field_selector="metadata.name=resilient")
    job = jobs[0] if jobs else view.require("job", "resilient")
    seen = last.get("pod") or victim
    cond = readers.true_condition(seen, "DisruptionTarget")
    found.append(f"pod {readers.name(victim)} was evicted" + (f" (DisruptionTarget, {cond.get('reason')})" if cond else "")
                 + f"; {_outcome(job)}")
    if readers.finished(job) or readers.counter(job, "failed") or not readers.counter(job, "active"):
        problems.append(f"{_outcome(job)}; expected the eviction not counted (failed=0) and a replacement pod active")
    return verdict("job-ignore-disruption", problems, found,
                   "the evicted pod was not counted (failed=0) and the Job replaced it")


register(Task(
    id="job-ignore-disruption", topic="jobs", minutes=6, title="Pod failure policy: ignore disruptions",
    statement="""
In namespace {ns}, create a Job named `resilient` (image `bash:5`, one container named `main`, command
`sh -c "sleep 600"`, restartPolicy `Never`, backoffLimit 0). Its pods may be evicted (a node drain).
Such a disruption must not count as a failure: the Job replaces the evicted pod and carries on. Any
other failure of its pod (an exit code, an OOM kill) still fails the Job at once.
""",
    check=check_ignore_disruption,
    hint="spec.podFailurePolicy: a rule with action Ignore and onPodConditions [{type: DisruptionTarget}]: the "
         "Eviction API marks the pods it evicts with that condition.",
    imperative="""
kubectl create job resilient --image=bash:5 --dry-run=client -o yaml -- sh -c "sleep 600" > job.yaml
kubectl patch --local -f job.yaml --type=json -o yaml -p '[{"op":"replace","path":"/spec/template/spec/containers/0/name","value":"main"},{"op":"add","path":"/spec/backoffLimit","value":0},{"op":"add","path":"/spec/podFailurePolicy","value":{"rules":[{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"}]}]}}]' | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: Job
metadata:
  name: resilient
spec:
  backoffLimit: 0
  podFailurePolicy:
    rules:
    - action: Ignore
      onPodConditions:
      - type: DisruptionTarget
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: bash:5
        command: ["sh", "-c", "sleep 600"]
""",
    sources=("pkg/registry/core/pod/storage/eviction.go:341-349", "pkg/controller/job/pod_failure_policy.go:36-90",
             "pkg/apis/batch/v1/defaults.go:62-67"),
    lab_cell="labs/02-ignore-disruptions.ipynb, cell cell-00: Ignore: a node drain is not the program's fault",
))


# --- backoffLimitPerIndex and maxFailedIndexes ---------------------------------------------------------

PER_INDEX_COMMAND = 'sleep 1; if [ "$JOB_COMPLETION_INDEX" -eq 2 ]; then exit 1; fi; exit 0'


def check_per_index(view):
    job = view.require("job", "per-index")
    spec = _spec(job)
    per, most = spec.get("backoffLimitPerIndex"), spec.get("maxFailedIndexes")
    found = [f"Job per-index: completionMode={spec.get('completionMode')}, completions={spec.get('completions')}, "
             f"parallelism={spec.get('parallelism')}, backoffLimitPerIndex={per}, maxFailedIndexes={most}"]
    problems = []
    if spec.get("completionMode") != "Indexed" or spec.get("completions") != 4 or (spec.get("parallelism") or 0) < 4:
        problems.append("the task asks for an Indexed Job of 4 indexes (completions 4), all 4 at once (parallelism 4)")
    if per != 1:
        problems.append(f"backoffLimitPerIndex is {per}: " + (
            f"backoffLimit ({spec.get('backoffLimit')}) counts the failures of all indexes together, so one bad index "
            "uses up the retries of the others; backoffLimitPerIndex counts them per index" if per is None else
            "it is the number of retries of each index, and the task allows one"))
    if most != 1:
        problems.append(f"maxFailedIndexes is {most}: " + (
            "without it the Job runs every index to its end however many fail" if most is None else
            f"the Job fails at once when more than {most} index(es) have failed for good, and the task allows one"))
    if spec.get("completionMode") != "Indexed":
        return verdict("job-per-index", problems, found, "")
    # Run even a wrong spec to its end: what it did explains it (and a Job with backoffLimitPerIndex
    # deleted while its pods start can leave them with their tracking finalizer, holding the namespace).
    job = _run_to_end(view, "per-index", quiet=25, cap=60)
    status = job.get("status") or {}
    reason = (readers.true_condition(job, "Failed") or readers.true_condition(job, "FailureTarget") or {}).get("reason")
    found.append(f"{_outcome(job)}, completedIndexes={status.get('completedIndexes')!r}, "
                 f"failedIndexes={status.get('failedIndexes')!r}")
    if problems:
        return verdict("job-per-index", problems, found, "")
    if (reason != "FailedIndexes" or status.get("failedIndexes") != "2" or status.get("completedIndexes") != "0,1,3"
            or readers.counter(job, "failed") != 2):
        problems.append("expected index 2 to fail twice (failed=2, failedIndexes '2'), indexes 0,1,3 to complete, and "
                        f"the Job to fail with FailedIndexes (the command must be {PER_INDEX_COMMAND!r})")
    return verdict("job-per-index", problems, found,
                   "index 2 was retried once on its own, the other indexes completed, the Job failed with FailedIndexes")


register(Task(
    id="job-per-index", topic="jobs", minutes=5, title="Retries per index: backoffLimitPerIndex",
    statement=f"""
In namespace {{ns}}, create an Indexed Job named `per-index` with 4 indexes (0-3), all four running at
once: image `bash:5`, container `main`, command `sh -c '{PER_INDEX_COMMAND}'` (index 2 always fails).
Each index may be retried once, on its own: a failing index must not use up the retries of the others.
And the Job must give up at once (fail, stopping what still runs) as soon as more than one index
has failed for good.
""",
    check=check_per_index,
    hint="spec.backoffLimitPerIndex (retries of each index) and spec.maxFailedIndexes (how many indexes may fail "
         "before the whole Job fails); both need completionMode Indexed.",
    imperative=f"""
kubectl create job per-index --image=bash:5 --dry-run=client -o yaml -- sh -c '{PER_INDEX_COMMAND}' > job.yaml
kubectl patch --local -f job.yaml --type=json -o yaml -p '[{{"op":"replace","path":"/spec/template/spec/containers/0/name","value":"main"}},{{"op":"add","path":"/spec/completionMode","value":"Indexed"}},{{"op":"add","path":"/spec/completions","value":4}},{{"op":"add","path":"/spec/parallelism","value":4}},{{"op":"add","path":"/spec/backoffLimitPerIndex","value":1}},{{"op":"add","path":"/spec/maxFailedIndexes","value":1}}]' | kubectl create -f -
""",
    declarative=f"""
apiVersion: batch/v1
kind: Job
metadata:
  name: per-index
spec:
  completionMode: Indexed
  completions: 4
  parallelism: 4
  backoffLimitPerIndex: 1
  maxFailedIndexes: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: bash:5
        command: ["sh", "-c", '{PER_INDEX_COMMAND}']
""",
    sources=("pkg/controller/job/job_controller.go:1102-1110", "pkg/controller/job/indexed_job_utils.go:80-112",
             "pkg/apis/batch/v1/defaults.go:45-46"),
    lab_cell="labs/07-failure-and-retry.ipynb, cell cell-17: A budget per index",
))


# --- successPolicy ---------------------------------------------------------------------------------------

LEADER_COMMAND = 'sleep 2; if [ "$JOB_COMPLETION_INDEX" -eq 0 ]; then exit 0; fi; exit 1'


def _indexes(text: str, completions: int) -> set[int] | None:
    """A succeededIndexes string ("0", "0-2", "0,2-3") as a set; None if it does not parse."""
    out: set[int] = set()
    try:
        for part in (text or "").split(","):
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        return None
    return {i for i in out if 0 <= i < completions} or None


def success_met(policy: dict | None, succeeded: set[int], completions: int) -> int | None:
    """The index of the first successPolicy rule ``succeeded`` meets (success_policy.go:29-50), else None."""
    for i, rule in enumerate((policy or {}).get("rules") or []):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            wanted = _indexes(rule["succeededIndexes"], completions)
            if wanted is None:
                continue
            hit = len(wanted & succeeded)
            if hit == len(wanted) or (count is not None and hit >= count):
                return i
        elif count is not None and len(succeeded) >= count:
            return i
    return None


def success_problems(spec: dict) -> list[str]:
    policy, completions = spec.get("successPolicy"), spec.get("completions") or 0
    problems = []
    if spec.get("completionMode") != "Indexed" or completions != 3 or (spec.get("parallelism") or 0) < 3:
        problems.append("the task asks for an Indexed Job of 3 indexes (completions 3), all 3 at once (parallelism 3)")
        return problems
    if not policy:
        problems.append("there is no successPolicy: an Indexed Job is complete only when every index has succeeded, "
                        "and the workers' indexes fail here")
        return problems
    if success_met(policy, {0}, completions) is None:
        problems.append("no rule of the successPolicy is met when index 0 alone has succeeded")
    for workers in ({1}, {2}, {1, 2}):
        rule = success_met(policy, workers, completions)
        if rule is not None:
            problems.append(f"rule {rule} of the successPolicy is met when only worker index(es) {sorted(workers)} "
                            "succeeded: a worker's success would complete the Job (succeededCount alone counts any "
                            "index; succeededIndexes names which)")
            break
    return problems


def _success_or_end(jobs: list[dict]) -> bool:
    return any(readers.finished(j) or readers.is_true(j, "SuccessCriteriaMet") for j in jobs)


def check_success_policy(view):
    job = view.require("job", "leader")
    spec = _spec(job)
    found = [f"Job leader: completionMode={spec.get('completionMode')}, completions={spec.get('completions')}, "
             f"successPolicy={spec.get('successPolicy')}"]
    problems = success_problems(spec)
    if problems:
        return verdict("job-success-policy", problems, found, "")
    job = _run_to_end(view, "leader", quiet=15, cap=45, done=_success_or_end)
    met = readers.true_condition(job, "SuccessCriteriaMet") or {}
    found.append(f"{_outcome(job)}, completedIndexes={(job.get('status') or {}).get('completedIndexes')!r}"
                 + (f"; SuccessCriteriaMet: {met.get('message')}" if met else ""))
    if met.get("reason") != "SuccessPolicy":
        problems.append(f"the Job did not meet its successPolicy when the leader succeeded (the command must be "
                        f"{LEADER_COMMAND!r})")
    return verdict("job-success-policy", problems, found,
                   "the leader's success completed the Job (SuccessCriteriaMet, reason SuccessPolicy)")


register(Task(
    id="job-success-policy", topic="jobs", minutes=5, title="Done when the leader is: successPolicy",
    statement=f"""
In namespace {{ns}}, create an Indexed Job named `leader` with 3 indexes, all running at once: image
`bash:5`, container `main`, command `sh -c '{LEADER_COMMAND}'`. Index 0 is the leader; indexes 1 and
2 are workers (here they fail). The Job must count as succeeded as soon as the leader's index has
succeeded, whatever the workers do; a worker's success alone must never complete it.
""",
    check=check_success_policy,
    hint="spec.successPolicy.rules: [{succeededIndexes: \"0\"}] (an Indexed Job only).",
    imperative=f"""
kubectl create job leader --image=bash:5 --dry-run=client -o yaml -- sh -c '{LEADER_COMMAND}' > job.yaml
kubectl patch --local -f job.yaml --type=json -o yaml -p '[{{"op":"replace","path":"/spec/template/spec/containers/0/name","value":"main"}},{{"op":"add","path":"/spec/completionMode","value":"Indexed"}},{{"op":"add","path":"/spec/completions","value":3}},{{"op":"add","path":"/spec/parallelism","value":3}},{{"op":"add","path":"/spec/successPolicy","value":{{"rules":[{{"succeededIndexes":"0"}}]}}}}]' | kubectl create -f -
""",
    declarative=f"""
apiVersion: batch/v1
kind: Job
metadata:
  name: leader
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 3
  successPolicy:
    rules:
    - succeededIndexes: "0"
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: bash:5
        command: ["sh", "-c", '{LEADER_COMMAND}']
""",
    sources=("pkg/controller/job/success_policy.go:29-50", "pkg/controller/job/job_controller.go:1114-1130"),
    lab_cell="labs/06-completions-parallelism.ipynb, cell cell-19: successPolicy: done when the indexes that matter are done",
))


# --- parallelism on a running Job ------------------------------------------------------------------------

def setup_parallelism(view):
    _remember(view, kube.create(view.context, view.namespace,
                                _job("crunch", "sleep 300", completions=6, parallelism=1)))
    view.settle("pod", _running, "crunch's first pod to run", quiet=30, cap=60, label_selector="job-name=crunch")


def _three_active(jobs: list[dict]) -> bool:
    return any(readers.counter(j, "active") >= 3 for j in jobs)


def check_parallelism(view):
    job = view.require("job", "crunch")
    spec = _spec(job)
    found = [f"Job crunch: completions={spec.get('completions')}, parallelism={spec.get('parallelism')}"]
    problems = _recreated(view, job)
    if spec.get("parallelism") != 3:
        problems.append(f"parallelism is {spec.get('parallelism')}: the Job controller keeps that many pods active "
                        "(at most the completions still missing), and the task asks for 3")
    if spec.get("completions") != 6:
        problems.append(f"completions is {spec.get('completions')}: the Job still needs 6 successful pods")
    if problems:
        return verdict("job-parallelism", problems, found, "")
    ok, jobs = view.settle("job", _three_active, "Job crunch to have 3 active pods", quiet=15, cap=40,
                           field_selector="metadata.name=crunch")
    job = jobs[0] if jobs else job
    found.append(_outcome(job))
    if not ok:
        problems.append("the Job does not run 3 pods at once")
    return verdict("job-parallelism", problems, found, "the same Job now runs 3 pods at once")


register(Task(
    id="job-parallelism", topic="jobs", minutes=2, title="More pods at once on a running Job",
    statement="""
In namespace {ns}, the Job `crunch` needs 6 successful pods and runs them one at a time, which is too
slow. Without deleting or recreating it (its finished pods must count), make it run 3 pods at once.
""",
    setup=setup_parallelism,
    check=check_parallelism,
    hint="spec.parallelism may be changed on a running Job (completions may not, for a NonIndexed Job); "
         "`kubectl scale` does not know Jobs: use kubectl patch or kubectl edit.",
    imperative="""
kubectl patch job crunch --type=merge -p '{"spec":{"parallelism":3}}'
""",
    declarative="""
# kubectl get job crunch -o yaml > job.yaml, set spec.parallelism: 3, then kubectl apply -f job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: crunch
spec:
  parallelism: 3
""",
    sources=("pkg/controller/job/job_controller.go:1798-1815", "pkg/apis/batch/validation/validation.go:902-906"),
    lab_cell="labs/06-completions-parallelism.ipynb, cell cell-00: Completions and parallelism",
))

