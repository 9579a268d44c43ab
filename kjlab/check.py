"""Exercise checks: run the learner's answer on the lab cluster, wait for the deciding state, and
explain the verdict from what happened (which rule matched and at which index, which field the
API rejected, what the counts were against what was asked).

A verdict never rests on the answer's wording: any answer that makes the cluster do what the
exercise asks passes. Each check runs in its own namespace, which it deletes afterwards.

Answers are handled as untrusted: YAML answers stay data (``kjlab.answers.load_yaml``: safe_load,
size and alias limits), and code answers never run in the checker's process: they run in a
separate, locked-down process (``kjlab.sandbox``) with a time limit and a kubeconfig whose token may
only do what the step needs, in the check's own namespace (``kjlab.access``).
"""

from __future__ import annotations

import copy
import secrets
import sys
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from typing import Callable

import yaml
from kubernetes import client

from kjlab import access, answers, examples, files, kube, ops, policy as policy_rules, readers, sandbox, scenarios, wait
from kjlab.cluster import lab_context
from kjlab.classroom import results as classroom_results
from kjlab.errors import KjlabError
from kjlab.progress import RunProgress


@dataclass
class Verdict:
    exercise: str
    passed: bool
    headline: str
    reasons: list[str] = field(default_factory=list)
    solved: bool = True          # False: the answer is still the placeholder
    evidence: dict = field(default_factory=dict)

    def __str__(self) -> str:
        head = ("PASS" if self.passed else ("NOT SOLVED YET" if not self.solved else "NOT YET")) + f" · {self.exercise}: {self.headline}"
        return "\n".join([head] + [f"  - {r}" for r in self.reasons])

    def _repr_markdown_(self) -> str:
        # Words, not emoji: a machine without an emoji font shows an empty box.
        word, colour = (("PASS", "#1a7f37") if self.passed else
                        ("NOT SOLVED YET", "#9a6700") if not self.solved else ("NOT YET", "#cf222e"))
        lines = [f'<b style="color:{colour}">{word}</b> · **{self.exercise}**: {self.headline}'] + [f"- {r}" for r in self.reasons]
        return "\n".join(lines)


@dataclass
class Exercise:
    name: str
    title: str
    answer: str                   # what the learner writes
    check: Callable


EXERCISES: dict[str, Exercise] = {}


def exercise(name: str, title: str, answer: str):
    def register(fn):
        EXERCISES[name] = Exercise(name, title, answer, fn)
        return fn
    return register


def run(name: str, answer, context: str | None = None, echo: bool = True) -> Verdict:
    """Check ``answer`` for exercise ``name`` on the lab cluster; prints and returns the Verdict."""
    if name not in EXERCISES:
        raise KjlabError(f"unknown exercise '{name}' (choose one of: {', '.join(EXERCISES)})", "kjlab check --list")
    ex = EXERCISES[name]
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        verdict = Verdict(name, False, f"not solved yet: write {ex.answer}, then run this check again.", solved=False)
    else:
        try:
            verdict = ex.check(context or lab_context(), answer)
        except KjlabError as e:
            verdict = Verdict(name, False, "the check could not run your answer", [e.message] + ([f"fix: {e.fix}"] if e.fix else []))
    classroom_results.record(verdict)  # issue 14: every verdict is recorded for the class view
    if echo:
        ran = verdict.evidence.get("sandbox") or {}
        printed = ran.get("output", "").strip() if ran.get("status") == "returned" else ""
        if printed:  # what the learner's ops printed (the kubectl equivalents), from the separate process
            print("your function printed (in its separate process):\n" + printed)
        print(verdict)
    return verdict


# --- helpers ---------------------------------------------------------------------------------------

def _load(answer, what: str) -> dict:
    if isinstance(answer, dict):
        return copy.deepcopy(answer)
    try:
        doc = answers.load_yaml(answer, f"your {what}")
    except yaml.YAMLError as e:
        raise KjlabError(f"your {what} is not valid YAML{files.yaml_problem(e, answer if isinstance(answer, str) else None)}",
                         "check the indentation") from None
    if not isinstance(doc, dict):
        raise KjlabError(f"your {what} should be a YAML mapping, got {type(doc).__name__}", "start from the example")
    return doc


def _policy_from(answer) -> dict:
    doc = _load(answer, "podFailurePolicy")
    if "podFailurePolicy" in doc:  # accept the field with its key, too
        doc = doc["podFailurePolicy"]
    if "rules" not in doc:
        raise KjlabError("a podFailurePolicy needs a `rules:` list", "rules:\n- action: FailJob\n  onExitCodes: ...")
    return doc


def _namespace(name: str) -> str:
    return f"check-{name}-{secrets.token_hex(2)}"[:63]


def _validate(context: str, doc: dict) -> str | None:
    """Server-side dry run: the API's own rejection message, or None when it accepts the Job."""
    ns = "default"
    try:
        kube.batch(context).create_namespaced_job(ns, {**doc, "metadata": {**doc["metadata"], "namespace": ns}},
                                                   dry_run="All")
    except client.ApiException as e:
        if e.status in (400, 422):
            return ops.api_message(e)
        raise
    return None


HINTS = {
    'only "Never" is supported': "a podFailurePolicy needs `restartPolicy: Never` in the pod template: with "
                                 "OnFailure the kubelet restarts containers in place and the pod never fails",
    "must not be 0 for the In operator": "exit code 0 is success; rules only look at non-zero exit codes, so 0 "
                                         "cannot be listed with `In`",
    "must be ordered": "list the exit codes in increasing order, without duplicates",
    "Duplicate value": "each exit code may appear once",
    "must be one of the container or initContainer names": "containerName must name a container of the pod "
                                                           "template (here: main), or be left out",
    "specifying both OnExitCodes and OnPodConditions": "a rule has onExitCodes or onPodConditions, not both",
    "specifying one of OnExitCodes and OnPodConditions": "each rule needs onExitCodes or onPodConditions",
    "requires the backoffLimitPerIndex": "FailIndex only works with backoffLimitPerIndex set",
}


def _explain_rejection(message: str) -> list[str]:
    reasons = [f"the API rejected the Job: {message}"]
    for key, hint in HINTS.items():
        if key in message:
            reasons.append(hint)
    return reasons


def _bash_job(name: str, script: str, policy: dict | None, backoff_limit: int = 6, completions: int = 1,
              parallelism: int = 1) -> dict:
    job = examples.render("failjob", job_name=name)
    job["spec"].update(completions=completions, parallelism=parallelism, backoffLimit=backoff_limit)
    job["spec"]["template"]["spec"]["containers"][0]["args"] = ["-c", script]
    if policy is None:
        job["spec"].pop("podFailurePolicy", None)
    else:
        job["spec"]["podFailurePolicy"] = policy
    return job


def _failed_pods(result) -> list[dict]:
    """The last recorded state of each pod that ended in phase Failed."""
    return [p for p in result.recording.last_pods().values() if readers.phase(p) == "Failed"]


def _disrupted(result) -> list[dict]:
    """Failed pods that carry DisruptionTarget=True: the drain stopped them while they ran."""
    return [p for p in _failed_pods(result) if readers.is_true(p, "DisruptionTarget")]


