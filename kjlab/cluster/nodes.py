"""The lab's node layout, shared by both engines: one control plane, N workers, named as kind names them."""

from __future__ import annotations

from kjlab.cluster.names import CLUSTER_NAME

WORKER_LABEL = "kjlab.io/role"
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def worker_names(workers: int) -> list[str]:
    """kind's names: kjlab-worker, kjlab-worker2, kjlab-worker3, ..."""
    return [f"{CLUSTER_NAME}-worker" + (str(i + 1) if i else "") for i in range(workers)]


def control_plane_name() -> str:
    return f"{CLUSTER_NAME}-control-plane"


def kwok_node_manifests(workers: int, kubelet_port: int | None = None) -> list[dict]:
    """Node objects for the kwok engine. kwok manages every node of the cluster (binary runtime).
    ``kubelet_port``: where the cluster's log endpoint listens (kjlab/cluster/kwok/log_endpoint.py)."""

    def node(name: str, role: str, index: int) -> dict:
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            WORKER_LABEL: role,
        }
        spec: dict = {}
        if role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            spec["taints"] = [CONTROL_PLANE_TAINT]
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels, "annotations": {
                "kwok.x-k8s.io/node": "fake",
                # The node Stage reads its InternalIP from here; addresses as kind's Docker network has them.
                "kjlab.io/internal-ip": f"172.18.0.{index + 2}",
                **({"kjlab.io/kubelet-port": str(kubelet_port)} if kubelet_port else {}),
            }},
            "spec": spec,
        }

    names = [(control_plane_name(), "control-plane")] + [(n, "worker") for n in worker_names(workers)]
    return [node(name, role, i) for i, (name, role) in enumerate(names)]
