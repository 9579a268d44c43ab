"""Practice tasks on Deployments: roll back a broken rollout, labels and selectors.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- `kubectl rollout undo` copies the previous ReplicaSet's pod template back into the Deployment,
  which starts a rollout like any template change -- k8s.io/kubectl@v0.36.4
  pkg/polymorphichelpers/rollback.go:99-160;
- a Deployment is rolled out when updatedReplicas, availableReplicas and replicas agree for its
  observed generation (what `kubectl rollout status` waits for) -- k8s.io/kubectl@v0.36.4
  pkg/polymorphichelpers/rollout_status.go:59-92;
- a Service's endpoints are the pods its selector matches (a label set: every key and value) --
  pkg/controller/endpointslice/endpointslice_controller.go:406.
"""

from __future__ import annotations

from kjlab.api import kube, readers
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.verdicts import verdict

GOOD_IMAGE = "bash:5"
BAD_IMAGE = "bsah:5"  # a typo: no such repository, so its pods wait in ErrImagePull / ImagePullBackOff


def deployment(name: str, replicas: int, image: str, labels: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": name, "image": image, "command": ["sleep", "infinity"]}]}}}}


def rolled_out(d: dict) -> bool:
    s, spec = d.get("status") or {}, d.get("spec") or {}
    want = spec.get("replicas", 1)
    return (s.get("observedGeneration", 0) >= readers.meta(d).get("generation", 0)
            and s.get("updatedReplicas", 0) == want and s.get("availableReplicas", 0) == want
            and s.get("replicas", 0) == want)


def _image(d: dict) -> str:
    return d["spec"]["template"]["spec"]["containers"][0].get("image", "")


# --- rollout undo ------------------------------------------------------------------------------------

def setup_broken_rollout(view):
    kube.create(view.context, view.namespace, deployment("web", 3, GOOD_IMAGE, {"app": "web"}))
    view.settle("deployment", lambda ds: any(rolled_out(d) for d in ds), "web's first rollout", quiet=30, cap=90)
    kube.apps(view.context).patch_namespaced_deployment(
        "web", view.namespace, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": BAD_IMAGE}]}}}})
    view.settle("pod", lambda pods: any(readers.waiting_in(p, ("ErrImagePull", "ImagePullBackOff")) for p in pods),
                "the broken revision's first pod to fail its image pull", quiet=30, cap=60, label_selector="app=web")


def check_undo(view):
    d = view.require("deployment", "web")
    problems = []
    found = [f"Deployment web: image {_image(d)}, replicas {d['spec'].get('replicas')}"]
    if _image(d) != GOOD_IMAGE:
        problems.append(f"the pod template's image is {_image(d)!r}; the last working revision ran {GOOD_IMAGE!r} "
                        "(`kubectl rollout history deployment web` lists the revisions, `kubectl rollout undo` "
                        "goes back to the previous one)")
    if d["spec"].get("replicas") != 3:
        problems.append(f"replicas is {d['spec'].get('replicas')}: the service needs its 3 pods back")
    if not problems:
        _, ds = view.settle("deployment", lambda ds: any(rolled_out(x) for x in ds), "web to be rolled out",
                            quiet=20, cap=90, field_selector="metadata.name=web")
        if not ds or not rolled_out(ds[0]):
            s = (ds[0] if ds else d).get("status") or {}
            problems.append(f"the rollout has not finished: updated {s.get('updatedReplicas', 0)}, available "
                            f"{s.get('availableReplicas', 0)} of 3")
    stuck = [readers.name(p) for p in view.list("pod", "app=web")
             if readers.waiting_in(p, ("ErrImagePull", "ImagePullBackOff")) and not readers.deleting(p)]
    if stuck:
        found.append(f"pods still failing to pull their image: {', '.join(stuck)}")
    return verdict("deploy-undo", problems, found, f"web is rolled back to {GOOD_IMAGE} and all 3 pods are available")


register(Task(
    id="deploy-undo", topic="deployments", minutes=3, title="Roll back a broken rollout",
    statement="""
In namespace {ns}, the last change to the Deployment `web` broke it: its new pods cannot start.
Roll `web` back to the revision that worked, and make sure the rollout finishes.
""",
    setup=setup_broken_rollout,
    check=check_undo,
    hint="kubectl rollout history deployment web; kubectl rollout undo deployment web; kubectl rollout status ...",
    imperative="""
kubectl rollout undo deployment web
kubectl rollout status deployment web --timeout=60s
""",
    declarative=f"""
# the working template again (kubectl apply -f); `rollout undo` does the same from revision history
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
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
    sources=("k8s.io/kubectl@v0.36.4 pkg/polymorphichelpers/rollback.go:99-160",
             "k8s.io/kubectl@v0.36.4 pkg/polymorphichelpers/rollout_status.go:59-92"),
))


# --- labels and selectors ------------------------------------------------------------------------------

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
           "spec": {"selector": {"app": "api", "tier": "backend"}, "ports": [{"port": 80, "targetPort": 80}]}}


def setup_service(view):
    kube.core(view.context).create_namespaced_service(view.namespace, SERVICE)


def _ready(slices: list[dict]) -> int:
    return sum(1 for s in slices for e in s.get("endpoints") or [] if (e.get("conditions") or {}).get("ready"))


def _ready_endpoints(view) -> int:
    """Service api's ready endpoints, once the EndpointSlice controller has caught up with the pods
    (it updates the slices after the pods turn ready, so a single read right after the rollout can
    still see fewer)."""
    _, slices = view.settle("endpointslice", lambda ss: _ready(ss) >= 2, "Service api's 2 ready endpoints",
                            quiet=10, cap=30, label_selector="kubernetes.io/service-name=api")
    return _ready(slices)


def check_labels(view):
    d = view.require("deployment", "api")
    labels = (d["spec"]["template"].get("metadata") or {}).get("labels") or {}
    want = SERVICE["spec"]["selector"]
    problems = []
    found = [f"Deployment api: replicas {d['spec'].get('replicas')}, pod labels {labels}, "
             f"selector {d['spec']['selector'].get('matchLabels')}"]
    missing = {k: v for k, v in want.items() if labels.get(k) != v}
    if missing:
        problems.append(f"Service api selects pods labelled {want}; the Deployment's pods lack {missing}, so the "
                        "Service has no endpoints for them (a selector matches only pods that carry all its labels)")
    if d["spec"].get("replicas") != 2:
        problems.append(f"replicas is {d['spec'].get('replicas')}: the task asks for 2")
    if not problems:
        view.settle("deployment", lambda ds: any(rolled_out(x) for x in ds), "api's 2 pods to be available",
                    quiet=20, cap=60, field_selector="metadata.name=api")
        n = _ready_endpoints(view)
        found.append(f"Service api has {n} ready endpoint(s)")
        if n != 2:
            problems.append("the Service does not have the Deployment's 2 pods as ready endpoints")
    return verdict("deploy-labels", problems, found, "Service api sends traffic to the Deployment's 2 pods")


register(Task(
    id="deploy-labels", topic="deployments", minutes=3, title="Labels a Service selects",
    statement="""
In namespace {ns}, the Service `api` already exists. Create a Deployment named `api` with 2 replicas
of the image `bash:5` running `sleep infinity`, whose pods are the Service's endpoints. Do not change
the Service.
""",
    setup=setup_service,
    check=check_labels,
    hint="kubectl describe service api shows its selector; the pod template's labels must include all of it.",
    imperative="""
kubectl create deployment api --image=bash:5 --replicas=2 --dry-run=client -o yaml -- sleep infinity > d.yaml
kubectl patch --local -f d.yaml --type=merge -p '{"spec":{"template":{"metadata":{"labels":{"app":"api","tier":"backend"}}}}}' -o yaml | kubectl create -f -
""",
    declarative="""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
      tier: backend
  template:
    metadata:
      labels:
        app: api
        tier: backend
    spec:
      containers:
      - name: api
        image: bash:5
        command: ["sleep", "infinity"]
""",
    sources=("pkg/controller/endpointslice/endpointslice_controller.go:406",),
))
