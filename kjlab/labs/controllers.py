"""Workload controllers (``labs/11-controllers.ipynb``): the lab's ReplicaSet, Deployment and
DaemonSet as package data, a recorded session that acts on them (delete, relabel, label nodes, roll
out, undo) and waits on the recording, and the questions the lab asks of that recording: who
replaced whom and how fast, when a pod's controller ownerReference went and came back, the counts
over a rollout, and which pod the ReplicaSet's deletion ranking put first.

The ReplicaSet, Deployment and DaemonSet controllers are the real upstream ones on both engines;
the containers only `sleep`, which the kwok engine's simulated kubelet runs as a real one would.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from functools import cmp_to_key
from typing import Callable

import pandas as pd
from kubernetes.client import ApiException

from kjlab import examples
from kjlab.api import kube, printers, readers
from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.cluster import kubectl as kubectl_command
from kjlab.cluster.nodes import WORKER_LABEL
from kjlab.errors import KjlabError
from kjlab.labs import on_cleanup, session
from kjlab.runs.record import register_kind
from kjlab.runs.session import Session
from kjlab.runs.result import Recording
from kjlab.view.line_labels import place_line_labels

FILES = {"replicaset": "controllers-replicaset.yaml", "deployment": "controllers-deployment.yaml",
         "daemonset": "controllers-daemonset.yaml"}
REVISION = "deployment.kubernetes.io/revision"   # the Deployment controller's revision of each ReplicaSet
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
NODE_LABEL_PLACEHOLDER = "NODE_LABEL"


def _file(name: str) -> str:
    if name not in FILES:
        raise KjlabError(f"unknown lab workload '{name}' (choose one of: {', '.join(FILES)})",
                         "kjlab.labs.controllers.source('replicaset')")
    return FILES[name]


def source(name: str) -> str:
    return examples.packaged(_file(name))


def node_label(namespace: str) -> str:
    """The node label key the lab's DaemonSet selects on: one per namespace, so concurrent runs of
    the lab (a class on one cluster) never move each other's pods."""
    return f"{namespace}.kjlab.io/disk"


def remove_node_labels(context: str, prefix: str) -> list[str]:
    """Remove the DaemonSet node labels of namespaces ``<prefix>`` and ``<prefix>-*`` from every node
    (a notebook stopped before its session did leaves them); returns the nodes changed."""
    changed = []
    try:
        nodes = kube.raw(kube.core(context).list_node)["items"]
    except ApiException as e:
        if e.status in (401, 403):  # a classroom token that may not list nodes cannot have labelled them either
            return changed
        raise
    for node in nodes:
        keys = [k for k in readers.labels(node) if k.endswith(".kjlab.io/disk")
                and (k.split(".kjlab.io/")[0] == prefix or k.startswith(prefix + "-"))]
        if keys:
            ops.label_node(Actor(context, echo=False), readers.name(node), {k: None for k in keys})
            changed.append(readers.name(node))
    return changed


def render(name: str, namespace: str | None = None, workload_name: str | None = None) -> dict:
    """The lab workload ``name`` as a dict; the DaemonSet's nodeSelector key is ``node_label(namespace)``."""
    doc = examples.objects(_file(name))[0]
    if workload_name:
        doc["metadata"]["name"] = workload_name
    selector = doc["spec"]["template"]["spec"].get("nodeSelector")
    if selector and NODE_LABEL_PLACEHOLDER in selector:
        if namespace is None:
            raise KjlabError("the DaemonSet's node label is made from the namespace", "render('daemonset', namespace)")
        selector[node_label(namespace)] = selector.pop(NODE_LABEL_PLACEHOLDER)
    return doc


