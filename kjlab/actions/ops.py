"""What a person would do with kubectl, done through the API: apply, drain, uncordon, patch a pod
condition through the status subresource, delete. Each op prints the kubectl command it stands
for (``echo=True``) and, given a recorder, adds itself to the run's timeline as a step. Each takes
its context (and namespace) first, or one ``Actor`` carrying them with echo, recorder and allow_context.

Destructive ops refuse to act on a cluster kjlab did not create (kjlab.cluster.registry.guard).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import yaml
from kubernetes import client

from kjlab import interrupts, manifests
from kjlab.actions.actor import acts
from kjlab.api import holders, kube, readers, wait
from kjlab.cluster import provider
from kjlab.cluster.kwok import grammar
from kjlab.cluster.registry import guard
from kjlab.errors import KjlabError

EVICTION_RETRY_SECONDS = 5  # kubectl drain retries a 429 (PodDisruptionBudget) every 5 s
APPLY_KINDS = ("Job", "Pod", "ReplicaSet", "PodDisruptionBudget")
# what kubectl prints after the kind in "<kind><suffix>/<name> created" (the API group; none for the core group)
API_GROUP_SUFFIX = {"Job": ".batch", "CronJob": ".batch", "ReplicaSet": ".apps", "Deployment": ".apps",
                    "DaemonSet": ".apps", "PodDisruptionBudget": ".policy", "PriorityClass": ".scheduling.k8s.io"}
REPLACEABLE = ("Job", "Pod")  # what create(replace=True) deletes first (_delete_and_wait knows these two)
CLUSTER_SCOPED = ("PriorityClass",)
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def _show(echo: bool, command: str, output: list[str] | None = None) -> None:
    if echo:
        print(f"$ {command}")
        for line in output or []:
            print(line)


def _step(recorder, action: str, target: str, detail: str = "", kubectl: str = "") -> None:
    if recorder is not None:
        recorder.step(action, target, detail, kubectl)


# --- apply -----------------------------------------------------------------------------------

# The old name of the one loader (kjlab.manifests.load), kept for one release.
load_manifest = manifests.load


def api_message(e: client.ApiException) -> str:
    """The API server's own message, as kubectl shows it (`The Job "x" is invalid: ...`)."""
    try:
        body = json.loads(e.body)
        message = body.get("message") or e.reason
        details = body.get("details") or {}
        kind, name = details.get("kind"), details.get("name")
        if kind and name and message.startswith(f"{kind}."):
            # "Job.batch \"x\" is invalid: ..." -> "The Job \"x\" is invalid: ..." (kubectl's wording)
            message = f'The {kind.capitalize() if kind.islower() else kind} "{name}"' + message.split(f'"{name}"', 1)[1]
        return _elide_objects(message)
    except (ValueError, TypeError, AttributeError, IndexError):
        return f"{e.status} {e.reason}"


# A quoted JSON string in an API message (escaped quotes included).
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _elide_objects(message: str, longest: int = 160) -> str:
    """The message with every quoted value longer than ``longest`` cut to its start: a refused patch
    quotes the whole patched object (`patch: Invalid value: "{\"apiVersion\":...}": json: cannot
    unmarshal ...`), thousands of characters before the part that says what is wrong."""
    return _QUOTED.sub(lambda m: m.group(0) if len(m.group(0)) <= longest else m.group(0)[:60] + '…"', message)


