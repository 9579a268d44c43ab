"""Regenerate the recorded runs the widget tests read (tests/data/runs/*.json) from real runs.

Usage: .venv/bin/python tests/data/record_runs.py [NAME ...]   (needs the lab cluster: kjlab up)
Each file holds a RunResult's summary and its raw recorder rows (objects included).
"""

import sys
from pathlib import Path

from kjlab import examples
from kjlab.actions import namespaces
from kjlab.runs import scenarios
from kjlab.runs import saved as saved_runs

OUT = Path(__file__).parent / "runs"
RUNS = {
    "failjob-policy": dict(scenario="failjob", fast=True),
    "ignore-policy": dict(scenario="ignore", fast=True),
    "config-issue-policy": dict(scenario="config-issue"),
    "failindex-policy": dict(scenario="failindex"),
    "ignore-nopolicy": dict(scenario="ignore", fast=True, policy=False),
    # labs 06 and 07 (tests/unit/test_pods_over_time.py)
    "parallel": dict(scenario="parallel"),
    "indexed": dict(scenario="indexed"),
    "success-policy": dict(scenario="success-policy"),
    "replacement": dict(scenario="replacement", delete_when_running=True),
    "replacement-failed": dict(scenario="replacement", delete_when_running=True,
                               manifest=examples.customise(examples.render("replacement"))),
    "retry-never": dict(scenario="retry-never"),
    "retry-onfailure": dict(scenario="retry-onfailure"),
    "per-index": dict(scenario="per-index"),
    "backoff-cap": dict(scenario="backoff-cap"),  # about 11 minutes
    "deadline": dict(scenario="deadline"),
    "ttl": dict(scenario="ttl", until_deleted=True),
    "suspend": dict(scenario="suspend", suspend_when_running=5, while_suspended={"spec": {"template": {"spec": {
        "nodeSelector": {"kubernetes.io/hostname": "kjlab-worker2"}}}}}),
}
RUNS["replacement-failed"]["manifest"]["spec"]["podReplacementPolicy"] = "Failed"


def save(name: str, result) -> Path:
    OUT.mkdir(exist_ok=True)
    rows = [{**r, "time": r["time"].isoformat()} for r in result.rows]
    path = OUT / f"{name}.json"
    path.write_text(saved_runs.dumps({"summary": result.to_dict(with_timeline=False), "rows": rows}, indent=0))
    return path


def record_cronjobs() -> Path:
    """Lab 09's CronJobs, the steps of labs/09-cronjobs.ipynb (about 2.5 minutes: two schedule times)."""
    from kjlab.labs import cronjobs
    from kjlab.cluster import lab_context

    session = cronjobs.CronSession(lab_context(), "rec-cronjobs", echo=False, live=False)
    session.create_all([cronjobs.render("policy", p.lower(), concurrencyPolicy=p) for p in ("Allow", "Forbid", "Replace")]
                       + [cronjobs.render("missed", "missed-10s", startingDeadlineSeconds=10),
                          cronjobs.render("missed", "missed-50s", startingDeadlineSeconds=50),
                          cronjobs.render("history"),
                          cronjobs.render("history", "history-failing", script="sleep 1 && exit 1")])
    for i in (1, 2, 3):
        session.job_from("history", f"history-{i}")
    for i in (1, 2):
        session.job_from("history-failing", f"history-failing-{i}")
    session.wait_for_boundary(1, plus=20)
    for name in ("missed-10s", "missed-50s"):
        session.patch(name, {"spec": {"suspend": False}})
    session.wait_for_boundary(2, plus=20)
    rows = [{**r, "time": r["time"].isoformat()} for r in session.stop().rows]
    namespaces.delete(lab_context(), "rec-cronjobs")
    path = OUT / "cronjobs.json"
    path.write_text(saved_runs.dumps({"rows": rows}))
    return path


def record_careless_selector() -> Path:
    """Lab 08's manualSelector run (kjlab.selectors.careless), about 25 s."""
    from kjlab.labs import manual_selector as selectors
    from kjlab.cluster import lab_context

    _, result = selectors.careless(lab_context(), "rec-careless-selector", echo=False)
    namespaces.delete(lab_context(), "rec-careless-selector")
    return save("careless-selector", result)