def _run(context: str, exercise_name: str, doc: dict, timeout: float, waits_for: str, **plan):
    """Run a Job for a check (its own namespace, deleted afterwards); unfinished runs come back too.

    Says first what the check waits for and for how long at most, then the Job's counters as they
    change (kjlab.progress), so a check is never a silent minute."""
    print(f"check: {waits_for} (at most {timeout:.0f} s) ...", flush=True)
    progress = RunProgress(doc["metadata"]["name"], stream=sys.stdout)
    try:
        result = scenarios.run(manifest=doc, context=context, namespace=_namespace(exercise_name), echo=False,
                               timeout=timeout, allow_unfinished=True, on_start=progress.attach, **plan)
    finally:
        progress.finish()
    if result.outcome == "Running":
        print(f"check: after {timeout:.0f} s the Job was still Running; the check reads what happened so far",
              flush=True)
    else:
        print(f"check: the Job ended {result.outcome}" + (f" ({result.reason})" if result.reason else "")
              + (f" after {result.duration_s:.0f} s" if result.duration_s is not None else ""), flush=True)
    return result


def _example_with_policy(context: str, exercise_name: str, example: str, sleep: int, answer):
    """The documented example with the learner's policy: (job, policy, None), or a Verdict when the
    API refuses it (server-side dry run, so the learner reads the API's own words)."""
    pol = _policy_from(answer)
    job = examples.render(example, sleep=sleep)
    job["spec"]["podFailurePolicy"] = pol
    rejected = _validate(context, job)
    if rejected:
        return job, pol, Verdict(exercise_name, False, "the API does not accept this policy", _explain_rejection(rejected))
    return job, pol, None


def _matches(policy: dict | None, result) -> list[str]:
    return [f"pod {readers.name(p)}: {policy_rules.first_match(policy, p).why}" for p in _failed_pods(result)]


# --- the exercises ---------------------------------------------------------------------------------

@exercise("failjob-policy", "Fail at once on exit code 42, count every other failure",
          "a podFailurePolicy (YAML) for the failjob Job")
def check_failjob_policy(context: str, answer) -> Verdict:
    name = "failjob-policy"
    job, pol, refused = _example_with_policy(context, name, "failjob", 2, answer)
    if refused:
        return refused

    bug = _run(context, name, job, timeout=30,
               waits_for="running the failjob Job with your policy: exit code 42 should fail it at once")
    reasons = []
    ok_bug = bug.outcome == "Failed" and bug.reason == "PodFailurePolicy" and "exit code 42" in (bug.message or "")
    if ok_bug:
        reasons.append(f"exit code 42: the Job failed at once ({bug.message})")
    else:
        reasons.append(f"exit code 42 should fail the Job at once with reason PodFailurePolicy; instead: "
                       f"outcome {bug.outcome}, reason {bug.reason}, failed={bug.failed}")
        reasons += _matches(pol, bug)

    other = _run(context, name, _bash_job("exits-with-1", "sleep 1 && exit 1", pol, backoff_limit=1), timeout=45,
                 waits_for="a Job whose pod exits with 1, under your policy: it should be retried until backoffLimit 1")
    ok_other = other.outcome == "Failed" and other.reason == "BackoffLimitExceeded" and other.failed == 2
    if ok_other:
        reasons.append("exit code 1: counted and retried until backoffLimit (failed=2 with backoffLimit 1), "
                       "reason BackoffLimitExceeded")
    else:
        reasons.append(f"exit code 1 should be counted and retried (backoffLimit 1: two failures, then "
                       f"BackoffLimitExceeded); instead: outcome {other.outcome}, reason {other.reason}, "
                       f"failed={other.failed}, pods={other.pods_created}")
        reasons += _matches(pol, other)
    passed = ok_bug and ok_other
    return Verdict(name, passed, "exit code 42 fails the Job at once and other failures are counted" if passed
                   else "the cluster did not do what the exercise asks (see why below)", reasons,
                   evidence={"exit_42": bug.to_dict(False), "exit_1": other.to_dict(False)})


@exercise("survive-drain", "Let the ignore Job survive a node drain without raising status.failed",
          "a podFailurePolicy (YAML) for the ignore Job")
def check_survive_drain(context: str, answer) -> Verdict:
    name = "survive-drain"
    job, pol, refused = _example_with_policy(context, name, "ignore", examples.FAST_SLEEP["ignore"], answer)
    if refused:
        return refused
    r = _run(context, name, job, timeout=120, drain_when_running=True,
             waits_for="running the ignore Job with your policy, draining the node of its first running pod; "
                       "it should complete with status.failed unchanged")
    before, after = r.drain.failed_before, r.drain.failed_after
    reasons = [f"kjlab drained {r.drain.node}, evicting {len(r.drain.evicted)} pod(s) "
               f"of the Job; status.failed went {before} -> {after}"]
    if not _disrupted(r):
        # Evicting a pod that already finished tests nothing: no policy would have been consulted.
        reasons.append("no running pod was evicted (the drain came after the pods had finished), so your "
                       "policy was never put to the test")
        return Verdict(name, False, "the check could not test your policy: run it again", reasons,
                       evidence=r.to_dict(False))
    passed = before == after == 0 and r.outcome == "Complete" and r.succeeded == 4
    if passed:
        reasons.append(f"the Job then completed: succeeded={r.succeeded}, failed={r.failed}")
    else:
        reasons.append(f"the Job ended {r.outcome} ({r.reason}), failed={r.failed}, succeeded={r.succeeded}")
        reasons += _matches(pol, r)
        reasons.append("an evicted pod carries DisruptionTarget=True (reason EvictionByEvictionAPI); a rule "
                       "must Ignore it")
    return Verdict(name, passed, "the drain did not count against backoffLimit: 0" if passed
                   else "the drain was counted as a failure", reasons, evidence=r.to_dict(False))


# What mark_and_delete may do, in the check's namespace only (RBAC Role of its ServiceAccount).
STEP_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch"]},
]
# How long the learner's function may take; tests shorten it.
STEP_LIMITS = sandbox.Limits(call_seconds=20.0)


def code_of(answer) -> sandbox.Code:
    """A code answer as source for the sandbox: a .py answer's text, or a notebook function's source."""
    if isinstance(answer, sandbox.Code):
        return answer
    try:
        return sandbox.from_function(answer)
    except sandbox.NotSendable as e:
        raise KjlabError(e.message, e.fix) from None


def run_step(context: str, namespace: str, code: sandbox.Code, *args, rules=None) -> sandbox.Outcome:
    """Run ``code``'s function in the sandbox with a kubeconfig of its own: a ServiceAccount token
    allowed ``rules`` in ``namespace`` only, revoked when the function is done. Its first argument
    is that kubeconfig's context; ``kjlab.ops`` in the child accepts it (KJLAB_ALLOW_CONTEXT names
    exactly that context -- the guard's opt-in; what the context may do is bounded by RBAC)."""
    grant = access.grant(context, namespace, rules or STEP_RULES)
    server = urlsplit(kube.api_client(context).configuration.host)
    try:
        return sandbox.run(code, (grant.context, namespace, *args), files={"kubeconfig": grant.kubeconfig},
                           env={"KUBECONFIG": "{workdir}/kubeconfig", "KJLAB_KUBECONFIG": "{workdir}/kubeconfig",
                                "KJLAB_STATE": "{workdir}/.kjlab",
                                "KJLAB_CACHE": "{workdir}/.cache/kjlab", "KJLAB_ALLOW_CONTEXT": grant.context,
                                "KJLAB_CONTEXT": grant.context},
                           limits=STEP_LIMITS, connect=(server.hostname, server.port or 443))
    finally:
        grant.revoke()


@exercise("config-issue-step", "Write the controller step: mark the stuck pod with ConfigIssue, then delete it",
          "a function mark_and_delete(context, namespace, pod_name)")
