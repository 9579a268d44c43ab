"""More practice tasks on workload controllers: a rolling update's maxSurge/maxUnavailable, scaling a
Deployment, a DaemonSet on every node, deleting a ReplicaSet but keeping its pods.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- a Deployment's strategy defaults to RollingUpdate with maxSurge and maxUnavailable 25% --
  pkg/apis/apps/v1/defaults.go:34-62; maxSurge rounds up and maxUnavailable rounds down against
  replicas (both 0 makes maxUnavailable 1) -- pkg/controller/deployment/util/deployment_util.go:887-905;
  a rollout asks its ReplicaSets for at most replicas + maxSurge pods in all and keeps at least
  replicas - maxUnavailable available -- pkg/controller/deployment/rolling.go:68-130, 193-204,
  deployment_util.go:820-870 (pods themselves may briefly number one more: the ReplicaSet controller
  deletes an old pod in its own time while the new ReplicaSet's pod is created); Recreate scales every old
  ReplicaSet to 0 before it creates the new pods -- pkg/controller/deployment/recreate.go:30-60;
  `kubectl rollout restart` sets the template annotation kubectl.kubernetes.io/restartedAt, a template
  change that starts a rollout -- k8s.io/kubectl@v0.36.4 pkg/polymorphichelpers/objectrestarter.go:40-60;
- the Deployment controller sets its ReplicaSets' replicas from the Deployment's own (a ReplicaSet
  scaled by hand is scaled back) -- pkg/controller/deployment/sync.go:307-340;
- a DaemonSet runs a pod on each node whose taints its pod template tolerates (NoSchedule and
  NoExecute) -- pkg/controller/daemon/daemon_controller.go:1378-1412; the controller adds tolerations
  for the node-condition taints (not-ready, unreachable, pressure, unschedulable), not for the
  control plane's node-role.kubernetes.io/control-plane:NoSchedule --
  pkg/controller/daemon/util/daemonset_util.go:48-100;
- `kubectl delete --cascade=orphan` deletes with propagationPolicy Orphan: the garbage collector
  removes the owner's ownerReferences from its dependents, which stay -- k8s.io/kubectl@v0.36.4
  pkg/cmd/delete/delete_flags.go:239-251, pkg/controller/garbagecollector/garbagecollector.go:683;
  background (the default) deletes the dependents -- a ReplicaSet's pods.
"""

from __future__ import annotations

import datetime as dt

from kjlab.api import kube, readers
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.tasks.deployments import GOOD_IMAGE, deployment, rolled_out
from kjlab.practice.tasks.disruptions import tolerates
from kjlab.practice.verdicts import verdict

SETUP = "practice-setup"  # a ConfigMap of what the setup made (uids), to tell it from objects made again


def _rolled_out(name: str):
    return lambda ds: any(readers.name(d) == name and rolled_out(d) for d in ds)


def setup_web(view, replicas: int) -> None:
    kube.create(view.context, view.namespace, deployment("web", replicas, GOOD_IMAGE, {"app": "web"}))
    view.settle("deployment", _rolled_out("web"), f"web's {replicas} pods to be available", quiet=30, cap=90)