@acts
def create(context: str, namespace: str, manifest, recorder=None, echo: bool = True,
           allow_context: str | None = None, replace: bool = False,
           existing: Callable[[dict], None] | None = None, detail: str = "", shown_as: str | None = None) -> dict:
    """`kubectl create -f NAME.yaml -n NS`: the one way kjlab creates what a learner or a lab hands it,
    exactly as written (kube.create: field validation Strict). It refuses on a cluster kjlab did not
    create (the guard), prints the kubectl line and kubectl's answer, adds a "create" step to the
    recorder, and turns a refusal into one KjlabError in the API's own words.

    ``replace``: a Job or Pod of the same name already there is deleted first (so re-running a
    notebook cell starts over). ``existing``: `kubectl apply` instead -- an object of the same name
    already there is handed to it, which returns to keep it ("unchanged") or raises. ``shown_as``: the
    command printed and recorded when it is not `kubectl create -f NAME.yaml -n NS` (another file name,
    or `kubectl create job --from=...`, which makes its manifest); ``detail``: the step's detail."""
    doc = manifests.load(manifest)
    kind, name = doc["kind"], doc["metadata"]["name"]
    scoped = kind not in CLUSTER_SCOPED
    if scoped:
        doc["metadata"]["namespace"] = namespace
    verb = "create" if existing is None else "apply"
    command = shown_as or f"kubectl {verb} -f {name}.yaml" + (f" -n {namespace}" if scoped else "")
    guard(context, f"create {kind} {name}", allow_context)
    said = "created"
    for attempt in range(2):
        try:
            created = kube.create(context, namespace if scoped else "", doc)
            break
        except client.ApiException as e:
            if e.status == 409 and replace and kind in REPLACEABLE and attempt == 0:
                _delete_and_wait(context, namespace, kind, name)
                continue
            if e.status == 409 and existing is not None:
                created = kube.get(context, kube.object_path(kind, namespace if scoped else "", name))
                existing(created)
                said = "unchanged"
                break
            if e.status == 404 and "namespaces" in (e.body or ""):
                raise KjlabError(f'namespace "{namespace}" does not exist', f"kjlab kubectl create namespace {namespace}") from None
            raise KjlabError(api_message(e), "fix the manifest field the message names, then run again") from None
    _show(echo, command, [f"{kind.lower()}{API_GROUP_SUFFIX.get(kind, '')}/{name} {said}"])
    _step(recorder, "create", f"{kind.lower()}/{name}", detail, command)
    return created


@acts
def apply(context: str, namespace: str, manifest, recorder=None, echo: bool = True,
          replace: bool = True, allow_context: str | None = None) -> dict:
    """Create a Job (or Pod, ReplicaSet, PodDisruptionBudget) in ``namespace``, like `kubectl create -f
    job.yaml -n NS` (``create`` with ``replace``), and warn of a command kwok's kubelet does not run."""
    doc = manifests.load(manifest)
    if doc["kind"] not in APPLY_KINDS:
        raise KjlabError(f"kjlab runs Jobs (and Pods); this manifest is a {doc['kind']}", "give it a manifest with kind: Job")
    created = create(context, namespace, doc, recorder, echo, allow_context, replace=replace)
    if doc["kind"] in ("Job", "Pod"):
        _warn_not_simulated(context, doc, echo, recorder)
    return created


@acts
def apply_priority_class(context: str, manifest, echo: bool = True, recorder=None,
                         allow_context: str | None = None) -> dict:
    """`kubectl apply -f priorityclass.yaml` (cluster-scoped; the disruptions lab): one already there with the
    same value is kept, so a notebook cell can run again."""
    doc = manifests.load(manifest)

    def same_value(there: dict) -> None:
        if there.get("value") != doc.get("value"):
            raise KjlabError(f"PriorityClass {doc['metadata']['name']} already exists with value {there.get('value')}",
                             f"kjlab kubectl delete priorityclass {doc['metadata']['name']}")

    return create(context, "", doc, recorder, echo, allow_context, existing=same_value,
                  detail=f"value {doc.get('value')}")


@acts
def delete_priority_classes(context: str, label_selector: str, echo: bool = True,
                            allow_context: str | None = None) -> list[str]:
    """Delete the PriorityClasses with these labels (a namespace's deletion does not take them)."""
    guard(context, "delete priority classes", allow_context)
    api = client.SchedulingV1Api(kube.api_client(context))
    names = [readers.name(pc) for pc in kube.raw(api.list_priority_class, label_selector=label_selector)["items"]]
    for name in names:
        try:
            api.delete_priority_class(name)
        except client.ApiException as e:
            if e.status != 404:
                raise
        _show(echo, f"kubectl delete priorityclass {name}", [f'priorityclass.scheduling.k8s.io "{name}" deleted'])
    return names


