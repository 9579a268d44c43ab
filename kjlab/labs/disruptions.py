"""Disruptions (``labs/12-disruptions.ipynb``) -- what takes a running pod away, and how each leaves
its mark on the pod.

A ``Disruptions`` session records one namespace (kjlab.record) while the lab acts the way an
administrator or the cluster would: drain a node against a PodDisruptionBudget (every 429 refusal
becomes a step on the timeline), taint a node NoExecute, make a node's kubelet report NotReady,
create a pod that preempts another. The deciding work is done by the real control plane on both
engines: the Eviction API and the disruption controller, the taint-eviction controller, the node
lifecycle controller, the scheduler.

One thing differs by engine, and the session says which it does: a node going NotReady, which
the engine's kubelet does (kjlab.cluster.provider.kubelet): kind stops the node's container
(kjlab/cluster/kind/kubelet.py), kwok's simulated kubelet reports ``Ready=False``
(kjlab/cluster/kwok/kubelet.py).

The rest of the module reads recordings (no cluster): who was disrupted, why, when; how many of a
workload's pods were ready over time; the eviction refusals; the QoS table.
"""

from __future__ import annotations

import copy
import time
from decimal import Decimal

import pandas as pd
import yaml
from kubernetes.utils import parse_quantity

from kjlab import examples
from kjlab.api import kube, policy as policy_rules, readers, wait
from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.cluster import provider
from kjlab.cluster.registry import guard
from kjlab.errors import KjlabError
from kjlab.labs import on_cleanup, session
from kjlab.runs.record import Recorder
from kjlab.runs.session import Session
from kjlab.runs.result import Recording

PRIORITY_LABEL = "kjlab.io/lab=disruptions"            # the lab's PriorityClasses (cluster-scoped)
# The rule a Job needs so that none of these disruptions counts against its backoffLimit.
IGNORE_DISRUPTIONS = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
# Node-pressure eviction order (the kubelet's, not the API's): first pods whose usage exceeds their
# requests, then by priority, then by how far usage exceeds requests. A BestEffort pod requests
# nothing, so any use exceeds it; a Guaranteed pod's usage cannot exceed its requests (= limits).
QOS_ORDER = {"BestEffort": 1, "Burstable": 2, "Guaranteed": 3}


def manifests() -> dict[str, dict]:
    """Every object of the lab, by name (kjlab/examples/disruptions.yaml)."""
    return {d["metadata"]["name"]: d for d in examples.objects("disruptions.yaml")}


def manifest(name: str, fast: bool = False) -> dict:
    """One object of the lab (a copy). ``fast`` shortens the Job's script (20 s -> 8 s) and the
    short NotReady toleration (60 s -> 15 s)."""
    docs = manifests()
    if name not in docs:
        raise KjlabError(f"the disruptions lab has no object named '{name}' (choose one of: {', '.join(docs)})",
                         "kjlab.labs.disruptions.manifests()")
    doc = copy.deepcopy(docs[name])
    if fast and doc["kind"] == "Job":
        doc["spec"]["template"]["spec"]["containers"][0]["command"][-1] = "sleep 8 && exit 0"
    if fast and name == "short-toleration":
        for toleration in doc["spec"]["tolerations"]:
            toleration["tolerationSeconds"] = 15
    return doc


def source(name: str, fast: bool = False) -> str:
    """The object as YAML, to show before it is created."""
    return yaml.safe_dump(manifest(name, fast), sort_keys=False)


def with_cpu_request(doc: dict, millicores: int) -> dict:
    """The pod with its container's CPU request set (preemption needs a node that is full)."""
    doc = copy.deepcopy(doc)
    doc["spec"]["containers"][0]["resources"] = {"requests": {"cpu": f"{millicores}m"}}
    return doc


# --- reading recordings (pure) --------------------------------------------------------------

def disruption_target(pod: dict) -> dict | None:
    """The pod's DisruptionTarget=True condition, or None."""
    return readers.true_condition(pod, "DisruptionTarget")


