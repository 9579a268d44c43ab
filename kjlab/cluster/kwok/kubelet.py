"""The kwok engine's kubelets are simulated by kwok's Stages (kwok_stages/node.yaml). Taking a
node's kubelet away makes it report ``Ready=False`` (reason ``KubeletNotReady``), as a real kubelet
does when its runtime or network is not ready; the node lifecycle controller then taints it
``node.kubernetes.io/not-ready``. (kwokctl runs the controller manager with a 3m20s grace period for
missed heartbeats, too long for a lab, so kjlab does not stop the heartbeat.) The node Stages leave a
node annotated ``kjlab.io/kubelet-not-ready`` alone, and a thread keeps reporting NotReady while it is.
"""

from __future__ import annotations

import threading

from kjlab.api import kube, readers
from kjlab.api.watch import follow

NOT_READY_ANNOTATION = "kjlab.io/kubelet-not-ready"   # kwok's node Stages skip such a node
_reporting: dict[tuple[str, str], threading.Event] = {}


def _report_not_ready(context: str, node: str) -> None:
    now = kube.now_rfc3339()
    ready = {"type": "Ready", "status": "False", "reason": "KubeletNotReady",
             "message": "kjlab: the simulated kubelet reports NotReady",
             "lastHeartbeatTime": now, "lastTransitionTime": now}
    kube.core(context).patch_node_status(node, {"status": {"conditions": [ready]}}, _content_type=kube.STRATEGIC_MERGE)


def _keep_reporting(context: str, node: str, stop: threading.Event) -> None:
    """A kubelet that is not ready says so at every status update: a node heartbeat kwok had
    already scheduled before the node was marked would otherwise report it Ready again."""
    while not stop.is_set():
        try:
            for change in follow(kube.core(context).list_node, field_selector=f"metadata.name={node}", stop=stop,
                                 what=f"node {node}"):
                obj = change.object
                if obj and readers.node_ready(obj) and NOT_READY_ANNOTATION in readers.annotations(obj):
                    _report_not_ready(context, node)
        except Exception:
            stop.wait(1)


class KwokKubelet:
    real = False                                  # runs no process: probes, hooks, signals are not simulated
    memory_source = "control plane + kwok"
    down_step = "node NotReady"                   # the recording's step name

    def take_away(self, context: str, node: str, echo: bool = True) -> tuple[str, str]:
        kube.core(context).patch_node(node, {"metadata": {"annotations": {NOT_READY_ANNOTATION: "true"}}},
                                      _content_type=kube.MERGE)
        _report_not_ready(context, node)
        stop = _reporting.setdefault((context, node), threading.Event())
        stop.clear()
        threading.Thread(target=_keep_reporting, args=(context, node, stop), daemon=True,
                         name=f"kjlab-kubelet-{node}").start()
        if echo:
            print(f"# kwok: the simulated kubelet of {node} now reports Ready=False (KubeletNotReady)")
        return ("the simulated kubelet reports Ready=False (KubeletNotReady)",
                f"kubectl patch node {node} --subresource=status ...")

    def back_command(self, node: str) -> str:
        return ""  # what kjlab undoes is its own mark, not something a person would type

    def bring_back(self, context: str, node: str) -> None:
        stop = _reporting.pop((context, node), None)
        if stop:
            stop.set()
        kube.core(context).patch_node(node, {"metadata": {"annotations": {NOT_READY_ANNOTATION: None}}},
                                      _content_type=kube.MERGE)

    def taken_away(self, context: str, nodes: list[str]) -> list[str]:
        core = kube.core(context)
        return [n for n in nodes if NOT_READY_ANNOTATION in readers.annotations(kube.raw(core.read_node, n))]


KUBELET = KwokKubelet()