def scaled(value, replicas: int, round_up: bool) -> int | None:
    """An int-or-percent against ``replicas`` as the controller resolves it (GetScaledValueFromIntOrPercent)."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = int(value[:-1])
        except ValueError:
            return None
        whole, rest = divmod(pct * replicas, 100)
        return whole + (1 if round_up and rest else 0)
    return None


def fenceposts(strategy: dict, replicas: int) -> tuple[int | None, int | None]:
    """(maxSurge, maxUnavailable) resolved for ``replicas`` (deployment_util.go:887-905)."""
    rolling = strategy.get("rollingUpdate") or {}
    surge = scaled(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = scaled(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


# --- rolling update strategy --------------------------------------------------------------------------

def setup_rolling(view):
    setup_web(view, 4)


def check_rolling(view):
    d = view.require("deployment", "web")
    spec = d.get("spec") or {}
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    replicas = spec.get("replicas")
    found = [f"Deployment web: replicas {replicas}, strategy {strategy.get('type')}, maxSurge "
             f"{rolling.get('maxSurge')}, maxUnavailable {rolling.get('maxUnavailable')}"]
    problems = []
    if replicas != 4:
        problems.append(f"replicas is {replicas}: web keeps its 4 pods")
    if strategy.get("type") != "RollingUpdate":
        problems.append(f"the strategy is {strategy.get('type')}: Recreate deletes every old pod before it creates "
                        "the new ones, so for a moment no pod is available")
    else:
        surge, unavailable = fenceposts(strategy, replicas or 0)
        if unavailable != 0:
            problems.append(f"maxUnavailable is {rolling.get('maxUnavailable')}, which resolves to {unavailable} of "
                            f"{replicas} pods (rounded down): a rollout may then leave {(replicas or 0) - (unavailable or 0)} "
                            "available; the task keeps all 4 available (0)")
        if surge != 1:
            problems.append(f"maxSurge is {rolling.get('maxSurge')}, which resolves to {surge} extra pod(s) "
                            "(rounded up); the task allows exactly one extra pod at a time")
    if problems:
        return verdict("deploy-rolling", problems, found, "")
    # The check rolls it out, as `kubectl rollout restart` does, and watches the counts.
    print("check: restarting web (template annotation kubectl.kubernetes.io/restartedAt) to watch a rollout",
          flush=True)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    kube.raw(kube.apps(view.context).patch_namespaced_deployment, "web", view.namespace,
             {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}})
    bounds = RolloutBounds(now)
    ok, _ = view.settle("replicaset", bounds.done, "web's rollout to finish", quiet=20, cap=90,
                        label_selector="app=web")
    found.append(f"during the rollout: at least {bounds.min_available} pod(s) available, at most "
                 f"{bounds.max_replicas} pod(s) asked of web's ReplicaSets in all")
    if not ok:
        problems.append("the rollout did not finish")
    if bounds.min_available < 4 or bounds.max_replicas > 5:
        problems.append("expected at least 4 available and at most 5 pods asked throughout the rollout")
    return verdict("deploy-rolling", problems, found,
                   "the rollout kept all 4 pods available with at most one extra pod")


class RolloutBounds:
    """The extremes of a rollout as web's ReplicaSets show them, one watch event at a time.

    maxSurge bounds the sum of the ReplicaSets' ``spec.replicas`` -- the Deployment controller's own
    decisions (NewRSNewReplicas counts GetReplicaCountForReplicaSets, deployment_util.go:820-839 and
    674-681). The Deployment's ``status.replicas`` sums the ReplicaSets' *statuses*, each written by the
    ReplicaSet controller in its own time, so mid-rollout it can count an old ReplicaSet's pods that
    are already asked to go (6 of 4 + 1 was seen on a busy machine; pods themselves may also briefly
    number 6, which maxSurge does not forbid). One watch of ReplicaSets delivers
    their changes in order, so each event's sum is the state at that moment. ``availableReplicas``
    is summed the same way: an old ReplicaSet is scaled down only after the new one's status shows
    available pods (rolling.go:86-130, 193-204), so that sum never dips below what the controller
    allowed."""

    def __init__(self, restarted_at: str, replicas: int = 4):
        self.restarted_at, self.replicas = restarted_at, replicas
        self.min_available, self.max_replicas = replicas, replicas

    def _is_new(self, rs: dict) -> bool:
        template = ((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}
        return (template.get("annotations") or {}).get("kubectl.kubernetes.io/restartedAt") == self.restarted_at

    def done(self, replica_sets: list[dict]) -> bool:
        """Take in the ReplicaSets as they are now; True once the new one has all its pods available
        and the old ones have no active pod (status.replicas counts no terminating pod,
        replica_set_utils.go:119-138; terminating ones may remain)."""
        asked = sum((rs.get("spec") or {}).get("replicas", 0) for rs in replica_sets)
        available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in replica_sets)
        self.max_replicas = max(self.max_replicas, asked)
        self.min_available = min(self.min_available, available)
        new = [rs for rs in replica_sets if self._is_new(rs)]
        old = [rs for rs in replica_sets if not self._is_new(rs)]
        return bool(new) and all((rs.get("status") or {}).get("availableReplicas", 0) == self.replicas
                                 and (rs.get("spec") or {}).get("replicas") == self.replicas for rs in new) \
            and all((rs.get("spec") or {}).get("replicas", 0) == 0 and (rs.get("status") or {}).get("replicas", 0) == 0
                    for rs in old)


register(Task(
    id="deploy-rolling", topic="deployments", minutes=3, title="A rolling update that never loses capacity",
    statement="""
In namespace {ns}, the Deployment `web` runs 4 pods. Change how it rolls out: during an update, all 4
pods must stay available (never fewer), and the rollout may ask for at most one pod beyond the 4 at a
time. Keep 4 replicas. The check then restarts `web` and watches the rollout.
""",
    setup=setup_rolling,
    check=check_rolling,
    hint="spec.strategy.rollingUpdate.maxSurge and .maxUnavailable (numbers or percentages of replicas).",
    imperative="""
kubectl patch deployment web -p '{"spec":{"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}'
""",
    declarative=f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 4
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: {GOOD_IMAGE}
        command: ["sleep", "infinity"]
""",
    sources=("pkg/controller/deployment/util/deployment_util.go:887-905", "pkg/controller/deployment/rolling.go:68-130",
             "pkg/apis/apps/v1/defaults.go:34-62"),
    lab_cell="labs/15-rollouts-and-scheduling.ipynb, cell surge-md: Pause, resume, and how percentages round",
))


