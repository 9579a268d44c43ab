"""Rollouts and scheduling (``labs/15-rollouts-and-scheduling.ipynb``): what the controllers and
disruptions labs leave out -- the tolerations the DaemonSet controller adds, budgets given as
percentages, drain's refusals, NoSchedule and PreferNoSchedule taints, a PriorityClass that never
preempts. (The Deployment parts of the lab use the controllers lab's recorded ``lab.controllers``
session with this lab's manifests.)

Every object is package data (examples/rollouts-scheduling.yaml); what decides each outcome is the
real control plane on both engines: the DaemonSet and disruption controllers, the scheduler, the
API server, and kubectl's own drain filters (run with ``--dry-run=server``, so no node is cordoned
and nothing is evicted).
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from decimal import Decimal
from typing import NamedTuple

import pandas as pd
import yaml
from kubernetes import client
from kubernetes.client import ApiException
from kubernetes.utils import parse_quantity

from kjlab import examples
from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.api import kube, readers, wait
from kjlab.api.watch import follow
from kjlab.cluster import kubectl as kubectl_command
from kjlab.cluster import provider
from kjlab.cluster.registry import guard
from kjlab.errors import KjlabError
from kjlab.labs import on_cleanup, session
from kjlab.labs.controllers import ControllerSession, WorkloadRecording, controller_of

FILE = "rollouts-scheduling.yaml"
LAB_LABEL = "kjlab.io/lab=rollouts-scheduling"   # on the PriorityClasses, which outlive namespaces
DRAIN_SELECTOR = "kjlab.io/drain-demo=yes"


def manifests() -> dict[tuple[str, str], dict]:
    """Every document of the file, by ``(kind, name)``."""
    return {(d["kind"], d["metadata"]["name"]): d for d in examples.objects(FILE)}


def manifest(kind: str, name: str) -> dict:
    docs = manifests()
    if (kind, name) not in docs:
        known = ", ".join(f"{k}/{n}" for k, n in docs)
        raise KjlabError(f"the rollouts and scheduling lab has no {kind} named '{name}' (choose one of: {known})",
                         "kjlab.labs.rollouts_scheduling.manifest('Deployment', 'recreate')")
    return copy.deepcopy(docs[(kind, name)])


def source(kind: str, name: str) -> str:
    return yaml.safe_dump(manifest(kind, name), sort_keys=False)


def _create(context: str, namespace: str, doc: dict) -> dict:
    """`kubectl create -f` for any kind of the file (ops.create: the guard, kubectl's answer, the
    API's refusal as one KjlabError)."""
    return ops.create(context, namespace, doc)


def _kubectl(context: str, args: list[str]) -> tuple[int, str]:
    code, output = kubectl_command.run(args, context, timeout=120)
    print(f"$ kubectl {' '.join(args)}\n{output}\n(exit status {code})")
    return code, output


def _running(pod: dict) -> bool:
    return readers.phase(pod) == "Running" and not readers.deleting(pod)


# --- DaemonSet tolerations ----------------------------------------------------------------------

@session("daemon_tolerations")
def daemon_tolerations(lab, timeout: float = 60) -> tuple[list, list]:
    """Create the ``agent`` DaemonSet (one node) and return ``(tolerations of its template, tolerations
    of the pod the DaemonSet controller made)``."""
    namespace = lab.namespace("daemonset")
    doc = manifest("DaemonSet", "agent")
    _create(lab.context, namespace, doc)
    pod = wait.pod(lab.context, namespace, lambda p: readers.phase(p) is not None,
                   "the DaemonSet's pod to be created", timeout=timeout, label_selector="app=agent")
    return doc["spec"]["template"]["spec"].get("tolerations") or [], pod["spec"].get("tolerations") or []


# --- DaemonSet updateStrategy ------------------------------------------------------------------

REVISION_HASH = "controller-revision-hash"  # the label of each pod: the hash of the template it was made from
UPDATE_DAEMONSETS = ("roll-unavailable", "roll-surge", "on-delete")


class DaemonUpdate(NamedTuple):
    recording: WorkloadRecording
    changed: float   # when kjlab changed the three templates (the recording's time axis)
    deleted: float   # when kjlab deleted one pod of on-delete
    refusal: str     # the API's answer to maxSurge and maxUnavailable both non-zero


def daemon_rollout(recording, daemonset: str) -> pd.DataFrame:
    """The DaemonSet's pods over time, one row per change of one of them: the pods that existed (not
    being deleted), how many of those were Ready, the most on one node, and how many came from each
    template (``revision 1``, ``revision 2``: the ``controller-revision-hash`` values in the order
    they appeared). Rows where nothing counted changed are dropped."""
    owner, hashes, live, rows = f"daemonset/{daemonset}", [], {}, []
    for r in recording.of("pod"):
        obj = r.get("object")
        if obj is None or controller_of(obj) != owner:
            continue
        h = readers.labels(obj).get(REVISION_HASH)
        if h and h not in hashes:
            hashes.append(h)
        if r.get("event") == "DELETED" or readers.deleting(obj):
            live.pop(r["name"], None)
        else:
            live[r["name"]] = obj
        on_node = Counter(readers.node_name(p) for p in live.values() if readers.node_name(p))
        rows.append({"t": r["t"], "pods": len(live), "ready": sum(readers.is_true(p, "Ready") for p in live.values()),
                     "most on one node": max(on_node.values(), default=0),
                     **{f"revision {i + 1}": sum(readers.labels(p).get(REVISION_HASH) == x for p in live.values())
                        for i, x in enumerate(hashes)}})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.fillna(0).astype({c: int for c in frame.columns if c != "t"})
    values = frame.drop(columns=["t"])
    return frame[(values != values.shift()).any(axis=1)].reset_index(drop=True)


def daemon_update_bounds(recording, daemonset: str, start: float, end: float | None = None) -> dict:
    """Between ``start`` (a template change) and ``end``: the most pods of the DaemonSet at once,
    the most on one node, the fewest Ready (maxSurge bounds the first two, maxUnavailable the
    third), and how many pods came from the newest template at ``end``."""
    frame = daemon_rollout(recording, daemonset)
    if frame.empty:
        raise KjlabError(f"the recording has no pod of DaemonSet {daemonset}", "run the cell that creates it first")
    window = pd.concat([frame[frame["t"] <= start].tail(1),
                        frame[(frame["t"] > start) & ((frame["t"] <= end) if end is not None else True)]])
    revisions = [c for c in frame.columns if c.startswith("revision ")]
    return {"most pods": int(window["pods"].max()), "most on one node": int(window["most on one node"].max()),
            "fewest ready": int(window["ready"].min()),
            "from the new template": int(window.iloc[-1][revisions[-1]]) if len(revisions) > 1 else 0}


def daemon_status(recording, daemonset: str) -> dict:
    """The DaemonSet's last recorded status and generation: what `kubectl get ds` prints
    (DESIRED, UP-TO-DATE = ``updatedNumberScheduled``, AVAILABLE)."""
    obj = next((r["object"] for r in reversed(recording.of("daemonset"))
                if r["name"] == daemonset and r.get("object") is not None), None)
    if obj is None:
        return {}
    status = obj.get("status") or {}
    return {"generation": readers.meta(obj).get("generation", 0), "observedGeneration": status.get("observedGeneration", 0),
            **{k: status.get(k, 0) for k in ("desiredNumberScheduled", "updatedNumberScheduled", "numberAvailable")}}


def daemon_updated(recording, daemonset: str) -> bool:
    """What `kubectl rollout status daemonset/NAME` waits for (rollout_status.go:107-114), plus no pod
    left beyond one per node; unlike kubectl, also for OnDelete."""
    st, frame = daemon_status(recording, daemonset), daemon_rollout(recording, daemonset)
    return (bool(st) and st["desiredNumberScheduled"] > 0 and st["observedGeneration"] >= st["generation"]
            and st["updatedNumberScheduled"] == st["numberAvailable"] == st["desiredNumberScheduled"]
            and not frame.empty and frame.iloc[-1]["pods"] == st["desiredNumberScheduled"])


def _refused_both(context: str, namespace: str) -> str:
    """A DaemonSet with maxSurge 1 and maxUnavailable 1, as a server-side dry run: the API's answer."""
    doc = manifest("DaemonSet", "roll-surge")
    doc["metadata"]["name"] = "both"
    doc["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = 1
    try:
        kube.create(context, namespace, doc, dry_run=True)
        answer = "accepted"
    except ApiException as e:
        answer = f"{e.status} {ops.api_message(e)}"
    print(f"$ kubectl create --dry-run=server -f both.yaml -n {namespace}   # maxSurge 1 and maxUnavailable 1\n{answer}")
    return answer


@session("daemon_update")
def daemon_update(lab, timeout: float = 60) -> DaemonUpdate:
    """Three DaemonSets on both workers, recorded from the start: ``roll-unavailable``
    (maxUnavailable 1), ``roll-surge`` (maxSurge 1), ``on-delete`` (OnDelete). kjlab changes all three
    templates at once (`kubectl set env`), waits until both rolling ones are updated and on-delete's
    controller has seen its new spec, then deletes on-delete's pod on kjlab-worker and waits for its
    replacement. Last, the API's answer to both maxSurge and maxUnavailable set."""
    session = ControllerSession(lab.context, f"{lab.prefix}-daemon-update")  # makes the namespace afresh
    try:
        for name in UPDATE_DAEMONSETS:
            session.create(manifest("DaemonSet", name))
        session.wait_until(lambda r: all(daemon_updated(r, n) for n in UPDATE_DAEMONSETS),
                           "each DaemonSet to run an available pod on both workers", timeout)
        changed = session.now()
        for name in UPDATE_DAEMONSETS:
            session.kubectl("set", "env", f"daemonset/{name}", "GREETING=bonjour")
        session.wait_until(lambda r: daemon_updated(r, "roll-unavailable") and daemon_updated(r, "roll-surge")
                           and daemon_status(r, "on-delete")["observedGeneration"] >= daemon_status(r, "on-delete")["generation"],
                           "both rolling DaemonSets to finish, and on-delete's controller to see its new template", timeout)
        last = session.recording().last_pods()
        victim = next(n for n, p in sorted(last.items()) if controller_of(p) == "daemonset/on-delete"
                      and readers.node_name(p) == "kjlab-worker" and not readers.deleting(p))
        deleted = session.now()
        session.delete_pod(victim)
        session.wait_until(lambda r: victim not in r.owned_by("daemonset/on-delete")
                           and daemon_status(r, "on-delete")["updatedNumberScheduled"] == 1
                           and daemon_status(r, "on-delete")["numberAvailable"] == 2,
                           f"on-delete to replace {victim} (UP-TO-DATE 1, AVAILABLE 2)", timeout)
        refusal = _refused_both(lab.context, session.namespace)
    finally:
        recording = session.stop()
    return DaemonUpdate(recording, changed, deleted, refusal)


# --- budgets as percentages ---------------------------------------------------------------------

@session("budget_percentages")
def budget_percentages(lab, timeout: float = 60) -> list[dict]:
    """Three ready pods under ``min-half`` (minAvailable 50 %), three under ``max-half`` (maxUnavailable 50 %):
    each budget's spec and the status the disruption controller computed (expectedPods,
    desiredHealthy, currentHealthy, disruptionsAllowed), once it has counted all three pods."""
    context, namespace = lab.context, lab.namespace("budget")
    for name in ("budgeted-min", "budgeted-max"):
        _create(context, namespace, manifest("Deployment", name))
    names = ["min-half", "max-half"]
    for name in names:
        _create(context, namespace, manifest("PodDisruptionBudget", name))
    api = client.PolicyV1Api(kube.api_client(context))
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    with wait.announced("both budgets to count 3 healthy pods (the disruption controller's status)", timeout):
        for change in follow(api.list_namespaced_pod_disruption_budget, namespace, deadline=deadline,
                             what="the budgets"):
            obj = change.object
            if obj and readers.name(obj) in names:
                seen[readers.name(obj)] = obj
            if len(seen) == len(names) and all((b.get("status") or {}).get("currentHealthy") == 3
                                               and (b.get("status") or {}).get("expectedPods") == 3 for b in seen.values()):
                break
        else:
            raise KjlabError(f"the budgets did not count 3 healthy pods within {timeout:.0f}s",
                             f"look at them: kjlab kubectl get pdb -n {namespace}")
    rows = []
    for name in names:
        spec, status = seen[name]["spec"], seen[name]["status"]
        rows.append({"budget": name, "minAvailable": spec.get("minAvailable"), "maxUnavailable": spec.get("maxUnavailable"),
                     "unhealthyPodEvictionPolicy": spec.get("unhealthyPodEvictionPolicy"),
                     **{k: status.get(k) for k in ("expectedPods", "desiredHealthy", "currentHealthy", "disruptionsAllowed")}})
    return rows


# --- unhealthyPodEvictionPolicy ----------------------------------------------------------------

def _evict(context: str, namespace: str, pod: str) -> str:
    """One request to the Eviction API for ``pod``: "accepted", or the status code and the API's message."""
    guard(context, f"evict pod {pod}")
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
    try:
        kube.core(context).create_namespaced_pod_eviction(pod, namespace, body)
        answer = "accepted"
    except ApiException as e:
        if e.status != 429:
            raise KjlabError(f"evicting pod {namespace}/{pod} failed: {ops.api_message(e)}",
                             f"look at it: kjlab kubectl get pod {pod} -n {namespace}") from None
        answer = f"{e.status} {ops.api_message(e)}"
    print(f"# POST /api/v1/namespaces/{namespace}/pods/{pod}/eviction (what kubectl drain sends per pod)\n{answer}")
    return answer


@session("unhealthy_eviction")
def unhealthy_eviction(lab, timeout: float = 60) -> tuple[list[dict], dict]:
    """Two ready ``guarded`` pods and ``unready`` (Running, Ready=False) under ``guard``
    (minAvailable 3, so the budget is not met). Evict ``unready`` with the default policy, then with
    ``unhealthyPodEvictionPolicy: AlwaysAllow``. Returns (one row per attempt, the budget's status
    before the first)."""
    context, namespace = lab.context, lab.namespace("unhealthy")
    _create(context, namespace, manifest("Deployment", "guarded"))
    _create(context, namespace, manifest("Pod", "unready"))
    _create(context, namespace, manifest("PodDisruptionBudget", "guard"))
    wait.pod(context, namespace, _running, "pod unready to run", timeout=timeout, name="unready")
    if not provider.kubelet(lab.engine).real:  # a simulated kubelet runs no probes and reports a running pod Ready
        wait.pod(context, namespace, lambda p: readers.is_true(p, "Ready"), "kwok to report unready Ready",
                 timeout=timeout, name="unready")
        ops.patch_pod_condition(context, namespace, "unready", "Ready", "False", reason="ReadinessProbeFailed")
    api = client.PolicyV1Api(kube.api_client(context))
    status = None
    with wait.announced("the budget to count 2 healthy pods of 3 expected", timeout):
        for change in follow(api.list_namespaced_pod_disruption_budget, namespace, deadline=time.monotonic() + timeout,
                             field_selector="metadata.name=guard", what="the budget guard"):
            st = (change.object or {}).get("status") or {}
            if st.get("expectedPods") == 3 and st.get("currentHealthy") == 2:
                status = st
                break
    if status is None:
        raise KjlabError(f"the budget did not count 2 healthy pods of 3 within {timeout:.0f}s",
                         f"look at it: kjlab kubectl get pdb guard -n {namespace} -o yaml")
    rows = [{"unhealthyPodEvictionPolicy": "(unset: IfHealthyBudget)", "answer": _evict(context, namespace, "unready")}]
    api.patch_namespaced_pod_disruption_budget("guard", namespace, {"spec": {"unhealthyPodEvictionPolicy": "AlwaysAllow"}})
    print(f"$ kubectl patch pdb guard -n {namespace} --type=merge -p "
          "'{\"spec\":{\"unhealthyPodEvictionPolicy\":\"AlwaysAllow\"}}'\npoddisruptionbudget.policy/guard patched")
    rows.append({"unhealthyPodEvictionPolicy": "AlwaysAllow", "answer": _evict(context, namespace, "unready")})
    return rows, status


# --- drain refusals -----------------------------------------------------------------------------

@session("drain_refusals")
def drain_refusals(lab, node: str = "kjlab-worker", timeout: float = 60) -> dict:
    """A pod without a controller and a ReplicaSet's pod with an emptyDir on ``node``; then kubectl's
    own drain, limited to those two pods and run as a server-side dry run (nothing cordoned or
    evicted), without and then with ``--force --delete-emptydir-data``. Returns each run's
    ``(exit status, output)`` under "plain" and "forced"."""
    context, namespace = lab.context, lab.namespace("drain")
    _create(context, namespace, manifest("Pod", "bare"))
    _create(context, namespace, manifest("ReplicaSet", "scratch"))
    for selector, what in (("kjlab.io/drain-demo=yes,app!=scratch", "pod bare"), ("app=scratch", "the ReplicaSet's pod")):
        wait.pod(context, namespace, _running, f"{what} to run", timeout=timeout, label_selector=selector)
    base = ["drain", node, "--ignore-daemonsets", f"--pod-selector={DRAIN_SELECTOR}", "--dry-run=server",
            "--timeout=30s"]
    return {"plain": _kubectl(context, base),
            "forced": _kubectl(context, [*base, "--force", "--delete-emptydir-data"])}


# --- taints -------------------------------------------------------------------------------------

def taint_key(namespace: str) -> str:
    """The taint key of one run of the lab: runs in other namespaces never meet each other's taints."""
    return f"{namespace}.kjlab.io/dedicated"


def remove_taints(context: str, prefix: str) -> list[str]:
    """Remove this lab's taints of namespaces ``<prefix>`` and ``<prefix>-*`` from every node."""
    removed = []
    for node in kube.raw(kube.core(context).list_node)["items"]:
        for t in (node.get("spec") or {}).get("taints") or []:
            ns = t.get("key", "").split(".kjlab.io/")[0] if ".kjlab.io/dedicated" in t.get("key", "") else None
            if ns and (ns == prefix or ns.startswith(prefix + "-")):
                ops.untaint(Actor(context, echo=False), readers.name(node), t["key"], t["effect"])
                removed.append(f"{readers.name(node)}:{t['key']}:{t['effect']}")
    return removed


@session("taints")
def taints(lab, timeout: float = 60) -> list[dict]:
    """Run ``already-there`` on kjlab-worker; then taint kjlab-worker ``NoSchedule`` and kjlab-worker2
    ``PreferNoSchedule``, create one pod that must go to each (nodeSelector, no toleration), wait until
    the scheduler has decided about both, read ``already-there`` again, remove the taints. Returns one
    row per pod: node, phase, PodScheduled and its reason/message, and whether it is being deleted."""
    context, namespace = lab.context, lab.namespace("taints")
    key = taint_key(namespace)
    ops.apply(context, namespace, manifest("Pod", "already-there"))
    wait.pod(context, namespace, _running, "already-there to run before the taint", timeout=timeout,
             name="already-there")
    ops.taint(context, "kjlab-worker", key, "", "NoSchedule")
    ops.taint(context, "kjlab-worker2", key, "", "PreferNoSchedule")
    try:
        pods = {}
        for name in ("on-noschedule", "on-prefernoschedule"):
            ops.apply(context, namespace, manifest("Pod", name))
        pods["on-noschedule"] = wait.pod(
            context, namespace, lambda p: (readers.condition(p, "PodScheduled") or {}).get("reason") == "Unschedulable",
            "the scheduler to leave on-noschedule unscheduled", timeout=timeout, name="on-noschedule")
        pods["on-prefernoschedule"] = wait.pod(context, namespace, _running, "on-prefernoschedule to run",
                                               timeout=timeout, name="on-prefernoschedule")
        # read once the scheduler has acted on the taint (on-noschedule refused): still bound, still running
        pods["already-there"] = kube.raw(kube.core(context).read_namespaced_pod, "already-there", namespace)
    finally:
        ops.untaint(context, "kjlab-worker", key, "NoSchedule")
        ops.untaint(context, "kjlab-worker2", key, "PreferNoSchedule")
    rows = []
    for name, pod in pods.items():
        c = readers.condition(pod, "PodScheduled") or {}
        rows.append({"pod": name, "wanted node": pod["spec"]["nodeSelector"]["kubernetes.io/hostname"],
                     "node": readers.node_name(pod), "phase": readers.phase(pod), "PodScheduled": c.get("status"),
                     "reason": c.get("reason"), "message": c.get("message"), "deleting": readers.deleting(pod)})
    return rows


# --- preemptionPolicy Never ---------------------------------------------------------------------

def cpu_share(context: str, node: str, share: float) -> str:
    """Millicores that are ``share`` of the node's allocatable CPU (two pods asking 60 % cannot share it)."""
    allocatable = kube.raw(kube.core(context).read_node, node)["status"]["allocatable"]["cpu"]
    return f"{int(parse_quantity(allocatable) * 1000 * Decimal(str(share)))}m"


def cleanup_priority_classes(context: str) -> list[str]:
    return ops.delete_priority_classes(context, LAB_LABEL)


@session("never_preempts")
def never_preempts(lab, timeout: float = 60) -> dict:
    """``low`` runs on kjlab-worker2 with 60 % of its CPU; then ``high-never`` (PriorityClass value
    100000, ``preemptionPolicy: Never``) asks for 60 % of the same node. Waits until the scheduler has
    tried and left it unschedulable; returns both pods as the API has them then."""
    context, namespace = lab.context, lab.namespace("never")
    cpu = cpu_share(context, "kjlab-worker2", 0.6)
    for name in ("kjlab-l15-low", "kjlab-l15-never"):
        ops.apply_priority_class(context, manifest("PriorityClass", name))
    pods = {}
    for name in ("low", "high-never"):
        doc = manifest("Pod", name)
        doc["spec"]["containers"][0]["resources"]["requests"]["cpu"] = cpu
        ops.apply(context, namespace, doc)
        if name == "low":
            wait.pod(context, namespace, _running, "low to run", timeout=timeout, name="low")
    pods["high-never"] = wait.pod(
        context, namespace, lambda p: (readers.condition(p, "PodScheduled") or {}).get("reason") == "Unschedulable",
        "the scheduler to leave high-never unscheduled", timeout=timeout, name="high-never")
    pods["low"] = kube.raw(kube.core(context).read_namespaced_pod, "low", namespace)
    return pods


on_cleanup(remove_taints)


# --- reading the controllers lab's recorded Deployment session -----------------------------------------------

def last_deployment(recording, name: str) -> dict | None:
    """The Deployment ``name`` as last recorded (None before it is seen)."""
    return next((r["object"] for r in reversed(recording.of("deployment"))
                 if r["name"] == name and r.get("object") is not None), None)


def template_seen(recording, name: str, env: dict) -> bool:
    """Has the Deployment controller observed (``status.observedGeneration``) a spec whose first
    container has these env values? What a paused rollout is waited on: the change is seen, and
    still no new ReplicaSet."""
    obj = last_deployment(recording, name)
    if obj is None:
        return False
    container = obj["spec"]["template"]["spec"]["containers"][0]
    values = {e["name"]: e.get("value") for e in container.get("env") or []}
    return (all(values.get(k) == v for k, v in env.items())
            and (obj.get("status") or {}).get("observedGeneration", 0) >= readers.meta(obj).get("generation", 0))


def progressing(recording, name: str) -> dict | None:
    """The Deployment's ``Progressing`` condition as last recorded."""
    obj = last_deployment(recording, name)
    return readers.condition(obj, "Progressing") if obj else None