def disrupted(recording: Recording, policy: dict | None = None) -> pd.DataFrame:
    """One row per pod: its node, when it got DisruptionTarget (reason, message), when its
    deletion started, its last phase and exit code, and what a Job with ``policy`` (default: Ignore
    on DisruptionTarget) would do with it, by the Job controller's rule semantics."""
    rows: dict[str, dict] = {}
    for r in recording.of("pod"):
        obj = r.get("object")
        if obj is None:
            continue
        row = rows.setdefault(r["name"], {"pod": r["name"], "node": None, "created": r["t"], "disruption": None,
                                          "reason": None, "message": None, "deleting": None, "phase": None,
                                          "exit_code": None, "gone": None, "_last": None})
        row["node"] = readers.node_name(obj) or row["node"]
        target = disruption_target(obj)
        if target and row["disruption"] is None:
            row["disruption"], row["reason"], row["message"] = r["t"], target.get("reason"), target.get("message")
        if readers.deleting(obj) and row["deleting"] is None:
            row["deleting"] = r["t"]
        if r.get("event") == "DELETED" and row["gone"] is None:
            row["gone"] = r["t"]
        row["phase"], row["exit_code"], row["_last"] = readers.phase(obj), readers.exit_code(obj), obj
    out = []
    for row in rows.values():
        last = row.pop("_last")
        row["a Job's podFailurePolicy"] = policy_rules.first_match(policy or IGNORE_DISRUPTIONS, last).why \
            if row["disruption"] is not None else ""
        out.append(row)
    columns = ["pod", "node", "created", "disruption", "reason", "message", "deleting", "phase", "exit_code", "gone",
               "a Job's podFailurePolicy"]
    return pd.DataFrame(out, columns=columns)


def restarts(recording: Recording, pod: str) -> pd.DataFrame:
    """Each time one of ``pod``'s containers was restarted in place (its restartCount grew): when
    kjlab saw it, the container, the new restartCount and how the previous run ended (lastState)."""
    rows, seen = [], {}
    for r in recording.of("pod"):
        if r["name"] != pod or not r.get("object"):
            continue
        for status in readers.container_statuses(r["object"]):
            name, count = status.get("name"), status.get("restartCount") or 0
            if count > seen.get(name, 0):
                ended = (status.get("lastState") or {}).get("terminated") or {}
                rows.append({"t": r["t"], "container": name, "restartCount": count,
                             "exit code": ended.get("exitCode"), "reason": ended.get("reason")})
            seen[name] = max(count, seen.get(name, 0))
    return pd.DataFrame(rows, columns=["t", "container", "restartCount", "exit code", "reason"])


def what_it_noticed(recording: Recording, pod: str) -> str:
    """One sentence on a pod that stayed on a node that went NotReady and came back: that it never
    noticed (no container restarted), or which containers restarted, when, with which exit code --
    on kind stopping the node's container stops the containers on it, and the kubelet restarts them
    when the node is back (kwok's simulated kubelet runs none)."""
    done = restarts(recording, pod)
    if done.empty:
        return f"`{pod}` never noticed: none of its containers restarted (restartCount 0 throughout)."
    def previous(r) -> str:
        code = "unknown" if pd.isna(r["exit code"]) else int(r["exit code"])
        return f"exit code {code}" + (f", {r['reason']}" if isinstance(r["reason"], str) else "")

    codes = ", ".join(f"`{r['container']}` at {r['t']:.0f} s (its previous run: {previous(r)})"
                      for r in done.to_dict("records"))
    return (f"`{pod}` stayed (no eviction), but its containers did notice: {len(done)} restart(s) in place, "
            f"{codes}. The node's containers stopped with the node; its kubelet restarted them when it came back.")


def refusals(recording: Recording) -> pd.DataFrame:
    """Each eviction the drain asked for: refused (HTTP 429, with the API's message) or accepted."""
    rows = [{"t": s["t"], "pod": s["target"].removeprefix("pod/"), "answer": "429 refused" if s["action"] == "eviction refused"
             else "accepted", "message": s["detail"].removeprefix("429 ") if s["action"] == "eviction refused" else ""}
            for s in recording.steps() if s.get("action") in ("eviction refused", "evict")]
    return pd.DataFrame(rows, columns=["t", "pod", "answer", "message"])


def _ready(pod: dict) -> bool:
    return readers.is_true(pod, "Ready") and not readers.deleting(pod) and readers.phase(pod) == "Running"


def ready_over_time(recording: Recording, label: str, value: str) -> pd.DataFrame:
    """How many pods labelled ``label=value`` were ready (Ready=True, Running, not being deleted:
    what the disruption controller counts as healthy) after each change."""
    state: dict[str, bool] = {}
    rows = []
    for r in recording.of("pod"):
        obj = r.get("object")
        if obj is None or readers.labels(obj).get(label) != value:
            if r.get("event") == "DELETED" and r["name"] in state:
                state[r["name"]] = False
            else:
                continue
        else:
            state[r["name"]] = r.get("event") != "DELETED" and _ready(obj)
        count = sum(state.values())
        if not rows or rows[-1]["ready"] != count:
            rows.append({"t": r["t"], "ready": count})
    return pd.DataFrame(rows, columns=["t", "ready"])