def controller_of(obj: dict | None) -> str | None:
    """``kind/name`` of the object's controller ownerReference (lower-case kind), or None."""
    for ref in readers.meta(obj or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind', '').lower()}/{ref.get('name')}"
    return None


def matches(selector: dict, labels: dict) -> bool:
    """Does a label selector (matchLabels and matchExpressions) select these labels?"""
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _utc(text) -> dt.datetime | None:
    if not text:
        return None
    if isinstance(text, dt.datetime):
        return text
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _ready_since(pod: dict) -> dt.datetime | None:
    c = readers.true_condition(pod, "Ready")
    return _utc(c.get("lastTransitionTime")) if c else None


def _log2_bucket(since: dt.datetime | None, now: dt.datetime) -> int:
    """The controller's logarithmic age bucket: floor(log2(age in nanoseconds)), -1 for no age."""
    if since is None:
        return -1
    ns = (now - since).total_seconds() * 1e9
    return int(math.log2(ns)) if ns > 0 else -1


_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_order(pods: list[dict], related: list[dict], now: dt.datetime) -> list[dict]:
    """``pods`` sorted as the ReplicaSet controller ranks them for deletion (first = deleted
    first), mirroring ``ActivePodsWithRanks.Less`` in kubernetes pkg/controller/controller_utils.go
    (v1.36, LogarithmicScaleDown and PodDeletionCost on, as by default): unscheduled before
    scheduled; Pending < Unknown < Running; not ready before ready; lower pod-deletion-cost first;
    more of the ReplicaSet's active pods on the same node first; ready for a shorter time first and
    then newer first, both compared on a log2 scale of their age (equal buckets: the lower UID)."""
    on_node: dict[str, int] = {}
    for p in related:
        if not readers.deleting(p) and not readers.ended(p):
            on_node[readers.node_name(p) or ""] = on_node.get(readers.node_name(p) or "", 0) + 1

    def cost(p):
        try:
            return int(readers.annotations(p).get(DELETION_COST, 0))
        except ValueError:
            return 0

    def restarts(p):
        return max([c.get("restartCount", 0) for c in readers.container_statuses(p)] or [0])

    def less(a, b) -> int:  # -1: a is deleted before b
        na, nb = readers.node_name(a) or "", readers.node_name(b) or ""
        if na != nb and (not na or not nb):
            return -1 if not na else 1
        pa, pb = _PHASE_ORDER.get(readers.phase(a), 3), _PHASE_ORDER.get(readers.phase(b), 3)
        if pa != pb:
            return -1 if pa < pb else 1
        ra, rb = readers.is_true(a, "Ready"), readers.is_true(b, "Ready")
        if ra != rb:
            return -1 if not ra else 1
        if cost(a) != cost(b):
            return -1 if cost(a) < cost(b) else 1
        if on_node.get(na, 0) != on_node.get(nb, 0):
            return -1 if on_node.get(na, 0) > on_node.get(nb, 0) else 1
        for since in (_ready_since, lambda p: _utc(readers.meta(p).get("creationTimestamp"))):
            if since is _ready_since and not (ra and rb):
                continue
            if since is not _ready_since and restarts(a) != restarts(b):
                return -1 if restarts(a) > restarts(b) else 1
            ta, tb = since(a), since(b)
            if ta != tb:
                da, db = _log2_bucket(ta, now), _log2_bucket(tb, now)
                if da == db:
                    return -1 if readers.uid(a) < readers.uid(b) else 1
                return -1 if da < db else 1
        if restarts(a) != restarts(b):
            return -1 if restarts(a) > restarts(b) else 1
        return 0

    return sorted(pods, key=cmp_to_key(less))


# --- the recording ------------------------------------------------------------------------------

class WorkloadRecording(Recording):
    """A recording of a namespace with ReplicaSets, Deployments and DaemonSets (and their pods,
    events and kjlab's steps), with the questions the controllers lab asks of it."""

    def _offset(self) -> dt.timedelta | None:
        row = next((r for r in self.rows if r.get("time") is not None), None)
        if row is None:
            return None
        return _utc(row["time"]) - dt.timedelta(seconds=row["t"])

    def at(self, text) -> float | None:
        """An API timestamp (RFC 3339) as seconds on the recording's axis."""
        when, offset = _utc(text), self._offset()
        return None if when is None or offset is None else round((when - offset).total_seconds(), 1)

    def pods(self):
        """One row per pod, in the order they appeared: its first and last controller (``kind/name``
        from ownerReferences), when kjlab's watch first saw it (``seen``) and when the API created it
        (``created``, creationTimestamp: whole seconds), when kjlab saw it Running,
        marked for deletion and gone, its node and its last labels."""
        pods: dict[str, dict] = {}
        for r in self.of("pod"):
            obj, name = r.get("object"), r["name"]
            if name not in pods:
                pods[name] = {"pod": name, "first_owner": None, "owner": None, "seen": r["t"], "created": None, "running": None,
                              "deleting": None, "gone": None, "node": None, "labels": {}}
            p = pods[name]
            if obj is not None:
                if p["created"] is None:
                    p["created"] = self.at(readers.meta(obj).get("creationTimestamp"))
                    p["first_owner"] = controller_of(obj)
                p["owner"], p["labels"] = controller_of(obj), readers.labels(obj)
                p["node"] = readers.node_name(obj) or p["node"]
                if readers.phase(obj) == "Running" and p["running"] is None:
                    p["running"] = r["t"]
                if readers.deleting(obj) and p["deleting"] is None:
                    p["deleting"] = r["t"]
            if r.get("event") == "DELETED" and p["gone"] is None:
                p["gone"] = r["t"]
                p["deleting"] = p["deleting"] if p["deleting"] is not None else r["t"]
        columns = ["pod", "first_owner", "owner", "seen", "created", "running", "deleting", "gone", "node", "labels"]
        return pd.DataFrame(list(pods.values()), columns=columns)

    def deletion_note(self, pod: str, until: float | None = None) -> str:
        """One line on a pod kjlab deleted, as the recording had it at ``until`` (default: its end):
        when its deletionTimestamp was recorded and whether it was gone yet. A pod being deleted
        stays listed until its grace period ends; `kubectl get pods` then says STATUS ``Terminating``
        (kjlab.api.printers.pod_status), a custom-columns ``.status.phase`` still says ``Running``."""
        row = self.pods().set_index("pod").loc[pod]
        until = self.rows[-1]["t"] if until is None else until
        deleting, gone = row["deleting"], row["gone"]
        if deleting is None or pd.isna(deleting) or deleting > until:
            return f"{pod}: not being deleted (at {until:.1f} s)"
        if gone is not None and not pd.isna(gone) and gone <= until:
            return f"{pod}: deletionTimestamp recorded at {deleting:.1f} s, gone at {gone:.1f} s"
        last = [r["object"] for r in self.of("pod") if r["name"] == pod and r.get("object") and r["t"] <= until]
        grace = (last[-1]["metadata"].get("deletionGracePeriodSeconds") if last else None)
        return (f"{pod}: deletionTimestamp recorded at {deleting:.1f} s, still terminating at {until:.1f} s"
                f"{f' (grace period {grace} s)' if grace is not None else ''}: `kubectl get pods` lists it with "
                f"STATUS {printers.pod_status(last[-1]) if last else 'Terminating'} (its phase is still "
                f"{readers.phase(last[-1]) if last else 'unknown'}), and its ReplicaSet no longer counts it")

    def owned_by(self, owner: str, until: float | None = None) -> list[str]:
        """The pods ``owner`` (``replicaset/web``) controlled and that were not being deleted, at
        ``until`` (default: the end of the recording)."""
        last: dict[str, dict] = {}
        for r in self.of("pod"):
            if until is not None and r["t"] > until:
                break
            last[r["name"]] = r
        return [n for n, r in last.items() if r.get("object") is not None and r.get("event") != "DELETED"
                and controller_of(r["object"]) == owner and not readers.deleting(r["object"])]

    def ownership(self, pod: str):
        """How the pod's controller ownerReference and labels changed: one row per change."""
        rows, seen = [], object()
        for r in self.of("pod"):
            if r["name"] != pod or r.get("object") is None:
                continue
            key = (controller_of(r["object"]), tuple(sorted(readers.labels(r["object"]).items())))
            if key != seen:
                seen = key
                rows.append({"t": r["t"], "controller": key[0] or "(none: an orphan)", "labels": dict(key[1]),
                             "phase": readers.phase(r["object"]), "deleting": readers.deleting(r["object"])})
        return pd.DataFrame(rows, columns=["t", "controller", "labels", "phase", "deleting"])

    def replacements(self):
        """For each pod kjlab deleted or relabelled out of its controller: the pod its controller
        made next, how long after the step kjlab's watch saw it created, and how long until it ran."""
        pods = self.pods()
        out = []
        for s in self.steps():
            if s["action"] not in ("delete", "label") or not s["target"].startswith("pod/"):
                continue
            name = s["target"].split("/", 1)[1]
            row = pods[pods["pod"] == name]
            if row.empty:
                continue
            owner = row.iloc[0]["first_owner"]
            # The step is recorded once the API call has returned and kjlab has printed it; on a loaded
            # machine the controller's replacement can be seen before that (this lab failed so in CI, on
            # both engines). The pod watch sees the victim marked for deletion (or taken out of its
            # controller) before the replacement, in resourceVersion order: that moment is the anchor.
            anchor = s["t"]
            deleting = row.iloc[0]["deleting"]
            if s["action"] == "delete" and deleting is not None and not pd.isna(deleting):
                anchor = min(anchor, deleting)
            if s["action"] == "label":
                # only a relabel that took the pod out of its controller is replaced
                # (the pod's own change may be recorded a moment before the step is)
                changes = self.ownership(name)
                before = changes[changes["t"] < s["t"] - 0.05]
                after = changes[(changes["t"] >= s["t"] - 0.05) & (changes["t"] < s["t"] + 5)]
                if before.empty or before.iloc[-1]["controller"].startswith("(none") \
                        or not after["controller"].str.startswith("(none").any():
                    continue
                anchor = min(anchor, after[after["controller"].str.startswith("(none")].iloc[0]["t"])
            later = pods[(pods["first_owner"] == owner) & (pods["seen"] >= anchor)
                         & (pods["pod"] != name)].sort_values("seen")
            new = later.iloc[0] if not later.empty else None
            out.append({"step": f"{s['action']} {s['target']}", "at": anchor, "owner": owner,
                        "replacement": new["pod"] if new is not None else None,
                        "created after (s)": round(new["seen"] - anchor, 2) if new is not None else None,
                        "running after (s)": round(new["running"] - anchor, 2)
                        if new is not None and new["running"] is not None and not pd.isna(new["running"]) else None})
        return pd.DataFrame(out, columns=["step", "at", "owner", "replacement", "created after (s)", "running after (s)"])

    def counts(self, kind: str, name: str | None = None):
        """The desired and actual counts of each ``kind`` (replicaset, deployment, daemonset) object
        over time, one row per recorded change: t, name, desired, current, ready, available (and the
        Deployment revision of a ReplicaSet, updated replicas of a Deployment)."""
        rows = []
        for r in self.of(kind):
            obj = r.get("object")
            if obj is None or (name and r["name"] != name):
                continue
            fields = dict(part.split("=", 1) for part in (r.get("detail") or "").split() if "=" in part)
            row = {"t": r["t"], "name": r["name"], "event": r["event"],
                   **{k: int(v) for k, v in fields.items() if k != "revision"},
                   "revision": readers.annotations(obj).get(REVISION)}
            if r.get("event") == "DELETED":
                row.update(desired=0, current=0, ready=0, available=0)
            rows.append(row)
        return pd.DataFrame(rows)

    def replicasets_of(self, deployment: str) -> list[str]:
        """The Deployment's ReplicaSets, in the order they appeared."""
        return list(dict.fromkeys(r["name"] for r in self.of("replicaset")
                                  if r.get("object") is not None and controller_of(r["object"]) == f"deployment/{deployment}"))

    def rollout(self, deployment: str):
        """The rollout on one time axis: for each moment a pod or ReplicaSet of the Deployment
        changed, each ReplicaSet's desired replicas (``spec.replicas``, columns named by revision),
        the Deployment's pods that existed (not being deleted) and those of them that were Ready.
        ``revisions`` says which revision each ReplicaSet held when."""
        sets = self.replicasets_of(deployment)
        revision = {}
        desired = {s: 0 for s in sets}
        pods: dict[str, dict] = {}
        rows = []
        for r in self.rows:
            obj = r.get("object")
            if r.get("kind") == "replicaset" and r["name"] in desired and obj is not None:
                revision[r["name"]] = readers.annotations(obj).get(REVISION) or revision.get(r["name"])
                desired[r["name"]] = 0 if r.get("event") == "DELETED" else (obj.get("spec") or {}).get("replicas", 0)
            elif r.get("kind") == "pod" and obj is not None and (controller_of(obj) or "").split("/", 1)[-1] in desired:
                pods[r["name"]] = None if r.get("event") == "DELETED" or readers.deleting(obj) else obj
            else:
                continue
            live = [p for p in pods.values() if p is not None]
            rows.append({"t": r["t"], **{s: desired[s] for s in sets},
                         "pods": len(live), "ready": sum(readers.is_true(p, "Ready") for p in live)})
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        frame = frame.fillna(0).astype({c: int for c in frame.columns if c != "t"})
        values = frame.drop(columns=["t"])
        changed = (values != values.shift()).any(axis=1)  # keep a row only when something changed
        return frame[changed].reset_index(drop=True)

    def revisions(self, deployment: str):
        """Each ReplicaSet of the Deployment with the revisions it held, in order (a rollback makes an
        old ReplicaSet the newest revision again), and its container's env."""
        rows = []
        for name in self.replicasets_of(deployment):
            revs, env = [], None
            for r in self.of("replicaset"):
                if r["name"] == name and r.get("object") is not None:
                    rev = readers.annotations(r["object"]).get(REVISION)
                    if rev and (not revs or revs[-1] != rev):
                        revs.append(rev)
                    containers = r["object"]["spec"]["template"]["spec"]["containers"]
                    env = {e["name"]: e.get("value") for e in containers[0].get("env") or []}
            rows.append({"replicaset": name, "revisions": " then ".join(revs), "env": env})
        return pd.DataFrame(rows, columns=["replicaset", "revisions", "env"])

    def rollout_complete(self, deployment: str) -> bool:
        """What `kubectl rollout status` waits for: the controller has seen the latest spec
        (observedGeneration), every replica is updated and available, and no old pod is left."""
        last = next((r["object"] for r in reversed(self.of("deployment"))
                     if r["name"] == deployment and r.get("object") is not None), None)
        if last is None:
            return False
        spec, status = last.get("spec") or {}, last.get("status") or {}
        want = spec.get("replicas", 1)
        frame = self.rollout(deployment)
        return (status.get("observedGeneration", 0) >= readers.meta(last).get("generation", 0)
                and status.get("updatedReplicas") == want and status.get("availableReplicas") == want
                and status.get("replicas") == want and not frame.empty and frame.iloc[-1]["pods"] == want)

    def rollout_bounds(self, deployment: str, start: float, end: float | None = None) -> dict:
        """Between ``start`` and ``end``: the largest sum of the ReplicaSets' desired replicas (what
        maxSurge bounds: replicas + maxSurge), the most pods that existed (not being deleted; a
        moment above that sum is a pod the old ReplicaSet had not yet deleted when the new one
        created its own), and the fewest Ready (what maxUnavailable bounds: replicas - maxUnavailable)."""
        frame = self.rollout(deployment)
        before = frame[frame["t"] <= start].tail(1)
        window = pd.concat([before, frame[(frame["t"] > start) & ((frame["t"] <= end) if end is not None else True)]])
        desired = window[self.replicasets_of(deployment)].sum(axis=1)
        return {"most replicas": int(desired.max()), "most pods": int(window["pods"].max()),
                "fewest ready": int(window["ready"].min())}

    def daemon_pods(self, daemonset: str):
        """The DaemonSet's pods: node, when kjlab saw each created, Running, marked for deletion, gone."""
        pods = self.pods()
        return pods[pods["first_owner"] == f"daemonset/{daemonset}"][["pod", "node", "seen", "running", "deleting", "gone"]]

    def deletion_ranking(self, replicaset: str, after: float = 0.0):
        """The first scale-down of ``replicaset`` after ``after`` (e.g. when a pod was relabelled
        back in): the pods it could delete as they were just before, ranked by ``deletion_order``
        (first = deleted first), and which one it did delete. Columns: the ranking's inputs."""
        selector = None
        for r in self.of("replicaset"):
            if r["name"] == replicaset and r.get("object") is not None:
                selector = (r["object"].get("spec") or {}).get("selector")
        if selector is None:
            return pd.DataFrame()
        last: dict[str, dict] = {}
        decided = None
        for r in self.of("pod"):
            obj = r.get("object")
            if obj is None:
                continue
            if r["t"] >= after and readers.deleting(obj) and matches(selector, readers.labels(obj)) \
                    and not readers.deleting(last.get(r["name"], {})):
                decided = r
                break
            last[r["name"]] = obj
        if decided is None:
            return pd.DataFrame()
        candidates = [p for p in last.values() if not readers.deleting(p) and not readers.ended(p)
                      and matches(selector, readers.labels(p))]
        now = _utc(decided["time"])
        order = deletion_order(candidates, candidates, now)
        on_node: dict[str, int] = {}
        for p in candidates:
            on_node[readers.node_name(p)] = on_node.get(readers.node_name(p), 0) + 1
        rows = []
        for i, p in enumerate(order, 1):
            ready = _ready_since(p)
            created = _utc(readers.meta(p).get("creationTimestamp"))
            rows.append({"rank": i, "pod": readers.name(p), "node": readers.node_name(p),
                         "pods of the set on its node": on_node.get(readers.node_name(p), 0),
                         "ready for (s)": round((now - ready).total_seconds(), 1) if ready else None,
                         "age bucket (log2 ns)": _log2_bucket(ready, now),
                         "created (s ago)": round((now - created).total_seconds(), 1) if created else None,
                         "deletion cost": readers.annotations(p).get(DELETION_COST, "0"),
                         "deleted": readers.name(p) == decided["name"]})
        return pd.DataFrame(rows).set_index("rank")


# --- a session ----------------------------------------------------------------------------------

def _kubectl(context: str, args: list[str]) -> tuple[int, str]:
    return kubectl_command.run(args, context, timeout=60)


class ControllerSession(Session):
    """One namespace, recorded from the start (pods, events, ReplicaSets, Deployments, DaemonSets),
    where a lab creates workloads and acts on them; each wait reads the recording. ``stop()``
    removes the node labels it set and returns the WorkloadRecording."""

    kinds = ("replicaset", "deployment", "daemonset")
    recording_class = WorkloadRecording
    now_digits = 3
    wait_digits = 1
    slow_notes = True

    def __init__(self, context: str, namespace: str, echo: bool = True):
        super().__init__(context, namespace, echo)
        self.node_label = node_label(namespace)
        self._labelled: set[str] = set()
        self._unlabel_all()  # a node label left by an interrupted earlier run of this namespace

    def workers(self) -> list[str]:
        """The lab cluster's worker nodes, by name."""
        return sorted(readers.name(n) for n in kube.raw(kube.core(self.context).list_node,
                                                        label_selector=f"{WORKER_LABEL}=worker")["items"])

    # -- acting --
    def create(self, doc: dict) -> dict:
        return ops.apply_workload(self.actor, doc)

    def delete_pod(self, pod: str) -> None:
        ops.delete_pod(self.actor, pod)

    def label_pod(self, pod: str, **labels) -> dict:
        """``label_pod(name, app="debug")``; a value of None removes the label."""
        return ops.label_pod(self.actor, pod, labels)

    def annotate_pod(self, pod: str, annotations: dict) -> dict:
        """``annotate_pod(name, {controllers.DELETION_COST: "-1"})``; a value of None removes it."""
        return ops.annotate_pod(self.actor, pod, annotations)

    def label_node(self, node: str, value: str | None) -> dict:
        """Set (or with None remove) this session's node label, the DaemonSet's nodeSelector key."""
        if value is not None:
            self._labelled.add(node)
        return ops.label_node(self.actor, node, {self.node_label: value})

    def patch_deployment(self, name: str, patch: dict) -> dict:
        return ops.patch_deployment(self.actor, name, patch)

    def set_env(self, deployment: str, container: str, **env) -> dict:
        """`kubectl set env deployment/NAME K=V`: a change of the pod template, so a new revision."""
        patch = {"spec": {"template": {"spec": {"containers": [
            {"name": container, "env": [{"name": k, "value": str(v)} for k, v in env.items()]}]}}}}
        # the same change kubectl set env makes (a strategic merge of the container's env): shown as that
        command = (f"kubectl set env deployment/{deployment} -c {container} "
                   + " ".join(f"{k}={v}" for k, v in env.items()) + f" -n {self.namespace}")
        return ops.patch_deployment(self.actor, deployment, patch, shown_as=(command, f"deployment.apps/{deployment} env updated"))

    def kubectl(self, *args: str, record: bool = True) -> str:
        """Run kubectl itself (e.g. `rollout undo`, which kubectl does on the client side), print
        what it prints, and put it on the timeline as a step."""
        code, out = _kubectl(self.context, [*args, "-n", self.namespace])
        command = f"kubectl {' '.join(args)} -n {self.namespace}"
        if self.echo:
            print(f"$ {command}\n{out}")
        if code:
            raise KjlabError(f"{command} failed: {out.splitlines()[-1] if out else code}", "look at the message above")
        if record:
            target = next((a for a in args if "/" in a), args[-1])
            self.recorder.step(" ".join(args[:2]), target, out, command)
        return out

    # -- waiting --
    def wait_until(self, test: Callable[["WorkloadRecording"], bool], what: str, timeout: float = 60,
                   limit: float | None = None) -> float:
        """Wait until ``test(recording)`` holds (``Session.wait``: bounded by progress, it says so
        every ``timeout`` s while the namespace still changes, and ends at ``limit``, default 5 x
        ``timeout``, at least 300 s); returns the time on the recording's axis."""
        self.wait(test, what, timeout, limit)
        return self.now()

    def wait_owned(self, owner: str, count: int, ready: bool = True, timeout: float = 60) -> float:
        """Wait until ``owner`` (``replicaset/web``) controls ``count`` pods not being deleted (all Ready)."""
        def test(rec):
            names = rec.owned_by(owner)
            last = rec.last_pods()
            return len(names) == count and (not ready or all(readers.is_true(last[n], "Ready") for n in names))
        return self.wait_until(test, f"{owner} to have {count} {'Ready ' if ready else ''}pods", timeout)

    # -- ending --
    def _unlabel_all(self) -> None:
        nodes = kube.raw(kube.core(self.context).list_node, label_selector=self.node_label)["items"]
        self._labelled.update(readers.name(n) for n in nodes)
        for node in sorted(self._labelled):
            ops.label_node(Actor(self.context, echo=False), node, {self.node_label: None})
        self._labelled.clear()

    def stop(self) -> WorkloadRecording:
        recording = super().stop()
        self._unlabel_all()
        return recording


def plot_rollout(recording: WorkloadRecording, deployment: str, steps=(), title: str = ""):
    """Each ReplicaSet's desired replicas and the Deployment's existing and Ready pods over time,
    as step lines; dotted lines at ``steps`` ((t, label) pairs)."""
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    frame = recording.rollout(deployment)
    revisions = dict(zip(*recording.revisions(deployment)[["replicaset", "revisions"]].T.values))
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for column in frame.columns:
        if column == "t":
            continue
        style = {"pods": dict(color="black", linewidth=2), "ready": dict(color="tab:green", linestyle="--")}.get(column, {})
        label = f"{column} (revision {revisions[column]})" if column in revisions else column
        ax.step(frame["t"], frame[column], where="post", label=label, **style)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for t, label in steps:
        ax.axvline(t, color="grey", linestyle=":")
    ax.set_xlabel("seconds since the recording started")
    ax.set_ylabel("pods")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    # after the layout: labels are measured against the axes' final size
    place_line_labels(ax, [(t, label, "top", "dimgrey") for t, label in steps], fontsize=8,
                      bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.5})
    return fig


