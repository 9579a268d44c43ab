"""More Job controls (``labs/14-more-job-controls.ipynb``): the pod failure policy's other forms
(NotIn, an explicit Count, a named container, a condition with status False), the work-queue
pattern, an elastic Indexed Job, a scheduling gate, ``spec.managedBy``, ``kubectl wait`` and a
CronJob's Job names.

Every Job is package data (examples/job-controls.yaml, one document each); the steps a person
would take on them (patch a condition, scale an Indexed Job, remove a gate) run while the Job is
recorded, through ``after_apply``; what only the API server decides (a refused update, a defaulted
field) is asked as a server-side dry run. Everything that decides an outcome here is the real control
plane on both engines: the Job, CronJob and scheduler code and the API server's validation.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time

import yaml
from kubernetes.client import ApiException

from kjlab import examples
from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.api import kube, readers, wait
from kjlab.api.policy import Match, first_match
from kjlab.api.watch import follow
from kjlab.cluster import kubectl as kubectl_command
from kjlab.cluster.registry import guard
from kjlab.errors import KjlabError
from kjlab.labs import session
from kjlab.runs.result import Recording
from kjlab.runs.scenarios import stuck_in

FILE = "job-controls.yaml"
SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"   # set on each Job a CronJob creates


def manifests() -> dict[str, dict]:
    """Every document of the file, by ``metadata.name``."""
    return {d["metadata"]["name"]: d for d in examples.objects(FILE)}


def manifest(name: str) -> dict:
    docs = manifests()
    if name not in docs:
        raise KjlabError(f"the more-Job-controls lab has no Job named '{name}' (choose one of: {', '.join(docs)})",
                         "kjlab.labs.job_controls.manifest('notin')")
    return copy.deepcopy(docs[name])


def source(name: str) -> str:
    """The manifest as YAML, for the notebook to print."""
    return yaml.safe_dump(manifest(name), sort_keys=False)


def _job_pods(job_name: str) -> str:
    return f"batch.kubernetes.io/job-name={job_name}"


@session("control")
def run(lab, name: str, **options):
    """Run the Job ``name`` of the file in namespace ``<prefix>-<name>``; returns the RunResult."""
    return lab.run(manifest=manifest(name), namespace=f"{lab.prefix}-{name}", **options)


@session("condition_false")
def condition_false(lab, timeout: float = 90):
    """The ``condition-false`` Job: once its pod is stuck in ImagePullBackOff, patch the pod's
    ``ConfigChecked`` condition to status False through the status subresource, then delete the pod
    (a deleted pending pod ends Failed), so the Job's rule ``{type: ConfigChecked, status: "False"}``
    is evaluated. Returns the RunResult."""
    def step(context, namespace, job_name, recorder):
        pod = wait.pod(context, namespace, stuck_in("ImagePullBackOff"),
                       f"a pod of Job {job_name} in ImagePullBackOff", timeout=timeout,
                       label_selector=_job_pods(job_name))
        name = readers.name(pod)
        actor = Actor(context, namespace, recorder=recorder)
        ops.patch_pod_condition(actor, name, "ConfigChecked", "False", reason="ImageNotFound",
                                message="the image does not exist")
        ops.delete_pod(actor, name)

    return run(lab, "condition-false", after_apply=step)


def dry_run_patch(call, name: str, namespace: str, patch: dict, strategic: bool = False) -> str:
    """Send ``patch`` through ``call`` (a typed client's patch) as a server-side dry run: validation
    and admission run as for a real update, nothing is changed. Returns the API's message, or
    ``accepted``."""
    try:
        kube.raw(call, name, namespace, patch, dry_run="All",
                 _content_type=kube.STRATEGIC_MERGE if strategic else kube.MERGE)
        return "accepted"
    except ApiException as e:
        return ops.api_message(e)


# Only ever sent as a server-side dry run (nothing is pulled); a preloaded image all the same, so
# that every image kjlab names runs on kind (tests/unit/test_kind_config.py).
DEBUG_CONTAINER = {"name": "debugger", "image": "docker.io/library/python:3"}


def provoked(refused: KjlabError) -> str:
    """Print a refusal the lab asks for on purpose and return the API's answer: without the error's
    fix line, which would read as something for the learner to repair."""
    print(f"refused: {refused.message}")
    return refused.message


@session("elastic")
def elastic(lab, to: int = 2, name: str = "elastic", timeout: float = 90):
    """The Indexed Job ``name`` (``elastic``: 4 indexes; ``elastic-up``: 2): once all its pods are
    ready (``status.ready``), try to set ``completions`` alone to ``to`` (refused), then ``completions``
    and ``parallelism`` together. While the pods run, also send a dry-run patch adding a container
    to one of them (`kubectl debug` uses the ephemeralcontainers subresource instead). Returns
    ``(answers, RunResult)``, answers: ``completions alone`` and ``add a container`` -> the API's
    answer."""
    answers = {}

    def step(context, namespace, job_name, recorder):
        size = manifest(name)["spec"]["parallelism"]
        wait.job(context, namespace, job_name, lambda j: readers.counter(j, "ready") >= size,
                 f"status.ready = {size} (every pod of Job {job_name} ready)", timeout=timeout)
        pods = kube.raw(kube.core(context).list_namespaced_pod, namespace, label_selector=_job_pods(job_name))
        running = sorted(readers.name(p) for p in pods["items"] if readers.phase(p) == "Running")
        if running:
            patch = {"spec": {"containers": [DEBUG_CONTAINER]}}
            answers["add a container"] = dry_run_patch(kube.core(context).patch_namespaced_pod, running[0],
                                                       namespace, patch, strategic=True)
            print(f"$ kubectl patch pod {running[0]} -n {namespace} --dry-run=server -p '{json.dumps(patch)}'\n"
                  f"{answers['add a container']}")
        try:
            ops.patch_job(Actor(context, namespace, recorder=recorder), job_name, {"spec": {"completions": to}})
            answers["completions alone"] = "accepted"
        except KjlabError as e:
            answers["completions alone"] = provoked(e).splitlines()[0]
        ops.patch_job(Actor(context, namespace, recorder=recorder), job_name,
                      {"spec": {"completions": to, "parallelism": to}})

    result = run(lab, name, after_apply=step)
    return answers, result


def gated_condition(pod: dict) -> dict | None:
    """The pod's ``PodScheduled=False`` condition with reason ``SchedulingGated``, if it has one."""
    c = readers.condition(pod, "PodScheduled")
    return c if c and c.get("status") == "False" and c.get("reason") == "SchedulingGated" else None


@session("gated")
def gated(lab, timeout: float = 60):
    """The ``gated`` Job: wait until its pod has ``PodScheduled=False``/``SchedulingGated`` (the API server
    sets it at create: pkg/registry/core/pod/strategy.go applySchedulingGatedCondition); while the Job
    runs, send two server-side dry runs -- a second gate added to the pod, ``completions`` and
    ``parallelism`` 2 on this NonIndexed Job -- then remove the gate
    (`kubectl patch pod NAME --type=merge -p '{"spec":{"schedulingGates":null}}'`). Returns
    ``(answers, RunResult)``, answers: ``add a gate`` and ``completions of a NonIndexed Job`` -> the
    API's answer."""
    answers = {}

    def step(context, namespace, job_name, recorder):
        pod = wait.pod(context, namespace, gated_condition, f"the pod of Job {job_name} to be SchedulingGated",
                       timeout=timeout, label_selector=_job_pods(job_name))
        name = readers.name(pod)
        gates = pod["spec"]["schedulingGates"] + [{"name": "kjlab.io/one-more"}]
        answers["add a gate"] = dry_run_patch(kube.core(context).patch_namespaced_pod, name, namespace,
                                              {"spec": {"schedulingGates": gates}})
        print(f"$ kubectl patch pod {name} -n {namespace} --type=merge --dry-run=server "
              f"-p '{json.dumps({'spec': {'schedulingGates': gates}})}'\n{answers['add a gate']}")
        resize = {"spec": {"completions": 2, "parallelism": 2}}
        answers["completions of a NonIndexed Job"] = dry_run_patch(kube.batch(context).patch_namespaced_job,
                                                                   job_name, namespace, resize)
        print(f"$ kubectl patch job {job_name} -n {namespace} --type=merge --dry-run=server -p '{json.dumps(resize)}'\n"
              f"{answers['completions of a NonIndexed Job']}")
        guard(context, f"remove the scheduling gates of pod {name}")
        patch = {"spec": {"schedulingGates": None}}
        kube.core(context).patch_namespaced_pod(name, namespace, patch, _content_type=kube.MERGE)
        command = f"kubectl patch pod {name} -n {namespace} --type=merge -p '{{\"spec\":{{\"schedulingGates\":null}}}}'"
        print(f"$ {command}\npod/{name} patched")
        recorder.step("patch", f"pod/{name}", "schedulingGates removed", command)

    result = run(lab, "gated", after_apply=step)
    return answers, result


@session("managed_by")
def managed_by(lab):
    """``managed-here`` is run and recorded; ``managed-elsewhere`` (``spec.managedBy`` another
    controller) is created beside it first. When the first has completed -- the built-in controller
    has had every chance to act -- returns ``(RunResult of managed-here, managed-elsewhere as the
    API has it, its pods, the API's answer to changing its managedBy)``."""
    def step(context, namespace, job_name, recorder):
        ops.apply(Actor(context, namespace, recorder=recorder), manifest("managed-elsewhere"))

    here = run(lab, "managed-here", after_apply=step)
    context, namespace = lab.context, f"{lab.prefix}-managed-here"
    other = kube.raw(kube.batch(context).read_namespaced_job, "managed-elsewhere", namespace)
    pods = kube.raw(kube.core(context).list_namespaced_pod, namespace,
                    label_selector=_job_pods("managed-elsewhere"))["items"]
    try:
        ops.patch_job(context, namespace, "managed-elsewhere", {"spec": {"managedBy": "kubernetes.io/job-controller"}})
        refusal = None
    except KjlabError as e:
        refusal = provoked(e)
    return here, other, pods, refusal


def wait_args(namespace: str, job: str, condition: str | list[str], timeout_s: int) -> list[str]:
    """kubectl's arguments for lab.kubectl_wait: one ``--for=condition=`` per condition, in order."""
    conditions = [condition] if isinstance(condition, str) else list(condition)
    return ["wait", *(f"--for=condition={c}" for c in conditions), f"job/{job}", "-n", namespace,
            f"--timeout={timeout_s}s"]


@session("kubectl_wait")
def kubectl_wait(lab, namespace: str, job: str, condition: str | list[str], timeout_s: int = 5) -> tuple[int, str]:
    """`kubectl wait --for=condition=<condition> job/<job> --timeout=<timeout_s>s`, one ``--for`` per
    condition when given a list (kubectl ANDs them, in order): prints the command and its output,
    returns ``(exit status, output)``."""
    args = wait_args(namespace, job, condition, timeout_s)
    code, output = kubectl_command.run(args, lab.context, timeout=timeout_s + 30)
    print(f"$ kubectl {' '.join(args)}\n{output}\n(exit status {code})")
    return code, output


DRY_RUN_JOBS = ("init-named", "unknown-named", "status-left-out")   # job-controls.yaml, never run


@session("dry_run_jobs")
def dry_run_jobs(lab, names: tuple[str, ...] = DRY_RUN_JOBS) -> dict[str, dict]:
    """Create each Job of ``names`` as a server-side dry run (defaulting and validation run as for a
    real create; nothing is stored, no controller sees it). Returns name -> ``{"answer": the API's
    message or accepted, "policy": spec.podFailurePolicy as the API returned it (None if refused)}``."""
    namespace = lab.namespace("api")
    out = {}
    for name in names:
        try:
            created = kube.create(lab.context, namespace, manifest(name), dry_run=True)
            out[name] = {"answer": "accepted", "policy": created["spec"].get("podFailurePolicy")}
        except ApiException as e:
            out[name] = {"answer": ops.api_message(e), "policy": None}
        print(f"$ kubectl create --dry-run=server -f {name}.yaml -n {namespace}\n{out[name]['answer']}")
    return out


def pattern_statuses(policy: dict | None) -> list[dict]:
    """Each ``onPodConditions`` pattern of a pod failure policy, with its rule index and action: what
    the API stored for a pattern written without ``status``."""
    return [{"rule": i, "action": rule.get("action"), **pattern}
            for i, rule in enumerate((policy or {}).get("rules") or [])
            for pattern in rule.get("onPodConditions") or []]


REFUSALS = "api-refusals.yaml"


def refused_pods() -> dict[str, dict]:
    """The pods of api-refusals.yaml, by name: each breaks one create rule of the API server."""
    return {d["metadata"]["name"]: d for d in examples.objects(REFUSALS)}


@session("api_answers")
def api_answers(lab) -> dict[str, str]:
    """Send each of refused_pods() to the API server as a server-side dry run (nothing is created;
    validation runs as for a real create) and return pod name -> the API's answer: its message,
    or ``accepted``. kwok shows these as a real cluster does: no kubelet is involved."""
    namespace = lab.namespace("api")
    answers = {}
    for name, doc in refused_pods().items():
        try:
            kube.create(lab.context, namespace, doc, dry_run=True)
            answers[name] = "accepted"
        except ApiException as e:
            answers[name] = ops.api_message(e)
        print(f"$ kubectl create --dry-run=server -f {name}.yaml -n {namespace}\n{answers[name]}")
    return answers


def first_failure(name: str, recording: Recording) -> tuple[dict[str, int], Match]:
    """What the recap says of a Job's first failed pod: each terminated container's exit code, and
    the rule of the Job's own pod failure policy that the controller applies to it (kjlab.policy),
    both read from the recorded pod rather than stated."""
    pod = recording.last_pods()[recording.failed_pods()[0]]
    codes = {container: t.get("exitCode") for container, t in readers.terminations(pod, init=True)}
    return codes, first_match(manifest(name)["spec"].get("podFailurePolicy"), pod)


def cron_jobs(jobs: list[dict]) -> list[dict]:
    """Each Job a CronJob created: its name, the scheduled time it carries, that time in whole
    minutes since the epoch, and when it completed (the rows the lab shows)."""
    rows = []
    for job in jobs:
        scheduled = readers.annotations(job).get(SCHEDULED_AT)
        at = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00")) if scheduled else None
        rows.append({"job": readers.name(job), "scheduled": scheduled,
                     "minutes since epoch": int(at.timestamp()) // 60 if at else None,
                     "completionTime": (job.get("status") or {}).get("completionTime")})
    return rows


@session("cron_names")
def cron_names(lab, timeout: float = 150):
    """Create the ``every-minute`` CronJob, wait until a Job of it has succeeded and the CronJob
    shows ``status.lastSuccessfulTime``, then suspend it (no more Jobs). Returns ``(CronJob, rows
    of cron_jobs())``."""
    context = lab.context
    namespace = lab.namespace("cron")
    doc = manifest("every-minute")
    ops.apply_cronjob(context, namespace, doc)
    name = doc["metadata"]["name"]
    cronjob = None
    with wait.announced(f"CronJob {name} to show status.lastSuccessfulTime (its first Job starts at the next minute)",
                        timeout):
        for change in follow(kube.batch(context).list_namespaced_cron_job, namespace,
                             field_selector=f"metadata.name={name}", deadline=time.monotonic() + timeout,
                             what=f"CronJob {name}"):
            if change.object and (change.object.get("status") or {}).get("lastSuccessfulTime"):
                cronjob = change.object
                break
    if cronjob is None:
        raise KjlabError(f"CronJob {name} showed no lastSuccessfulTime within {timeout:.0f}s",
                         f"look at it: kjlab kubectl get cronjob,jobs -n {namespace}")
    ops.patch_cronjob(context, namespace, name, {"spec": {"suspend": True}})
    jobs = kube.raw(kube.batch(context).list_namespaced_job, namespace)["items"]
    return cronjob, cron_jobs(sorted(jobs, key=readers.name))
