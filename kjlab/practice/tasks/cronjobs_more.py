"""More practice tasks on CronJobs: suspend, timeZone, concurrencyPolicy Replace with startingDeadlineSeconds.

These checks read the CronJob's spec, not a run: a schedule fires at minute boundaries, and a check
waits seconds, not the next minute (lab 09 shows the runs). What the explanations say about
Kubernetes v1.36.4, and where it is written:
- a suspended CronJob (spec.suspend) starts no Job; the controller only updates its status --
  pkg/controller/cronjob/cronjob_controllerv2.go:514-517; the Job template's own suspend is copied into
  every Job the schedule creates, which the controller still creates -- pkg/controller/cronjob/utils.go:240-270;
- without timeZone the schedule is read in the kube-controller-manager's local time zone; with it,
  as "TZ=<zone> <schedule>" -- cronjob_controllerv2.go:770-783; the API refuses an unknown zone and
  TZ=/CRON_TZ= inside the schedule ("use timeZone field instead") -- pkg/apis/batch/validation/validation.go:833-883;
- Replace deletes the running Job before it starts the new one; Forbid skips the new one --
  cronjob_controllerv2.go:573-610; a schedule time missed by more than startingDeadlineSeconds is
  not started -- cronjob_controllerv2.go:547-560, pkg/controller/cronjob/utils.go:100-115;
- defaults: concurrencyPolicy Allow, suspend false -- pkg/apis/batch/v1/defaults.go:76-88.
"""

from __future__ import annotations

from kjlab.api import kube, readers
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.tasks.cronjobs import DEFAULTS, _BOUNDS, describe_schedule, field_values, prepared_cronjob
from kjlab.practice.verdicts import verdict

SETUP = "practice-setup"


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def _template(cj: dict) -> dict:
    return _spec(cj).get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})


# --- suspend ------------------------------------------------------------------------------------------------

POLLER = prepared_cronjob("poller", "* * * * *")


def setup_suspend(view):
    created = kube.create(view.context, view.namespace, POLLER)
    kube.core(view.context).create_namespaced_config_map(view.namespace, {
        "metadata": {"name": SETUP}, "data": {"cronjob-uid": readers.uid(created)}})


def check_suspend(view):
    cj = view.require("cronjob", "poller")
    spec = _spec(cj)
    uid = kube.raw(kube.core(view.context).read_namespaced_config_map, SETUP, view.namespace)["data"]["cronjob-uid"]
    template_suspend = spec.get("jobTemplate", {}).get("spec", {}).get("suspend")
    found = [f"CronJob poller: suspend={spec.get('suspend')}, schedule {spec.get('schedule')!r}, "
             f"jobTemplate.spec.suspend={template_suspend}"]
    problems = []
    if readers.uid(cj) != uid:
        problems.append("this is not the CronJob the task prepared: it was deleted and created again (its uid "
                        "changed), which loses its status (lastScheduleTime) and lets its Jobs go")
    if not spec.get("suspend"):
        problems.append(f"spec.suspend is {spec.get('suspend')}: the controller still starts a Job every minute"
                        + ("; jobTemplate.spec.suspend suspends each Job the CronJob creates, and it still creates "
                           "one at every schedule time" if template_suspend else ""))
    if spec.get("schedule") != POLLER["spec"]["schedule"]:
        problems.append(f"the schedule changed to {spec.get('schedule')!r}: a paused CronJob keeps its schedule, "
                        "to resume as it was (suspend: false)")
    return verdict("cronjob-suspend", problems, found, "poller is suspended: no new Job until it is resumed")