def check_config_issue_step(context: str, answer) -> Verdict:
    name = "config-issue-step"
    if not callable(answer) and not isinstance(answer, sandbox.Code):
        return Verdict(name, False, "the answer should be a function mark_and_delete(context, namespace, pod_name)")
    code = code_of(answer)
    outcomes: list[sandbox.Outcome] = []

    def learner_step(ctx, namespace, job_name, recorder):
        pod = wait.pod(ctx, namespace, scenarios.stuck_in("ImagePullBackOff"), "a stuck pod",
                       timeout=60, label_selector=f"job-name={job_name}")
        recorder.step("learner", f"pod/{readers.name(pod)}", "mark_and_delete called (in a separate process)")
        outcomes.append(run_step(ctx, namespace, code, readers.name(pod)))
        if not outcomes[-1].returned:
            raise _StepFailed()  # nothing left to wait for: the run stops and cleans up

    try:
        r = _run(context, name, examples.render("config-issue"), timeout=30, after_apply=learner_step,
                 waits_for="running the config-issue Job, calling your function on the first pod stuck in "
                           "ImagePullBackOff; the Job should then fail on ConfigIssue")
    except _StepFailed:
        r = None
    ran = outcomes[0] if outcomes else None
    sandboxed = {"sandbox": {"status": ran.status, "user": ran.user, "seconds": ran.seconds,
                             "private_tmp": ran.private_tmp, "private_network": ran.private_network,
                             "output": ran.output}} if ran else {}
    if ran and not ran.returned:
        summary = {"raised": "your function raised an error"}.get(ran.status, ran.explanation())
        return Verdict(name, False, summary, _why_stopped(ran), evidence=sandboxed)
    passed = r.outcome == "Failed" and r.reason == "PodFailurePolicy" and "has condition ConfigIssue" in (r.message or "")
    if passed:
        return Verdict(name, True, "the Job failed at once on the ConfigIssue condition", [r.message],
                       evidence={**r.to_dict(False), **sandboxed})
    reasons = [f"the Job should fail with reason PodFailurePolicy; after 30 s: outcome {r.outcome}, failed={r.failed}"]
    marked = [p for p in r.recording.last_pods().values() if readers.condition(p, "ConfigIssue")]
    failed = _failed_pods(r)
    if not marked:
        reasons.append("no pod got a ConfigIssue condition: patch status.conditions through the status "
                       "subresource (ops.patch_pod_condition or patch_namespaced_pod_status)")
    else:
        c = readers.condition(marked[0], "ConfigIssue")
        if c.get("status") != "True":
            reasons.append(f"the ConfigIssue condition has status {c.get('status')!r}; the rule matches status \"True\"")
        if not any(readers.name(p) == readers.name(marked[0]) for p in failed):
            reasons.append("the marked pod never reached phase Failed: the Job only evaluates failed pods, so "
                           "delete the pod after marking it")
    reasons += _matches(examples.render("config-issue")["spec"]["podFailurePolicy"], r)
    return Verdict(name, False, "the Job did not fail on ConfigIssue", reasons, evidence={**r.to_dict(False), **sandboxed})


class _StepFailed(Exception):
    """The learner's step did not return: the check's run stops there."""


def _why_stopped(ran: sandbox.Outcome) -> list[str]:
    """The sandbox's one line, plus what a refusal means for the learner."""
    reasons = [ran.explanation()]
    text = f"{ran.detail}\n{ran.output}"
    if "Forbidden" in text or "(403)" in text or "forbidden" in text:
        reasons.append("the API server refused a request (403): your function may only get, list, watch, patch and "
                       "delete pods (and patch pods/status) in the check's namespace, which it gets as `namespace`")
    if "PermissionError" in text or "Read-only file system" in text:
        reasons.append(f"your function runs as {ran.user} in a temp directory of its own: it may write files "
                       "there (the current directory) and nowhere else on the machine")
    if "BlockingIOError" in text or "Resource temporarily unavailable" in text:
        reasons.append(f"your function may start at most {ran.limits.get('processes')} processes")
    if ran.status in ("timeout", "load-timeout"):
        reasons.append("it and every process it started were stopped; a step like this one needs a patch and a "
                       "delete, well under a second")
    if ran.status == "raised":
        reasons.append("the check ran your function in a separate process; what it printed ends with:")
        reasons += [f"    {line}" for line in ran.output.strip().splitlines()[-6:]]
    return reasons


BROKEN = {
    "fix-restart-policy": lambda d: d["spec"]["template"]["spec"].update(restartPolicy="OnFailure"),
    "fix-exit-code-zero": lambda d: d["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"].update(values=[0, 42]),
    "fix-container-name": lambda d: d["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"].update(containerName="app"),
    "fix-rule-order": lambda d: d["spec"]["podFailurePolicy"].update(rules=[
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [0]}},
        {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
    ]),
}


def broken_manifest(exercise_name: str) -> str:
    """The broken failjob manifest a fix-* exercise starts from (YAML)."""
    doc = examples.render("failjob")
    BROKEN[exercise_name](doc)
    return yaml.safe_dump(doc, sort_keys=False)


def _check_fix(exercise_name: str, context: str, answer) -> Verdict:
    doc = _load(answer, "manifest")
    if doc.get("kind") != "Job":
        return Verdict(exercise_name, False, f"the answer should be the whole Job manifest (kind: Job), got kind {doc.get('kind')}")
    pol = (doc.get("spec") or {}).get("podFailurePolicy")
    if not pol:
        return Verdict(exercise_name, False, "the fixed manifest has no podFailurePolicy any more",
                       ["the fix must keep a rule that fails the Job on exit code 42; removing the policy is not a fix"])
    rejected = _validate(context, doc)
    if rejected:
        return Verdict(exercise_name, False, "the API still rejects the Job", _explain_rejection(rejected))
    fast = examples.customise(doc, sleep=2)
    r = _run(context, exercise_name, fast, timeout=25,
             waits_for="running your fixed Job: exit code 42 should fail it at once")
    if r.outcome == "Failed" and r.reason == "PodFailurePolicy" and "exit code 42 matching FailJob" in (r.message or ""):
        return Verdict(exercise_name, True, "the API accepts the Job and exit code 42 fails it at once", [r.message],
                       evidence=r.to_dict(False))
    reasons = [f"the API accepts the Job, but exit code 42 did not fail it at once: outcome {r.outcome}, "
               f"reason {r.reason}, failed={r.failed}"] + _matches(pol, r)
    if exercise_name == "fix-rule-order":
        reasons.append("rules are tried in order and the first match wins")
    return Verdict(exercise_name, False, "the fixed Job does not fail on exit code 42", reasons, evidence=r.to_dict(False))


for _name, _title in [
    ("fix-restart-policy", "Fix the Job the API rejects because of its restartPolicy"),
    ("fix-exit-code-zero", "Fix the rule that lists exit code 0 with In"),
    ("fix-container-name", "Fix the rule that names a container the pod does not have"),
    ("fix-rule-order", "Fix the rules so that exit code 42 fails the Job"),
]:
    exercise(_name, _title, "the fixed Job manifest (YAML)")(lambda context, answer, _n=_name: _check_fix(_n, context, answer))


PREDICT_FIELDS = ("outcome", "reason", "failed", "succeeded", "failedIndexes")


@exercise("predict-failindex", "Predict the failindex Job's outcome and counts, then run it",
          "a dict with outcome, reason, failed, succeeded and failedIndexes")
