"""`kjlab class up|down --kubernetes CONTEXT`: the class's hub on a Kubernetes cluster (issue 29).

`up` checks what it can before anything changes (one line each, with the fix): a context that
looks like production, a bad class-list line, no default StorageClass, a locally built image that
no node has. Then it gives each new learner a password (the sheet stays on this machine, the
salted hashes go to the chart), runs `helm upgrade --install` of kjlab/classroom/chart, and waits
for the hub and the proxy to be Ready, printing a line whenever their state changes and giving up
only when nothing changed for a while. `down` uninstalls the chart and stops the learners' pods;
their volumes (and the hub's database) stay unless --delete-volumes."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from pathlib import Path

from kjlab.classroom import accounts, auth
from kjlab.classroom.k8s_hub import merged
from kjlab.cluster import kubectl, provider
from kjlab.errors import KjlabError
from kjlab.paths import REPO_DIR, cache_dir, state_dir

CHART = Path(__file__).with_name("chart")
DEFAULT_NAMESPACE = "kjlab-class"
DEFAULT_RELEASE = "kjlab"
PRODUCTION_FLAG = "--i-know-this-is-production"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"  # k8s.io/api/storage/v1 annotation
# Images under this name are built on the instructor's machine (tools/classroom/build.sh): no
# registry serves them, so a node can only run them when they were loaded onto it.
LOCAL_REGISTRY = "kjlab.local"
# An image pull shows no new state for a while; a hub stuck that long is reported (a test shortens it).
STALL_SECONDS = float(os.environ.get("KJLAB_CLASS_STALL_SECONDS", "300"))


def looks_like_production(context: str) -> bool:
    """A context name with a word starting with "prod" (prod, production, prod-eu, gke_x_prod1)."""
    return any(word.startswith("prod") for word in re.split(r"[^a-z0-9]+", context.lower()) if word)


def refuse_production(context: str, allowed: bool) -> None:
    if looks_like_production(context) and not allowed:
        raise KjlabError(f"the context {context!r} looks like a production cluster; a class's hub, its learners' pods "
                         "and volumes do not belong there",
                         f"use a cluster for teaching, or add {PRODUCTION_FLAG} if this one is meant for it")


def storage_problem(storage_classes: list[dict], wanted: str | None) -> str | None:
    """Why learners' PVCs would stay Pending, in one line (None: they can bind)."""
    names = [sc["metadata"]["name"] for sc in storage_classes]
    if wanted:
        return None if wanted in names else (
            f"singleuser.storage.storageClass is {wanted!r}, which this cluster does not have "
            f"(it has: {', '.join(names) or 'none'}); fix: set it to one of those")
    defaults = [sc["metadata"]["name"] for sc in storage_classes
                if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    if defaults:
        return None
    fix = (f"mark one default: kubectl annotate storageclass {names[0]} {DEFAULT_CLASS}=true"
           if names else "install a provisioner (kind has local-path; a cloud has its CSI driver) and mark its "
                         f"StorageClass default ({DEFAULT_CLASS}=true)")
    return (f"the cluster has no default StorageClass, so the learners' volumes and the hub's database would stay "
            f"Pending; fix: {fix}, or set singleuser.storage.storageClass and hub.db.pvc.storageClassName")


def normalised(image: str) -> str:
    """An image reference as a container runtime lists it (docker.io/library/ for short names)."""
    first, _, rest = image.partition("/")
    if not rest:
        return f"docker.io/library/{image}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{image}"
    return image


def lists_image(node: dict, image: str) -> bool:
    """Whether the Node's status.images names ``image`` (as the runtime names it)."""
    names = {normalised(n) for img in (node.get("status") or {}).get("images") or [] for n in img.get("names") or []}
    return normalised(image) in names


def image_problem(image: str, nodes: list[dict], what: str, cluster_hint: str) -> str | None:
    """A locally built image must be on every schedulable node already (nothing can pull it)."""
    if not image.startswith(LOCAL_REGISTRY + "/"):
        return None  # a registry's image: only a pull can tell (up watches the hub's pod for pull errors)
    lacking = []
    for node in nodes:
        if node.get("spec", {}).get("unschedulable"):
            continue
        if "node-role.kubernetes.io/control-plane" in (node["metadata"].get("labels") or {}) and len(nodes) > 1:
            continue  # kubeadm's control plane is tainted NoSchedule: learners never land there
        if not lists_image(node, image):
            lacking.append(node["metadata"]["name"])
    if not lacking:
        return None
    return (f"the {what} image {image} is not on node(s) {', '.join(lacking)}, and no registry serves "
            f"{LOCAL_REGISTRY}; fix: {cluster_hint.format(image=image)}, or push it to a registry the nodes pull "
            f"from and set {'singleuser' if what == 'learner' else 'hub'}.image.name/tag (an image loaded a moment "
            "ago is listed in the Node's status.images within about 40 s: the kubelet refreshes that list every 30 s)")


def class_values(class_text: str, hashes: dict, images: dict[str, str]) -> dict:
    """The values `up` passes before the instructor's own (which win): the class list, the password
    hashes and the images' tags."""
    values: dict = {"hub": {"classList": class_text, "passwordHashes": hashes}}
    for key, image in images.items():  # {"hub": "kjlab.local/hub:k", "singleuser": ...}
        name, _, tag = image.rpartition(":")
        values = merged(values, {key: {"image": {"name": name, "tag": tag}}})
    return values


# tools/classroom/build.sh records what it built here (tools/classroom/built.py: the format)
BUILT_RECORD = Path("classroom") / "built.json"
WHICH = {"hub": "hub", "singleuser": "learner"}  # chart values key -> build.sh's image


def built_images(root: Path = REPO_DIR, record: Path | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The images tools/classroom/build.sh last built from the tree at ``root`` -- what the nodes were
    given --, by values key ({"hub": ..., "singleuser": ...}), and for each whose files changed since,
    a one-line note naming them. Not what the tree would build now: after an edit that image exists
    nowhere. Nothing recorded (never built, or kjlab installed without its repo): empty."""
    script = root / "tools" / "classroom" / "built.py"
    if not script.exists():
        return {}, {}
    built = _load_script(script)
    entries = built.recorded(record or cache_dir() / BUILT_RECORD, root)
    images, notes = {}, {}
    for key, which in WHICH.items():
        entry = entries.get(which)
        if not entry:
            continue
        images[key] = entry["image"]
        files = built.changed(entry, root)
        if files:
            named = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
            notes[key] = (f"the tree changed since {entry['image']} was built ({named}): the class gets the image "
                          "as built; rebuild with tools/classroom/build.sh all (and load it onto the nodes) "
                          "to include the change")
    return images, notes


def _load_script(path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("kjlab_classroom_built", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def deployment_state(deployment: dict) -> tuple[bool, str]:
    """(rolled out and Ready, a short phrase) from a Deployment's status."""
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    want = spec.get("replicas", 1)
    done = (status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
            and status.get("updatedReplicas", 0) == want and status.get("readyReplicas", 0) == want
            and status.get("replicas", 0) == want)
    return done, f"{status.get('readyReplicas', 0)}/{want} ready"


REVISION = "deployment.kubernetes.io/revision"  # the Deployment controller's annotation (deployment/util)


def current_pods(pods: list[dict], replicasets: list[dict], deployments) -> list[dict]:
    """The pods of each Deployment's current revision: an upgrade's old pod, on its way out, is
    not the one whose image or crash matters now."""
    hashes = set()
    for d in deployments:
        revision = (d["metadata"].get("annotations") or {}).get(REVISION)
        for rs in replicasets:
            owners = {o.get("name") for o in rs["metadata"].get("ownerReferences") or []}
            if d["metadata"]["name"] in owners and (rs["metadata"].get("annotations") or {}).get(REVISION) == revision:
                hashes.add((rs["metadata"].get("labels") or {}).get("pod-template-hash"))
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")
            and (p["metadata"].get("labels") or {}).get("pod-template-hash") in hashes]


def pod_state(pod: dict) -> tuple[str, str | None]:
    """(a short phrase for a progress line, a problem needing the instructor or None)."""
    status = pod.get("status", {})
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"):
            return reason, (f"the node cannot get the image {cs.get('image')} ({reason}: "
                            f"{(waiting.get('message') or '').strip()[:200]})")
        if reason == "CrashLoopBackOff":
            return reason, f"the container {cs['name']} keeps crashing"
        if reason:
            return reason, None
        if cs.get("ready"):
            return "Ready", None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"Pending ({(cond.get('message') or cond.get('reason') or '')[:160]})", None
    return status.get("phase", "Pending"), None


class Cluster:
    """kubectl and helm on one context and namespace (the instructor's kubeconfig, and kjlab's)."""

    def __init__(self, context: str, namespace: str, release: str = DEFAULT_RELEASE):
        self.context, self.namespace, self.release = context, namespace, release

    def kubectl(self, *args: str, timeout: float = 60) -> str:
        code, out = kubectl.run(["--context", self.context, *args], self.context, timeout=timeout)
        if code != 0:
            raise KjlabError(f"kubectl {' '.join(args)} on {self.context}: {out.strip()[-300:]}",
                             f"check that the context {self.context} reaches its cluster (kubectl --context "
                             f"{self.context} get nodes)")
        return out

    def json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json"))

    def helm(self, *args: str, timeout: float = 600) -> str:
        proc = subprocess.run([helm_path(), "--kube-context", self.context, "--namespace", self.namespace, *args],
                              capture_output=True, text=True, env=kubectl.environment(), timeout=timeout)
        if proc.returncode != 0:
            raise KjlabError(f"helm {args[0]} failed: {proc.stderr.strip()[-500:]}",
                             "read helm's message above; `helm lint kjlab/classroom/chart` checks the chart")
        return proc.stdout


def helm_path() -> str:
    """$KJLAB_HELM, else the pinned helm built by tools/classroom/helm.sh (cached after the first build)."""
    if os.environ.get("KJLAB_HELM"):
        return os.environ["KJLAB_HELM"]
    script = REPO_DIR / "tools" / "classroom" / "helm.sh"
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise KjlabError(f"could not build helm: {proc.stderr.strip()[-300:]}",
                         "run bash tools/classroom/helm.sh and read its message, or set KJLAB_HELM to a helm v3 binary")
    return proc.stdout.strip().splitlines()[-1]


def class_dir(context: str, namespace: str) -> Path:
    """Where the password hashes and the sheet to hand out are kept on the instructor's machine."""
    return state_dir() / "classroom" / re.sub(r"[^A-Za-z0-9._-]", "_", f"{context}__{namespace}")


def preflight(cl: Cluster, values: dict, progress=print) -> None:
    storage = storage_problem(cl.json("get", "storageclass")["items"],
                              values.get("singleuser", {}).get("storage", {}).get("storageClass"))
    if storage:
        raise KjlabError(storage)
    nodes = cl.json("get", "nodes")["items"]
    hint = provider.image_load_hint(cl.context)
    for key, what in (("singleuser", "learner"), ("hub", "hub")):
        ref = values.get(key, {}).get("image", {})
        if not ref.get("tag"):
            raise KjlabError(f"no {what} image: {key}.image.tag is empty",
                             f"build it (tools/classroom/build.sh {what}) or pass --values with {key}.image.name/tag")
        problem = image_problem(f"{ref['name']}:{ref['tag']}", nodes, what, hint)
        if problem:
            raise KjlabError(problem)
    progress(f"preflight: default StorageClass, images on {len(nodes)} node(s): fine")


def up(context: str, class_list: Path | None, namespace: str = DEFAULT_NAMESPACE, release: str = DEFAULT_RELEASE,
       values_files: tuple[Path, ...] = (), production_ok: bool = False, progress=print) -> dict:
    import yaml

    started = time.monotonic()
    refuse_production(context, production_ok)
    user_values: dict = {}
    for path in values_files:
        try:
            user_values = merged(user_values, yaml.safe_load(path.read_text()) or {})
        except (OSError, yaml.YAMLError) as e:
            raise KjlabError(f"cannot read the values file {path}: {e}",
                             "pass a YAML file like the chart's values.yaml")
    class_text, hashes, new = "", {}, {}
    directory = class_dir(context, namespace)
    if class_list is not None:
        learners = accounts.read_class_list(class_list)  # a bad line stops here, before any change
        class_text = class_list.read_text()
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        adopt_hashes(Cluster(context, namespace, release), directory, progress)
        new = auth.ensure_passwords(learners, directory)
        hashes = json.loads((directory / "passwords.json").read_text())
        hashes = {lr.login: hashes[lr.login] for lr in learners}
    elif not user_values.get("hub", {}).get("config", {}).get("JupyterHub", {}).get("authenticator_class"):
        raise KjlabError("no class list and no other login configured",
                         "pass --class-list FILE, or a --values file with hub.config.JupyterHub.authenticator_class "
                         "(kjlab/classroom/chart/README.md: OAuth)")
    images, notes = built_images()
    ours = class_values(class_text, hashes, images)
    values = merged(ours, user_values)
    for key, note in notes.items():  # only for an image the instructor's values did not replace
        ref = values.get(key, {}).get("image", {})
        if f"{ref.get('name')}:{ref.get('tag')}" == images[key]:
            progress(note)
    cl = Cluster(context, namespace, release)
    preflight(cl, merged(_chart_defaults(), values), progress)

    directory.mkdir(parents=True, exist_ok=True)
    generated = directory / "values.json"  # holds hashes only, yet root-readable only like the sheet
    auth._write_private(generated, json.dumps(ours, indent=1))
    t0 = time.monotonic()
    progress(f"helm upgrade --install {release} into {context}/{namespace}")
    cl.helm("upgrade", "--install", release, str(CHART), "--create-namespace",
            "-f", str(generated), *[a for p in values_files for a in ("-f", str(p))])
    progress(f"  helm applied the chart in {time.monotonic() - t0:.1f}s")
    wait_ready(cl, progress)
    installed = time.monotonic() - t0
    url = reach(cl)
    progress(f"the class's hub is Ready ({installed:.0f}s after helm; {time.monotonic() - started:.0f}s in all): {url}")
    if new:
        progress(f"new passwords for {len(new)} learner(s) are in {directory / 'passwords-to-hand-out.txt'} "
                 "(only yours to read; hand each learner their line)")
    return {"url": url, "install_seconds": installed, "new_passwords": len(new), "state": directory}


def adopt_hashes(cl: Cluster, directory: Path, progress=print) -> None:
    """A class installed from another machine (or whose state here was removed) keeps its learners'
    passwords: the hashes in the cluster's Secret become this machine's, so only newcomers get new ones."""
    mine = directory / "passwords.json"
    if mine.exists():
        return
    code, out = kubectl.run(["--context", cl.context, "get", "secret", "hub", "-n", cl.namespace,
                             "-o", "jsonpath={.data.passwords\\.json}"], cl.context, timeout=60)
    if code != 0 or not out.strip():
        return  # no class here yet
    hashes = json.loads(base64.b64decode(out.strip()) or b"{}")
    if hashes:
        auth._write_private(mine, json.dumps(hashes, indent=1))
        progress(f"kept the passwords of {len(hashes)} learner(s) already in {cl.context}/{cl.namespace} "
                 "(their sheet is where the class was first installed)")


def _chart_defaults() -> dict:
    import yaml

    return yaml.safe_load((CHART / "values.yaml").read_text())


def rollout_line(deployments: dict, pods: list) -> tuple[str, bool, tuple[dict, str] | None]:
    """One reading of the hub and the proxy: (the progress line, both rolled out and Ready, the first
    pod with a problem needing the instructor and that problem, or None)."""
    parts, ready, found = [], True, None
    for name in ("hub", "proxy"):
        done, phrase = deployment_state(deployments[name]) if name in deployments else (False, "not created")
        ready = ready and done
        states = []
        for pod in pods:
            if (pod["metadata"].get("labels") or {}).get("app.kubernetes.io/component") != name:
                continue
            state, problem = pod_state(pod)
            if problem and not found:
                found = (pod, f"{name} pod {pod['metadata']['name']}: {problem}")
            states.append(state)
        parts.append(f"{name} {phrase}" + (f" ({', '.join(states)})" if states and not done else ""))
    return "; ".join(parts), ready, found


def wait_ready(cl: Cluster, progress=print, stall: float | None = None, poll: float = 2.0) -> None:
    """Until the hub and proxy Deployments are rolled out and Ready. A line each time their state
    changes; a failure when a pod cannot get its image or keeps crashing, or nothing changes for
    ``stall`` seconds. The line is printed before the failure, so the instructor always sees what
    was read (on a loaded machine the first reading can already hold the failed pull)."""
    stall = STALL_SECONDS if stall is None else stall
    selector = f"app.kubernetes.io/instance={cl.release},app.kubernetes.io/name=kjlab-classroom"
    last, changed = "", time.monotonic()
    while True:
        deployments = {d["metadata"]["name"]: d for d in cl.json("get", "deployments", "-n", cl.namespace,
                                                                 "-l", selector)["items"]}
        pods = current_pods(cl.json("get", "pods", "-n", cl.namespace, "-l", selector)["items"],
                            cl.json("get", "replicasets", "-n", cl.namespace, "-l", selector)["items"],
                            deployments.values())
        line, ready, found = rollout_line(deployments, pods)
        if line != last:
            progress(f"  waiting for the hub and the proxy: {line}")
            last, changed = line, time.monotonic()
        if found:
            pod, problem = found
            raise KjlabError(problem, _problem_fix(cl, pod, problem))
        if ready:
            return
        if time.monotonic() - changed > stall:
            raise KjlabError(f"the hub did not become Ready: nothing changed for {stall:.0f}s ({line})",
                             f"kubectl --context {cl.context} -n {cl.namespace} describe pods -l {selector}")
        time.sleep(poll)


def _problem_fix(cl: Cluster, pod: dict, problem: str) -> str:
    if "image" in problem:
        return ("build the images (tools/classroom/build.sh all) and load them onto the nodes (kind load docker-image "
                "IMAGE), or push them to a registry the nodes pull from and set hub.image / singleuser.image")
    return f"kubectl --context {cl.context} -n {cl.namespace} logs {pod['metadata']['name']} --previous"


def reach(cl: Cluster) -> str:
    """How to open the hub: the load balancer's address, else a port-forward (kind, bare clusters)."""
    svc = cl.json("get", "service", "proxy-public", "-n", cl.namespace)
    ingress = (svc.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        return f"http://{ingress[0].get('ip') or ingress[0].get('hostname')}/"
    return (f"http://127.0.0.1:8000/ after `kubectl --context {cl.context} -n {cl.namespace} "
            "port-forward svc/proxy-public 8000:80` (proxy.service.type=LoadBalancer on a cloud gives an address)")


def down(context: str, namespace: str = DEFAULT_NAMESPACE, release: str = DEFAULT_RELEASE,
         delete_volumes: bool = False, production_ok: bool = False, progress=print) -> None:
    refuse_production(context, production_ok)
    cl = Cluster(context, namespace, release)
    if release in cl.helm("list", "-q").split():
        cl.helm("uninstall", release)
        progress(f"uninstalled {release} from {context}/{namespace}")
    else:
        progress(f"no release {release} in {context}/{namespace}")
    learners = f"component=singleuser-server,app.kubernetes.io/instance={release}"
    cl.kubectl("delete", "pods", "-n", namespace, "-l", learners, "--ignore-not-found", "--wait=false")
    claims = f"component=singleuser-storage,app.kubernetes.io/instance={release}"  # KubeSpawner's PVC labels
    if delete_volumes:
        cl.kubectl("delete", "pvc", "-n", namespace, "-l", claims, "--ignore-not-found", "--wait=false")
        cl.kubectl("delete", "pvc", "-n", namespace, "hub-db-dir", "--ignore-not-found", "--wait=false")
        progress("deleted the learners' volumes and the hub's database")
    else:
        kept = cl.json("get", "pvc", "-n", namespace, "-l", claims)["items"]
        progress(f"kept {len(kept)} learner volume(s) and the hub's database (hub-db-dir): "
                 "kjlab class up resumes the class; --delete-volumes removes them")


def report_json(context: str, namespace: str = DEFAULT_NAMESPACE) -> dict:
    """The class report computed in the hub pod, from the verdicts the learners posted to it."""
    cl = Cluster(context, namespace)
    out = cl.kubectl("exec", "-n", namespace, "deploy/hub", "-c", "hub", "--",
                     "kjlab", "class", "report", "--state", "/srv/jupyterhub", "--json", timeout=120)
    return json.loads(out[out.index("{"):])
