"""Exercise checks: run the learner's answer on the lab cluster, wait for the deciding state, and
explain the verdict from what happened (which rule matched and at which index, which field the
API rejected, what the counts were against what was asked).

A verdict never rests on the answer's wording: any answer that makes the cluster do what the
exercise asks passes. Each check runs in its own namespace, which it deletes afterwards.

Answers are handled as untrusted: YAML answers stay data (``kjlab.answers.load_yaml``: safe_load,
size and alias limits), and code answers never run in the checker's process: they run in a
separate, locked-down process (``kjlab.sandbox``) with a time limit and a kubeconfig whose token may
only do what the step needs, in the check's own namespace (``kjlab.access``).

This module is the registry core: ``Verdict``, the ``@exercise`` registry, ``run``, and the helpers
checks share. Each topic's checks live in a module of their own beside it (``kjlab/checks/<topic>.py``,
its docstring naming its notebooks) and register themselves with ``@exercise``; this module names
none of them: it imports every module of the folder (``_discover``), so adding a check adds a file.
The order of ``EXERCISES`` (``kjlab check --list``, the class view) follows their notebooks.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import secrets
import sys
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from typing import Callable

import yaml
from kubernetes import client

from kjlab.checks import access, answers, sandbox
from kjlab import examples, files
from kjlab.api import kube, policy as policy_rules, readers
from kjlab.actions import namespaces, ops
from kjlab.runs import scenarios
from kjlab.cluster import lab_context
from kjlab.cluster.registry import guard
from kjlab.checks import verdicts as classroom_results
from kjlab.errors import KjlabError
from kjlab.view.progress import RunProgress


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
    notebook: str = ""            # the solutions/ notebook it belongs to (orders the list)


EXERCISES: dict[str, Exercise] = {}


def exercise(name: str, title: str, answer: str, notebook: str = ""):
    """Register a check under ``name``; ``notebook`` is the solutions/ notebook that asks for it."""
    def register(fn):
        EXERCISES[name] = Exercise(name, title, answer, fn, notebook)
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
        if isinstance(answer, sandbox.Code) and "function" not in ex.answer:
            raise KjlabError(f"{name} takes {ex.answer}, not Python code ({answer.origin})",
                             f"write the answer in a text file: kjlab check {name} --answer my-answer.yaml")
        context = context or lab_context()
        # Before any request: a check creates a namespace, and sends the answer (even as a dry run).
        guard(context, f"check {name} (it creates a namespace and sends your answer there)")
        try:
            verdict = ex.check(context, answer)
        except KjlabError as e:
            verdict = Verdict(name, False, "the check could not run your answer", [e.message] + ([f"fix: {e.fix}"] if e.fix else []))
    classroom_results.record(verdict)  # every verdict is recorded for the class view
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
    """Server-side dry run: the API's own rejection message, or None when it accepts the Job.

    The answer goes as data with field validation Strict (``kube.create``), as manifests do: a
    misspelt field or a string where a number belongs comes back in the API's words (`strict
    decoding error: unknown field "spec.podFailurePolicy.rules[0].onExitCode"`), where the
    client's typed models would raise their own validation error first, as a traceback."""
    ns = "default"  # a dry run persists nothing; the check's namespace does not exist yet
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    try:
        kube.create(context, ns, {**doc, "metadata": {**metadata, "namespace": ns}}, dry_run=True)
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
    # schema errors of an answer (field validation Strict): the API names the field
    "unknown field": "fix the spelling of the field it names (`kjlab kubectl explain job.spec` lists the fields)",
    "cannot unmarshal string into Go struct field": "write that field as a number, without quotes",
    "cannot unmarshal number into Go struct field": "write that field as a string: put it in quotes",
}


def _explain_rejection(message: str, kind: str = "Job") -> list[str]:
    reasons = [f"the API rejected the {kind}: {message}"]
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


# Container waiting reasons that decide a check's run: the container cannot run (kwok's simulated
# kubelet cannot run its command: kjlab/cluster/kwok/grammar.py), so waiting longer shows nothing.
CANNOT_RUN = ("NotSimulated",)


def cannot_run(result) -> list[dict]:
    """The run's 'decided' steps (t, detail): a pod whose container could not run (none: [])."""
    return [s for s in result.recording.steps() if s.get("action") == "decided"]


def _run(context: str, exercise_name: str, doc: dict, timeout: float, waits_for: str, **plan):
    """Run a Job for a check (its own namespace, deleted afterwards); unfinished runs come back too.

    Says first what the check waits for and for how long at most, then the Job's counters as they
    change (kjlab.progress), so a check is never a silent minute."""
    print(f"check: {waits_for} (at most {timeout:.0f} s) ...", flush=True)
    progress = RunProgress(doc["metadata"]["name"], stream=sys.stdout)
    # A container that cannot run never will: the outcome is decided, the check stops there.
    plan.setdefault("decided_when_waiting", CANNOT_RUN)
    try:
        result = scenarios.run(manifest=doc, context=context, namespace=_namespace(exercise_name), echo=False,
                               timeout=timeout, allow_unfinished=True, on_start=progress.attach, **plan)
    finally:
        progress.finish()
    stuck = cannot_run(result)
    if stuck:
        print(f"check: stopped after {stuck[0]['t']:.1f} s (not {timeout:.0f} s): {stuck[0]['detail']}", flush=True)
    elif result.outcome == "Running":
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


def _retried_until_the_limit(context: str, exercise_name: str, policy: dict | None, code: int):
    """Run a Job whose pod exits ``code`` under ``policy`` with backoffLimit 1: a failure the policy
    counts is retried once, then the Job fails with BackoffLimitExceeded. Returns (ok, the run, the
    verdict's lines about it)."""
    ran = _run(context, exercise_name, _bash_job(f"exits-with-{code}", f"sleep 1 && exit {code}", policy,
                                                 backoff_limit=1), timeout=45,
               waits_for=f"a Job whose pod exits with {code}, under your policy: it should be retried until "
                         "backoffLimit 1")
    ok = ran.outcome == "Failed" and ran.reason == "BackoffLimitExceeded" and ran.failed == 2
    if ok:
        return ok, ran, [f"exit code {code}: counted and retried until backoffLimit (failed=2 with backoffLimit 1), "
                         "reason BackoffLimitExceeded"]
    return ok, ran, [f"exit code {code} should be counted and retried (backoffLimit 1: two failures, then "
                     f"BackoffLimitExceeded); instead: outcome {ran.outcome}, reason {ran.reason}, "
                     f"failed={ran.failed}, pods={ran.pods_created}", *_matches(policy, ran)]


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


def _delete_quietly(context: str, namespace: str) -> None:
    try:
        namespaces.delete(context, namespace)
    except Exception:  # a check's verdict matters more than its cleanup; `kjlab down` removes the rest
        pass


# --- the checks: every module beside this one --------------------------------------------------------
_CORE = {"access", "answers", "sandbox", "verdicts"}  # what the checks use, not checks themselves


def _discover() -> list:
    """Import every topic module of this folder (each registers its checks), then order EXERCISES by
    notebook (registration order within one)."""
    modules = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)
               if m.name not in _CORE and not m.name.startswith("_")]
    ordered = sorted(EXERCISES.values(), key=lambda ex: ex.notebook)  # stable: keeps registration order
    EXERCISES.clear()
    EXERCISES.update((ex.name, ex) for ex in ordered)
    return modules


_TOPICS = _discover()


def __getattr__(name: str):
    """The names the single ``kjlab.check`` module had (``kjlab.check.broken_manifest``, ...), found in
    the topic module that defines them now, so notebooks written against it keep working."""
    for module in _TOPICS:
        if name in vars(module):
            return vars(module)[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
