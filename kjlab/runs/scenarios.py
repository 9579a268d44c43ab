"""Scripted runs of the documented examples (and of any Job a learner writes).

A run creates the Job in its own namespace, does the timing-sensitive steps itself (drain the
node of the first running pod inside its window; patch a condition onto a stuck pod, then
delete it), records everything, and waits for the outcome. ``policy=False`` runs the same
manifest minus its podFailurePolicy, for the comparison.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields, replace
from typing import Callable

from kjlab import examples, interrupts, manifests
from kjlab.api import kube, readers, wait
from kjlab.actions import namespaces, ops
from kjlab.actions.actor import Actor
from kjlab.cluster import check_health, lab_context
from kjlab.cluster.registry import guard
from kjlab.errors import KjlabError
from kjlab.runs.record import Recorder
from kjlab.runs.session import Session
from kjlab.runs.result import Drain, Patch, RunResult, summarize

# What each documented example needs done while it runs.
PLANS = {
    "failjob": {},
    "ignore": {"drain_when_running": True},
    "config-issue": {"patch_condition": "ConfigIssue", "then_delete": True},
    "failindex": {},
}
# Condition reasons the docs use for the patch.
PATCH_REASONS = {"ConfigIssue": "NonExistingImage"}
# Upper bounds on a run. Without a policy, failjob goes through the controller's back-off
# (10 s, 20 s, 40 s, ... capped at 10 min) until failed > backoffLimit: minutes, not seconds.
TIMEOUT_SECONDS = 20 * 60


def default_namespace(scenario: str, policy: bool) -> str:
    return f"{scenario}-{'policy' if policy else 'nopolicy'}"


def fresh_namespace(context: str, name: str, timeout: float = 90) -> str:
    """Create ``name`` for a notebook's own use; an earlier run's namespace of that name is
    deleted first (idempotent cells), one kjlab did not make is refused (kjlab.namespaces.fresh)."""
    name = namespaces.fresh(context, name, timeout)
    namespaces.release(name)  # a notebook's namespace is held by no run
    return name


@dataclass(frozen=True)
class Steps:
    """What a run does while its Job runs; None leaves the example's own plan (``PLANS``) as it is.

    ``drain_when_running``: drain the node of the first Running pod. ``patch_condition``: patch that
    condition onto a pod stuck pulling its image, ``then_delete`` it. ``delete_when_running``:
    `kubectl delete pod` the first Running pod (podReplacementPolicy). ``until_deleted``: once the
    Job has finished, go on recording until it is deleted (its ``ttlSecondsAfterFinished`` plus a
    margin at most). ``suspend_when_running``: seconds to keep the Job suspended: once a pod runs,
    `kubectl patch` the Job to ``suspend: true``, wait until its pods are gone, apply
    ``while_suspended`` (a merge patch of the Job, e.g. a new nodeSelector), wait that long, resume.
    """
    drain_when_running: bool | None = None
    patch_condition: str | None = None
    then_delete: bool | None = None
    delete_when_running: bool | None = None
    until_deleted: bool | None = None
    suspend_when_running: float | None = None
    while_suspended: dict | None = None

    def over(self, plan: dict) -> dict:
        """``plan`` with the steps given here in place of its own."""
        given = {k: v for k, v in vars(self).items() if v is not None and k != "while_suspended"}
        plan = {**plan, **given}
        if self.suspend_when_running is not None:
            plan["while_suspended"] = self.while_suspended
        return plan


@dataclass(frozen=True)
class RunOptions:
    """How a run is carried out and reported (none of it changes what the Job does).

    ``keep`` leaves the namespace for inspection with `kjlab kubectl`; otherwise it is deleted.
    ``on_start(recorder)`` is called once recording has begun: a notebook's live dashboard
    (kjlab.Lab) and the CLI's status line hook in here.
    ``allow_unfinished``: when the Job is not finished within ``timeout``, return the result so far
    (outcome ``Running``) instead of raising -- the exercise checks explain such runs. A Job whose
    outcome is already decided (FailureTarget) at the timeout gets ``POD_GRACE_SECONDS`` more, since
    its Failed condition waits for its last pods to terminate.
    ``after_apply(context, namespace, job_name, recorder)`` runs once the Job exists (a learner's step).
    ``decided_when_waiting``: container waiting reasons that decide the run (e.g. ``NotSimulated``: a
    container that cannot run never will); the wait for the outcome ends as soon as a pod shows one,
    noted in the recording as a ``decided`` step, and the result so far is returned.
    """
    keep: bool = False
    timeout: float = TIMEOUT_SECONDS
    echo: bool = True
    on_start: Callable | None = None
    allow_unfinished: bool = False
    after_apply: Callable | None = None
    decided_when_waiting: tuple[str, ...] = ()


_STEP_NAMES = {f.name for f in fields(Steps)}
_OPTION_NAMES = {f.name for f in fields(RunOptions)}


def run(scenario: str | None = None, policy: bool = True, fast: bool = False, context: str | None = None,
        namespace: str | None = None, manifest=None, steps: Steps | None = None, options: RunOptions | None = None,
        **keywords) -> RunResult:
    """Run a documented example by name, or any Job manifest (``manifest=``), and return the result.

    ``fast`` shortens the script's `sleep` (kjlab.examples.FAST_SLEEP); nothing else changes.
    What the run does while the Job runs is ``steps`` (Steps), how it runs is ``options``
    (RunOptions); each of their fields may also be given by name (``drain_when_running=True``,
    ``timeout=60``, ``echo=False`` ...), over the ones in ``steps``/``options``.
    """
    unknown = sorted(set(keywords) - _STEP_NAMES - _OPTION_NAMES)
    if unknown:
        raise TypeError(f"run() got an unexpected keyword argument '{unknown[0]}'")
    steps = replace(steps or Steps(), **{k: v for k, v in keywords.items() if k in _STEP_NAMES})
    options = replace(options or RunOptions(), **{k: v for k, v in keywords.items() if k in _OPTION_NAMES})
    context = context or lab_context()
    if manifest is not None:
        doc = examples.customise(manifests.load(manifest), policy=policy)
        scenario = scenario or "manifest"
        plan = {}
    else:
        if scenario is None:
            raise KjlabError("name a scenario or give a manifest", "kjlab scenario run failjob")
        examples.source(scenario)  # unknown names fail here, with the list
        sleep = examples.FAST_SLEEP.get(scenario) if fast else None
        doc = examples.render(scenario, policy=policy, sleep=sleep)
        plan = dict(PLANS.get(scenario, {}))  # a lab Job (kjlab.examples.lab_jobs) needs no step
    if doc.get("kind") != "Job":
        raise KjlabError(f"a scenario runs a Job; this manifest is a {doc.get('kind')}", "give it a manifest with kind: Job")
    plan = steps.over(plan)

    namespace = namespace or default_namespace(scenario, policy)
    namespaces.check_name(namespace)
    guard(context, f"run scenario {scenario} in namespace {namespace}")
    check_health(context)
    namespaces.fresh(context, namespace, progress=print if options.echo else None)
    try:
        return _run_in(context, namespace, scenario, doc, plan, policy, options)
    finally:
        namespaces.release(namespace)


def _run_in(context, namespace, scenario, doc, plan, policy, options: RunOptions) -> RunResult:
    job_name = doc["metadata"]["name"]
    keep, timeout, echo = options.keep, options.timeout, options.echo
    session = Session(context, namespace, echo, make_namespace=False)
    recorder, actor = session.recorder, session.actor
    decided = _decided_when_waiting(recorder, options.decided_when_waiting)
    drain = patch = None
    started = time.monotonic()
    try:
        if options.on_start:
            options.on_start(recorder)
        ops.apply(actor, doc)
        if options.after_apply:
            options.after_apply(context, namespace, job_name, recorder)
        if plan.get("delete_when_running"):
            delete_first_running(echo)(context, namespace, job_name, recorder)
        if plan.get("suspend_when_running") is not None:
            _suspend_and_resume(actor, job_name, plan["suspend_when_running"],
                                plan.get("while_suspended"))
        if plan.get("drain_when_running"):
            drain = _drain_when_running(actor, job_name, _left(started, timeout))
        if plan.get("patch_condition"):
            patch = _patch_then_delete(actor, job_name, plan["patch_condition"], _left(started, timeout),
                                       plan.get("then_delete", False))
        if patch and not policy:
            # Without the policy nothing fails the Job: the deleted pod counts as one failure and
            # a replacement gets stuck the same way. Watch that happen, then stop.
            final = _observe_retry(context, namespace, job_name, set(patch.pods_before_delete),
                                   timeout=_left(started, timeout))
        else:
            remaining = max(10.0, timeout - (time.monotonic() - started))
            final = _wait_terminal(context, namespace, job_name, remaining, options.allow_unfinished, decided)
        if plan.get("until_deleted") and _terminal(final):
            # the TTL-after-finished controller deletes the Job (and, through the garbage collector, its pods)
            ttl = (doc["spec"].get("ttlSecondsAfterFinished") or 0) + TTL_MARGIN_SECONDS
            if not wait.gone(kube.batch(context).list_namespaced_job, job_name, ttl, namespace=namespace):
                recorder.note("waited", f"the Job was still there {ttl} s after it finished")
        time.sleep(1.0)  # let the last pod and event updates arrive before the recording stops
    except BaseException as e:
        recorder.stop()
        if not keep:
            _cleanup_quietly(context, namespace)
            if isinstance(e, KeyboardInterrupt):
                interrupts.note(f"namespace {namespace} deleted")
        raise
    recorder.stop()
    result = summarize(scenario, namespace, job_name, policy, recorder.recording(), final, drain=drain, patch=patch)
    if not keep:
        namespaces.delete(context, namespace)
    return result


def _cleanup_quietly(context: str, namespace: str) -> None:
    with interrupts.finishing(f"deleting namespace {namespace}"):
        try:
            namespaces.delete(context, namespace)
        except Exception:
            pass


def _terminal(job: dict) -> bool:
    return readers.finished(job) is not None


# Once a Job has FailureTarget (or SuccessCriteriaMet) its outcome is decided, but the terminal
# condition waits until its remaining pods have terminated -- up to their grace period, 30 s by
# default. A run that reaches the decision in time gets that long again to see the outcome.
DECIDED = ("FailureTarget", "SuccessCriteriaMet")
POD_GRACE_SECONDS = 45
# How long after its ttlSecondsAfterFinished a finished Job may take to be deleted before a run stops waiting.
TTL_MARGIN_SECONDS = 30


def _decided_when_waiting(recorder: Recorder, reasons: tuple[str, ...]) -> threading.Event:
    """An event set (and noted in the recording, once) when a pod's container waits with one of ``reasons``."""
    decided = threading.Event()

    def look(row: dict) -> None:
        pod = row.get("object")
        if decided.is_set() or row.get("kind") != "pod" or not pod or readers.deleting(pod):
            return
        for cs in readers.container_statuses(pod):
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in reasons:
                decided.set()
                recorder.note("decided", f"pod {row['name']}: container {cs.get('name')} waits with "
                                         f"{waiting['reason']} ({waiting.get('message') or 'no message'}); "
                                         "it cannot run, so the run stops here")
                return

    if reasons:
        recorder.subscribe(look)
    return decided


def _wait_terminal(context, namespace, job_name, timeout, allow_unfinished, decided=None):
    what = f"Job {job_name} to finish"
    try:
        return wait.job(context, namespace, job_name, _terminal, what, timeout=timeout, stop=decided)
    except wait.Vanished:
        raise
    except KjlabError as timed_out:
        error = timed_out
    if decided is not None and decided.is_set():
        if not allow_unfinished:
            raise KjlabError(f"a pod of Job {job_name} cannot run (see the recording's 'decided' step)",
                             "look with `kjlab kubectl describe pods -n <namespace>`")
        return _read_job(context, namespace, job_name)
    job = _read_job(context, namespace, job_name)
    if any(readers.is_true(job, t) for t in DECIDED):
        try:
            return wait.job(context, namespace, job_name, _terminal, what + " once its pods terminate",
                            timeout=POD_GRACE_SECONDS)
        except KjlabError as still:
            error = still
            job = _read_job(context, namespace, job_name)
    if not allow_unfinished:
        raise error
    return job


def _read_job(context: str, namespace: str, name: str) -> dict:
    return kube.raw(kube.batch(context).read_namespaced_job, name, namespace)


def _job_pods(job_name: str) -> str:
    return f"job-name={job_name}"


def _left(started: float, timeout: float, step: float = 120.0) -> float:
    """A step's own limit (``step`` s), never past the run's ``timeout`` (`--timeout 60` ends in about 60 s)."""
    return max(1.0, min(step, timeout - (time.monotonic() - started)))


def _drain_when_running(actor: Actor, job_name, within: float = 120.0) -> Drain:
    """The ignore example's step 2: drain the node of the first running pod, inside its window."""
    context, namespace, recorder, echo = actor.context, actor.namespace, actor.recorder, actor.echo
    pod = wait.pod(context, namespace, lambda p: readers.phase(p) == "Running" and not readers.deleting(p),
                   f"a pod of Job {job_name} to be Running", timeout=within, label_selector=_job_pods(job_name))
    node = readers.node_name(pod)
    job = _read_job(context, namespace, job_name)
    before = readers.counter(job, "failed")
    was_cordoned = readers.unschedulable(kube.raw(kube.core(context).read_node, node))
    # Only this Job's pods are evicted (its controller-uid label is unique to it): another run's
    # pods, or a pod a lab left on the node, neither block the drain nor change its numbers.
    own_pods = f"batch.kubernetes.io/controller-uid={readers.uid(job)}"
    try:
        result = ops.drain(actor, node, ignore_daemonsets=True, grace_period=0, pod_selector=own_pods)
        # The evicted pods are gone; the Job controller has counted them once none is left uncounted.
        job = wait.job(context, namespace, job_name,
                       lambda j: _terminal(j) or not readers.uncounted(j),
                       "the Job controller to count the evicted pods", timeout=30)
        after = readers.counter(job, "failed")
        recorder.note("checked", f"status.failed {before} -> {after} after the drain")
        if echo:
            print(f"status.failed before the drain: {before}, after: {after}")
    except KeyboardInterrupt:
        if not was_cordoned:
            with interrupts.finishing(f"uncordoning node {node}"):
                ops.uncordon(actor, node)
            interrupts.note(f"node {node} uncordoned")
        raise
    finally:
        if not was_cordoned:  # a node someone else had cordoned stays cordoned
            with interrupts.finishing(f"uncordoning node {node}"):
                ops.uncordon(actor, node)
    own = [key.split("/", 1)[1] for key in result.evicted if key.startswith(namespace + "/")]
    return Drain(node=node, evicted=own, evicted_elsewhere=len(result.evicted) - len(own),
                 failed_before=before, failed_after=after)


def delete_first_running(echo: bool = True):
    """An ``after_apply`` step for ``run``: `kubectl delete pod` the Job's first Running pod (a
    graceful delete: it stays Terminating for its grace period), so a run shows when the Job
    controller replaces a terminating pod (``podReplacementPolicy``)."""
    def step(context, namespace, job_name, recorder):
        pod = wait.pod(context, namespace, lambda p: readers.phase(p) == "Running" and not readers.deleting(p),
                       f"a pod of Job {job_name} to be Running", timeout=60, label_selector=_job_pods(job_name))
        ops.delete_pod(Actor(context, namespace, echo, recorder), readers.name(pod))
    return step


def _suspend_and_resume(actor: Actor, job_name, seconds: float, while_suspended=None) -> None:
    """Suspend the Job while a pod of it runs, wait until its pods are gone, change it (optional),
    wait ``seconds``, resume it."""
    context, namespace = actor.context, actor.namespace
    wait.pod(context, namespace, lambda p: readers.phase(p) == "Running" and not readers.deleting(p),
             f"a pod of Job {job_name} to be Running", timeout=60, label_selector=_job_pods(job_name))
    ops.patch_job(actor, job_name, {"spec": {"suspend": True}})
    wait.job(context, namespace, job_name,
             lambda j: readers.is_true(j, "Suspended") and not readers.counter(j, "active")
             and not readers.counter(j, "terminating"), "the Job to be suspended and its pods gone", timeout=90)
    actor.recorder.note("suspended", "Suspended=True, no active or terminating pod")
    if while_suspended:
        ops.patch_job(actor, job_name, while_suspended)
    time.sleep(seconds)
    ops.patch_job(actor, job_name, {"spec": {"suspend": False}})


def stuck_in(reason: str):
    """A pod predicate: not being deleted, and a container waits with ``reason``."""
    def check(pod: dict) -> bool:
        return not readers.deleting(pod) and readers.waiting_in(pod, reason)
    return check


def _patch_then_delete(actor: Actor, job_name, condition, within, then_delete) -> Patch:
    """The config-issue example's steps 3-4: mark the stuck pod with a condition, then delete it."""
    context, namespace = actor.context, actor.namespace
    pod = wait.pod(context, namespace, stuck_in("ImagePullBackOff"),
                   f"a pod of Job {job_name} to be in ImagePullBackOff", timeout=within,
                   label_selector=_job_pods(job_name))
    name = readers.name(pod)
    ops.patch_pod_condition(actor, name, condition, "True", reason=PATCH_REASONS.get(condition))
    # The Job's pods as they were before the delete: a replacement is any pod not among them.
    originals = [readers.name(p) for p in kube.raw(kube.core(context).list_namespaced_pod, namespace,
                                                   label_selector=_job_pods(job_name))["items"]]
    if then_delete:
        ops.delete_pod(actor, name)
    return Patch(pod=name, condition=condition, pods_before_delete=originals)


def _observe_retry(context, namespace, job_name, originals, timeout) -> dict:
    """Without the policy: the deleted pod is counted as one failure, then a replacement -- a pod
    that did not exist before the delete, not the original sibling -- gets stuck the same way."""
    wait.job(context, namespace, job_name, lambda j: readers.counter(j, "failed") >= 1 or _terminal(j),
             "the deleted pod to be counted as failed", timeout=timeout)
    wait.pod(context, namespace,
             lambda p: readers.name(p) not in originals and stuck_in("ImagePullBackOff")(p),
             "a replacement pod to get stuck in ImagePullBackOff", timeout=timeout, label_selector=_job_pods(job_name))
    return _read_job(context, namespace, job_name)