register(Task(
    id="cronjob-suspend", topic="cronjobs", minutes=2, title="Pause a CronJob",
    statement="""
In namespace {ns}, the CronJob `poller` starts a Job every minute. Pause it: its schedule must start no
new Job until someone resumes it. Keep the CronJob (same object, same schedule).
""",
    setup=setup_suspend,
    check=check_suspend,
    hint="spec.suspend on the CronJob (kubectl patch or kubectl edit); kubectl get cronjob shows SUSPEND.",
    imperative="""
kubectl patch cronjob poller --type=merge -p '{"spec":{"suspend":true}}'
""",
    declarative="""
# kubectl get cronjob poller -o yaml > cj.yaml, set spec.suspend: true, then kubectl apply -f cj.yaml
apiVersion: batch/v1
kind: CronJob
metadata:
  name: poller
spec:
  suspend: true
""",
    sources=("pkg/controller/cronjob/cronjob_controllerv2.go:514-517", "pkg/controller/cronjob/utils.go:240-270"),
    lab_cell="labs/09-cronjobs.ipynb, cell cell-18: startingDeadlineSeconds and missed schedules (and suspend)",
))


# --- timeZone -------------------------------------------------------------------------------------------------

def berlin_weekdays_0930(schedule: str) -> str | None:
    """What is wrong with ``schedule`` for 09:30 Monday to Friday, else None (fields compared as value sets)."""
    fields = (schedule or "").split()
    if len(fields) != 5:
        return f"{schedule!r} is not five fields"
    parsed = [field_values(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _BOUNDS)]
    if any(p is None for p in parsed):
        return f"{schedule!r} does not parse"
    (minutes, _), (hours, _), (dom, dom_star), (months, _), (dow, dow_star) = parsed
    if minutes != {30} or hours != {9}:
        return f"{describe_schedule(schedule)}, not at 09:30"
    if months != set(range(1, 13)) or not dom_star or dow != {1, 2, 3, 4, 5}:
        return f"{schedule!r} does not name Monday to Friday of every month (day-of-week 1-5, day-of-month *)"
    return None


def check_timezone(view):
    cj = view.require("cronjob", "berlin-report")
    spec = _spec(cj)
    found = [f"CronJob berlin-report: schedule {spec.get('schedule')!r}, timeZone {spec.get('timeZone')!r}"]
    problems = []
    wrong = berlin_weekdays_0930(spec.get("schedule", ""))
    if wrong:
        problems.append(f"{wrong}; the task asks for 09:30 Monday to Friday")
    if spec.get("timeZone") != "Europe/Berlin":
        problems.append(f"timeZone is {spec.get('timeZone')!r}: " + (
            "without it the schedule is read in the kube-controller-manager's local time zone, so the hour is "
            "Berlin's only when that zone is Berlin's (and UTC+1 or UTC+2 moves with daylight saving time)"
            if spec.get("timeZone") is None else "the task names the time zone Europe/Berlin"))
    containers = _template(cj).get("containers") or [{}]
    if containers[0].get("image", "").removeprefix("docker.io/library/") != "bash:5":
        problems.append(f"the container's image is {containers[0].get('image')!r}, not bash:5")
    return verdict("cronjob-timezone", problems, found, "09:30 Monday to Friday, Berlin time, whatever the cluster's zone")