@acts
def taint(context: str, node: str, key: str, value: str = "", effect: str = "NoExecute", echo: bool = True,
          recorder=None, allow_context: str | None = None) -> None:
    """`kubectl taint nodes NODE KEY=VALUE:EFFECT` (a taint already there with that key and effect is replaced)."""
    guard(context, f"taint node {node}", allow_context)
    core = kube.core(context)
    taints = [t for t in (_node_or_error(core, node).get("spec") or {}).get("taints") or []
              if not (t.get("key") == key and t.get("effect") == effect)]
    taints.append({"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect})
    core.patch_node(node, {"spec": {"taints": taints}}, _content_type=kube.MERGE)
    command = f"kubectl taint nodes {node} {key}{'=' + value if value else ''}:{effect}"
    _show(echo, command, [f"node/{node} tainted"])
    _step(recorder, "taint", f"node/{node}", f"{key}{'=' + value if value else ''}:{effect}", command)


@acts
def untaint(context: str, node: str, key: str, effect: str = "NoExecute", echo: bool = True, recorder=None,
            allow_context: str | None = None) -> None:
    """`kubectl taint nodes NODE KEY:EFFECT-` (no error when the taint is not there)."""
    guard(context, f"untaint node {node}", allow_context)
    core = kube.core(context)
    taints = (_node_or_error(core, node).get("spec") or {}).get("taints") or []
    kept = [t for t in taints if not (t.get("key") == key and t.get("effect") == effect)]
    if len(kept) != len(taints):
        core.patch_node(node, {"spec": {"taints": kept or None}}, _content_type=kube.MERGE)
    command = f"kubectl taint nodes {node} {key}:{effect}-"
    _show(echo, command, [f"node/{node} untainted" if len(kept) != len(taints) else f'error: taint "{key}:{effect}" not found'])
    _step(recorder, "untaint", f"node/{node}", f"{key}:{effect}", command)


def _warn_not_simulated(context: str, doc: dict, echo: bool, recorder) -> None:
    """Where the kubelets are simulated (kwok), name each container command they cannot run
    (kjlab/cluster/kwok/grammar.py), so `kjlab scenario run`, checks and notebooks say it, not only the
    cluster's NotSimulated event."""
    if provider.for_context(context).real:
        return
    pod = doc if doc["kind"] == "Pod" else (doc.get("spec") or {}).get("template") or {}
    if doc["kind"] == "Job" and (doc.get("spec") or {}).get("completionMode") == "Indexed":
        pod = {**pod, "metadata": {"annotations": {"batch.kubernetes.io/job-completion-index": "0"}}}
    spec = pod.get("spec") or {}
    specs = {c["name"]: c for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])}
    indexed = "batch.kubernetes.io/job-completion-index" in ((pod.get("metadata") or {}).get("annotations") or {})
    for container, script in grammar.not_simulated(pod):
        why = grammar.refused(specs[container], indexed,
                              init=any(c["name"] == container and not grammar.is_sidecar(c)
                                       for c in spec.get("initContainers") or []))
        text = (f"NotSimulated: container {container} runs `{script}`, which kwok's simulated kubelet cannot "
                f"run ({why}; README: What the simulated kubelet runs); see it for real with `kjlab up --engine kind`")
        if echo:
            print("warning: " + text)
        _step(recorder, "warning", f"{doc['kind'].lower()}/{doc['metadata']['name']}", text)


def _delete_and_wait(context: str, namespace: str, kind: str, name: str, timeout: float = 60) -> None:
    if kind == "Job":
        api = kube.batch(context)
        delete, list_fn = api.delete_namespaced_job, api.list_namespaced_job
    else:
        api = kube.core(context)
        delete, list_fn = api.delete_namespaced_pod, api.list_namespaced_pod
    try:
        delete(name, namespace, propagation_policy="Foreground")
    except client.ApiException as e:
        if e.status != 404:
            raise
    if not wait.gone(list_fn, name, timeout, namespace=namespace):
        raise KjlabError(f"the old {kind} {namespace}/{name} was not removed within {timeout:.0f}s",
                         f"kjlab kubectl delete {kind.lower()} {name} -n {namespace}")


# --- drain -----------------------------------------------------------------------------------

@dataclass
class DrainResult:
    node: str
    evicted: list[str] = field(default_factory=list)    # "ns/name"
    ignored: list[str] = field(default_factory=list)    # DaemonSet and mirror pods left alone
    retries: int = 0                                    # 429 answers retried
    refusals: list[str] = field(default_factory=list)   # each 429's message, in order
    seconds: float = 0.0


def drain_plan(pods, ignore_daemonsets: bool = True, delete_emptydir_data: bool = False,
               force: bool = False) -> tuple[list, list[str], list[str]]:
    """Which pods a drain evicts, which it leaves, and why it would refuse (kubectl's filters).

    Returns (to_evict, ignored_messages, refusals). Pure: takes pods as dicts.
    """
    evict, ignored, refusals = [], [], []
    for pod in pods:
        key = f"{_namespace(pod)}/{readers.name(pod)}"
        if MIRROR_ANNOTATION in readers.annotations(pod):
            ignored.append(f"{key} (mirror pod)")
            continue
        owner = readers.controller_of(pod)
        if owner is not None and owner.get("kind") == "DaemonSet":
            if ignore_daemonsets:
                ignored.append(f"{key} (DaemonSet-managed)")
            else:
                refusals.append(f"{key} is managed by a DaemonSet (use --ignore-daemonsets)")
            continue
        if not readers.ended(pod):
            if owner is None and not force:
                refusals.append(f"{key} is not managed by a controller (use --force)")
                continue
            if any("emptyDir" in v for v in (pod.get("spec") or {}).get("volumes") or []) and not delete_emptydir_data:
                refusals.append(f"{key} uses emptyDir storage (use --delete-emptydir-data)")
                continue
        evict.append(pod)
    return evict, ignored, refusals


