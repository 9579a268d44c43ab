"""More practice tasks on disruptions: a budget that refuses every eviction, and a node back from maintenance.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- the Eviction API refuses with 429 TooManyRequests ("Cannot evict pod as it would violate the pod's
  disruption budget.") while the budget's status.disruptionsAllowed is 0, and while the disruption
  controller has not yet observed the budget's generation; a dry run goes through the same check and stops
  before anything is deleted -- pkg/registry/core/pod/storage/eviction.go:268, :318, :413-418, :424-441, :465-468;
- disruptionsAllowed is currentHealthy - desiredHealthy, desiredHealthy being minAvailable or
  expectedPods - maxUnavailable; a budget counts only the pods its selector matches --
  pkg/controller/disruption/disruption.go:813-850, :996-1003;
- `kubectl drain` evicts through that API and, on a 429, waits and asks again until its --timeout --
  k8s.io/kubectl@v0.36.4 pkg/drain/drain.go:151, :305-314;
- the scheduler's NodeUnschedulable filter skips a node whose spec.unschedulable is true ("node(s) were
  unschedulable"), unless the pod tolerates the node.kubernetes.io/unschedulable taint --
  pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go:51, :145-156;
- that taint mirrors spec.unschedulable: the node lifecycle controller adds it while the field is true and
  removes it once false -- pkg/controller/nodelifecycle/node_lifecycle_controller.go:545-560;
- `kubectl uncordon` sets spec.unschedulable to false -- k8s.io/kubectl@v0.36.4 pkg/drain/cordon.go:63-90.
"""

from __future__ import annotations

import json

from kubernetes import client

from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.api import kube, readers
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.tasks.deployments import GOOD_IMAGE, deployment, rolled_out
from kjlab.practice.verdicts import verdict


# --- a budget that refuses every eviction ---------------------------------------------------------------

def setup_api2(view):
    kube.create(view.context, view.namespace, deployment("api", 2, GOOD_IMAGE, {"app": "api"}))
    view.settle("deployment", lambda ds: any(rolled_out(d) for d in ds), "api's 2 pods to be available",
                quiet=30, cap=90)


def _observed(pdbs: list[dict]) -> bool:
    return any((p.get("status") or {}).get("observedGeneration") == readers.meta(p).get("generation") for p in pdbs)


def try_eviction(view, pod: str) -> tuple[bool, str]:
    """Ask the Eviction API to evict ``pod`` as a dry run (the same budget check, nothing deleted):
    (allowed, what the API said)."""
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": view.namespace}}
    try:
        kube.core(view.context).create_namespaced_pod_eviction(pod, view.namespace, body, dry_run="All")
    except client.ApiException as e:
        if e.status == 429:
            return False, f"429 {_message(e)}"
        raise
    return True, "201 accepted"


def _message(e: client.ApiException) -> str:
    try:
        return json.loads(e.body).get("message", "") or e.reason
    except (TypeError, ValueError):
        return e.reason or ""


def check_pdb_blocks(view):
    view.require("poddisruptionbudget", "api-pdb")
    _, pdbs = view.settle("poddisruptionbudget", _observed, "the disruption controller to count api-pdb's pods",
                          quiet=10, cap=30, field_selector="metadata.name=api-pdb")
    pdb = pdbs[0] if pdbs else view.require("poddisruptionbudget", "api-pdb")
    spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
    rule = ", ".join(f"{k}: {spec[k]}" for k in ("minAvailable", "maxUnavailable") if k in spec) or "no rule"
    found = [f"PodDisruptionBudget api-pdb ({rule}, selector {(spec.get('selector') or {}).get('matchLabels')}): "
             f"expectedPods {status.get('expectedPods', 0)}, currentHealthy {status.get('currentHealthy', 0)}, "
             f"desiredHealthy {status.get('desiredHealthy', 0)}, disruptionsAllowed {status.get('disruptionsAllowed', 0)}"]
    problems = []
    pods = [p for p in view.list("pod", "app=api") if readers.phase(p) == "Running"]
    if not pods:
        problems.append("no api pod runs: the task's Deployment api should have 2 (kjlab practice reset rebuilds it)")
        return verdict("pdb-blocks-eviction", problems, found, "")
    target = readers.name(pods[0])
    allowed, said = try_eviction(view, target)
    found.append(f"an eviction of pod {target} (dry run, as a drain asks): {said}")
    if allowed:
        if not status.get("expectedPods"):
            problems.append("the budget's selector matches none of api's pods (they are labelled app: api): a pod no "
                            "budget selects is evicted at once")
        else:
            problems.append(f"the eviction was accepted: the budget allows {status.get('disruptionsAllowed')} "
                            f"disruption(s) (currentHealthy {status.get('currentHealthy')} - desiredHealthy "
                            f"{status.get('desiredHealthy')}); refusing every eviction needs desiredHealthy = all "
                            "2 pods: maxUnavailable: 0, or minAvailable: 2 (or 100%)")
    elif status.get("expectedPods") != 2:
        problems.append(f"the budget counts {status.get('expectedPods')} pods, not api's 2")
    return verdict("pdb-blocks-eviction", problems, found,
                   "every eviction of an api pod is refused with 429: a drain waits until the budget allows one")


