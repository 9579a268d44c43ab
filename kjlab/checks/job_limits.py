"""Checks on completions, parallelism and per-index budgets.

Notebooks: solutions/06-indexed-shards, 07-index-budget, 08-give-up-in-time.
"""

from __future__ import annotations

import datetime as dt

from kjlab import examples
from kjlab.api import readers
from kjlab.checks import Verdict, _explain_rejection, _load, _run, _validate, cannot_run, exercise
from kjlab.errors import KjlabError


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
          "the Job's spec fields (YAML) for the shards Job",
          notebook="06-indexed-shards")
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
    parallelism = job["spec"].get("parallelism", 1)  # the answer's (the API's default: 1)
    mode = job["spec"].get("completionMode", "NonIndexed")
    stuck = cannot_run(r)
    reasons, ok = [], True
    if not indexes:
        ok = False
        reasons.append(f"the pods got no index (no batch.kubernetes.io/job-completion-index annotation, no "
                       f"JOB_COMPLETION_INDEX): completionMode is {mode}"
                       + (", the default" if "completionMode" not in job["spec"] else "")
                       + "; a pod cannot tell which shard is its own. Set completionMode: Indexed")
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
    if stuck:
        ok = False
        reasons.append(f"no pod could run, so the check stopped at {stuck[0]['t']:.1f} s: {stuck[0]['detail']}"
                       + ("; the given container reads JOB_COMPLETION_INDEX, which only a pod of an Indexed Job "
                          "has" if not indexes else ""))
    reasons.append(f"at most {at_once} pod(s) ran at the same moment (read from the recorded timeline); "
                   f"your parallelism: {parallelism}")
    if at_once > SHARDS_AT_ONCE:
        ok = False
        reasons.append(f"that is more than {SHARDS_AT_ONCE}: `parallelism` bounds how many pods run at once")
    elif parallelism < SHARDS_AT_ONCE:
        ok = False
        reasons.append(f"{SHARDS_AT_ONCE} may run at once; with parallelism {parallelism} the work takes longer "
                       f"than it needs to")
    elif at_once < SHARDS_AT_ONCE and not stuck:
        ok = False
        reasons.append(f"parallelism {parallelism} allows {SHARDS_AT_ONCE}, but at most {at_once} ran at once")
    if r.outcome != "Complete":
        ok = False
        reasons.append(f"the Job did not complete: outcome {r.outcome}"
                       + (f" ({r.reason}: {r.message})" if r.reason else
                          " when the check stopped" if stuck else " within 60 s"))
    else:
        reasons.append(f"the Job completed: succeeded={r.succeeded}, completedIndexes="
                       f"{r.job_status.get('completedIndexes')}")
    return Verdict(name, ok, f"{SHARDS} shards, each once, at most {SHARDS_AT_ONCE} at a time" if ok
                   else "the cluster did not run the shards as asked (see why below)", reasons,
                   evidence=r.to_dict(False))


@exercise("index-budget", "Retry each index once, and stop the whole Job once a second index has failed",
          "the Job's spec fields (YAML) for the per-index Job",
          notebook="07-index-budget")
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
    reasons = [f"pods per failing index: index 1: {bad[1]}, index 2: {bad[2]}; "
               + ("the Job had not ended when the check stopped watching" if r.outcome == "Running"
                  else f"the Job ended {r.outcome}" + (f" with {r.reason}" if r.reason else ""))
               + f"; failedIndexes={r.failed_indexes}"]
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


def _api_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def decided_after_start(recording) -> float | None:
    """Seconds from the Job's ``status.startTime`` to its first FailureTarget/Failed condition's
    ``lastTransitionTime``, both as the API wrote them (whole seconds), or None if it never failed.
    ``activeDeadlineSeconds`` counts from ``status.startTime`` (pastActiveDeadline,
    pkg/controller/job/job_controller.go), which the controller sets at its first sync -- not from
    the create -- so a deadline measured from the create can look a second short."""
    for row in recording.of("job"):
        job = row.get("object") or {}
        start = (job.get("status") or {}).get("startTime")
        decided = next((c for c in readers.conditions(job) if c["type"] in ("FailureTarget", "Failed")
                        and c["status"] == "True" and c.get("lastTransitionTime")), None)
        if start and decided:
            return (_api_time(decided["lastTransitionTime"]) - _api_time(start)).total_seconds()
    return None


def deleted_after_finish(recording) -> float | None:
    """Seconds from the Job's Complete (or Failed) condition's ``lastTransitionTime`` to the
    ``metadata.deletionTimestamp`` its deletion set (the first written by the Job controller, the
    second by the API server; whole seconds; on a one-machine lab cluster both read the same clock),
    or None if the recording has no deletion of a finished Job. The TTL-after-finished controller
    counts ``ttlSecondsAfterFinished`` from that condition's lastTransitionTime and deletes the Job
    with foreground propagation, which sets deletionTimestamp first
    (pkg/controller/ttlafterfinished/ttlafterfinished_controller.go jobFinishTime, processJob).
    Read from the watch instead, the wait can look shorter: the watch delivers the condition a
    moment after it was written, and longer on a busy machine (CI: 3.8 s for a 5 s TTL)."""
    for row in recording.of("job"):
        job = row.get("object") or {}
        deleted = readers.meta(job).get("deletionTimestamp")
        finished = next((c for c in readers.conditions(job) if c["type"] in ("Complete", "Failed")
                         and c["status"] == "True" and c.get("lastTransitionTime")), None)
        if deleted and finished:
            return (_api_time(deleted) - _api_time(finished["lastTransitionTime"])).total_seconds()
    return None


GIVE_UP_SECONDS = 15


@exercise("give-up-in-time", f"Make the failing Job give up after at most {GIVE_UP_SECONDS} s, whatever backoffLimit "
          "still allows", "the Job's spec fields (YAML) for the deadline Job",
          notebook="08-give-up-in-time")
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
    decided = decided_after_start(r.recording)
    reasons = [(f"the Job had not ended: still active after {wait_s} s" if r.outcome == "Running"
                else f"the Job ended {r.outcome}" + (f" with {r.reason}" if r.reason else ""))
               + (f", decided {decided:.0f} s after its status.startTime (where activeDeadlineSeconds counts "
                  "from; API times, whole seconds)" if decided is not None else "")
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