def check_predict_failindex(context: str, answer) -> Verdict:
    name = "predict-failindex"
    if not isinstance(answer, dict):
        return Verdict(name, False, "the prediction should be a dict, e.g. {'outcome': 'Failed', ...}")
    missing = [f for f in PREDICT_FIELDS if f not in answer]
    if missing:
        return Verdict(name, False, f"the prediction is missing {', '.join(missing)}")
    print("check: running the failindex Job to compare with your prediction (about 30 s, at most 20 min) ...",
          flush=True)
    progress = RunProgress(examples.render("failindex")["metadata"]["name"], stream=sys.stdout)
    try:
        r = scenarios.run("failindex", context=context, namespace=_namespace(name), echo=False,
                          on_start=progress.attach)
    finally:
        progress.finish()
    actual = {"outcome": r.outcome, "reason": r.reason, "failed": r.failed, "succeeded": r.succeeded,
              "failedIndexes": r.failed_indexes}
    wrong = [f for f in PREDICT_FIELDS if str(answer[f]) != str(actual[f])]
    reasons = [f"{f}: you said {answer[f]!r}, the cluster says {actual[f]!r}" + ("" if f not in wrong else "  <- differs")
               for f in PREDICT_FIELDS]
    why = {
        "failed": "index 0 exits with 1 twice (one retry with backoffLimitPerIndex: 1); index 1 exits with 42 once "
                  "and FailIndex stops its retries",
        "failedIndexes": "both index 0 (retries used up) and index 1 (FailIndex) are failed indexes",
        "reason": "a Job with failed indexes ends with reason FailedIndexes once every index is finished",
        "succeeded": "indexes 2 and 3 succeed: one index failing does not stop the others",
        "outcome": "with failed indexes the Job cannot complete",
    }
    reasons += [f"why {f}: {why[f]}" for f in wrong]
    return Verdict(name, not wrong, "your prediction matches the run" if not wrong
                   else f"{len(wrong)} of {len(PREDICT_FIELDS)} predictions differ from the run", reasons,
                   evidence={"actual": actual})


# --- labs 06-07: completions, parallelism, per-index budgets ---------------------------------------
# (new functions only, below everything else: other work edits the code above)

def _spec_fields(answer, base: str, job_name: str, drop: tuple[str, ...]) -> dict:
    """The learner's Job: a lab Job (kjlab.examples) with ``drop`` removed from its spec and the
    answer's spec fields put in. The answer is a mapping of spec fields, or a whole Job (its spec is
    taken, its pod template ignored: the container is the exercise's, so the simulation can run it)."""
    doc = _load(answer, "spec fields")
    fields = doc.get("spec", {}) if doc.get("kind") == "Job" else doc
    if not isinstance(fields, dict):
        raise KjlabError("the answer should be a mapping of Job spec fields, e.g. `completions: 6`",
                         "completions: ...\nparallelism: ...")
    job = examples.render(base, job_name=job_name)
    for key in drop:
        job["spec"].pop(key, None)
    job["spec"].update({k: v for k, v in fields.items() if k not in ("template", "selector")})
    return job


SHARDS = 6
SHARDS_AT_ONCE = 2


@exercise("indexed-shards", f"Process {SHARDS} shards, each exactly once, at most {SHARDS_AT_ONCE} at a time, "
          "each pod reading its shard from its index",
          "the Job's spec fields (YAML) for the shards Job")
def check_indexed_shards(context: str, answer) -> Verdict:
    name = "indexed-shards"
    job = _spec_fields(answer, "indexed", "shards", drop=("completions", "parallelism", "completionMode"))
    rejected = _validate(context, job)
    if rejected:
        reasons = _explain_rejection(rejected)
        if "completions" in rejected:
            reasons.append("an Indexed Job needs `completions`: it is the number of indexes")
        return Verdict(name, False, "the API does not accept this Job", reasons)
    r = _run(context, name, job, timeout=60,
             waits_for=f"running your shards Job: {SHARDS} indexes, each succeeding once, "
                       f"at most {SHARDS_AT_ONCE} running at a time")
    sources = r.recording.index_sources()
    indexes = sorted(int(i) for i in sources["annotation"].dropna())
    at_once = r.recording.max_running()
    reasons, ok = [], True
    if not indexes:
        ok = False
        reasons.append("the pods got no index (no batch.kubernetes.io/job-completion-index annotation, no "
                       "JOB_COMPLETION_INDEX): completionMode is NonIndexed, the default; a pod cannot tell "
                       "which shard is its own. Set completionMode: Indexed")
    else:
        reasons.append(f"pods got indexes {sorted(set(indexes))} (annotation, label, JOB_COMPLETION_INDEX, "
                       f"hostname shards-<index>)")
        if sorted(set(indexes)) != list(range(SHARDS)):
            ok = False
            reasons.append(f"there are {SHARDS} shards, so indexes 0..{SHARDS - 1} are needed; `completions` is "
                           f"the number of indexes in an Indexed Job")
        per_index = sources.groupby("annotation").size()
        if (per_index > 1).any():
            ok = False
            reasons.append(f"some indexes ran more than once: {per_index[per_index > 1].to_dict()}")
    reasons.append(f"at most {at_once} pod(s) ran at the same moment (read from the recorded timeline)")
    if at_once > SHARDS_AT_ONCE:
        ok = False
        reasons.append(f"that is more than {SHARDS_AT_ONCE}: `parallelism` bounds how many pods run at once")
    elif at_once < SHARDS_AT_ONCE:
        ok = False
        reasons.append(f"{SHARDS_AT_ONCE} may run at once; with parallelism {at_once} the work takes longer "
                       f"than it needs to")
    if r.outcome != "Complete":
        ok = False
        reasons.append(f"the Job did not complete: outcome {r.outcome}"
                       + (f" ({r.reason}: {r.message})" if r.reason else " within 60 s"))
    else:
        reasons.append(f"the Job completed: succeeded={r.succeeded}, completedIndexes="
                       f"{r.job_status.get('completedIndexes')}")
    return Verdict(name, ok, f"{SHARDS} shards, each once, at most {SHARDS_AT_ONCE} at a time" if ok
                   else "the cluster did not run the shards as asked (see why below)", reasons,
                   evidence=r.to_dict(False))


@exercise("index-budget", "Retry each index once, and stop the whole Job once a second index has failed",
          "the Job's spec fields (YAML) for the per-index Job")
def check_index_budget(context: str, answer) -> Verdict:
    name = "index-budget"
    job = _spec_fields(answer, "per-index", "per-index", drop=("backoffLimitPerIndex", "maxFailedIndexes"))
    rejected = _validate(context, job)
    if rejected:
        reasons = _explain_rejection(rejected)
        if "maxFailedIndexes" in rejected:
            reasons.append("maxFailedIndexes only works with backoffLimitPerIndex set: failed indexes exist only "
                           "when each index has a budget of its own")
        return Verdict(name, False, "the API does not accept this Job", reasons)
    r = _run(context, name, job, timeout=120,
             waits_for="running the per-index Job (indexes 1 and 2 always fail) with your fields")
    pods = r.recording.pod_lifecycles()
    per_index = pods.groupby("index").size()
    bad = {i: int(per_index.get(i, 0)) for i in (1, 2)}
    reasons = [f"pods per failing index: index 1: {bad[1]}, index 2: {bad[2]}; the Job ended {r.outcome}"
               + (f" with {r.reason}" if r.reason else "") + f"; failedIndexes={r.failed_indexes}"]
    ok = r.outcome == "Failed" and r.reason == "MaxFailedIndexesExceeded" and bad == {1: 2, 2: 2}
    if r.reason == "BackoffLimitExceeded":
        reasons.append(f"backoffLimit counts the failures of all indexes together: {r.failed} failures ended the "
                       f"Job before each failing index had its retry. A budget per index is backoffLimitPerIndex")
    elif r.reason == "FailedIndexes":
        reasons.append(f"every index ran ({per_index.index.nunique()} indexes got pods) and the Job failed only at "
                       f"the end, with FailedIndexes: nothing stopped it when the second index failed. "
                       f"That limit is maxFailedIndexes (the Job fails once more indexes than it have failed)")
    elif r.reason == "MaxFailedIndexesExceeded" and bad != {1: 2, 2: 2}:
        reasons.append("the Job stopped, but each failing index should get exactly one retry (2 pods): "
                       "backoffLimitPerIndex is the retries of one index")
    elif not ok:
        reasons.append(f"expected the Job to fail with MaxFailedIndexesExceeded once indexes 1 and 2 had each "
                       f"failed twice; outcome {r.outcome}, reason {r.reason}")
    if ok:
        never = sorted(set(range(10)) - set(int(i) for i in per_index.index))
        reasons.append(f"each failing index was retried once, and the Job stopped when the second failed: "
                       f"indexes {never} never ran")
    return Verdict(name, ok, "each index retried once; the second failed index stopped the Job" if ok
                   else "the Job did not stop as asked (see why below)", reasons, evidence=r.to_dict(False))


