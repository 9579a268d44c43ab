"""Lab 10's pod zoo on a real kubelet: every pod shows what it is made to show, and for each pod
still there, kjlab's STATUS (kjlab.printers, which the recorded sequences use) is what the real
kubectl prints for the same object, including the ones the kwok suite cannot make (OOMKilled,
Init:*, NotReady, the evicted pod's Error, OutOfcpu ...)."""

from kjlab.api import kube, readers
from kjlab.labs import lifecycle

from kind_reuse import load

_status = load("cluster/test_kubectl_status.py")


def test_zoo_statuses_match_kubectl(lab, ns):
    ctx = lab["context"]
    zoo = lifecycle.run(ctx, ns, "kind", timeout=120, echo=False, progress=lambda line: None)
    table = zoo.table()
    assert not [r for r in table.to_dict("records") if set(filter(None, r["not seen"].split(", "))) - {"PodInitializing"}], table
    compared = 0
    for pod in kube.raw(kube.core(ctx).list_namespaced_pod, ns)["items"]:
        name = readers.name(pod)
        ours, theirs = _status.stable_compare(ctx, ns, name)
        assert ours == theirs, (name, ours, theirs)
        compared += 1
    assert compared >= len(table) - 3  # the three deleted pods are gone
