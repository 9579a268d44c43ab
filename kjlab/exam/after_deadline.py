"""What the learner changed in a task's namespace after the exam's time was up, read from the objects'
managedFields: so an answer changed after the deadline does not count.

No process freezes the cluster at the deadline, and kjlab keeps no snapshot of it: the grading reads the
cluster when it runs. What it can still tell is *who changed what, when*: the API server stamps each
field manager's entry in ``metadata.managedFields`` with the time of its last write that changed
fields (k8s.io/apimachinery@v0.36.4 pkg/util/managedfields/internal/managedfieldsupdater.go:45-77:
``time.Now()`` at Update and Apply, which create, update and patch go through), to the second
(RFC 3339). kubectl names its manager after the command (``kubectl-create``, ``kubectl-edit``,
``kubectl-patch``, ``kubectl-client-side-apply`` (k8s.io/kubectl@v0.36.4 pkg/cmd/apply/apply.go:235),
``kubectl`` for server-side apply, ``kubectl-scale`` ...; seen on the cluster), the
controllers by their binary (``kube-controller-manager``, ``kube-scheduler``, ``kubelet``, and kwok's
``kwok-controller``), kjlab's own setup and checks by its Python client (``OpenAPI-Generator``).
An entry newer than the deadline whose manager is none of those is the learner's late change.

What this cannot see (the report says so): an object deleted after the deadline (it is gone, with its
entries), a write that left every field as it was (no new time), and a change to nodes (cordon, taint:
shared by every task, and an uncordon removes kubectl's entry together with the field).
"""

from __future__ import annotations

from datetime import datetime

from kjlab.exam import state as exam_state
from kjlab.practice.cluster_view import View

# The control plane's managers (their writes follow the learner's earlier answer, e.g. the Job
# controller creating pods after the deadline) and kjlab's own (the task's setup, the check's moves).
CONTROL_PLANE = frozenset({"kube-controller-manager", "kube-scheduler", "kubelet", "kube-apiserver",
                           "kwok-controller"})
KJLAB_OWN = "OpenAPI-Generator"
# What the tasks' answers are made of (cluster_view's kinds; EndpointSlices are the controller's own).
KINDS = ("job", "cronjob", "deployment", "pod", "service", "poddisruptionbudget")


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def learner_changes(objects: list[tuple[str, dict]], deadline: float) -> list[str]:
    """From ``(kind, object)`` pairs as the API returns them: one line per object the learner wrote after
    ``deadline`` (epoch seconds), naming its manager and how late. A write in the deadline's own second
    counts as in time (the stamps have whole seconds)."""
    found = []
    for kind, obj in objects:
        meta = obj.get("metadata") or {}
        late = []
        for entry in meta.get("managedFields") or []:
            manager = entry.get("manager") or ""
            if manager in CONTROL_PLANE or manager.startswith(KJLAB_OWN) or not entry.get("time"):
                continue
            t = _epoch(entry["time"])
            if t >= int(deadline) + 1:
                late.append((t, manager))
        if late:
            t, manager = max(late)
            found.append(f"{kind}/{meta.get('name')} was written by {manager} "
                         f"{exam_state.mmss(t - deadline)} after time was up")
    return found


def changes(context: str, namespace: str, deadline: float) -> list[str]:
    """The learner's writes after ``deadline`` in ``namespace``, read from the cluster."""
    view = View(context, namespace)
    objects = [(kind, obj) for kind in KINDS for obj in view.list(kind)]
    return learner_changes(objects, deadline)
