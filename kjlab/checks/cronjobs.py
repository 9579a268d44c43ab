"""Check of a CronJob's concurrency and starting deadline (kjlab.labs.cronjobs).

Notebook: solutions/09-no-late-runs.
"""

from __future__ import annotations

from kjlab.checks import Verdict, _delete_quietly, _explain_rejection, _load, _namespace, exercise
from kjlab.errors import KjlabError
from kjlab.labs import cronjobs


LATE_SECONDS = 10  # a run that cannot start within this many seconds of its schedule time is dropped


@exercise("no-late-runs", f"Reports never overlap, a running report is never stopped, and a run that cannot "
          f"start within {LATE_SECONDS} s of its schedule time is dropped", "the CronJob's spec fields (YAML)",
          notebook="09-no-late-runs")
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
            return Verdict(name, False, "the API does not accept this CronJob", _explain_rejection(refused.message, "CronJob"))
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