GIVE_UP_SECONDS = 15


@exercise("give-up-in-time", f"Make the failing Job give up after at most {GIVE_UP_SECONDS} s, whatever backoffLimit "
          "still allows", "the Job's spec fields (YAML) for the deadline Job")
def check_give_up_in_time(context: str, answer) -> Verdict:
    name = "give-up-in-time"
    job = _spec_fields(answer, "deadline", "give-up", drop=("activeDeadlineSeconds",))
    # a pod still running at the deadline is stopped: a short grace period keeps the check short
    job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 2
    rejected = _validate(context, job)
    if rejected:
        return Verdict(name, False, "the API does not accept this Job", _explain_rejection(rejected))
    wait_s = 2 * GIVE_UP_SECONDS
    r = _run(context, name, job, timeout=wait_s,
             waits_for=f"running the always-failing Job with your fields: it should give up within {GIVE_UP_SECONDS} s")
    created = r.recording.first_step("create")["t"]
    decided = next((c["t"] - created for c in r.recording.job_conditions()
                    if c["type"] in ("FailureTarget", "Failed") and c["status"] == "True"), None)
    reasons = [f"the Job ended {r.outcome}" + (f" with {r.reason}" if r.reason else f" (still active after {wait_s} s)")
               + (f", decided {decided:.0f} s after it was created" if decided is not None else "")
               + f"; status.failed={r.failed}, pods created={r.pods_created}"]
    limit = job["spec"].get("activeDeadlineSeconds")
    ok = r.reason == "DeadlineExceeded" and decided is not None and decided <= GIVE_UP_SECONDS + 3
    if r.reason == "BackoffLimitExceeded":
        reasons.append("backoffLimit counts failed pods, not time: how long those failures take depends on the pods "
                       "and the back-off (10 s, 20 s, 40 s ...). A bound on the Job's time is activeDeadlineSeconds")
    elif r.outcome == "Running":
        if job["spec"].get("ttlSecondsAfterFinished") is not None:
            reasons.append("ttlSecondsAfterFinished counts from the moment the Job has finished: it cleans up a "
                           "finished Job, it does not end a running one")
        if limit and limit > GIVE_UP_SECONDS:
            reasons.append(f"your activeDeadlineSeconds is {limit} s, more than {GIVE_UP_SECONDS} s")
        reasons.append("nothing stopped the retries: the back-off only spaces them out")
    elif r.reason == "DeadlineExceeded" and not ok:
        reasons.append(f"the deadline came after more than {GIVE_UP_SECONDS} s; activeDeadlineSeconds counts from "
                       "the Job's start")
    if ok:
        reasons.append("activeDeadlineSeconds ended the Job although backoffLimit would have allowed more retries")
    return Verdict(name, ok, f"the Job gave up within {GIVE_UP_SECONDS} s (DeadlineExceeded)" if ok
                   else f"no time limit of at most {GIVE_UP_SECONDS} s ended the Job (see why below)", reasons,
                   evidence=r.to_dict(False))


# --- lab 09: CronJobs -------------------------------------------------------------------------------
# (new functions only, below everything else: other work edits the code above)
from kjlab import cronjobs, namespaces  # noqa: E402  (here, not above, so the lines others edit stay as they are)

LATE_SECONDS = 10  # a run that cannot start within this many seconds of its schedule time is dropped


@exercise("no-late-runs", f"Reports never overlap, a running report is never stopped, and a run that cannot "
          f"start within {LATE_SECONDS} s of its schedule time is dropped", "the CronJob's spec fields (YAML)")
def check_no_late_runs(context: str, answer) -> Verdict:
    name = "no-late-runs"
    doc = _load(answer, "CronJob spec fields")
    fields = doc.get("spec", {}) if doc.get("kind") == "CronJob" else doc
    if not isinstance(fields, dict):
        raise KjlabError("the answer should be a mapping of CronJob spec fields, e.g. `concurrencyPolicy: Allow`",
                         "concurrencyPolicy: ...\nstartingDeadlineSeconds: ...")
    # The exercise's CronJob: every minute, a Job of 75 s (it always outlasts the minute); the
    # learner chooses the policy fields, not the schedule or the work.
    cj = cronjobs.render("policy", "report")
    cj["spec"].pop("concurrencyPolicy")
    cj["spec"].update({k: v for k, v in fields.items() if k not in ("jobTemplate", "schedule", "timeZone", "suspend")})
    namespace = _namespace(name)
    print(f"running your CronJob in {namespace} through two schedule times and until its first Job ends "
          "(2 to 3 minutes: schedule times are whole minutes)...", flush=True)
    session = cronjobs.CronSession(context, namespace, echo=False, live=False)
    try:
        try:
            session.create(cj)
        except KjlabError as refused:
            session.stop()
            return Verdict(name, False, "the API does not accept this CronJob", _explain_rejection(refused.message))
        second = session.wait_for_boundary(2, plus=25)  # the first Job (75 s) has ended by then
        rec = session.stop()
    finally:
        _delete_quietly(context, namespace)
    jobs = rec.cron_jobs()
    late = jobs[(jobs["created"] - jobs["scheduled"]) > LATE_SECONDS]
    stopped = jobs[jobs["deleted_while"] == "active"]
    overlap = rec.max_active("report")
    held = int((rec.cron_events("report")["reason"] == "JobAlreadyActive").sum())
    policy_ = cj["spec"].get("concurrencyPolicy", "Allow (the default)")
    deadline = cj["spec"].get("startingDeadlineSeconds")
    reasons = [f"concurrencyPolicy {policy_}, startingDeadlineSeconds {deadline}: {len(jobs)} Job(s); at most "
               f"{overlap} active at once; {len(stopped)} deleted while running; {len(late)} started more than "
               f"{LATE_SECONDS} s after its schedule time; {held} schedule time(s) held back (JobAlreadyActive)"]
    if overlap > 1:
        reasons.append("two reports ran at the same time: with concurrencyPolicy Allow (the default) the controller "
                       "starts a Job at every schedule time, whatever is still running")
    if len(stopped):
        reasons.append("a running report was deleted: concurrencyPolicy Replace deletes the active Job to start the new one")
    for _, j in late.iterrows():
        reasons.append(f"{j['job']} started {j['created'] - j['scheduled']:.0f} s after its schedule time: Forbid "
                       "holds a run back while the previous Job is active, then starts it as soon as that Job ends, "
                       "unless startingDeadlineSeconds says how late is too late")
    ok = overlap <= 1 and not len(stopped) and not len(late) and held >= 1 and len(jobs) >= 1
    if ok:
        reasons.append(f"the schedule time at {second:.0f} s found the first report still running; it was held back "
                       f"and then dropped because it could not start within startingDeadlineSeconds")
    return Verdict(name, ok, "no overlap, nothing stopped, the late run dropped" if ok
                   else "the reports did not run as asked (see why below)", reasons,
                   evidence={"jobs": jobs.to_dict("records")})


