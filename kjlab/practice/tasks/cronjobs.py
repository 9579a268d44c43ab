"""Practice tasks on CronJobs: schedule and concurrencyPolicy, `kubectl create job --from`, history limits.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- defaults: concurrencyPolicy Allow, successfulJobsHistoryLimit 3, failedJobsHistoryLimit 1 --
  pkg/apis/batch/v1/defaults.go:76-88;
- Forbid skips a schedule time while a Job of the CronJob is active -- pkg/controller/cronjob/cronjob_controllerv2.go:573;
- the history limits delete the oldest finished Jobs beyond them -- cronjob_controllerv2.go:684-712;
- `kubectl create job --from=cronjob/NAME` copies the Job template, annotates the Job
  cronjob.kubernetes.io/instantiate=manual and makes the CronJob its owner --
  k8s.io/kubectl@v0.36.4 pkg/cmd/create/create_job.go:250-275.
"""

from __future__ import annotations

from kjlab.api import kube, readers
from kjlab.practice.cluster_view import job_ended
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.verdicts import verdict

DEFAULTS = "pkg/apis/batch/v1/defaults.go:76-88"


# field bounds and names as the CronJob controller's parser (github.com/robfig/cron/v3@v3.0.1 parser.go)
_BOUNDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}),
           (1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}),
           (0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}))


def field_values(field: str, lo_bound: int = 0, hi_bound: int = 59, names: dict | None = None
                 ) -> tuple[set[int], bool] | None:
    """The values one cron field names (``*/5``, ``0,30``, ``10-20/5``, ``MON-FRI``, ``?``), and whether it
    counts as a star (``*`` or ``?`` with no step above 1: robfig/cron parser.go getRange); None if invalid."""
    out: set[int] = set()
    star = False
    names = names or {}

    def number(text: str) -> int:
        return names[text.lower()] if text.lower() in names else int(text)

    for part in field.split(","):
        rng, slash, step = part.partition("/")
        try:
            step_n = int(step) if slash else 1
            if rng in ("*", "?"):
                lo, hi = lo_bound, hi_bound
                star = star or step_n == 1
            elif "-" in rng:
                lo, hi = (number(x) for x in rng.split("-", 1))
            else:
                lo = number(rng)
                hi = hi_bound if slash else lo
        except ValueError:
            return None
        if step_n < 1 or not lo_bound <= lo <= hi <= hi_bound:
            return None
        out.update(range(lo, hi + 1, step_n))
    return out, star


def minutes_of(field: str) -> set[int] | None:
    """The minutes a cron minute field names; None if it is not one."""
    got = field_values(field)
    return got[0] if got else None


def describe_schedule(schedule: str) -> str:
    fields = schedule.split()
    if len(fields) != 5:
        return f"{schedule!r} (not five fields)"
    minutes = minutes_of(fields[0])
    rest = " ".join(fields[1:])
    when = "every hour" if rest == "* * * *" else f"when hour/day/month/weekday match {rest!r}"
    return f"{schedule!r} runs at minute(s) {sorted(minutes) if minutes is not None else fields[0]} {when}"


def every_five_minutes(schedule: str) -> bool:
    """The schedule fires at minutes 0, 5, ... 55 of every hour of every day, however it is written
    (``*/5 * * * ?``, ``*/5 * * * 0-6``, ``0-55/5 * 1-31 * *``): the fields are compared as value sets.
    A day matches when day-of-month AND day-of-week match if either is a star, else when either
    matches (robfig/cron spec.go dayMatches), so every day is named when both sets are full, or when
    neither is a star and one of them is full."""
    fields = (schedule or "").split()
    if len(fields) != 5:
        return False
    parsed = [field_values(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _BOUNDS)]
    if any(p is None for p in parsed):
        return False
    (minutes, _), (hours, _), (dom, dom_star), (months, _), (dow, dow_star) = parsed
    full = [set(range(lo, hi + 1)) for lo, hi, _ in _BOUNDS]
    dom_full, dow_full = dom == full[2], dow == full[4]
    every_day = (dom_full and dow_full) if (dom_star or dow_star) else (dom_full or dow_full)
    return minutes == set(range(0, 60, 5)) and hours == full[1] and months == full[3] and every_day


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