def record_pod_statuses() -> Path:
    """Lab 10's pod zoo (kjlab.lifecycle) on the lab cluster's engine: pod-statuses-<engine>.json
    (kind: about 20 s, kwok: about 5 s). Bring up the engine whose file you regenerate."""
    from kjlab import cluster
    from kjlab.labs import lifecycle
    from kjlab.cluster import lab_context

    context = lab_context()
    engine = cluster.status(context)["engine"]
    namespace = scenarios.fresh_namespace(context, f"rec-pod-statuses-{engine}")
    zoo = lifecycle.run(context, namespace, engine, echo=False, progress=lambda line: None)
    namespaces.delete(context, namespace)
    rows = [{**r, "time": r["time"].isoformat()} for r in zoo.recording.rows]
    path = OUT / f"pod-statuses-{engine}.json"
    path.write_text(saved_runs.dumps({"engine": engine, "rows": rows}))
def record_controllers() -> Path:
    """Lab 11's steps (labs/11-controllers.ipynb, about 30 s): a ReplicaSet's pod deleted, one
    relabelled out and back in with pod-deletion-cost -1, a DaemonSet under node labels, a
    Deployment rolled out (env change) and undone."""
    from kjlab.labs import controllers
    from kjlab.cluster import lab_context

    s = controllers.ControllerSession(lab_context(), "rec-controllers", echo=False)
    s.create(controllers.render("replicaset"))
    s.wait_owned("replicaset/web", 3)
    s.delete_pod(s.recording().owned_by("replicaset/web")[0])
    s.wait_until(lambda rec: rec.replacements()["running after (s)"].notna().any(), "the replacement")
    s.wait_owned("replicaset/web", 3)
    debugged = s.recording().owned_by("replicaset/web")[0]
    s.label_pod(debugged, app="debug")
    s.wait_until(lambda rec: rec.ownership(debugged)["controller"].iloc[-1].startswith("(none")
                 and len(rec.owned_by("replicaset/web")) == 3, "the orphan")
    s.wait_owned("replicaset/web", 3)
    s.annotate_pod(debugged, {controllers.DELETION_COST: "-1"})
    back = s.now()
    s.label_pod(debugged, app="web")
    s.wait_until(lambda rec: not rec.deletion_ranking("web", after=back).empty, "the surplus pod deleted")
    s.wait_owned("replicaset/web", 3)
    s.create(controllers.render("daemonset", s.namespace))
    first, second = s.workers()[:2]
    for node, value, count in ((first, "ssd", 1), (second, "ssd", 2), (first, None, 1)):
        s.label_node(node, value)
        s.wait_owned("daemonset/disk-monitor", count)
    s.create(controllers.render("deployment"))
    s.wait_until(lambda rec: rec.rollout_complete("api"), "available")
    s.set_env("api", "main", GREETING="bonjour")
    s.wait_until(lambda rec: len(rec.replicasets_of("api")) == 2 and rec.rollout_complete("api"), "rollout", timeout=120)
    s.kubectl("rollout", "undo", "deployment/api")
    s.wait_until(lambda rec: rec.revisions("api")["revisions"].str.endswith("3").any() and rec.rollout_complete("api"),
                 "rollback", timeout=120)
    rows = [{**r, "time": r["time"].isoformat()} for r in s.stop().rows]
    namespaces.delete(lab_context(), "rec-controllers")
    path = OUT / "controllers.json"
    path.write_text(saved_runs.dumps({"rows": rows}))
    return path