def _delete_quietly(context: str, namespace: str) -> None:
    try:
        namespaces.delete(context, namespace)
    except Exception:  # a check's verdict matters more than its cleanup; `kjlab down` removes the rest
        pass


# --- lab 10: the pod lifecycle and the STATUS column -----------------------------------------------
# (new functions only, below everything else)
import time  # noqa: E402  (here, not above, so the lines others edit stay as they are)

from kjlab import printers  # noqa: E402
from kjlab.lifecycle import status_sequences  # noqa: E402
from kjlab.record import Recorder  # noqa: E402

CRASH_CODE = 3
CRASH_WAIT_SECONDS = 45  # a real kubelet waits 10 s before the first restart, 20 s before the second
# What the check takes from a learner's Pod: enough to choose what runs and how it restarts; nothing
# that reaches the node (volumes, privileges, host namespaces, service accounts) is passed on.
POD_FIELDS = ("restartPolicy",)
CONTAINER_FIELDS = ("name", "image", "command", "args")


def _learner_pod(answer, pod_name: str) -> tuple[dict, list[str]]:
    """The learner's Pod reduced to POD_FIELDS and CONTAINER_FIELDS, and a note of what was left out."""
    doc = _load(answer, "Pod manifest")
    if doc.get("kind") not in (None, "Pod"):
        raise KjlabError(f"the answer should be a Pod manifest (kind: Pod), got kind: {doc.get('kind')}",
                         "apiVersion: v1\nkind: Pod\nspec:\n  containers: ...")
    spec = doc.get("spec") if "spec" in doc else doc
    containers = (spec or {}).get("containers") if isinstance(spec, dict) else None
    if not containers or not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
        raise KjlabError("a Pod needs `spec.containers`, a list with at least one container",
                         "spec:\n  containers:\n  - name: main\n    image: docker.io/library/bash:5\n    command: [...]")
    dropped = sorted({k for k in spec if k not in POD_FIELDS + ("containers",)}
                     | {k for c in containers for k in c if k not in CONTAINER_FIELDS})
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod_name},
           "spec": {**{k: spec[k] for k in POD_FIELDS if k in spec}, "terminationGracePeriodSeconds": 1,
                    "containers": [{k: c[k] for k in CONTAINER_FIELDS if k in c} for c in containers]}}
    notes = [f"the check ran only your containers' {', '.join(CONTAINER_FIELDS)} and restartPolicy; "
             f"it left out: {', '.join(dropped)}"] if dropped else []
    return pod, notes


def _crash_code(pod: dict) -> int | None:
    """The exit code of the container's latest run: its current terminated state, else the one
    before the restart it is waiting for."""
    code = readers.exit_code(pod)
    return code if code is not None else readers.last_exit_code(pod)


@exercise("crash-loop-code", f"Write a Pod that kubectl shows as CrashLoopBackOff, its container having exited "
          f"with code {CRASH_CODE}", "a Pod manifest (YAML)")
def check_crash_loop_code(context: str, answer) -> Verdict:
    name = "crash-loop-code"
    pod, notes = _learner_pod(answer, "crasher")
    namespace = scenarios.fresh_namespace(context, _namespace(name))
    print(f"check: running your Pod in {namespace} until kubectl would show CrashLoopBackOff, or it ends "
          f"(at most {CRASH_WAIT_SECONDS} s) ...", flush=True)
    recorder = Recorder(context, namespace).start()
    try:
        try:
            ops.apply(context, namespace, pod, recorder=recorder, echo=False)
        except KjlabError as refused:
            return Verdict(name, False, "the API does not accept this Pod", [f"the API rejected the Pod: {refused.message}"])
        shown, last = [], {}
        deadline = time.monotonic() + CRASH_WAIT_SECONDS
        while time.monotonic() < deadline:
            rec = recorder.recording()
            seq = status_sequences(rec).get("crasher", [])
            last = rec.last_pods().get("crasher") or {}
            if seq != shown:
                shown = seq
                print(f"check: STATUS {' → '.join(seq)}", flush=True)
            looped = "CrashLoopBackOff" in seq and _crash_code(last) is not None
            stuck = set(seq) & {"ErrImagePull", "ImagePullBackOff", "NotSimulated"}
            if looped or stuck or readers.ended(last):
                break
            time.sleep(0.5)
    finally:
        recorder.stop()
        _delete_quietly(context, namespace)
    seq = shown
    code = _crash_code(last)
    policy = (pod["spec"].get("restartPolicy") or "Always")
    reasons = [f"STATUS went {' → '.join(seq) or '(nothing recorded)'}; restartPolicy {policy}; "
               f"last exit code {code if code is not None else '(none: the container never exited)'}; "
               f"restarts {readers.restart_count(last)}"] + notes
    ok = "CrashLoopBackOff" in seq and code == CRASH_CODE
    if {"ErrImagePull", "ImagePullBackOff"} & set(seq):
        reasons.append(f"the container never started: its image ({pod['spec']['containers'][0].get('image')}) could "
                       "not be pulled. CrashLoopBackOff needs a container that starts and then exits; this lab's "
                       "images are docker.io/library/bash:5 and docker.io/library/python:3")
    elif "NotSimulated" in seq:
        reasons.append("the kwok engine's simulated kubelet cannot run your command (README: What the simulated "
                       "kubelet runs): write it as `sleep N && exit M` in bash, or run this on kind")
    elif readers.ended(last):
        if policy == "Never":
            reasons.append(f"restartPolicy Never: the kubelet does not restart the container, so the pod ended "
                           f"(phase {readers.phase(last)}, STATUS {printers.pod_status(last)}) instead of looping. "
                           "CrashLoopBackOff is the wait between restarts: it needs Always or OnFailure")
        elif code == 0:
            reasons.append("exit code 0 is success: restartPolicy OnFailure restarts only a container that failed, "
                           "so the pod ended Completed")
    elif "CrashLoopBackOff" in seq and code != CRASH_CODE:
        reasons.append(f"the container exited with {code}, not {CRASH_CODE}: the exit code is the last thing your "
                       "script does (`exit 3`, `sys.exit(3)`)")
        if code == 0:
            reasons.append("restartPolicy Always restarts even a container that succeeded: a loop of successes "
                           "is still shown as CrashLoopBackOff")
    elif code is None:
        reasons.append(f"the container did not exit within {CRASH_WAIT_SECONDS} s: a CrashLoopBackOff needs a "
                       "program that ends (and is restarted)")
    if ok:
        reasons.append(f"the container exited {CRASH_CODE}, its restartPolicy {policy} restarted it, and the "
                       "kubelet's back-off between restarts is what kubectl shows as CrashLoopBackOff")
    return Verdict(name, ok, f"CrashLoopBackOff with exit code {CRASH_CODE}" if ok
                   else "the pod did not loop with the asked exit code (see why below)", reasons,
                   evidence={"statuses": seq, "exit_code": code, "restartPolicy": policy})
# --- lab 11: controllers ----------------------------------------------------------------------------
# (new functions only, below everything else: other work edits the code above)
from kjlab import controllers  # noqa: E402  (here, not above, so the lines others edit stay as they are)

DEBUG_SELECTOR = {"app": "web", "role": "frontend"}