# --- schedule and concurrencyPolicy -------------------------------------------------------------------

def check_schedule(view):
    cj = view.require("cronjob", "backup")
    spec = _spec(cj)
    problems = []
    if not every_five_minutes(spec.get("schedule", "")):
        problems.append(f"{describe_schedule(spec.get('schedule', ''))}; the task asks for every 5 minutes "
                        "(minute field */5, every hour of every day)")
    if spec.get("concurrencyPolicy") != "Forbid":
        problems.append(f"concurrencyPolicy is {spec.get('concurrencyPolicy')} (Allow is the default, {DEFAULTS}): "
                        "Allow starts a Job at every schedule time even while the last one runs, Replace deletes "
                        "the running one; Forbid skips the new run while one is active")
    containers = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
    if containers[0].get("image", "").removeprefix("docker.io/library/") != "bash:5":
        problems.append(f"the container's image is {containers[0].get('image')!r}, not bash:5")
    return verdict("cronjob-schedule", problems,
                   [f"CronJob backup: schedule {spec.get('schedule')!r}, concurrencyPolicy {spec.get('concurrencyPolicy')}"],
                   "every 5 minutes, and never two runs at once")


register(Task(
    id="cronjob-schedule", topic="cronjobs", minutes=4, title="Schedule and concurrencyPolicy",
    statement="""
In namespace {ns}, create a CronJob named `backup` that runs the image `bash:5` with the command
`sh -c "sleep 5"` every 5 minutes. A run must never start while the previous one is still running.
""",
    check=check_schedule,
    hint="schedule \"*/5 * * * *\"; concurrencyPolicy Forbid (kubectl create cronjob has no flag for it).",
    imperative="""
kubectl create cronjob backup --image=bash:5 --schedule="*/5 * * * *" --dry-run=client -o yaml -- sh -c "sleep 5" > cj.yaml
kubectl patch --local -f cj.yaml --type=merge -p '{"spec":{"concurrencyPolicy":"Forbid"}}' -o yaml | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "*/5 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: backup
            image: bash:5
            command: ["sh", "-c", "sleep 5"]
""",
    sources=(DEFAULTS, "pkg/controller/cronjob/cronjob_controllerv2.go:573"),
))


# --- create job --from -----------------------------------------------------------------------------------

def prepared_cronjob(name: str, schedule: str) -> dict:
    """A CronJob a task prepares: a 2 s bash:5 Job on ``schedule``."""
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "report", "image": "bash:5", "command": ["sh", "-c", "sleep 2"]}]}}}}}}


NIGHTLY = prepared_cronjob("nightly", "0 2 * * *")


def setup_nightly(view):
    kube.create(view.context, view.namespace, NIGHTLY)


