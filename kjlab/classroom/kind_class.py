"""A multi-node kind cluster to try a class on Kubernetes on one machine (and to test the chart on):
one control plane and N workers from the same node image as `kjlab up --engine kind`, under a name
of its own (``kjlab-class``), so it lives beside the lab cluster and never replaces it.

Used by tests/classroom_k8s and bench/class_on_kind.py; an instructor can call it too:
``python -m kjlab.classroom.kind_class up`` then ``kjlab class up --kubernetes kind-kjlab-class``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kjlab.classroom.kube import lists_image
from kjlab.cluster import kind, tools
from kjlab.errors import KjlabError
from kjlab.paths import state_dir

NAME = "kjlab-class"
CONTEXT = f"kind-{NAME}"


def kubeconfig() -> Path:
    """The class cluster's own kubeconfig (kind writes the context there; kjlab's lab kubeconfig is left alone)."""
    return state_dir() / "kind-class.kubeconfig"


def _kind() -> str:
    return str(kind.ensure_kind(lambda *_: None))


def nodes() -> list[str]:
    out = subprocess.run(["docker", "ps", "--filter", f"label=io.x-k8s.kind.cluster={NAME}", "--format", "{{.Names}}"],
                         capture_output=True, text=True, timeout=60).stdout
    return sorted(out.split())


def exists() -> bool:
    out = subprocess.run([_kind(), "get", "clusters"], capture_output=True, text=True, timeout=60).stdout
    return NAME in out.split()


def up(workers: int = 3, progress=print) -> float:
    """Create the cluster unless it is there with ``workers`` workers; returns the seconds it took (0 if reused)."""
    # reused only with its kubeconfig here: a cluster left by another state directory is made anew
    if exists() and len(nodes()) == workers + 1 and kubeconfig().exists():
        progress(f"reusing the kind cluster {NAME} ({len(nodes())} nodes)")
        return 0.0
    if exists():
        down(progress)
    prepared = kind.prepare(progress)
    config = kind.kind_config(workers, prepared.restrictions)
    started = time.monotonic()
    progress(f"kind create cluster --name {NAME} (1 control plane, {workers} workers, {prepared.image.ref})")
    proc = subprocess.run([str(prepared.kind), "create", "cluster", "--name", NAME, "--image", prepared.image.ref,
                           "--kubeconfig", str(kubeconfig()), "--wait", "0s", "--config", "-"],
                          input=config, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise KjlabError(f"kind create cluster --name {NAME} failed: {proc.stderr.strip()[-600:]}",
                         "kjlab doctor shows what the kind engine needs; then try again")
    return time.monotonic() - started


def placement(image: str, workers: list[str], node_list: list[dict] | None) -> tuple[list[str], list[str]]:
    """(the workers ``image`` must be loaded into, the workers that have it already), from the Nodes'
    status.images. The kubelet lists there each image's repo digests then tags, up to 5 names, for the
    50 largest images (kubelet nodestatus/setters.go Images, MaxNamesPerImageInNodeStatus; the
    NodeStatusMaxImages default in kubelet/apis/config/v1beta1/defaults.go), refreshed from the runtime
    every 30 s (images/image_gc_manager.go Start): a classroom image (a GB) is among those, and one not
    listed yet -- a Node not registered, a load a moment ago, no Node list at all (None) -- is loaded
    again, which costs time, never a class. The tags are content keys, so name:tag is the image."""
    have = {node["metadata"]["name"] for node in node_list or [] if lists_image(node, image)}
    return [w for w in workers if w not in have], [w for w in workers if w in have]


def node_list(progress=print) -> list[dict] | None:
    """The class cluster's Nodes as the API serves them (plain dicts), or None, said in one line, when
    it cannot be asked (then every worker is loaded)."""
    from kubernetes import client, config

    try:
        api = config.new_client_from_config(config_file=str(kubeconfig()), context=CONTEXT)
        with api:
            reply = client.CoreV1Api(api).list_node(_preload_content=False, _request_timeout=30)
            return json.loads(reply.data)["items"]
    except Exception as e:  # no kubeconfig yet, API not answering, ...: loading everywhere is always right
        why = (str(e).splitlines() or [type(e).__name__])[0][:200]
        progress(f"could not list the {NAME} Nodes to see which have the images already ({why}); "
                 "loading into every worker")
        return None


def load(images: list[str], progress=print) -> dict[str, float]:
    """`kind load docker-image` each image into the workers that lack it; the seconds each took (0 when
    every worker had it). Images not on a registry reach a kind cluster only this way; learner and
    hub pods never run on the control plane, which kind taints NoSchedule, so it is left out. kind
    itself skips a node holding the same image ID only by asking the node's crictl, which the offline
    node image has not: without this check every worker got the 1.46 GB learner image again (~3 min)."""
    workers = [n for n in nodes() if not n.endswith("-control-plane")]
    listed = node_list(progress)
    took = {}
    for image in images:
        todo, have = placement(image, workers, listed)
        if have:
            progress(f"{image} is already on {', '.join(have)}")
        if not todo:
            took[image] = 0.0
            continue
        started = time.monotonic()
        progress(f"loading {image} into {', '.join(todo)} (kind load docker-image)")
        proc = subprocess.run([_kind(), "load", "docker-image", image, "--name", NAME, "--nodes", ",".join(todo)],
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise KjlabError(f"kind load docker-image {image} failed: {proc.stderr.strip()[-400:]}",
                             f"docker image inspect {image} (build it: tools/classroom/build.sh all)")
        took[image] = time.monotonic() - started
        progress(f"  loaded in {took[image]:.0f}s")
    loaded = [image for image in images if took.get(image)]
    if loaded:
        await_listed(loaded, workers, progress)
    return took


def await_listed(images: list[str], workers: list[str], progress=print, quiet: float = 90,
                 poll: float = 3) -> bool:
    """Wait until every worker's Node lists each of ``images`` in status.images, which is what
    `kjlab class up`'s preflight reads. A kubelet refreshes its image list from the runtime every 30 s
    (images/image_gc_manager.go Start) and then patches its Node status, so a load a moment ago is not
    listed yet (a class up right after the load was refused for it, at load ~20). The wait ends when all
    are listed or when no further worker has listed one for ``quiet`` seconds; says what it waits for."""
    started = last_change = time.monotonic()
    best = -1
    said = 0.0
    while True:
        missing = {image: placement(image, workers, node_list(lambda _: None))[0] for image in images}
        count = sum(len(todo) for todo in missing.values())
        if count == 0:
            progress(f"every worker lists {', '.join(images)} ({time.monotonic() - started:.0f}s)")
            return True
        now = time.monotonic()
        if best < 0 or count < best:
            best, last_change = count, now
        if now - last_change > quiet:
            progress("not yet listed after a wait: " + "; ".join(f"{i} on {', '.join(t)}" for i, t in missing.items() if t)
                     + " (kjlab class up's preflight will say so)")
            return False
        if now - said >= 15:
            said = now
            progress("waiting for the kubelets to list the loaded images in their Node status (they refresh "
                     f"every 30 s): {count} image/worker pair(s) to go")
        time.sleep(poll)


def offline_nodes() -> bool:
    """Do the class cluster's nodes run kjlab's offline node image? Its kindnetd is a stand-in that
    routes pods and enforces no NetworkPolicy (tools/kind/kindnetd); the published image's kindnetd
    enforces it where the kernel has nft_queue. A node container carries its image's labels."""
    for node in nodes():
        out = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "io.kjlab.local-build"}}', node],
                             capture_output=True, text=True, timeout=60).stdout.strip()
        if out == "true":
            return True
    return False


