"""Check of the config-issue controller step (a learner's function, run in the sandbox).

Notebook: solutions/03-config-issue-step.
"""

from __future__ import annotations

from kjlab import examples
from kjlab.api import readers, wait
from kjlab.checks import (Verdict, _failed_pods, _matches, _run, _StepFailed, _why_stopped, code_of, exercise, run_step,
                          sandbox)
from kjlab.runs import scenarios


@exercise("config-issue-step", "Write the controller step: mark the stuck pod with ConfigIssue, then delete it",
          "a function mark_and_delete(context, namespace, pod_name)",
          notebook="03-config-issue-step")
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