def check_run_now(view):
    cj = view.require("cronjob", "nightly")
    problems, found = [], []
    if _spec(cj).get("schedule") != NIGHTLY["spec"]["schedule"]:
        problems.append(f"the CronJob's schedule was changed to {_spec(cj).get('schedule')!r}: the task asks to "
                        "leave it as it was (0 2 * * *)")
    job = view.require("job", "nightly-manual")
    owner = readers.controller_of(job) or {}
    manual = readers.annotations(job).get("cronjob.kubernetes.io/instantiate")
    found.append(f"Job nightly-manual: owner {owner.get('kind', 'none')}/{owner.get('name', '-')}, "
                 f"annotation cronjob.kubernetes.io/instantiate={manual}")
    template = _spec(cj)["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    mine = job["spec"]["template"]["spec"]["containers"]
    strip = lambda cs: [(c.get("name"), c.get("image"), c.get("command"), c.get("args")) for c in cs]  # noqa: E731
    if strip(template) != strip(mine):
        problems.append("its containers are not the CronJob's: a Job made from the CronJob's template runs "
                        "exactly what the schedule would run (`kubectl create job NAME --from=cronjob/nightly`)")
    if owner.get("kind") != "CronJob" or owner.get("name") != "nightly":
        problems.append("the Job has no owner reference to CronJob nightly: `kubectl create job --from=cronjob/...` "
                        "sets it (and the annotation cronjob.kubernetes.io/instantiate=manual), so the Job shows "
                        "up as the CronJob's and is deleted with it")
    if not problems:
        _, jobs = view.settle("job", job_ended, "Job nightly-manual to end", quiet=20, cap=60,
                              field_selector="metadata.name=nightly-manual")
        if not jobs or readers.finished(jobs[0]) != "Complete":
            problems.append("the Job did not complete")
    return verdict("cronjob-run-now", problems, found, "the CronJob's template ran now, as a Job it owns")


register(Task(
    id="cronjob-run-now", topic="cronjobs", minutes=2, title="Run a CronJob now: create job --from",
    statement="""
In namespace {ns}, the CronJob `nightly` runs at 02:00. Run its work once now, as a Job named
`nightly-manual` made from the CronJob's template and belonging to the CronJob (the CronJob is the
Job's controller owner, as for the Jobs its schedule creates), without changing the CronJob.
""",
    setup=setup_nightly,
    check=check_run_now,
    hint="kubectl create job NAME --from=cronjob/CRONJOB",
    imperative="""
kubectl create job nightly-manual --from=cronjob/nightly
""",
    declarative="""
# the declarative form of what --from does: the template, the annotation and the owner (uid from
# `kubectl get cronjob nightly -o jsonpath='{.metadata.uid}'`)
kubectl create job nightly-manual --from=cronjob/nightly --dry-run=client -o yaml > job.yaml
kubectl apply -f job.yaml
""",
    sources=("k8s.io/kubectl@v0.36.4 pkg/cmd/create/create_job.go:250-275",),
))


# --- history limits ------------------------------------------------------------------------------------

REPORT = prepared_cronjob("report", "*/30 * * * *")


def setup_report(view):
    kube.create(view.context, view.namespace, REPORT)


def check_history(view):
    cj = view.require("cronjob", "report")
    spec = _spec(cj)
    ok_n, failed_n = spec.get("successfulJobsHistoryLimit"), spec.get("failedJobsHistoryLimit")
    problems = []
    if ok_n != 1:
        problems.append(f"successfulJobsHistoryLimit is {ok_n}" + (f" (the default, {DEFAULTS})" if ok_n == 3 else "")
                        + ": it is how many finished successful Jobs the controller keeps; the task asks for 1")
    if failed_n != 0:
        problems.append(f"failedJobsHistoryLimit is {failed_n}" + (f" (the default, {DEFAULTS})" if failed_n == 1 else "")
                        + ": it is how many failed Jobs are kept; the task asks for none (0)")
    if spec.get("schedule") != REPORT["spec"]["schedule"] or spec.get("suspend"):
        problems.append("the CronJob's schedule or suspend changed: only the history should")
    return verdict("cronjob-history", problems,
                   [f"CronJob report: successfulJobsHistoryLimit={ok_n}, failedJobsHistoryLimit={failed_n}"],
                   "the controller keeps 1 successful Job and no failed one")


register(Task(
    id="cronjob-history", topic="cronjobs", minutes=2, title="History limits",
    statement="""
In namespace {ns}, the CronJob `report` keeps too many old Jobs. Change it so that only the most
recent successful Job is kept, and no failed Job at all.
""",
    setup=setup_report,
    check=check_history,
    hint="spec.successfulJobsHistoryLimit and spec.failedJobsHistoryLimit (on the CronJob, not its jobTemplate).",
    imperative="""
kubectl patch cronjob report --type=merge -p '{"spec":{"successfulJobsHistoryLimit":1,"failedJobsHistoryLimit":0}}'
""",
    declarative="""
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "*/30 * * * *"
  successfulJobsHistoryLimit: 1
  failedJobsHistoryLimit: 0
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: report
            image: bash:5
            command: ["sh", "-c", "sleep 2"]
""",
    sources=(DEFAULTS, "pkg/controller/cronjob/cronjob_controllerv2.go:684-712"),
))
