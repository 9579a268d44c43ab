"""A lab 12 cell interrupted while a node is NotReady must not leave the node so for the next lab:
``lab.cleanup`` brings it back (kwok: the simulated kubelet's NotReady mark is taken off)."""

from kjlab.cluster.kwok import kubelet as kwok_kubelet
from kjlab.cluster.kwok.kubelet import NOT_READY_ANNOTATION
from kjlab.labs import disruptions
from kjlab.api import kube, readers
from kjlab.actions import namespaces
from kjlab import lab as kjlab_lab

NODE = "kjlab-worker2"


def test_cleanup_brings_back_a_node_an_interrupted_lab_left_not_ready(lab):
    context = lab["context"]
    ns = namespaces.create(context, prefix="test-restore")
    session = disruptions.Disruptions(context, ns, "kwok", echo=False)
    try:
        session.node_not_ready(NODE)
        node = kube.raw(kube.core(context).read_node, NODE)
        assert not readers.node_ready(node), "the node should report NotReady before the cleanup"
        kwok_kubelet._reporting.pop((context, NODE)).set()  # the kernel died: nobody keeps reporting, the mark stays
        session.stop()
        kjlab_lab.cleanup(context, ns)
        node = kube.raw(kube.core(context).read_node, NODE)
        assert readers.node_ready(node) and NOT_READY_ANNOTATION not in readers.annotations(node), node
        taints = [t["key"] for t in (node.get("spec") or {}).get("taints") or []]
        assert "node.kubernetes.io/not-ready" not in taints, taints
    finally:
        disruptions.restore_nodes(context)