def _namespace(obj: dict) -> str | None:
    return readers.meta(obj).get("namespace")


def _node_or_error(core, node: str) -> dict:
    try:
        return kube.raw(core.read_node, node)
    except client.ApiException as e:
        if e.status == 404:
            names = ", ".join(readers.name(n) for n in kube.raw(core.list_node)["items"])
            raise KjlabError(f'node "{node}" does not exist (nodes: {names})', "pick a node from `kjlab kubectl get nodes`") from None
        raise


def _set_unschedulable(core, node: str, value: bool, draining: bool = False) -> None:
    """Cordon or uncordon; ``draining`` names this process on the node while its drain runs (and
    its absence takes the name off: None removes an annotation in a merge patch)."""
    annotations = {holders.DRAINING: holders.me() if draining else None}
    core.patch_node(node, {"metadata": {"annotations": annotations}, "spec": {"unschedulable": value}},
                    _content_type=kube.STRATEGIC_MERGE)


@acts
def cordon(context: str, node: str, echo: bool = True, recorder=None, allow_context: str | None = None,
           draining: bool = False) -> bool:
    """Mark the node unschedulable; returns False when it already was. ``draining``: a drain's own
    cordon, marked with this process until the drain ends (see kjlab.holders.DRAINING)."""
    guard(context, f"cordon node {node}", allow_context)
    core = kube.core(context)
    was = readers.unschedulable(_node_or_error(core, node))
    if not was:
        _set_unschedulable(core, node, True, draining)
    _show(echo, f"kubectl cordon {node}", [f"node/{node} {'already cordoned' if was else 'cordoned'}"])
    _step(recorder, "cordon", f"node/{node}", "", f"kubectl cordon {node}")
    return not was


@acts
def uncordon(context: str, node: str, echo: bool = True, recorder=None, allow_context: str | None = None) -> None:
    guard(context, f"uncordon node {node}", allow_context)
    core = kube.core(context)
    was = readers.unschedulable(_node_or_error(core, node))
    if was:
        _set_unschedulable(core, node, False)
    _show(echo, f"kubectl uncordon {node}", [f"node/{node} {'uncordoned' if was else 'already uncordoned'}"])
    _step(recorder, "uncordon", f"node/{node}", "", f"kubectl uncordon {node}")


