"""Check of taking a pod out of its ReplicaSet for debugging (kjlab.labs.controllers).

Notebook: solutions/11-debug-a-pod.
"""

from __future__ import annotations

from kjlab.api import readers
from kjlab.checks import Verdict, _delete_quietly, _load, _namespace, exercise
from kjlab.errors import KjlabError
from kjlab.labs import controllers


DEBUG_SELECTOR = {"app": "web", "role": "frontend"}


def debug_replicaset() -> dict:
    """The exercise's ReplicaSet: lab 11's `web`, its selector two labels, its pods one label more
    (``version``) that the selector does not look at."""
    doc = controllers.render("replicaset")
    doc["spec"]["selector"] = {"matchLabels": dict(DEBUG_SELECTOR)}
    doc["spec"]["template"]["metadata"]["labels"] = {**DEBUG_SELECTOR, "version": "v1"}
    return doc


def _labels_from(answer) -> dict:
    doc = _load(answer, "labels")
    doc = (doc.get("metadata") or {}).get("labels", doc) if "metadata" in doc else doc.get("labels", doc)
    if not isinstance(doc, dict) or not doc:
        raise KjlabError("the answer should be the labels to set on the pod, e.g. `version: debug` (null removes one)",
                         "app: ...")
    return doc


@exercise("debug-pod-out", "Take one pod of the ReplicaSet aside for debugging: it keeps running, untouched, and "
          "the ReplicaSet still runs 3 pods", "the labels to set on the pod (YAML; null removes a label)",
          notebook="11-debug-a-pod")
def check_debug_pod_out(context: str, answer) -> Verdict:
    name = "debug-pod-out"
    labels = _labels_from(answer)
    namespace = _namespace(name)
    selector = ",".join(f"{k}={v}" for k, v in DEBUG_SELECTOR.items())
    print(f"relabelling one pod of a 3-replica ReplicaSet (selector {selector}) in {namespace} (10 to 20 s)...", flush=True)
    session = controllers.ControllerSession(context, namespace, echo=False)
    try:
        session.create(debug_replicaset())
        session.wait_owned("replicaset/web", 3)
        pod = session.recording().owned_by("replicaset/web")[0]
        try:
            session.label_pod(pod, **labels)
        except KjlabError as refused:
            session.stop()
            return Verdict(name, False, "the API does not accept these labels",
                           [refused.message, "a label value is at most 63 characters of letters, digits, '-', '_' "
                            "and '.', starting and ending with a letter or digit; null removes a label"])
        try:
            session.wait_until(lambda rec: rec.ownership(pod)["controller"].iloc[-1].startswith("(none")
                               and len(rec.owned_by("replicaset/web")) == 3
                               and all(readers.is_true(rec.last_pods()[n], "Ready") for n in rec.owned_by("replicaset/web")),
                               "the pod released and replaced", timeout=15)
        except KjlabError:
            pass  # the verdict below says what did happen
        rec = session.stop()
    finally:
        _delete_quietly(context, namespace)
    last = rec.last_pods().get(pod) or {}
    now_labels = readers.labels(last)
    owner = controllers.controller_of(last)
    owned = rec.owned_by("replicaset/web")
    ready = [n for n in owned if readers.is_true(rec.last_pods()[n], "Ready")]
    alive = readers.phase(last) == "Running" and not readers.deleting(last)
    reasons = [f"the pod {pod} now has labels {now_labels}; its controller: {owner or 'none (an orphan)'}; "
               f"{'still Running' if alive else 'not running'}; the ReplicaSet controls {len(owned)} pods, {len(ready)} Ready"]
    still_matches = controllers.matches({"matchLabels": DEBUG_SELECTOR}, now_labels)
    if still_matches:
        changed = sorted(set(labels) - set(DEBUG_SELECTOR))
        reasons.append(f"the labels still match the ReplicaSet's selector {selector}, so the pod is still one of its 3: "
                       "only the labels in the selector decide which pods a ReplicaSet owns"
                       + (f" ({', '.join(changed)} is not in it)" if changed else ""))
    ok = not still_matches and owner is None and alive and len(ready) == 3
    if ok:
        replaced = rec.replacements()
        made = replaced.iloc[-1] if not replaced.empty else None
        reasons.append("the ReplicaSet released the pod (removed its ownerReference) and created "
                       + (f"{made['replacement']} {made['created after (s)']} s later" if made is not None else "a new pod")
                       + "; the orphan keeps running until you delete it")
    return Verdict(name, ok, "the pod is out of the ReplicaSet, still running, and the ReplicaSet runs 3 pods" if ok
                   else "the pod is not out of the ReplicaSet (see why below)", reasons,
                   evidence={"pod": pod, "labels": now_labels, "owner": owner, "owned": owned})
