"""Check of the lab 14 exercise: a policy that retries one known transient exit code and fails the
Job at once on any other (NotIn, or an explicit Count before a broader FailJob).

Notebook: solutions/14-retry-only-code-3.
"""

from __future__ import annotations

from kjlab.checks import (Verdict, _bash_job, _explain_rejection, _matches, _policy_from, _retried_until_the_limit,
                          _run, _validate, exercise)


@exercise("retry-only-code-3", "Retry exit code 3 only; fail the Job at once on any other failure",
          "a podFailurePolicy (YAML) for a Job whose container main exits 3 when the failure is transient",
          notebook="14-retry-only-code-3")
def check_retry_only_code_3(context: str, answer) -> Verdict:
    name = "retry-only-code-3"
    pol = _policy_from(answer)
    bug = _bash_job("exits-with-77", "sleep 1 && exit 77", pol, backoff_limit=1)
    rejected = _validate(context, bug)
    if rejected:
        return Verdict(name, False, "the API does not accept this policy", _explain_rejection(rejected))

    ran_bug = _run(context, name, bug, timeout=30,
                   waits_for="a Job whose pod exits with 77, under your policy: it should fail at once")
    reasons = []
    ok_bug = (ran_bug.outcome == "Failed" and ran_bug.reason == "PodFailurePolicy" and ran_bug.failed == 1
              and "exit code 77" in (ran_bug.message or ""))
    if ok_bug:
        reasons.append(f"exit code 77: the Job failed at its first failure ({ran_bug.message})")
    else:
        reasons.append(f"exit code 77 should fail the Job at once (reason PodFailurePolicy, failed=1); instead: "
                       f"outcome {ran_bug.outcome}, reason {ran_bug.reason}, failed={ran_bug.failed}")
        reasons += _matches(pol, ran_bug)

    ok_transient, transient, lines = _retried_until_the_limit(context, name, pol, 3)
    reasons += lines
    passed = ok_bug and ok_transient
    return Verdict(name, passed, "exit code 3 is retried and any other failure fails the Job at once" if passed
                   else "the cluster did not do what the exercise asks (see why below)", reasons,
                   evidence={"exit_77": ran_bug.to_dict(False), "exit_3": transient.to_dict(False)})