@acts
def drain(context: str, node: str, ignore_daemonsets: bool = True, delete_emptydir_data: bool = False,
          force: bool = False, grace_period: int = -1, timeout: float = 120, echo: bool = True,
          recorder=None, allow_context: str | None = None, pod_selector: str | None = None,
          namespace: str | None = None) -> DrainResult:
    """Drain a node like `kubectl drain NODE --ignore-daemonsets --grace-period=N`.

    ``pod_selector`` is kubectl's ``--pod-selector``: only the node's pods with those labels are
    evicted (a run drains its own Job's pods, never another run's or a lab's leftovers).
    ``namespace`` goes further than kubectl can (`kubectl drain` has no namespace flag: it takes the
    node's pods in every namespace): only that namespace's pods are evicted, so a lab's drain never
    evicts a learner's practice pods that carry the same labels. The command shown says so.

    Cordons, evicts every evictable pod through the Eviction API (so each gets DisruptionTarget,
    reason EvictionByEvictionAPI), retries an HTTP 429 from a PodDisruptionBudget every 5 s,
    and waits until the evicted pods are gone. Refuses DaemonSet pods, unmanaged pods and
    emptyDir pods unless told (the same flags as kubectl). A cordon it made is undone when it
    fails or is interrupted; on success the node stays cordoned, as with kubectl.
    """
    flags = []
    if ignore_daemonsets:
        flags.append("--ignore-daemonsets")
    if delete_emptydir_data:
        flags.append("--delete-emptydir-data")
    if force:
        flags.append("--force")
    if grace_period >= 0:
        flags.append(f"--grace-period={grace_period}")
    if pod_selector:
        flags.append(f"--pod-selector={pod_selector}")
    command = f"kubectl drain {node} " + " ".join(flags)
    if namespace:
        command = command.strip() + f"  # kjlab evicts only namespace {namespace}'s pods"
    guard(context, f"drain node {node}", allow_context)
    core = kube.core(context)
    _node_or_error(core, node)
    started = time.monotonic()
    result = DrainResult(node=node)
    _show(echo, command.strip())
    cordoned_here = False
    try:
        cordoned_here = cordon(context, node, echo=False, allow_context=allow_context, draining=True)
        if echo:
            print(f"node/{node} cordoned")
        on_node = {"field_selector": f"spec.nodeName={node}", "label_selector": pod_selector or None}
        pods = (kube.raw(core.list_namespaced_pod, namespace, **on_node) if namespace
                else kube.raw(core.list_pod_for_all_namespaces, **on_node))["items"]
        evict, ignored, refusals = drain_plan(pods, ignore_daemonsets, delete_emptydir_data, force)
        if refusals:
            raise KjlabError("cannot drain node " + node + ":\n    " + "\n    ".join(refusals),
                             "pass the flag each line names, or move those pods off the node first")
        result.ignored = ignored
        if ignored and echo:
            print("Warning: ignoring " + ", ".join(ignored))
        _step(recorder, "drain", f"node/{node}", f"evicting {len(evict)} pod(s)", command.strip())
        deadline = started + timeout
        for pod in evict:
            result.retries += _evict(core, pod, grace_period, deadline, echo, recorder, result.refusals)
        for pod in evict:
            _wait_gone(core, pod, deadline)
            result.evicted.append(f"{_namespace(pod)}/{readers.name(pod)}")
            if echo:
                print(f"pod/{readers.name(pod)} evicted")
        if echo:
            print(f"node/{node} drained")
    except BaseException as e:
        if cordoned_here:
            with interrupts.finishing(f"uncordoning node {node}"):
                try:
                    _set_unschedulable(core, node, False)
                    if isinstance(e, KeyboardInterrupt):
                        interrupts.note(f"node {node} uncordoned")
                    if echo:
                        print(f"node/{node} uncordoned (the drain did not finish)")
                except Exception:
                    pass
        raise
    if cordoned_here:  # finished: the node stays cordoned, as kubectl leaves it, with no drain's name on it
        _set_unschedulable(core, node, True)
    result.seconds = time.monotonic() - started
    _step(recorder, "drained", f"node/{node}", f"evicted {len(result.evicted)} pod(s) in {result.seconds:.1f}s")
    return result


def _evict(core, pod: dict, grace_period: int, deadline: float, echo: bool, recorder=None,
           refusals: list[str] | None = None) -> int:
    name, ns = readers.name(pod), _namespace(pod)
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
    if grace_period >= 0:
        body["deleteOptions"] = {"gracePeriodSeconds": grace_period}
    if echo:
        print(f"evicting pod {ns}/{name}")
    retries = 0
    while True:
        try:
            core.create_namespaced_pod_eviction(name, ns, body)
            _step(recorder, "evict", f"pod/{name}", "eviction accepted" + (f" after {retries} refusal(s)" if retries else ""),
                  f"kubectl drain ... (evicting pod {ns}/{name})")
            return retries
        except client.ApiException as e:
            if e.status == 404:
                return retries  # already gone
            if e.status == 403 and "NamespaceTerminating" in (e.body or ""):
                # As kubectl does: the namespace's deletion removes the pod anyway; wait for that.
                return retries
            if e.status != 429:
                raise KjlabError(f"evicting pod {ns}/{name} failed: {api_message(e)}", "kjlab kubectl describe pod " + name) from None
            if time.monotonic() + EVICTION_RETRY_SECONDS > deadline:
                raise KjlabError(f"pod {ns}/{name} could still not be evicted when the drain timed out: {api_message(e)}",
                                 "relax the PodDisruptionBudget, or give the drain a longer timeout") from None
            retries += 1
            if refusals is not None:
                refusals.append(api_message(e))
            # On the timeline: the budget said no (HTTP 429) and the drain waits to try again.
            _step(recorder, "eviction refused", f"pod/{name}", f"429 {api_message(e)}",
                  f"kubectl drain (retries every {EVICTION_RETRY_SECONDS}s)")
            if echo:
                print(f'error when evicting pods/"{name}" -n "{ns}" (will retry after {EVICTION_RETRY_SECONDS}s): '
                      f"{api_message(e)}")
            time.sleep(EVICTION_RETRY_SECONDS)