# --- scale -------------------------------------------------------------------------------------------------

def setup_scale(view):
    setup_web(view, 2)


def check_scale(view):
    d = view.require("deployment", "web")
    replicas = (d.get("spec") or {}).get("replicas")
    found = [f"Deployment web: replicas {replicas}"]
    problems = []
    if replicas != 5:
        owned = [r for r in view.list("replicaset", "app=web")
                 if (readers.controller_of(r) or {}).get("name") == "web"]
        problems.append(f"replicas is {replicas}: the task asks the Deployment for 5"
                        + ("; scaling its ReplicaSet does not last: the Deployment controller sets the ReplicaSet's "
                           "replicas back to the Deployment's" if owned else ""))
        return verdict("deploy-scale", problems, found, "")
    ok, ds = view.settle("deployment", _rolled_out("web"), "web's 5 pods to be available", quiet=20, cap=60,
                         field_selector="metadata.name=web")
    s = (ds[0] if ds else d).get("status") or {}
    found.append(f"web: {s.get('availableReplicas', 0)} of 5 pods available")
    if not ok:
        problems.append("web does not have 5 available pods")
    return verdict("deploy-scale", problems, found, "web runs 5 available pods")


register(Task(
    id="deploy-scale", topic="deployments", minutes=1, title="Scale a Deployment",
    statement="""
In namespace {ns}, the Deployment `web` runs 2 pods. Make it run 5, for good (the change must not be
undone by a controller).
""",
    setup=setup_scale,
    check=check_scale,
    hint="kubectl scale deployment NAME --replicas=N (scale the Deployment, not its ReplicaSet).",
    imperative="""
kubectl scale deployment web --replicas=5
""",
    declarative=f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 5
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: {GOOD_IMAGE}
        command: ["sleep", "infinity"]
""",
    sources=("pkg/controller/deployment/sync.go:307-340",),
    lab_cell="labs/11-controllers.ipynb, cell cell-17: A Deployment rolls out, and back",
))


# --- DaemonSet on every node ----------------------------------------------------------------------------

def _untolerated(node: dict, tolerations: list[dict]) -> list[dict]:
    return [t for t in (node.get("spec") or {}).get("taints") or []
            if t.get("effect") in ("NoSchedule", "NoExecute") and not any(tolerates(x, t) for x in tolerations)]


def check_daemonset(view):
    ds = view.require("daemonset", "log-agent")
    nodes = view.nodes()
    names = sorted(readers.name(n) for n in nodes)
    template = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    problems = []
    for node in nodes:
        missed = _untolerated(node, template.get("tolerations") or [])
        if missed:
            taint = missed[0]
            problems.append(f"no pod on {readers.name(node)}: the pod template does not tolerate its taint "
                            f"{taint['key']}{'=' + taint['value'] if taint.get('value') else ''}:{taint['effect']} "
                            "(the DaemonSet controller adds tolerations for node conditions, not this one)")
    if problems:
        return verdict("daemonset-everywhere", problems, [f"nodes: {', '.join(names)}"], "")

    def everywhere(dss: list[dict]) -> bool:
        s = (dss[0].get("status") or {}) if dss else {}
        return s.get("desiredNumberScheduled") == len(nodes) and s.get("numberReady") == len(nodes)

    ok, dss = view.settle("daemonset", everywhere, f"log-agent's pods to be ready on all {len(nodes)} nodes",
                          quiet=20, cap=60, field_selector="metadata.name=log-agent")
    on = sorted({readers.node_name(p) for p in view.list("pod")
                 if (readers.controller_of(p) or {}).get("name") == "log-agent" and readers.phase(p) == "Running"})
    found = [f"DaemonSet log-agent: pods running on {', '.join(on) or 'no node'} (nodes: {', '.join(names)})"]
    if not ok or on != names:
        problems.append(f"expected one running pod on each of the {len(nodes)} nodes")
    return verdict("daemonset-everywhere", problems, found, "log-agent runs one pod on every node, control plane included")


register(Task(
    id="daemonset-everywhere", topic="deployments", minutes=4, title="A DaemonSet on every node",
    statement="""
In namespace {ns}, create a DaemonSet named `log-agent` (image `bash:5`, command `sleep infinity`)
that runs one pod on every node of the cluster, the control-plane node included.
""",
    check=check_daemonset,
    hint="kubectl create has no daemonset: start from `kubectl create deployment --dry-run=client -o yaml`. "
         "kubectl describe node shows the taints a pod must tolerate.",
    imperative="""
kubectl create deployment log-agent --image=bash:5 --dry-run=client -o yaml -- sleep infinity > ds.yaml
sed -i -e 's/^kind: Deployment/kind: DaemonSet/' -e '/^  replicas:/d' -e '/^  strategy:/d' -e '/^status:/d' ds.yaml
kubectl patch --local -f ds.yaml --type=merge -o yaml -p '{"spec":{"template":{"spec":{"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"}]}}}}' | kubectl create -f -
""",
    declarative="""
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: log-agent
spec:
  selector:
    matchLabels:
      app: log-agent
  template:
    metadata:
      labels:
        app: log-agent
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      containers:
      - name: log-agent
        image: bash:5
        command: ["sleep", "infinity"]
""",
    sources=("pkg/controller/daemon/daemon_controller.go:1378-1412", "pkg/controller/daemon/util/daemonset_util.go:48-100"),
    lab_cell="labs/15-rollouts-and-scheduling.ipynb, cell daemon-md: The tolerations the DaemonSet controller adds",
))


# --- delete a ReplicaSet, keep its pods ------------------------------------------------------------------

LEGACY = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "legacy", "labels": {"app": "legacy"}},
          "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "legacy"}},
                   "template": {"metadata": {"labels": {"app": "legacy"}}, "spec": {
                       "terminationGracePeriodSeconds": 1,
                       "containers": [{"name": "legacy", "image": GOOD_IMAGE, "command": ["sleep", "infinity"]}]}}}}


def _three_running(pods: list[dict]) -> bool:
    return sum(readers.phase(p) == "Running" and not readers.deleting(p) for p in pods) >= 3


def setup_orphan(view):
    kube.create(view.context, view.namespace, LEGACY)
    _, pods = view.settle("pod", _three_running, "legacy's 3 pods to run", quiet=30, cap=60, label_selector="app=legacy")
    kube.core(view.context).create_namespaced_config_map(view.namespace, {
        "metadata": {"name": SETUP}, "data": {"pod-uids": " ".join(sorted(readers.uid(p) for p in pods))}})


def _owned_by_legacy(pod: dict) -> bool:
    return any(o.get("kind") == "ReplicaSet" and o.get("name") == "legacy"
               for o in readers.meta(pod).get("ownerReferences") or [])


def check_orphan(view):
    uids = kube.raw(kube.core(view.context).read_namespaced_config_map, SETUP, view.namespace)["data"]["pod-uids"].split()
    rs = view.get("replicaset", "legacy")
    problems = []
    if rs is not None:
        problems.append(f"ReplicaSet legacy still exists (replicas {(rs.get('spec') or {}).get('replicas')}): the task "
                        "asks to delete it")
    # the garbage collector removes the ownerReferences after an orphaning delete: wait for it
    _, pods = view.settle("pod", lambda ps: not any(_owned_by_legacy(p) for p in ps) or rs is not None,
                          "the garbage collector to release legacy's pods", quiet=10, cap=30, label_selector="app=legacy")
    kept = [p for p in pods if readers.uid(p) in uids and not readers.deleting(p) and readers.phase(p) == "Running"]
    found = [f"legacy's 3 pods: {len(kept)} still running"
             + (f" ({', '.join(readers.name(p) for p in kept)})" if kept else "")]
    if len(kept) != 3:
        problems.append(f"{3 - len(kept)} of legacy's pods were deleted (or are being deleted): deleting the ReplicaSet "
                        "the default way (cascade background) deletes its pods with it; --cascade=orphan keeps them")
    still = [readers.name(p) for p in kept if _owned_by_legacy(p)]
    if still and rs is None:
        problems.append(f"pods {', '.join(still)} still name ReplicaSet legacy as their owner")
    return verdict("rs-orphan", problems, found, "ReplicaSet legacy is gone and its 3 pods run on, ownerless")


register(Task(
    id="rs-orphan", topic="deployments", minutes=2, title="Delete a ReplicaSet, keep its pods",
    statement="""
In namespace {ns}, the ReplicaSet `legacy` runs 3 pods. Delete the ReplicaSet, but keep its 3 pods
running (the same pods: another controller will adopt them later).
""",
    setup=setup_orphan,
    check=check_orphan,
    hint="kubectl delete has a flag that chooses what happens to the dependents of what it deletes.",
    imperative="""
kubectl delete replicaset legacy --cascade=orphan
""",
    declarative="""
# delete what a file declares, orphaning its dependents
kubectl get replicaset legacy -o yaml > rs.yaml
kubectl delete -f rs.yaml --cascade=orphan
""",
    sources=("k8s.io/kubectl@v0.36.4 pkg/cmd/delete/delete_flags.go:239-251",
             "pkg/controller/garbagecollector/garbagecollector.go:683"),
    lab_cell="labs/11-controllers.ipynb, cell cell-07: Take a pod out of the ReplicaSet by relabelling it",
))