def workload_row(kind: str):
    """The row function for a ReplicaSet, Deployment or DaemonSet: its desired and actual counts
    in ``detail`` (the object, kept in the row, has the rest: revision, ownerReferences ...)."""
    def row(event: str, obj: dict) -> dict:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if kind == "daemonset":
            counts = {"desired": status.get("desiredNumberScheduled", 0), "current": status.get("currentNumberScheduled", 0),
                      "ready": status.get("numberReady", 0), "available": status.get("numberAvailable", 0)}
        else:
            counts = {"desired": spec.get("replicas", 1), "current": status.get("replicas", 0),
                      "ready": status.get("readyReplicas", 0), "available": status.get("availableReplicas", 0)}
            if kind == "deployment":
                counts["updated"] = status.get("updatedReplicas", 0)
        revision = readers.annotations(obj).get("deployment.kubernetes.io/revision")
        return {"kind": kind, "name": readers.name(obj), "event": event, "ready": counts["ready"],
                "detail": " ".join(f"{k}={v}" for k, v in counts.items()) + (f" revision={revision}" if revision else ""),
                "deleting": readers.deleting(obj), "resource_version": readers.resource_version(obj)}
    return row


register_kind("replicaset", lambda context: kube.apps(context).list_namespaced_replica_set, workload_row("replicaset"))
register_kind("deployment", lambda context: kube.apps(context).list_namespaced_deployment, workload_row("deployment"))
register_kind("daemonset", lambda context: kube.apps(context).list_namespaced_daemon_set, workload_row("daemonset"))
on_cleanup(remove_node_labels)  # the DaemonSet's node labels, if its session did not stop


@session("controllers")
def _controllers(lab, name: str) -> ControllerSession:
    """A recorded namespace ``<prefix>-<name>`` for ReplicaSets, Deployments and DaemonSets:
    create, delete and relabel pods, label nodes, roll out; waits read the recording; ``stop()``
    gives the recording and removes the node labels it set."""
    return ControllerSession(lab.context, f"{lab.prefix}-{name}")