def _wait_gone(core, pod: dict, deadline: float) -> None:
    name, ns = readers.name(pod), _namespace(pod)
    # uid: a new pod that took the name (a StatefulSet's) does not count as the old one
    if not wait.gone(core.list_namespaced_pod, name, max(0.0, deadline - time.monotonic()), namespace=ns,
                     uid=readers.uid(pod)):
        raise KjlabError(f"pod {ns}/{name} was evicted but is still there", f"kjlab kubectl get pod {name} -n {ns} -o yaml")


# --- pod status and deletion ------------------------------------------------------------------

def condition_patch(type_: str, status: str = "True", reason: str | None = None, message: str | None = None) -> dict:
    """The docs' patch.yaml: status.conditions with one condition, lastTransitionTime = now."""
    condition = {"type": type_, "status": status}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    condition["lastTransitionTime"] = kube.now_rfc3339()
    return {"status": {"conditions": [condition]}}


@acts
def patch_pod_condition(context: str, namespace: str, pod: str, type_: str, status: str = "True",
                        reason: str | None = None, message: str | None = None, echo: bool = True,
                        recorder=None, allow_context: str | None = None) -> dict:
    """Add (or update) a pod condition through the status subresource, as the docs do with
    `kubectl patch pod NAME --subresource=status --patch-file=patch.yaml`.

    A strategic merge patch keyed on the condition type: the pod's other conditions stay.
    """
    guard(context, f"patch the status of pod {pod}", allow_context)
    patch = condition_patch(type_, status, reason, message)
    try:
        kube.core(context).patch_namespaced_pod_status(pod, namespace, patch, _content_type=kube.STRATEGIC_MERGE)
    except client.ApiException as e:
        raise KjlabError(f"patching pod {namespace}/{pod} failed: {api_message(e)}",
                         f"check the pod exists: kjlab kubectl get pod {pod} -n {namespace}") from None
    command = f"kubectl patch pod {pod} -n {namespace} --subresource=status --patch-file=patch.yaml"
    if echo:
        print("# patch.yaml\n" + yaml.safe_dump(patch, sort_keys=False).rstrip())
    _show(echo, command, [f"pod/{pod} patched"])
    _step(recorder, "patch", f"pod/{pod}", f"{type_}={status}" + (f" ({reason})" if reason else ""), command)
    return patch


@acts
def delete_pod(context: str, namespace: str, pod: str, grace_period: int | None = None, echo: bool = True,
               recorder=None, allow_context: str | None = None) -> None:
    """`kubectl delete pod NAME` (graceful; the kubelet moves a pending/running pod to Failed first)."""
    guard(context, f"delete pod {pod}", allow_context)
    try:
        kube.core(context).delete_namespaced_pod(pod, namespace, grace_period_seconds=grace_period)
    except client.ApiException as e:
        if e.status == 404:
            raise KjlabError(f'pod "{pod}" not found in namespace {namespace}', f"kjlab kubectl get pods -n {namespace}") from None
        raise
    command = f"kubectl delete pod {pod} -n {namespace}" + (f" --grace-period={grace_period}" if grace_period is not None else "")
    _show(echo, command, [f'pod "{pod}" deleted'])
    _step(recorder, "delete", f"pod/{pod}", "", command)


# --- Jobs -----------------------------------------------------------------------------------------

@acts
def patch_job(context: str, namespace: str, job: str, patch: dict, echo: bool = True, recorder=None,
              allow_context: str | None = None) -> dict:
    """`kubectl patch job NAME --type=merge -p '<patch>'` (suspend/resume, a suspended Job's
    scheduling directives). API refusals become one KjlabError in the API's own words."""
    return _patch(context, namespace, "job", job, patch, kube.batch(context).patch_namespaced_job, echo,
                        recorder, allow_context)


def _patch(context: str, namespace: str, kind: str, name: str, patch: dict, call, echo: bool, recorder,
                 allow_context: str | None, group: str = "batch", strategic: bool = False,
                 shown_as: tuple[str, str] | None = None) -> dict:
    """`kubectl patch KIND NAME --type=merge -p '<patch>'` through ``call`` (the typed client's patch);
    ``strategic``: kubectl's default strategic merge instead (containers matched by name).
    ``shown_as``: (command, its output) when the patch is what another kubectl command does
    (`kubectl set env` ...), so the learner sees the command the lab taught."""
    guard(context, f"patch {kind} {name}", allow_context)
    try:
        patched = kube.raw(call, name, namespace, patch,
                           _content_type=kube.STRATEGIC_MERGE if strategic else "application/merge-patch+json")
    except client.ApiException as e:
        raise KjlabError(f"patching {kind} {namespace}/{name} failed: {api_message(e)}",
                         f"look at it: kjlab kubectl get {kind} {name} -n {namespace} -o yaml") from None
    text = json.dumps(patch, separators=(",", ":"))
    command = f"kubectl patch {kind} {name} -n {namespace}{'' if strategic else ' --type=merge'} -p '{text}'"
    said = f"{kind}.{group}/{name} patched"
    if shown_as:
        command, said = shown_as
    _show(echo, command, [said])
    # on the timeline by the command's own name ("set env"), as the learner typed it
    _step(recorder, " ".join(command.split()[1:3]) if shown_as else "patch", f"{kind}/{name}", text, command)
    return patched