def min_ready_after(recording: Recording, label: str, value: str, since: float) -> int | None:
    """The fewest ready pods from ``since`` on (the drain's start), or None when nothing was recorded."""
    counts = ready_over_time(recording, label, value)
    if counts.empty:
        return None
    before = counts[counts["t"] <= since]
    during = counts[counts["t"] > since]["ready"].tolist()
    values = ([int(before["ready"].iloc[-1])] if not before.empty else []) + [int(v) for v in during]
    return min(values) if values else None


def qos_table(pods: list[dict]) -> pd.DataFrame:
    """Each pod's requests and limits, the QoS class the API computed (``status.qosClass``), and
    the order in which a kubelet under memory pressure would pick them (1 = first)."""
    rows = []
    for pod in pods:
        res = ((pod.get("spec") or {}).get("containers") or [{}])[0].get("resources") or {}
        qos = (pod.get("status") or {}).get("qosClass")
        rows.append({"pod": readers.name(pod), "requests": res.get("requests") or {}, "limits": res.get("limits") or {},
                     "qosClass": qos, "evicted under node pressure": QOS_ORDER.get(qos)})
    return pd.DataFrame(rows).sort_values("evicted under node pressure", ignore_index=True)


def first_step(recording: Recording, action: str) -> float | None:
    step = recording.first_step(action)
    return step["t"] if step else None


# --- the session (acts on the cluster) -------------------------------------------------------

class Disruptions(Session):
    """A recorded namespace (made by the caller: ``lab.namespace(name)``) in which the lab disrupts
    pods. ``stop()`` returns the Recording."""

    def __init__(self, context: str, namespace: str, engine: str | None, echo: bool = True):
        self.engine = engine
        super().__init__(context, namespace, echo, make_namespace=False)

    def __repr__(self) -> str:
        return f"<Disruptions {self.namespace} on {self.engine}>"

    # -- creating --
    def create(self, doc: dict) -> dict:
        """`kubectl create -f` a Pod, Job, ReplicaSet or PodDisruptionBudget in the namespace, or a
        PriorityClass (cluster-scoped)."""
        if doc["kind"] == "PriorityClass":
            return ops.apply_priority_class(self.actor, doc)
        return ops.apply(self.actor, doc)

    def wait_for_pod(self, name: str | None, predicate, what: str, timeout: float = 60,
                     label_selector: str | None = None) -> dict:
        """Watch the namespace's pods (one, or those with a label) until ``predicate(pod)`` holds;
        says what it waits for and how long it took."""
        with wait.announced(what, timeout, self.echo):
            return wait.pod(self.context, self.namespace, predicate, what, timeout=timeout, name=name,
                            label_selector=label_selector)

    def wait_running(self, names: list[str], timeout: float = 60) -> None:
        for name in names:
            self.wait_for_pod(name, lambda p: readers.phase(p) == "Running", f"pod {name} to run", timeout)

    def wait_ready(self, label_selector: str, count: int, timeout: float = 60) -> None:
        """Until ``count`` pods with this label (``key=value``) are ready at once (a ReplicaSet's, a
        budget's), as the recording counts them (``ready_over_time``)."""
        label, _, value = label_selector.partition("=")
        if not label or not value or "," in label_selector:
            raise KjlabError(f"wait_ready takes one label as key=value, not {label_selector!r}", 'wait_ready("app=web", 3)')

        def enough(recording: Recording) -> bool:
            counts = ready_over_time(recording, label, value)
            return not counts.empty and int(counts["ready"].iloc[-1]) >= count

        self.wait(enough, f"{count} ready pods ({label_selector})", timeout, limit=timeout)

    def wait_bound(self, timeout: float, limit: float) -> str:
        return f"at most {limit:.0f} s"

    def timed_out(self, what: str, waited: float, idle: float, timeout: float, limit: float) -> KjlabError:
        return KjlabError(f"timed out waiting for {what}", f"kjlab kubectl get pods -n {self.namespace} -o wide")

    def pods(self, names: list[str] | None = None) -> list[dict]:
        items = kube.raw(kube.core(self.context).list_namespaced_pod, self.namespace)["items"]
        return [p for p in items if names is None or readers.name(p) in names]

    # -- disrupting --
    def drain(self, node: str, pod_selector: str, timeout: float = 120) -> ops.DrainResult:
        return ops.drain(self.actor, node, pod_selector=pod_selector, timeout=timeout, namespace=self.namespace)

    def uncordon(self, node: str) -> None:
        ops.uncordon(self.actor, node)

    def taint(self, node: str, key: str, value: str = "", effect: str = "NoExecute") -> None:
        ops.taint(self.actor, node, key, value, effect)

    def untaint(self, node: str, key: str, effect: str = "NoExecute") -> None:
        ops.untaint(self.actor, node, key, effect)

    def node_not_ready(self, node: str) -> None:
        """Take the node's kubelet away as its engine can (kind: stop the node's container; kwok: the
        simulated kubelet reports NotReady); see the module's docstring for why the two differ."""
        guard(self.context, f"make node {node} NotReady")
        kubelet = provider.kubelet(self.engine)
        happened, command = kubelet.take_away(self.context, node, self.echo)
        self.recorder.step(kubelet.down_step, f"node/{node}", happened, command)

    def node_ready(self, node: str, timeout: float = 120) -> None:
        """Bring the node back (kind: start its container) and wait until it is Ready and the
        node lifecycle controller has taken its taints off again."""
        bring_back(self.context, node, self.engine, timeout, self.echo, recorder=self.recorder)

    def cpu_share(self, node: str, share: float = 0.6) -> int:
        """Millicores that are ``share`` of the node's allocatable CPU: two pods asking for 60 %
        cannot both fit, on kwok's 8-CPU nodes or on a laptop's kind node alike."""
        allocatable = kube.raw(kube.core(self.context).read_node, node)["status"]["allocatable"]["cpu"]
        return int(parse_quantity(allocatable) * 1000 * Decimal(str(share)))

    def node_taints(self, node: str) -> list[dict]:
        return (kube.raw(kube.core(self.context).read_node, node).get("spec") or {}).get("taints") or []

    # -- the end --
    def stop(self) -> Recording:
        """Stop recording (a node made NotReady is left as it is: ``node_ready`` brings it back)."""
        return super().stop()