MANIFEST = Path(__file__).with_name("kube-router.yaml")
NETPOL_BUILD = Path(__file__).resolve().parents[2] / "tools" / "classroom" / "build.sh"  # in a checkout


def netpol_image() -> str:
    """Build (or find cached) the netpol image, ``tools/classroom/build.sh netpol``; its name. The
    script's progress lines pass through to stderr; a failure is one KjlabError naming its last line."""
    built = subprocess.run(["bash", str(NETPOL_BUILD), "netpol"], stdout=subprocess.PIPE, text=True, timeout=3600)
    if built.returncode != 0 or not built.stdout.split():
        raise KjlabError(f"{NETPOL_BUILD} netpol failed (its lines above)",
                         "run it alone to see why; without it the class cluster enforces no NetworkPolicy")
    return built.stdout.split()[-1]


def enforce_network_policy(image: str, progress=print, quiet: float = 120, poll: float = 2) -> str:
    """Make the class cluster enforce NetworkPolicy when its network does not: on kjlab's offline node
    image, load ``image`` (tools/classroom/build.sh netpol: kube-router's firewall alone) into the
    workers and run it as a DaemonSet there (kube-router.yaml); wait until every worker's kube-router
    is Ready (its first policy sync has begun: the readiness probe in kube-router.yaml), bounded by progress: it
    gives up when no further one has become Ready for ``quiet`` seconds. Returns one line saying
    which engine enforces the class's NetworkPolicy."""
    if not offline_nodes():
        return ("NetworkPolicy: left to the nodes' own kindnetd (the published node image), which enforces it "
                "where the kernel has nftables' nft_queue")
    load([image], progress)
    kubectl = [str(tools.kubectl_path()), "--kubeconfig", str(kubeconfig()), "--context", CONTEXT, "-n", "kube-system"]
    applied = subprocess.run([*kubectl, "apply", "-f", "-"], input=MANIFEST.read_text().replace("@IMAGE@", image),
                             capture_output=True, text=True, timeout=120)
    if applied.returncode != 0:
        raise KjlabError(f"kubectl apply of {MANIFEST.name} failed: {applied.stderr.strip()[-400:]}",
                         f"kubectl --context {CONTEXT} -n kube-system get ds kube-router shows what is there")
    started = last_change = said = time.monotonic()
    best = -1
    while True:
        got = subprocess.run([*kubectl, "get", "ds", "kube-router", "-o", "json"], capture_output=True, text=True, timeout=60)
        status = json.loads(got.stdout).get("status", {}) if got.returncode == 0 else {}
        want, ready = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
        now = time.monotonic()
        if want and ready == want and status.get("updatedNumberScheduled", 0) == want:
            return (f"NetworkPolicy: enforced by kube-router's firewall on {want} worker(s) "
                    f"({image}, Ready in {now - started:.0f}s), as the nodes' kindnetd stand-in enforces none")
        if ready > best:
            best, last_change = ready, now
        if now - last_change > quiet:
            pods = subprocess.run([*kubectl, "get", "pods", "-l", "k8s-app=kube-router", "-o", "wide"],
                                  capture_output=True, text=True, timeout=60).stdout
            raise KjlabError(f"kube-router: {ready} of {want} Ready, none more for {quiet:.0f}s:\n{pods}",
                             f"kubectl --context {CONTEXT} -n kube-system logs ds/kube-router")
        if now - said >= 15:
            said = now
            progress(f"waiting for kube-router (NetworkPolicy) to be Ready on every worker: {ready} of {want or '?'}")
        time.sleep(poll)


def down(progress=print) -> None:
    if not exists():
        return
    progress(f"kind delete cluster --name {NAME}")
    subprocess.run([_kind(), "delete", "cluster", "--name", NAME, "--kubeconfig", str(kubeconfig())],
                   capture_output=True, text=True, timeout=600)


def environment() -> dict[str, str]:
    """An environment whose kubectl and helm find the class cluster's context."""
    return {**os.environ, "KUBECONFIG": str(kubeconfig())}


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "up"
    if command == "up":
        up()
        if offline_nodes():  # the chart's NetworkPolicy needs an enforcer there (enforce_network_policy)
            print(enforce_network_policy(netpol_image()))
        print(f"context {CONTEXT} in {kubeconfig()} (KUBECONFIG={kubeconfig()})")
    elif command == "down":
        down()
    else:
        sys.exit("usage: python -m kjlab.classroom.kind_class up|down")
