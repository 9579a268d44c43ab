"""The kind engine, for laptops with Docker: one control plane and N workers in containers.

Node image of the same Kubernetes minor as the kwok engine. The images the labs use are
pulled once and loaded into the nodes with `kind load docker-image`, so the labs work offline
and the same images are pullable on both engines (kjlab.cluster.stages.PULLABLE_IMAGES).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import yaml

from kjlab.cluster import tools
from kjlab.cluster.engine import CLUSTER_NAME
from kjlab.cluster.nodes import WORKER_LABEL
from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path

ENGINE = "kind"
# The images the labs and examples run (tests/unit/test_kind_config.py keeps this complete);
# each is loaded into every node, so the labs work offline.
PRELOAD_IMAGES = ("docker.io/library/bash:5", "docker.io/library/python:3")


def node_image() -> str:
    """kindest/node at the pinned Kubernetes version; KJLAB_KIND_NODE_IMAGE overrides it."""
    return os.environ.get("KJLAB_KIND_NODE_IMAGE", f"kindest/node:{tools.kube_version()}")


def kind_config(workers: int) -> str:
    """kind's cluster config: 1 control plane + ``workers`` workers, labelled as on kwok."""
    nodes = [{"role": "control-plane", "labels": {WORKER_LABEL: "control-plane"}}]
    nodes += [{"role": "worker", "labels": {WORKER_LABEL: "worker"}} for _ in range(workers)]
    return yaml.safe_dump({"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": nodes},
                          sort_keys=False)


def _kind() -> str:
    path = shutil.which("kind")
    if path is None:
        raise KjlabError(
            "the kind command is not installed",
            "go install sigs.k8s.io/kind@v0.31.0 (or use the kwok engine: kjlab up --engine kwok)",
        )
    return path


def exists() -> bool:
    if shutil.which("kind") is None:
        return False
    out = subprocess.run([_kind(), "get", "clusters"], capture_output=True, text=True)
    return CLUSTER_NAME in out.stdout.split()


def create(workers: int, progress=print) -> None:
    kind = _kind()
    cmd = [kind, "create", "cluster", "--name", CLUSTER_NAME, "--image", node_image(),
           "--kubeconfig", str(kubeconfig_path()), "--wait", "120s", "--config", "-"]
    progress(f"creating kind cluster {CLUSTER_NAME} ({node_image()}, {workers} workers)")
    proc = subprocess.run(cmd, input=kind_config(workers), text=True)
    if proc.returncode != 0:
        raise KjlabError("kind create cluster failed (its output is above)", "kjlab down, then kjlab up --engine kind")
    for image in PRELOAD_IMAGES:
        progress(f"preloading {image}")
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
            subprocess.run(["docker", "pull", image], check=False)
        if subprocess.run([kind, "load", "docker-image", image, "--name", CLUSTER_NAME]).returncode != 0:
            raise KjlabError(f"could not load {image} into the kind nodes", f"docker pull {image}; kjlab up")


def delete(progress=print) -> None:
    subprocess.run([_kind(), "delete", "cluster", "--name", CLUSTER_NAME, "--kubeconfig", str(kubeconfig_path())],
                   check=False)