def debug_replicaset() -> dict:
    """The exercise's ReplicaSet: lab 11's `web`, its selector two labels, its pods one label more
    (``version``) that the selector does not look at."""
    doc = controllers.render("replicaset")
    doc["spec"]["selector"] = {"matchLabels": dict(DEBUG_SELECTOR)}
    doc["spec"]["template"]["metadata"]["labels"] = {**DEBUG_SELECTOR, "version": "v1"}
    return doc


def _labels_from(answer) -> dict:
    doc = _load(answer, "labels")
    doc = (doc.get("metadata") or {}).get("labels", doc) if "metadata" in doc else doc.get("labels", doc)
    if not isinstance(doc, dict) or not doc:
        raise KjlabError("the answer should be the labels to set on the pod, e.g. `version: debug` (null removes one)",
                         "app: ...")
    return doc


@exercise("debug-pod-out", "Take one pod of the ReplicaSet aside for debugging: it keeps running, untouched, and "
          "the ReplicaSet still runs 3 pods", "the labels to set on the pod (YAML; null removes a label)")
def check_debug_pod_out(context: str, answer) -> Verdict:
    name = "debug-pod-out"
    labels = _labels_from(answer)
    namespace = _namespace(name)
    selector = ",".join(f"{k}={v}" for k, v in DEBUG_SELECTOR.items())
    print(f"relabelling one pod of a 3-replica ReplicaSet (selector {selector}) in {namespace} (10 to 20 s)...", flush=True)
    session = controllers.ControllerSession(context, namespace, echo=False)
    try:
        session.create(debug_replicaset())
        session.wait_owned("replicaset/web", 3)
        pod = session.recording().owned_by("replicaset/web")[0]
        try:
            session.label_pod(pod, **labels)
        except KjlabError as refused:
            session.stop()
            return Verdict(name, False, "the API does not accept these labels",
                           [refused.message, "a label value is at most 63 characters of letters, digits, '-', '_' "
                            "and '.', starting and ending with a letter or digit; null removes a label"])
        try:
            session.wait_until(lambda rec: rec.ownership(pod)["controller"].iloc[-1].startswith("(none")
                               and len(rec.owned_by("replicaset/web")) == 3
                               and all(readers.is_true(rec.last_pods()[n], "Ready") for n in rec.owned_by("replicaset/web")),
                               "the pod released and replaced", timeout=15)
        except KjlabError:
            pass  # the verdict below says what did happen
        rec = session.stop()
    finally:
        _delete_quietly(context, namespace)
    last = rec.last_pods().get(pod) or {}
    now_labels = readers.labels(last)
    owner = controllers.controller_of(last)
    owned = rec.owned_by("replicaset/web")
    ready = [n for n in owned if readers.is_true(rec.last_pods()[n], "Ready")]
    alive = readers.phase(last) == "Running" and not readers.deleting(last)
    reasons = [f"the pod {pod} now has labels {now_labels}; its controller: {owner or 'none (an orphan)'}; "
               f"{'still Running' if alive else 'not running'}; the ReplicaSet controls {len(owned)} pods, {len(ready)} Ready"]
    still_matches = controllers.matches({"matchLabels": DEBUG_SELECTOR}, now_labels)
    if still_matches:
        changed = sorted(set(labels) - set(DEBUG_SELECTOR))
        reasons.append(f"the labels still match the ReplicaSet's selector {selector}, so the pod is still one of its 3: "
                       "only the labels in the selector decide which pods a ReplicaSet owns"
                       + (f" ({', '.join(changed)} is not in it)" if changed else ""))
    ok = not still_matches and owner is None and alive and len(ready) == 3
    if ok:
        replaced = rec.replacements()
        made = replaced.iloc[-1] if not replaced.empty else None
        reasons.append("the ReplicaSet released the pod (removed its ownerReference) and created "
                       + (f"{made['replacement']} {made['created after (s)']} s later" if made is not None else "a new pod")
                       + "; the orphan keeps running until you delete it")
    return Verdict(name, ok, "the pod is out of the ReplicaSet, still running, and the ReplicaSet runs 3 pods" if ok
                   else "the pod is not out of the ReplicaSet (see why below)", reasons,
                   evidence={"pod": pod, "labels": now_labels, "owner": owner, "owned": owned})


# --- lab 12: a budget that lets a drain finish without going below 2 ready pods ------------------

import time  # noqa: E402  (here, with lab 12's check, so the lines others edit stay as they are)

from kjlab import disruptions  # noqa: E402

BUDGET_FLOOR = 2            # ready web pods the service needs
BUDGET_DRAIN_SECONDS = 30   # a drain still refused after this long would never finish


def _budget_from(answer) -> dict:
    doc = _load(answer, "PodDisruptionBudget")
    if doc.get("kind") not in (None, "PodDisruptionBudget"):
        raise KjlabError(f"the answer should be a PodDisruptionBudget (or its spec), not a {doc.get('kind')}",
                         "minAvailable: ...\nselector:\n  matchLabels: ...")
    spec = doc.get("spec", doc) if doc.get("kind") else doc
    if not isinstance(spec, dict):
        raise KjlabError("the budget's spec should be a mapping", "minAvailable: ...\nselector: ...")
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web-budget"}, "spec": spec}


@exercise("drain-budget", f"A budget so that draining kjlab-worker never leaves fewer than {BUDGET_FLOOR} ready "
          "web pods, and the drain still finishes", "a PodDisruptionBudget (YAML: its spec, or the whole object)")
def check_drain_budget(context: str, answer) -> Verdict:
    name = "drain-budget"
    budget = _budget_from(answer)
    namespace = _namespace(name)
    print(f"running web (3 pods on kjlab-worker) with your budget in {namespace}, then draining kjlab-worker "
          f"(at most {BUDGET_DRAIN_SECONDS} s) ...", flush=True)
    namespaces.fresh(context, namespace, progress=None)
    session = disruptions.Disruptions(context, namespace, None, echo=False)
    drained, stuck, created = None, None, None
    try:
        session.create(disruptions.manifest("web"))
        try:
            created = session.create(budget)
        except KjlabError as refused:
            session.stop()
            return Verdict(name, False, "the API does not accept this PodDisruptionBudget",
                           [f"the API rejected it: {refused.message}"] + [
                               hint for key, hint in BUDGET_HINTS.items() if key in refused.message])
        session.wait_ready("app=web", 3)
        status = _budget_status(context, namespace)
        try:
            drained = session.drain("kjlab-worker", pod_selector="app=web", timeout=BUDGET_DRAIN_SECONDS)
        except KjlabError as e:
            stuck = e.message
        rec = session.stop()
    finally:
        try:
            ops.uncordon(context, "kjlab-worker", echo=False)
        finally:
            _delete_quietly(context, namespace)
    fewest = disruptions.min_ready_after(rec, "app", "web", disruptions.first_step(rec, "drain"))
    answers_ = disruptions.refusals(rec)
    refused_n = int((answers_["answer"] != "accepted").sum())
    spec = created["spec"] if created else budget["spec"]
    rule = ", ".join(f"{k}: {spec[k]}" for k in ("minAvailable", "maxUnavailable") if k in spec) or "no minAvailable/maxUnavailable"
    reasons = [f"your budget ({rule}) covered {status.get('expectedPods', 0)} of the 3 web pods and allowed "
               f"{status.get('disruptionsAllowed', 0)} disruption(s) at once before the drain",
               f"the drain got {refused_n} refusal(s) (429) and "
               + (f"finished in {drained.seconds:.0f} s" if drained else f"did not finish: {stuck}"),
               f"the fewest ready web pods during the drain was {fewest}"]
    if not status.get("expectedPods"):
        reasons.append("the budget's selector matches none of the web pods (they are labelled app: web): a budget "
                       "protects only the pods its selector picks, so the drain evicted them all freely")
    elif fewest is not None and fewest < BUDGET_FLOOR:
        reasons.append(f"the budget allowed {status.get('disruptionsAllowed')} pods to be evicted at once, so the "
                       f"drain took web below {BUDGET_FLOOR}: a budget must allow at most 3 - {BUDGET_FLOOR} = 1 "
                       f"disruption (minAvailable: {BUDGET_FLOOR}, or maxUnavailable: 1)")
    if drained is None:
        reasons.append("the budget allowed no disruption at all (every web pod must stay): the Eviction API answers "
                       "429 for ever, so a drain can never finish -- a budget that blocks every eviction blocks node "
                       "maintenance too")
    ok = drained is not None and fewest is not None and fewest >= BUDGET_FLOOR and bool(status.get("expectedPods"))
    return Verdict(name, ok, f"the drain finished and web never went below {BUDGET_FLOOR} ready pods" if ok
                   else "the drain did not go as asked (see why below)", reasons,
                   evidence={"fewest_ready": fewest, "refusals": refused_n, "drained": drained is not None,
                             "budget_status": status})