def record_disruptions() -> Path:
    """Lab 12's drain against web-budget, the NoExecute taint and the preemption (about 45 s), with
    kjlab.disruptions sessions as the notebook runs them; one list of rows per part."""
    from kjlab.labs import disruptions
    from kjlab.api import readers
    from kjlab.cluster import lab_context, status

    context = lab_context()
    engine = status(context).get("engine")
    parts = {}

    def session(name):
        namespaces.fresh(context, f"rec-disruptions-{name}", progress=None)
        namespaces.release(f"rec-disruptions-{name}")
        return disruptions.Disruptions(context, f"rec-disruptions-{name}", engine, echo=False)

    budget = session("budget")
    budget.create(disruptions.manifest("web"))
    budget.create(disruptions.manifest("web-budget"))
    budget.wait_ready("app=web", 3)
    budget.drain("kjlab-worker", pod_selector="app=web")
    budget.uncordon("kjlab-worker")
    parts["budget"] = budget.stop()
    taint = session("taint")
    for name in ("batch", "tolerates-10s", "tolerates-forever"):
        taint.create(disruptions.manifest(name, fast=True))
    taint.wait_for_pod(None, lambda p: readers.phase(p) == "Running", "the Job's pod", label_selector="job-name=batch")
    taint.wait_running(["tolerates-10s", "tolerates-forever"])
    taint.taint("kjlab-worker2", "kjlab.io/maintenance", "true")
    taint.wait_for_pod("tolerates-10s", lambda p: disruptions.disruption_target(p) is not None, "eviction", 60)
    taint.untaint("kjlab-worker2", "kjlab.io/maintenance")
    taint.wait_for_pod(None, lambda p: readers.phase(p) == "Succeeded", "the replacement", 60, label_selector="job-name=batch")
    parts["taint"] = taint.stop()
    preempt = session("preempt")
    for name in ("kjlab-low", "kjlab-high"):
        preempt.create(disruptions.manifest(name))
    cpu = preempt.cpu_share("kjlab-worker2")
    preempt.create(disruptions.with_cpu_request(disruptions.manifest("low-priority"), cpu))
    preempt.wait_running(["low-priority"])
    preempt.create(disruptions.with_cpu_request(disruptions.manifest("high-priority"), cpu))
    preempt.wait_running(["high-priority"])
    parts["preempt"] = preempt.stop()
    disruptions.cleanup_priority_classes(context, echo=False)
    for name in parts:
        namespaces.delete(context, f"rec-disruptions-{name}")
    path = OUT / "disruptions.json"
    path.write_text(saved_runs.dumps({name: [{**r, "time": r["time"].isoformat()} for r in rec.rows]
                                for name, rec in parts.items()}))
    return path


def record_notready() -> Path:
    """Lab 12's NotReady node (FAST), as the notebook runs it: the two pods, the node taken away
    until short-toleration is evicted, the node back. The file is named after the engine."""
    from kjlab.labs import disruptions
    from kjlab.cluster import lab_context, status

    context = lab_context()
    engine = status(context).get("engine")
    namespaces.fresh(context, "rec-notready", progress=None)
    namespaces.release("rec-notready")
    s = disruptions.Disruptions(context, "rec-notready", engine, echo=False)
    for name in ("default-tolerations", "short-toleration"):
        s.create(disruptions.manifest(name, fast=True))
    s.wait_running(["default-tolerations", "short-toleration"])
    seconds = disruptions.manifest("short-toleration", fast=True)["spec"]["tolerations"][0]["tolerationSeconds"]
    s.node_not_ready("kjlab-worker2")
    s.wait_for_pod("short-toleration", lambda p: disruptions.disruption_target(p) is not None, "eviction",
                   timeout=seconds + 150)
    s.node_ready("kjlab-worker2")
    recording = s.stop()
    namespaces.delete(context, "rec-notready")
    path = OUT / f"notready-{engine}.json"
    path.write_text(saved_runs.dumps({"rows": [{**r, "time": r["time"].isoformat()} for r in recording.rows]}))
    return path


def main(names):
    if "notready" in names:
        print(record_notready())
        names = [n for n in names if n != "notready"]
        if not names:
            return
    if "disruptions" in names:
        print(record_disruptions())
        names = [n for n in names if n != "disruptions"]
        if not names:
            return
    if "pod-statuses" in names:
        print(record_pod_statuses())
        names = [n for n in names if n != "pod-statuses"]
        if not names:
            return
    if "controllers" in names:
        print(record_controllers())
        names = [n for n in names if n != "controllers"]
        if not names:
            return
    if "careless-selector" in names:
        print(record_careless_selector())
        names = [n for n in names if n != "careless-selector"]
        if not names:
            return
    if "cronjobs" in names:
        print(record_cronjobs())
        names = [n for n in names if n != "cronjobs"]
        if not names:
            return
    for name in names or RUNS:
        result = scenarios.run(echo=False, namespace=f"rec-{name}", **RUNS[name])
        print(save(name, result), result.headline())


if __name__ == "__main__":
    main(sys.argv[1:])
