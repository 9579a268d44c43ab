"""Practice tasks on disruptions: PodDisruptionBudget, cordon and drain, taints and tolerations, priority.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- a budget's disruptionsAllowed is currentHealthy - desiredHealthy, where desiredHealthy is
  minAvailable, or expectedPods - maxUnavailable; it counts only the pods its selector matches --
  pkg/controller/disruption/disruption.go:813-850 and :996-1003;
- cordon sets spec.unschedulable; drain cordons, then evicts each pod through the Eviction API --
  k8s.io/kubectl@v0.36.4 pkg/drain/cordon.go:63-90, pkg/drain/drain.go:152, :246;
- a pod that does not tolerate a NoSchedule taint is not scheduled on that node; the scheduler's
  FailedScheduling event says "node(s) had untolerated taint(s)" --
  pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go:131, pkg/scheduler/schedule_one.go:1289;
- how a toleration matches a taint (empty effect = any effect, Exists = any value, Equal = same value) --
  k8s.io/api@v0.36.4 core/v1/toleration.go:52-77;
- the Priority admission plugin sets spec.priority from the PriorityClass's value and refuses an
  unknown priorityClassName ("no PriorityClass with name %v was found") --
  plugin/pkg/admission/priority/admission.go:180, :298; a pod without priorityClassName gets the
  globalDefault PriorityClass's value, else 0 -- admission.go:250, :282 (getDefaultPriority).
"""

from __future__ import annotations

import json

from kubernetes import client

from kjlab.actions import ops
from kjlab.actions.actor import Actor
from kjlab.api import kube, readers
from kjlab.errors import KjlabError
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.tasks.deployments import GOOD_IMAGE, deployment, rolled_out
from kjlab.practice.verdicts import verdict


# --- PodDisruptionBudget ----------------------------------------------------------------------------------

def setup_web3(view):
    kube.create(view.context, view.namespace, deployment("web", 3, GOOD_IMAGE, {"app": "web"}))
    view.settle("deployment", lambda ds: any(rolled_out(d) for d in ds), "web's 3 pods to be available",
                quiet=30, cap=90)


def _counted(pdbs: list[dict]) -> bool:
    return any((p.get("status") or {}).get("observedGeneration") == readers.meta(p).get("generation") for p in pdbs)


def check_pdb(view):
    pdb = view.require("poddisruptionbudget", "web-pdb")
    _, pdbs = view.settle("poddisruptionbudget", _counted, "the disruption controller to count web-pdb's pods",
                          quiet=10, cap=30, field_selector="metadata.name=web-pdb")
    pdb = pdbs[0] if pdbs else pdb
    spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
    rule = ", ".join(f"{k}: {spec[k]}" for k in ("minAvailable", "maxUnavailable") if k in spec) or "no rule"
    found = [f"PodDisruptionBudget web-pdb ({rule}, selector {(spec.get('selector') or {}).get('matchLabels')}): "
             f"expectedPods {status.get('expectedPods', 0)}, currentHealthy {status.get('currentHealthy', 0)}, "
             f"disruptionsAllowed {status.get('disruptionsAllowed', 0)}"]
    problems = []
    if not status.get("expectedPods"):
        problems.append("the budget's selector matches none of web's pods (they are labelled app: web): a budget "
                        "protects only the pods its selector picks")
    elif status.get("expectedPods") != 3:
        problems.append(f"the budget counts {status.get('expectedPods')} pods, not web's 3")
    elif status.get("disruptionsAllowed") != 1:
        problems.append(f"the budget allows {status.get('disruptionsAllowed')} eviction(s) at once with 3 healthy pods;"
                        " the task allows exactly one (maxUnavailable: 1, or minAvailable: 2)"
                        + (": with none allowed, a drain can never finish" if not status.get("disruptionsAllowed") else ""))
    return verdict("pdb", problems, found, "voluntary disruptions can take at most one web pod at a time")