BUDGET_HINTS = {
    "minAvailable and maxUnavailable cannot be both set": "a budget has minAvailable or maxUnavailable, not both",
    "must be greater than or equal to 0": "minAvailable and maxUnavailable cannot be negative",
    "must not be greater than 100%": "a percentage is at most 100%",
}


def _budget_status(context: str, namespace: str, timeout: float = 20) -> dict:
    """The budget's status once the disruption controller has counted the pods (observedGeneration set)."""
    api = client.PolicyV1Api(kube.api_client(context))
    deadline = time.monotonic() + timeout
    while True:
        pdb = kube.raw(api.read_namespaced_pod_disruption_budget, "web-budget", namespace)
        status = pdb.get("status") or {}
        if status.get("observedGeneration") == readers.meta(pdb).get("generation") and \
                status.get("currentHealthy", 0) >= min(status.get("expectedPods", 0), 3):
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(0.5)
# --- lab 13: graceful termination ---------------------------------------------------------------------
# (new functions only, below everything else: other work edits the code above)
import time  # noqa: E402

from kjlab import cluster as lab_cluster, probes  # noqa: E402  (here, not above, so the lines others edit stay as they are)

SIGTERM_WITHIN = 5       # seconds from `kubectl delete pod` to the container's exit
SIGTERM_GRACE = 15       # the check pod's terminationGracePeriodSeconds (the learner does not choose it)
SCRIPT_LIMIT = 4000      # characters: a worker script, not a program


def _needs_kind(name: str, context: str) -> Verdict | None:
    """A verdict saying the check needs real containers, on an engine that simulates the kubelet."""
    engine = lab_cluster.status(context).get("engine")
    if engine != "kwok":
        return None
    return Verdict(name, False, "this check needs real containers: it is not run on the kwok engine",
                   ["signals and exit codes come from a real process; the kwok engine simulates the kubelet "
                    "and runs none", "run it on kind: kjlab up --engine kind (then run this cell again)"])


@exercise("exit-on-sigterm", f"Make the worker stop with a non-zero code within {SIGTERM_WITHIN} s of `kubectl delete pod` "
          f"(its grace period is {SIGTERM_GRACE} s)", "the worker's bash script")
def check_exit_on_sigterm(context: str, answer) -> Verdict:
    name = "exit-on-sigterm"
    if not isinstance(answer, str) or len(answer) > SCRIPT_LIMIT:
        raise KjlabError(f"the answer should be a bash script (text, at most {SCRIPT_LIMIT} characters)",
                         "script = \"\"\"\ntrap ... TERM\n...\n\"\"\"")
    refused = _needs_kind(name, context)
    if refused:
        return refused
    namespace = _namespace(name)
    print(f"running your worker in {namespace}, deleting it once it runs (about {SIGTERM_GRACE + 10} s at most)...",
          flush=True)
    session = probes.PodSession(context, namespace, echo=False)
    try:
        session.create(probes.worker_pod("worker", answer, grace=SIGTERM_GRACE))
        session.wait(lambda r: probes.running_at(r, "worker") or r.last_pods().get("worker", {}).get(
            "status", {}).get("phase") in ("Succeeded", "Failed"), "the worker to run", timeout=60, show=())
        time.sleep(2)  # the script has started (and set its traps) before it is stopped
        ended_early = readers.terminated(session.recording.last_pods()["worker"])
        if not ended_early:
            session.delete("worker")
            session.wait(lambda r: probes.terminations(r)["terminated"].notna().all(),
                         "the worker to end", timeout=SIGTERM_GRACE + 30, show=())
        rec = session.stop()
    finally:
        session.recorder.stop()
        _delete_quietly(context, namespace)
    if ended_early:
        code = ended_early.get("exitCode")
        return Verdict(name, False, "the worker ended by itself before it was deleted",
                       [f"the container ended with exit code {code} about 2 s after it started, before kjlab deleted "
                        "the pod: the worker must keep working until it is stopped (a loop), and exit non-zero "
                        "when SIGTERM comes"], evidence={"exit_code": code})
    end = probes.terminations(rec).iloc[0]
    code, seconds = int(end["exit_code"]), float(end["seconds"])
    ok, reasons = sigterm_reasons(code, seconds, end["phase"], answer)
    return Verdict(name, ok, f"the worker stopped with exit code {code} within {SIGTERM_WITHIN} s of the delete" if ok
                   else "the worker did not stop as asked (see why below)", reasons,
                   evidence={"exit_code": code, "seconds": seconds, "phase": end["phase"]})


def sigterm_reasons(code: int, seconds: float, phase, answer: str) -> tuple[bool, list[str]]:
    """Exercise 13's verdict on a deleted worker's end: passed when it exited within SIGTERM_WITHIN s with a
    non-zero code other than 137. Exit 0 fails: a deleted pod whose containers all exit 0 ends Succeeded
    (v1.36 pkg/kubelet/kubelet_pods.go getPhase), so a Job would count the interrupted work as done."""
    reasons = [f"the container ended {seconds:.1f} s after `kubectl delete pod` with exit code {code} "
               f"(grace period {SIGTERM_GRACE} s; the pod ended {phase})"]
    traps = "trap" in answer and ("TERM" in answer or "15" in answer)
    if code == 137:
        reasons.append("it was still running when the grace period ran out, so the kubelet sent SIGKILL (128 + 9 = 137)")
        if traps:
            reasons.append("your script traps TERM, but bash runs a trap only after the command in the foreground "
                           "returns: run long commands in the background and `wait` for them (`sleep 600 & wait $!`)")
        else:
            reasons.append("bash running as PID 1 ignores SIGTERM unless it traps it: add `trap 'exit 143' TERM`")
    elif code == 0:
        reasons.append("exit code 0 makes a deleted pod Succeeded: a Job would count the interrupted work as a "
                       "completion and never run it again. Exit non-zero (`exit 143`, 128 + 15, the convention "
                       "for SIGTERM) so the pod ends Failed")
    elif seconds > SIGTERM_WITHIN:
        reasons.append(f"exit code {code}, but {seconds:.1f} s after the delete, more than {SIGTERM_WITHIN} s: bash runs "
                       "a trap only after the command in the foreground returns; keep foreground commands short or "
                       "`wait` for background ones")
    ok = code not in (0, 137) and seconds <= SIGTERM_WITHIN
    if ok:
        reasons.append(f"the trap ran on SIGTERM and the worker exited {code} (non-zero: the pod ends Failed, the "
                       "interrupted work is not counted as done) well inside the grace period")
    return ok, reasons