# --- CronJobs --------------------------------------------------------------------------------------

@acts
def apply_cronjob(context: str, namespace: str, manifest, recorder=None, echo: bool = True,
                  allow_context: str | None = None) -> dict:
    """`kubectl create -f cronjob.yaml -n NS`: the manifest exactly as written; an invalid schedule
    or time zone comes back as one KjlabError in the API's own words."""
    doc = manifests.load(manifest)
    if doc.get("kind") != "CronJob":
        raise KjlabError(f"this step creates a CronJob; this manifest is a {doc.get('kind')}", "give it kind: CronJob")
    return create(context, namespace, doc, recorder, echo, allow_context)


@acts
def patch_cronjob(context: str, namespace: str, cronjob: str, patch: dict, echo: bool = True, recorder=None,
                  allow_context: str | None = None) -> dict:
    """`kubectl patch cronjob NAME --type=merge -p '<patch>'` (suspend, resume, change a policy)."""
    return _patch(context, namespace, "cronjob", cronjob, patch, kube.batch(context).patch_namespaced_cron_job,
                        echo, recorder, allow_context)


def job_from_cronjob(cronjob: dict, job_name: str) -> dict:
    """The Job `kubectl create job NAME --from=cronjob/CRONJOB` creates: the CronJob's jobTemplate,
    annotated ``cronjob.kubernetes.io/instantiate: manual`` and owned by the CronJob (so the
    CronJob's history limits count it), as kubectl's own code builds it."""
    template = cronjob["spec"]["jobTemplate"]
    meta = readers.meta(cronjob)
    annotations = {"cronjob.kubernetes.io/instantiate": "manual",
                   **((template.get("metadata") or {}).get("annotations") or {})}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": job_name, "annotations": annotations,
                         "labels": (template.get("metadata") or {}).get("labels") or {},
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": meta["name"],
                                              "uid": meta["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": template["spec"]}


@acts
def create_job_from_cronjob(context: str, namespace: str, cronjob: str, job_name: str, recorder=None,
                            echo: bool = True, allow_context: str | None = None) -> dict:
    """`kubectl create job JOB --from=cronjob/CRONJOB`: run a CronJob's Job now, outside its schedule."""
    guard(context, f"create job {job_name} from cronjob {cronjob}", allow_context)
    try:
        source = kube.raw(kube.batch(context).read_namespaced_cron_job, cronjob, namespace)
    except client.ApiException as e:
        raise KjlabError(api_message(e), f"kjlab kubectl get cronjob {cronjob} -n {namespace}") from None
    return create(context, namespace, job_from_cronjob(source, job_name), recorder, echo, allow_context,
                  detail=f"from cronjob/{cronjob}",
                  shown_as=f"kubectl create job {job_name} --from=cronjob/{cronjob} -n {namespace}")


@acts
def delete_job(context: str, namespace: str, job: str, cascade: str = "background", echo: bool = True, recorder=None,
               allow_context: str | None = None) -> None:
    """`kubectl delete job NAME --cascade=background|foreground|orphan`: with ``orphan`` the Job goes
    and its pods stay, without an owner (a Job with a matching selector adopts them)."""
    guard(context, f"delete job {job}", allow_context)
    propagation = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}[cascade]
    try:
        kube.batch(context).delete_namespaced_job(job, namespace, propagation_policy=propagation)
    except client.ApiException as e:
        raise KjlabError(f"deleting job {namespace}/{job} failed: {api_message(e)}",
                         f"kjlab kubectl get job {job} -n {namespace}") from None
    command = f"kubectl delete job {job} -n {namespace} --cascade={cascade}"
    _show(echo, command, [f'job.batch "{job}" deleted from {namespace} namespace'])
    _step(recorder, "delete", f"job/{job}", f"cascade={cascade}", command)


# --- workload controllers ------------------------------------------------------------------------

WORKLOADS = ("ReplicaSet", "Deployment", "DaemonSet")