register(Task(
    id="cronjob-timezone", topic="cronjobs", minutes=3, title="A schedule in a time zone",
    statement="""
In namespace {ns}, create a CronJob named `berlin-report` (image `bash:5`, command `sh -c "sleep 2"`)
that runs at 09:30 Monday to Friday in the time zone `Europe/Berlin` (summer and winter alike),
whatever time zone the cluster's controllers run in.
""",
    check=check_timezone,
    hint="spec.timeZone takes a tz database name (Europe/Berlin); the schedule then reads in that zone. "
         "TZ= inside the schedule is refused.",
    imperative="""
kubectl create cronjob berlin-report --image=bash:5 --schedule="30 9 * * 1-5" --dry-run=client -o yaml -- sh -c "sleep 2" > cj.yaml
kubectl patch --local -f cj.yaml --type=merge -p '{"spec":{"timeZone":"Europe/Berlin"}}' -o yaml | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: CronJob
metadata:
  name: berlin-report
spec:
  schedule: "30 9 * * 1-5"
  timeZone: Europe/Berlin
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
    sources=("pkg/controller/cronjob/cronjob_controllerv2.go:770-783", "pkg/apis/batch/validation/validation.go:833-883"),
    lab_cell="labs/09-cronjobs.ipynb, cell cell-03: Schedule syntax and time zones",
))


# --- Replace and startingDeadlineSeconds -----------------------------------------------------------------------

def every_two_minutes(schedule: str) -> bool:
    """Minutes 0, 2, ... 58 of every hour of every day, however written (fields compared as value sets)."""
    fields = (schedule or "").split()
    if len(fields) != 5:
        return False
    parsed = [field_values(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _BOUNDS)]
    if any(p is None for p in parsed):
        return False
    full = [set(range(lo, hi + 1)) for lo, hi, _ in _BOUNDS]
    return parsed[0][0] == set(range(0, 60, 2)) and all(p[0] == f for p, f in zip(parsed[1:], full[1:]))


def check_replace(view):
    cj = view.require("cronjob", "sync")
    spec = _spec(cj)
    policy, deadline = spec.get("concurrencyPolicy"), spec.get("startingDeadlineSeconds")
    found = [f"CronJob sync: schedule {spec.get('schedule')!r}, concurrencyPolicy {policy}, "
             f"startingDeadlineSeconds {deadline}"]
    problems = []
    if not every_two_minutes(spec.get("schedule", "")):
        problems.append(f"{describe_schedule(spec.get('schedule', ''))}; the task asks for every 2 minutes")
    if policy != "Replace":
        problems.append(f"concurrencyPolicy is {policy}" + (f" (the default, {DEFAULTS})" if policy == "Allow" else "")
                        + ": " + {"Allow": "Allow lets the old run go on beside the new one",
                                  "Forbid": "Forbid skips the new run while the old one is active"}.get(policy, "")
                        + "; Replace deletes the running Job and starts the new one")
    if deadline != 20:
        problems.append(f"startingDeadlineSeconds is {deadline}: a run that could not start within that many seconds "
                        "of its schedule time is skipped" + (" (unset: it is started however late)" if deadline is None
                                                             else "") + "; the task asks for 20")
    return verdict("cronjob-replace", problems, found,
                   "a new run replaces a late one, and a run missed by more than 20 s is skipped")


register(Task(
    id="cronjob-replace", topic="cronjobs", minutes=3, title="Replace a late run; skip a missed one",
    statement="""
In namespace {ns}, create a CronJob named `sync` (image `bash:5`, command `sh -c "sleep 150"`) that runs
every 2 minutes. When a run is still going at the next schedule time, the old run must be stopped
and the new one started. A run that could not start within 20 seconds of its schedule time (the
controller was down) must be skipped.
""",
    check=check_replace,
    hint="spec.concurrencyPolicy (Allow, Forbid or Replace) and spec.startingDeadlineSeconds.",
    imperative="""
kubectl create cronjob sync --image=bash:5 --schedule="*/2 * * * *" --dry-run=client -o yaml -- sh -c "sleep 150" > cj.yaml
kubectl patch --local -f cj.yaml --type=merge -p '{"spec":{"concurrencyPolicy":"Replace","startingDeadlineSeconds":20}}' -o yaml | kubectl create -f -
""",
    declarative="""
apiVersion: batch/v1
kind: CronJob
metadata:
  name: sync
spec:
  schedule: "*/2 * * * *"
  concurrencyPolicy: Replace
  startingDeadlineSeconds: 20
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: sync
            image: bash:5
            command: ["sh", "-c", "sleep 150"]
""",
    sources=("pkg/controller/cronjob/cronjob_controllerv2.go:547-610", DEFAULTS),
    lab_cell="labs/09-cronjobs.ipynb, cell cell-14: concurrencyPolicy on one time axis",
))