register(Task(
    id="pdb-blocks-eviction", topic="disruptions", minutes=3, title="A budget that refuses every eviction",
    statement="""
In namespace {ns}, the Deployment `api` runs 2 pods. While an audit runs, no voluntary disruption may take
any of them: create a PodDisruptionBudget named `api-pdb` so that every eviction of an api pod is refused
(a `kubectl drain` of their node must wait).
""",
    setup=setup_api2,
    check=check_pdb_blocks,
    hint="kubectl create pdb NAME --selector=app=api --max-unavailable=0 (or --min-available=2): "
         "disruptionsAllowed is then 0, and the Eviction API answers 429.",
    imperative="""
kubectl create poddisruptionbudget api-pdb --selector=app=api --max-unavailable=0
""",
    declarative="""
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api-pdb
spec:
  minAvailable: "100%"
  selector:
    matchLabels:
      app: api
""",
    sources=("pkg/registry/core/pod/storage/eviction.go:424-441", "pkg/controller/disruption/disruption.go:813-850",
             "k8s.io/kubectl@v0.36.4 pkg/drain/drain.go:305-314"),
    lab_cell="labs/12-disruptions.ipynb, cell budget-predict: A PodDisruptionBudget makes a drain wait",
))


# --- a node back from maintenance ------------------------------------------------------------------------

MAINTAINED = "kjlab-worker2"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
PROBE = "schedule-probe"


def setup_cordoned(view):
    ops.cordon(Actor(view.context, echo=False), MAINTAINED)


def uncordon_workers(context: str) -> None:
    """The task's node, and the other worker a learner may have cordoned instead."""
    for name in ("kjlab-worker", MAINTAINED):
        ops.uncordon(Actor(context, echo=False), name)


def _probe(view) -> dict:
    """A pod that only ``MAINTAINED`` admits (nodeSelector on its hostname), made anew for each check."""
    core = kube.core(view.context)
    try:
        core.delete_namespaced_pod(PROBE, view.namespace, grace_period_seconds=0)
    except client.ApiException as e:
        if e.status != 404:
            raise
    view.settle("pod", lambda ps: not ps, f"the last check's {PROBE} to go", quiet=10, cap=30,
                field_selector=f"metadata.name={PROBE}")
    return kube.create(view.context, view.namespace, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": PROBE, "labels": {"kjlab.io/probe": "uncordon"}},
        "spec": {"nodeSelector": {"kubernetes.io/hostname": MAINTAINED}, "restartPolicy": "Never",
                 "containers": [{"name": "probe", "image": GOOD_IMAGE, "command": ["sleep", "3600"]}]}})


def check_uncordon(view):
    node = view.node(MAINTAINED)
    taints = [t.get("key") for t in (node.get("spec") or {}).get("taints") or []]
    found = [f"node {MAINTAINED}: spec.unschedulable={bool(readers.unschedulable(node))}, taints {taints or 'none'}"]
    problems = []
    if readers.unschedulable(node):
        problems.append(f"{MAINTAINED} is still cordoned (spec.unschedulable is true): the scheduler skips it "
                        "(node(s) were unschedulable)"
                        + ("; the taint node.kubernetes.io/unschedulable only mirrors that field, and the node "
                           "lifecycle controller puts it back while the field is true" if UNSCHEDULABLE_TAINT
                           not in taints else "")
                        + f"; kubectl uncordon {MAINTAINED} clears it")
    others = [readers.name(n) for n in view.nodes() if readers.unschedulable(n) and readers.name(n) != MAINTAINED]
    if others:
        problems.append(f"{', '.join(others)} is cordoned now: only {MAINTAINED} was in maintenance")
    if not problems:  # behaviour: a pod that only this node admits is scheduled there
        _probe(view)
        _, pods = view.settle("pod", lambda ps: any(readers.node_name(p) for p in ps),
                              f"{PROBE} (a pod only {MAINTAINED} admits) to be scheduled", quiet=15, cap=45,
                              field_selector=f"metadata.name={PROBE}")
        pod = pods[0] if pods else {}
        found.append(f"pod {PROBE} (nodeSelector kubernetes.io/hostname={MAINTAINED}): node "
                     f"{readers.node_name(pod) if pod else None}")
        if not pod or readers.node_name(pod) != MAINTAINED:
            failed = [e.get("message") for e in view.events(uid=readers.uid(pod)) if
                      e.get("reason") == "FailedScheduling"] if pod else []
            problems.append(f"{PROBE} was not scheduled on {MAINTAINED}"
                            + (f": the scheduler said {failed[-1]}" if failed else ""))
    return verdict("uncordon", problems, found, f"{MAINTAINED} takes new pods again")


register(Task(
    id="uncordon", topic="disruptions", minutes=2, title="A node back from maintenance",
    statement=f"""
Node `{MAINTAINED}` was cordoned for a maintenance that is now over. Make it accept new pods again, and
change nothing else on the nodes. (The check schedules a pod of its own in namespace {{ns}} that only
`{MAINTAINED}` admits.)
""",
    setup=setup_cordoned,
    cleanup=uncordon_workers,  # a learner may have cordoned the wrong one
    check=check_uncordon,
    hint="kubectl uncordon NODE (it sets spec.unschedulable back to false; the taint "
         "node.kubernetes.io/unschedulable follows that field by itself).",
    imperative=f"""
kubectl uncordon {MAINTAINED}
""",
    declarative=f"""
# a node's schedulability is declared in its spec (what cordon and uncordon set)
kubectl patch node {MAINTAINED} -p '{{"spec":{{"unschedulable":false}}}}'
""",
    sources=("pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go:145-156",
             "pkg/controller/nodelifecycle/node_lifecycle_controller.go:545-560",
             "k8s.io/kubectl@v0.36.4 pkg/drain/cordon.go:63-90"),
))
