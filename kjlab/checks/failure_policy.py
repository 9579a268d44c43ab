"""Checks of the pod failure policy exercises: FailJob on an exit code, Ignore on a drain, the
broken policies to fix, and a prediction of the failindex Job.

Notebooks: solutions/01-failjob-policy, 02-survive-drain, 04-fix-broken-policies, 05-predict-failindex.
"""

from __future__ import annotations

import sys

import yaml

from kjlab import examples
from kjlab.checks import (Verdict, _disrupted, _example_with_policy, _explain_rejection, _load, _matches,
                          _namespace, _retried_until_the_limit, _run, _validate, exercise)
from kjlab.runs import scenarios
from kjlab.view.progress import RunProgress


@exercise("failjob-policy", "Fail at once on exit code 42, count every other failure",
          "a podFailurePolicy (YAML) for the failjob Job",
          notebook="01-failjob-policy")
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

    ok_other, other, lines = _retried_until_the_limit(context, name, pol, 1)
    reasons += lines
    passed = ok_bug and ok_other
    return Verdict(name, passed, "exit code 42 fails the Job at once and other failures are counted" if passed
                   else "the cluster did not do what the exercise asks (see why below)", reasons,
                   evidence={"exit_42": bug.to_dict(False), "exit_1": other.to_dict(False)})


@exercise("survive-drain", "Let the ignore Job survive a node drain without raising status.failed",
          "a podFailurePolicy (YAML) for the ignore Job",
          notebook="02-survive-drain")
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
    exercise(_name, _title, "the fixed Job manifest (YAML)", notebook="04-fix-broken-policies")(lambda context, answer, _n=_name: _check_fix(_n, context, answer))


PREDICT_FIELDS = ("outcome", "reason", "failed", "succeeded", "failedIndexes")


@exercise("predict-failindex", "Predict the failindex Job's outcome and counts, then run it",
          "a dict with outcome, reason, failed, succeeded and failedIndexes",
          notebook="05-predict-failindex")
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