register(Task(
    id="pdb", topic="disruptions", minutes=3, title="A PodDisruptionBudget",
    statement="""
In namespace {ns}, the Deployment `web` runs 3 pods. Create a PodDisruptionBudget named `web-pdb` so
that voluntary disruptions (a drain, an eviction) may take down one of web's pods at a time, never two.
""",
    setup=setup_web3,
    check=check_pdb,
    hint="kubectl create pdb NAME --selector=app=web --max-unavailable=1 (or --min-available=2)",
    imperative="""
kubectl create poddisruptionbudget web-pdb --selector=app=web --max-unavailable=1
""",
    declarative="""
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web-pdb
spec:
  minAvailable: 2
  selector:
    matchLabels:
      app: web
""",
    sources=("pkg/controller/disruption/disruption.go:813-850", "pkg/controller/disruption/disruption.go:996-1003"),
    lab_cell="labs/12-disruptions.ipynb, cell budget-predict: A PodDisruptionBudget makes a drain wait",
))


# --- cordon and drain -----------------------------------------------------------------------------------

MAINTAINED = "kjlab-worker2"


def setup_drain(view):
    d = deployment("web", 4, GOOD_IMAGE, {"app": "web"})
    # spread over both workers, so the node to drain has pods to move
    d["spec"]["template"]["spec"]["topologySpreadConstraints"] = [{
        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app": "web"}}}]
    kube.create(view.context, view.namespace, d)
    view.settle("deployment", lambda ds: any(rolled_out(x) for x in ds), "web's 4 pods to be available",
                quiet=30, cap=90)
    ensure_web_on(view, MAINTAINED)


def _web_on(pods: list[dict], node: str) -> list[dict]:
    return [p for p in pods if readers.node_name(p) == node and readers.phase(p) == "Running"]


def ensure_web_on(view, node: str) -> None:
    """ScheduleAnyway only prefers a spread: when no web pod landed on ``node``, move one there (the
    other worker cordoned while the Deployment replaces a deleted pod), since the statement says it has some."""
    if _web_on(view.list("pod", "app=web"), node):
        return
    other = "kjlab-worker" if node != "kjlab-worker" else MAINTAINED
    core = kube.core(view.context)
    quiet = Actor(view.context, echo=False)  # the task's setup: nothing printed
    ops.cordon(quiet, other)
    try:
        for pod in [p for p in view.list("pod", "app=web") if readers.node_name(p) == other][:1]:
            core.delete_namespaced_pod(readers.name(pod), view.namespace, grace_period_seconds=0)
        ok, _ = view.settle("pod", lambda ps: bool(_web_on(ps, node)), f"a web pod to run on {node}",
                            quiet=30, cap=60, label_selector="app=web")
    finally:
        ops.uncordon(quiet, other)
    if not ok:
        raise KjlabError(f"the drain task's setup could not run a web pod on {node}",
                         "look with: kjlab kubectl get pods -A -o wide; then kjlab practice reset")


def uncordon_workers(context: str) -> None:
    """Both workers: a learner may have cordoned or drained the wrong one."""
    for node in ("kjlab-worker", MAINTAINED):
        ops.uncordon(Actor(context, echo=False), node)


def check_drain(view):
    node = view.node(MAINTAINED)
    problems, found = [], []
    left = [p for p in view.list("pod", "app=web") if readers.node_name(p) == MAINTAINED and not readers.ended(p)]
    found.append(f"node {MAINTAINED}: unschedulable={bool(readers.unschedulable(node))}; web pods still on it: "
                 f"{len(left)}")
    if not readers.unschedulable(node):
        problems.append(f"{MAINTAINED} is schedulable: new pods can still land on it (kubectl cordon, or drain, "
                        "which cordons first, sets spec.unschedulable)")
    if left:
        problems.append(f"web pods still run on {MAINTAINED}: {', '.join(readers.name(p) for p in left)}; a cordon "
                        "only stops new pods, `kubectl drain` also evicts the ones there")
    if not problems:
        _, ds = view.settle("deployment", lambda ds: any(rolled_out(x) for x in ds), "web's 4 pods to run elsewhere",
                            quiet=20, cap=60, field_selector="metadata.name=web")
        s = (ds[0] if ds else {}).get("status") or {}
        found.append(f"web: {s.get('availableReplicas', 0)} of 4 pods available")
        if not ds or not rolled_out(ds[0]):
            problems.append("web does not have its 4 pods available on the other nodes")
    return verdict("drain", problems, found, f"{MAINTAINED} is cordoned and web's pods run elsewhere")


register(Task(
    id="drain", topic="disruptions", minutes=3, title="Cordon and drain a node",
    statement=f"""
Node `{MAINTAINED}` needs maintenance. Make sure no new pods are scheduled on it and move the pods it
runs (the Deployment `web` in namespace {{ns}} has some there) to other nodes. Leave the node in that
state (kjlab practice reset undoes it).
""",
    setup=setup_drain,
    cleanup=uncordon_workers,
    check=check_drain,
    hint="kubectl drain NODE --ignore-daemonsets (it cordons, then evicts). It refuses a node that also runs "
         "a pod with emptyDir data (--delete-emptydir-data accepts losing it) or a pod no controller owns "
         "(--force deletes it for good: nothing recreates it); its error names those pods.",
    imperative=f"""
kubectl drain {MAINTAINED} --ignore-daemonsets --delete-emptydir-data --timeout=90s
""",
    declarative=f"""
# a node's schedulability is declared in its spec (this is what cordon sets); the pods on it are then
# evicted one by one (kubectl drain does both)
kubectl patch node {MAINTAINED} -p '{{"spec":{{"unschedulable":true}}}}'
kubectl drain {MAINTAINED} --ignore-daemonsets --delete-emptydir-data --timeout=90s
""",
    sources=("k8s.io/kubectl@v0.36.4 pkg/drain/cordon.go:63-90", "k8s.io/kubectl@v0.36.4 pkg/drain/filters.go"),
))


# --- taints and tolerations ---------------------------------------------------------------------------

TAINTED = "kjlab-worker"
TAINT = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}


# The node's labels when the task began: a right answer may label the node (kubectl label node ... +
# a nodeSelector), and the task's cleanup puts the labels back as they were.
LABELS_BEFORE = "kjlab.practice/labels-before-task"


def setup_taint(view):
    node = view.node(TAINTED)
    if LABELS_BEFORE not in readers.annotations(node):
        kube.core(view.context).patch_node(TAINTED, {"metadata": {"annotations": {
            LABELS_BEFORE: json.dumps(readers.labels(node), sort_keys=True)}}})
    ops.taint(Actor(view.context, echo=False), TAINTED, TAINT["key"], TAINT["value"], TAINT["effect"])


def untaint(context: str) -> None:
    ops.untaint(Actor(context, echo=False), TAINTED, TAINT["key"], TAINT["effect"])
    restore_labels(context)


def restore_labels(context: str) -> None:
    """Put the tainted node's labels back as setup found them (labels the learner added go)."""
    core = kube.core(context)
    node = kube.raw(core.read_node, TAINTED)
    before = readers.annotations(node).get(LABELS_BEFORE)
    if before is None:
        return
    labels = json.loads(before)
    changed = {k: None for k in readers.labels(node) if k not in labels}
    changed.update({k: v for k, v in labels.items() if readers.labels(node).get(k) != v})
    metadata = {"annotations": {LABELS_BEFORE: None}}
    if changed:  # (labels: None would remove every label)
        metadata["labels"] = changed
    core.patch_node(TAINTED, {"metadata": metadata})


def tolerates(toleration: dict, taint: dict) -> bool:
    """k8s.io/api core/v1 Toleration.ToleratesTaint (without the numeric operators)."""
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    op = toleration.get("operator") or "Equal"
    return op == "Exists" or (op == "Equal" and (toleration.get("value") or "") == taint.get("value", ""))


def _requirement(req: dict, values: dict) -> bool:
    """One NodeSelectorRequirement against a node's labels (or fields) --
    k8s.io/component-helpers@v0.36.4 scheduling/corev1/nodeaffinity/nodeaffinity.go."""
    key, op, wanted = req.get("key"), req.get("operator"), req.get("values") or []
    if op == "In":
        return key in values and values[key] in wanted
    if op == "NotIn":
        return key not in values or values[key] not in wanted
    if op == "Exists":
        return key in values
    if op == "DoesNotExist":
        return key not in values
    if op in ("Gt", "Lt") and key in values and len(wanted) == 1:
        try:
            have, limit = int(values[key]), int(wanted[0])
        except ValueError:
            return False
        return have > limit if op == "Gt" else have < limit
    return False


def admits(pod: dict, node: dict) -> bool:
    """The pod's nodeSelector and required node affinity allow ``node`` (terms are ORed, the
    requirements of a term ANDed; matchFields knows metadata.name; an empty term matches nothing)."""
    spec = pod.get("spec") or {}
    labels = readers.labels(node)
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    fields = {"metadata.name": readers.name(node)}
    return any((t.get("matchExpressions") or t.get("matchFields"))
               and all(_requirement(e, labels) for e in t.get("matchExpressions") or [])
               and all(_requirement(f, fields) for f in t.get("matchFields") or [])
               for t in required.get("nodeSelectorTerms") or [])


def node_name_written(pod: dict) -> bool:
    """Whether a writer of the pod set its spec.nodeName (the learner pinned it). The scheduler's binding
    writes nodeName straight into storage, past the field managers (pkg/registry/core/pod/storage/
    storage.go:230, BindingREST.setPodNodeAndMetadata), and the field cannot be changed by an update: so
    ``f:nodeName`` in a managedFields entry means the pod was created with it. Unlike the scheduler's
    Scheduled event, which is written a moment after the binding, this is there as soon as the pod is.
    (A server-side apply owns every field it sends: applying a dump of a scheduled pod, nodeName and
    all, counts as pinning it -- the learner did write nodeName then.)"""
    return any("f:nodeName" in (((e.get("fieldsV1") or {}).get("f:spec")) or {})
               for e in readers.meta(pod).get("managedFields") or [])


def pinned_node(pod: dict) -> str | None:
    """The node the learner pinned the pod to with spec.nodeName, or None (a node the scheduler chose)."""
    return (pod.get("spec") or {}).get("nodeName") if node_name_written(pod) else None


def allowed_nodes(pod: dict, nodes: list[dict]) -> list[str]:
    """The nodes the pod's own spec lets it run on: its spec.nodeName when the learner set it (no
    scheduler placed the pod), else every node its nodeSelector and required node affinity admit."""
    pinned = pinned_node(pod)
    return sorted(readers.name(n) for n in nodes
                  if (pinned is None or readers.name(n) == pinned) and admits(pod, n))


def check_toleration(view):
    pod = view.require("pod", "batch-runner")
    spec = pod.get("spec") or {}
    problems = []
    ok_tol = any(tolerates(t, TAINT) for t in spec.get("tolerations") or [])
    if not ok_tol:
        problems.append(f"no toleration of the pod matches the taint {TAINT['key']}={TAINT['value']}:{TAINT['effect']} "
                        "(key, value with operator Equal -- or Exists -- and effect)")
    # spec.nodeName is also where the scheduler binds a pod: it ties the pod only when the learner set it
    allowed = allowed_nodes(pod, view.nodes())
    pinned = pinned_node(pod)
    if pinned and pinned != TAINTED:
        problems.append(f"its spec.nodeName pins it to {pinned}, not {TAINTED}")
    elif allowed != [TAINTED]:
        where = (f"it is on {readers.node_name(pod)} because the scheduler chose it" if readers.node_name(pod)
                 else "it is not scheduled yet")
        problems.append(f"nothing in the pod ties it to {TAINTED}: its nodeSelector and node affinity allow "
                        f"{', '.join(allowed) or 'no node'} ({where}); a toleration only allows a node, it does "
                        "not choose it; use a nodeSelector (kubernetes.io/hostname) or node affinity that only "
                        "this node matches")
    found = []
    if not problems:
        _, pods = view.settle("pod", lambda ps: any(readers.phase(p) == "Running" for p in ps),
                              "batch-runner to run", quiet=15, cap=45, field_selector="metadata.name=batch-runner")
        pod = pods[0] if pods else pod
    found.append(f"pod batch-runner: phase {readers.phase(pod)}, node {readers.node_name(pod)}")
    if readers.phase(pod) != "Running" or readers.node_name(pod) != TAINTED:
        problems.append(f"the pod does not run on {TAINTED}")
        unscheduled = [e for e in view.events(uid=readers.uid(pod)) if e.get("reason") == "FailedScheduling"]
        if unscheduled:
            found.append(f"the scheduler said: {unscheduled[-1].get('message')}")
    return verdict("taint-toleration", problems, found, f"batch-runner tolerates the taint and runs on {TAINTED}")


register(Task(
    id="taint-toleration", topic="disruptions", minutes=4, title="Taints and tolerations",
    statement=f"""
Node `{TAINTED}` is reserved for batch work: it carries the taint `dedicated=batch:NoSchedule`. In
namespace {{ns}}, create a pod named `batch-runner` (image `bash:5`, command `sleep 3600`) that
runs on `{TAINTED}`. Do not remove the taint.
""",
    setup=setup_taint,
    cleanup=untaint,
    check=check_toleration,
    hint="a toleration (key dedicated, operator Equal, value batch, effect NoSchedule) plus a nodeSelector "
         "kubernetes.io/hostname: " + TAINTED,
    imperative=f"""
kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{{"spec":{{"nodeSelector":{{"kubernetes.io/hostname":"{TAINTED}"}},"tolerations":[{{"key":"dedicated","operator":"Equal","value":"batch","effect":"NoSchedule"}}]}}}}' --command -- sleep 3600
""",
    declarative=f"""
apiVersion: v1
kind: Pod
metadata:
  name: batch-runner
spec:
  nodeSelector:
    kubernetes.io/hostname: {TAINTED}
  tolerations:
  - key: dedicated
    operator: Exists
    effect: NoSchedule
  containers:
  - name: batch-runner
    image: bash:5
    command: ["sleep", "3600"]
""",
    sources=("pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go:131",
             "k8s.io/api@v0.36.4 core/v1/toleration.go:52-77"),
    lab_cell="labs/12-disruptions.ipynb, cell taint-predict: A NoExecute taint evicts the pods that do not tolerate it",
))


# --- priority -------------------------------------------------------------------------------------------

PRIORITY_CLASS = "practice-urgent"


def delete_priority_class(context: str) -> None:
    """The task's PriorityClass is cluster-scoped: it goes with the task (only that name)."""
    try:
        client.SchedulingV1Api(kube.api_client(context)).delete_priority_class(PRIORITY_CLASS)
    except client.ApiException as e:
        if e.status != 404:
            raise


def check_priority(view):
    api = client.SchedulingV1Api(kube.api_client(view.context))
    try:
        pc = kube.raw(api.read_priority_class, PRIORITY_CLASS)
    except client.ApiException as e:
        if e.status != 404:
            raise
        pc = None
    pod = view.require("pod", "urgent")
    spec = pod.get("spec") or {}
    problems = []
    found = [f"PriorityClass {PRIORITY_CLASS}: " + (f"value {pc.get('value')}" if pc else "missing"),
             f"pod urgent: priorityClassName {spec.get('priorityClassName')}, priority {spec.get('priority')}"]
    if pc is None:
        problems.append(f"there is no PriorityClass {PRIORITY_CLASS} (it is cluster-scoped: no namespace)")
    elif pc.get("value") != 1000000:
        problems.append(f"the PriorityClass's value is {pc.get('value')}, the task asks for 1000000")
    if spec.get("priorityClassName") != PRIORITY_CLASS:
        problems.append(f"the pod's priorityClassName is {spec.get('priorityClassName')}: its priority was set "
                        "from that class when it was created (without one, from the globalDefault PriorityClass, "
                        "else 0); priority cannot be changed on a pod, so delete and create it again")
    return verdict("priority", problems, found, f"pod urgent runs with priority {spec.get('priority')}")


register(Task(
    id="priority", topic="disruptions", minutes=3, title="A PriorityClass",
    statement=f"""
Create a PriorityClass named `{PRIORITY_CLASS}` with value 1000000, then, in namespace {{ns}}, a pod
named `urgent` (image `bash:5`, command `sleep infinity`) that runs with that priority.
""",
    cleanup=delete_priority_class,
    check=check_priority,
    hint="kubectl create priorityclass NAME --value=N; the pod's spec.priorityClassName names it.",
    imperative=f"""
kubectl create priorityclass {PRIORITY_CLASS} --value=1000000
kubectl run urgent --image=bash:5 --overrides='{{"spec":{{"priorityClassName":"{PRIORITY_CLASS}"}}}}' --command -- sleep infinity
""",
    declarative=f"""
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: {PRIORITY_CLASS}
value: 1000000
---
apiVersion: v1
kind: Pod
metadata:
  name: urgent
spec:
  priorityClassName: {PRIORITY_CLASS}
  containers:
  - name: urgent
    image: bash:5
    command: ["sleep", "infinity"]
""",
    sources=("plugin/pkg/admission/priority/admission.go:180", "plugin/pkg/admission/priority/admission.go:298"),
    lab_cell="labs/12-disruptions.ipynb, cell preempt-predict: Scheduler preemption",
))