def bring_back(context: str, node: str, engine: str | None, timeout: float = 120, echo: bool = True,
               recorder: Recorder | None = None) -> None:
    """Give the node its kubelet back (kind: start the node's container; kwok: take the NotReady mark
    off, kwok's initialize Stage then reports Ready=True). Then wait until it is Ready and untainted."""
    guard(context, f"make node {node} Ready")
    kubelet = provider.kubelet(engine)
    if recorder is not None:
        recorder.step("node back", f"node/{node}", "", kubelet.back_command(node))
    kubelet.bring_back(context, node)
    core = kube.core(context)
    with wait.announced(f"node {node} to be Ready and untainted", timeout, echo) as elapsed:
        while True:
            obj = kube.raw(core.read_node, node)
            lifecycle = [t for t in (obj.get("spec") or {}).get("taints") or []
                         if t.get("key") in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
            if readers.node_ready(obj) and not lifecycle:
                break
            if elapsed() > timeout:
                raise KjlabError(f"node {node} was not Ready and untainted after {timeout:.0f} s",
                                 f"kjlab kubectl describe node {node}")
            time.sleep(1)


def restore_nodes(context: str, timeout: float = 120) -> list[str]:
    """Bring back every node a session left NotReady (a cell interrupted between ``node_not_ready``
    and ``node_ready``), as the cluster's engine took it away. Waits until they are Ready and
    untainted; returns their names."""
    engine = provider.engine_of(context)
    nodes = [readers.name(n) for n in kube.raw(kube.core(context).list_node)["items"]]
    left = provider.kubelet(engine).taken_away(context, nodes)
    for node in left:
        print(f"node {node} was left NotReady by an interrupted lab: bringing it back", flush=True)
        bring_back(context, node, engine, timeout)
    return left


def cleanup_priority_classes(context: str, echo: bool = True) -> list[str]:
    """The lab's PriorityClasses are cluster-scoped: deleting its namespaces leaves them."""
    return ops.delete_priority_classes(Actor(context, echo=echo), PRIORITY_LABEL)


on_cleanup(lambda context, prefix: restore_nodes(context))  # a node left NotReady, if a cell was interrupted


@session("disruptions")
def _disruptions(lab, name: str) -> Disruptions:
    """A recorded namespace ``<prefix>-<name>``: create pods, drain against a budget, taint a node,
    make a node NotReady; ``stop()`` gives the recording."""
    return Disruptions(lab.context, lab.namespace(name), lab.engine)