@acts
def apply_workload(context: str, namespace: str, manifest, recorder=None, echo: bool = True,
                   allow_context: str | None = None) -> dict:
    """`kubectl create -f workload.yaml -n NS` for a ReplicaSet, Deployment or DaemonSet, exactly as
    written; a refusal comes back as one KjlabError in the API's own words."""
    doc = manifests.load(manifest)
    kind = doc.get("kind")
    if kind not in WORKLOADS:
        raise KjlabError(f"this step creates a {', '.join(WORKLOADS)}; this manifest is a {kind}",
                         "give it kind: ReplicaSet, Deployment or DaemonSet")
    created = create(context, namespace, doc, recorder, echo, allow_context)
    name, template = doc["metadata"]["name"], doc["spec"]["template"]
    _warn_not_simulated(context, {"kind": "Pod", "metadata": {"name": name}, "spec": template.get("spec") or {}}, echo, recorder)
    return created


def _label_text(labels: dict) -> str:
    return " ".join(f"{k}-" if v is None else f"{k}={v}" for k, v in labels.items())


@acts
def label_pod(context: str, namespace: str, pod: str, labels: dict, echo: bool = True, recorder=None,
              allow_context: str | None = None) -> dict:
    """`kubectl label pod NAME k=v k2- --overwrite`: a value of None removes the label. Labels are
    what a controller's selector matches, so this moves a pod out of a ReplicaSet or into one."""
    guard(context, f"label pod {pod}", allow_context)
    try:
        patched = kube.raw(kube.core(context).patch_namespaced_pod, pod, namespace, {"metadata": {"labels": labels}},
                           _content_type="application/merge-patch+json")
    except client.ApiException as e:
        raise KjlabError(f"labelling pod {namespace}/{pod} failed: {api_message(e)}",
                         "a label value is at most 63 characters: letters, digits, '-', '_', '.'") from None
    command = f"kubectl label pod {pod} -n {namespace} {_label_text(labels)} --overwrite"
    _show(echo, command, [f"pod/{pod} labeled"])
    _step(recorder, "label", f"pod/{pod}", _label_text(labels), command)
    return patched


@acts
def label_node(context: str, node: str, labels: dict, echo: bool = True, recorder=None,
               allow_context: str | None = None) -> dict:
    """`kubectl label node NAME k=v` (None removes the label): a DaemonSet's nodeSelector follows it."""
    guard(context, f"label node {node}", allow_context)
    try:
        patched = kube.raw(kube.core(context).patch_node, node, {"metadata": {"labels": labels}},
                           _content_type="application/merge-patch+json")
    except client.ApiException as e:
        raise KjlabError(f"labelling node {node} failed: {api_message(e)}", "kjlab kubectl get nodes --show-labels") from None
    command = f"kubectl label node {node} {_label_text(labels)} --overwrite"
    _show(echo, command, [f"node/{node} labeled"])
    _step(recorder, "label", f"node/{node}", _label_text(labels), command)
    return patched


@acts
def patch_deployment(context: str, namespace: str, deployment: str, patch: dict, echo: bool = True, recorder=None,
                     allow_context: str | None = None, shown_as: tuple[str, str] | None = None) -> dict:
    """`kubectl patch deployment NAME -p '<patch>'` (strategic merge, as kubectl does: a container
    is matched by its name, so a patch may name just the one container it changes)."""
    return _patch(context, namespace, "deployment", deployment, patch,
                        kube.apps(context).patch_namespaced_deployment, echo, recorder, allow_context,
                        group="apps", strategic=True, shown_as=shown_as)


@acts
def annotate_pod(context: str, namespace: str, pod: str, annotations: dict, echo: bool = True, recorder=None,
                 allow_context: str | None = None) -> dict:
    """`kubectl annotate pod NAME k=v --overwrite` (None removes): e.g. the pod-deletion-cost a
    ReplicaSet reads when it chooses which pod to delete."""
    guard(context, f"annotate pod {pod}", allow_context)
    try:
        patched = kube.raw(kube.core(context).patch_namespaced_pod, pod, namespace,
                           {"metadata": {"annotations": annotations}}, _content_type="application/merge-patch+json")
    except client.ApiException as e:
        raise KjlabError(f"annotating pod {namespace}/{pod} failed: {api_message(e)}",
                         f"kjlab kubectl get pod {pod} -n {namespace} -o yaml") from None
    command = f"kubectl annotate pod {pod} -n {namespace} {_label_text(annotations)} --overwrite"
    _show(echo, command, [f"pod/{pod} annotated"])
    _step(recorder, "annotate", f"pod/{pod}", _label_text(annotations), command)
    return patched
