"""A multi-node kind cluster to try a class on Kubernetes on one machine (and to test the chart on):
one control plane and N workers from the same node image as `kjlab up --engine kind`, under a name
of its own (``kjlab-class``), so it lives beside the lab cluster and never replaces it.

Used by tests/classroom_k8s and bench/class_on_kind.py; an instructor can call it too:
``python -m kjlab.classroom.kind_class up`` then ``kjlab class up --kubernetes kind-kjlab-class``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kjlab.cluster import kind
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


def load(images: list[str], progress=print) -> dict[str, float]:
    """`kind load docker-image` each image into every worker; the seconds each took (images not on a
    registry reach a kind cluster only this way; learner and hub pods never run on the control plane,
    which kind taints NoSchedule, so it is left out: a quarter less to copy)."""
    workers = ",".join(n for n in nodes() if not n.endswith("-control-plane"))
    took = {}
    for image in images:
        started = time.monotonic()
        progress(f"loading {image} into the {NAME} nodes (kind load docker-image)")
        proc = subprocess.run([_kind(), "load", "docker-image", image, "--name", NAME, "--nodes", workers],
                              capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise KjlabError(f"kind load docker-image {image} failed: {proc.stderr.strip()[-400:]}",
                             f"docker image inspect {image} (build it: tools/classroom/build.sh all)")
        took[image] = time.monotonic() - started
        progress(f"  loaded in {took[image]:.0f}s")
    return took


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
        print(f"context {CONTEXT} in {kubeconfig()} (KUBECONFIG={kubeconfig()})")
    elif command == "down":
        down()
    else:
        sys.exit("usage: python -m kjlab.classroom.kind_class up|down")
