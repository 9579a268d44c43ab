"""Practice tasks on pods: restart policy, a crashed container's exit code and logs, QoS class,
environment from a ConfigMap and a Secret, labels and annotations -- these run on kwok: they need
exits and restarts in place (simulated), logs of the previous run (simulated), and what the API
server computes or stores (qosClass, env references, labels), nothing the simulated kubelet lacks.
One more, a pod waiting in CreateContainerConfigError, needs a real kubelet (kind): the simulated
one does not resolve env references. (Probes, init containers, OOM: probes.py, kind only.)

What the explanations say about Kubernetes v1.36.4, and where it is written:
- restartPolicy defaults to Always -- pkg/apis/core/v1/defaults.go:219-221; `kubectl run` also
  defaults --restart to Always -- k8s.io/kubectl@v0.36.4 pkg/cmd/run/run.go:191;
- Never: a container that ran is not started again; OnFailure: not after exit 0; Always: after any
  exit -- pkg/kubelet/container/helpers.go:86-120 (ShouldContainerBeRestarted); a container's own
  restartPolicy (ContainerRestartRules, beta and on in 1.36) overrides the pod's --
  pkg/api/v1/pod/util.go:419-458 (ContainerShouldRestart);
- the previous run of a restarted container is status.containerStatuses[].lastState.terminated, and
  `kubectl logs --previous` reads that run's log -- pkg/kubelet/kubelet_pods.go:1541-1560;
- a limit with no request sets the request to the limit -- pkg/apis/core/v1/defaults.go:164-180;
- QoS Guaranteed needs, in every container, cpu and memory limits equal to their requests; any
  request or limit otherwise gives Burstable, none BestEffort -- pkg/apis/core/helper/qos/qos.go:89-171;
- env valueFrom.configMapKeyRef / secretKeyRef is resolved by the kubelet when the container starts
  ("couldn't find key ... in ConfigMap", CreateContainerConfigError) -- pkg/kubelet/kubelet_pods.go:895,922,
  pkg/kubelet/kuberuntime/kuberuntime_container.go:69; envFrom takes every key of the ConfigMap as a
  variable of the same name (after its prefix) -- pkg/kubelet/kubelet_pods.go:775;
- a pod update may change its metadata (labels, annotations) but only a few spec fields (image,
  tolerations, activeDeadlineSeconds ...) -- pkg/apis/core/validation/validation.go:5701,5840;
  resources change through the resize subresource -- validation.go:6306 (ValidatePodResize);
- a pod stays Pending (PodScheduled=False, reason Unschedulable) while no node has its requests left
  to allocate, "Insufficient cpu" -- pkg/scheduler/framework/plugins/noderesources/fit.go:702.
Checked on kwok, not simulated there: a pod's image changed in place is not pulled again (the Stages
match a pod without a podIP only), so an ErrImagePull fix-in-place task would fail a right answer on
kwok; env references are not resolved (so pod-config-error is kind only).
"""

from __future__ import annotations

import random

from kubernetes import client
from kubernetes.utils.quantity import parse_quantity

from kjlab.api import kube, readers
from kjlab.cluster import provider
from kjlab.practice.cluster_view import Missing
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.verdicts import verdict

SOURCE_RESTART = "pkg/kubelet/container/helpers.go:86-120"
SOURCE_CONTAINER_RESTART = "pkg/api/v1/pod/util.go:419-458"
SOURCE_DEFAULT_RESTART = "pkg/apis/core/v1/defaults.go:219-221"
SOURCE_QOS = "pkg/apis/core/helper/qos/qos.go:89-171"
SOURCE_LIMIT_DEFAULT = "pkg/apis/core/v1/defaults.go:164-180"
KWOK_HEADER = "[kjlab: simulated kubelet (kwok)"  # the first line of every log the simulated kubelet serves


def container(pod: dict, name: str | None = None) -> dict:
    """The pod's container called ``name`` (else its first), as written in its spec."""
    cs = ((pod or {}).get("spec") or {}).get("containers") or [{}]
    return next((c for c in cs if c.get("name") == name), cs[0]) if name else cs[0]


def config_map(view, name: str) -> dict | None:
    try:
        return kube.raw(kube.core(view.context).read_namespaced_config_map, name, view.namespace)
    except client.ApiException as e:
        if e.status == 404:
            return None
        raise


def _setup_record(view, **data) -> None:
    """What the setup made (uids, the chosen exit code), so the check can tell the prepared objects
    from ones deleted and made again."""
    kube.core(view.context).create_namespaced_config_map(view.namespace, {
        "metadata": {"name": "practice-setup"}, "data": {k: str(v) for k, v in data.items()}})


def running_problems(view, pod: dict) -> list[str]:
    """Wait (bounded by progress) for ``pod`` to run; what is wrong if it does not."""
    name = readers.name(pod)
    _, pods = view.settle("pod", lambda ps: any(readers.phase(p) == "Running" for p in ps), f"pod {name} to run",
                          quiet=20, cap=60, field_selector=f"metadata.name={name}")
    last = pods[0] if pods else pod
    if readers.phase(last) == "Running":
        return []
    why = (readers.condition(last, "PodScheduled") or {}).get("message")
    return [f"pod {name} is not running ({readers.describe_pod(last)})"
            + (f"; the scheduler says: {why}" if why else "")]


def _pod_line(pod: dict) -> str:
    cs = readers.container_status(pod) or {}
    last = readers.last_exit_code(pod)
    return (f"pod {readers.name(pod)}: restartPolicy {pod['spec'].get('restartPolicy')}, phase {readers.phase(pod)}, "
            f"restartCount {cs.get('restartCount', 0)}"
            + (f", exit code {readers.exit_code(pod)}" if readers.exit_code(pod) is not None else "")
            + (f", last run's exit code {last}" if last is not None else ""))


# --- restartPolicy ---------------------------------------------------------------------------------

def effective_restart_policy(pod: dict, c: dict) -> tuple[str | None, str]:
    """The restart policy the kubelet applies to container ``c`` of ``pod``, and where it comes from: the
    container's own restartPolicy if it has one, else the pod's (ContainerShouldRestart,
    pkg/api/v1/pod/util.go:419-458)."""
    if c.get("restartPolicy"):
        return c["restartPolicy"], f"container {c.get('name')}'s restartPolicy"
    return ((pod or {}).get("spec") or {}).get("restartPolicy"), "restartPolicy"


def restart_policy_problems(policy: str | None, where: str = "restartPolicy") -> list[str]:
    """What is wrong with ``policy`` (read from ``where``) for a container that must start again after a
    failure, never after exit 0."""
    if policy == "OnFailure":
        return []
    if policy == "Always":
        default = (f" (the default when it is left out, {SOURCE_DEFAULT_RESTART}, and kubectl run's default)"
                   if where == "restartPolicy" else f" (it overrides the pod's, {SOURCE_CONTAINER_RESTART})")
        return [f"{where} is Always{default}: the kubelet would start the container again after exit 0 too"]
    if policy == "Never":
        over = "" if where == "restartPolicy" else f", and it overrides the pod's ({SOURCE_CONTAINER_RESTART})"
        return [f"{where} is Never: a container that has run is never started again, so the failed pod ends "
                f"Failed ({SOURCE_RESTART}){over}"]
    return [f"{where} is {policy}"]


def restarted_or_ended(pods: list[dict]) -> bool:
    return any(readers.restart_count(p) >= 1 or readers.ended(p) for p in pods)


def _kubelet_simulated(context: str) -> bool:
    """The cluster's kubelets are kwok's (they run no container), as kjlab recorded when it made it."""
    return not provider.for_context(context).real


def check_restart_policy(view):
    pod = view.require("pod", "retry")
    containers = pod["spec"].get("containers") or []
    problems = [p for c in containers for p in restart_policy_problems(*effective_restart_policy(pod, c))]
    own = [c.get("name") for c in containers if c.get("restartPolicy")]
    if not problems and own and _kubelet_simulated(view.context):
        # kwok's Stages read only the pod's restartPolicy: a container's own one would fail here though
        # it is right, so the behaviour is not exercised, and the verdict says so
        return verdict("pod-restart-policy", [], [
            _pod_line(pod),
            f"not run: container {', '.join(own)} sets its own restartPolicy, which overrides the pod's on a real "
            "kubelet (pkg/api/v1/pod/util.go:419-458) but not on the simulated one (kwok reads only the pod's); "
            "on kind the failed container is started again"], "right for v1.36 (effective restart policy OnFailure)")
    if not problems:
        _, pods = view.settle("pod", restarted_or_ended, "pod retry's container to fail and start again",
                              quiet=20, cap=40, field_selector="metadata.name=retry")
        pod = pods[0] if pods else view.require("pod", "retry")
        if readers.restart_count(pod) < 1:
            problems.append(f"the container was not started again (its command: "
                            f"{' '.join(container(pod).get('command') or [])!r}, which the task says fails)")
    return verdict("pod-restart-policy", problems, [_pod_line(pod)],
                   "the failed container was started again in the same pod (effective restart policy OnFailure)")


register(Task(
    id="pod-restart-policy", topic="pods", minutes=3, title="restartPolicy: again after a failure only",
    statement="""
In namespace {ns}, create a Pod named `retry` (image `bash:5`, command `sh -c "sleep 2 && exit 1"`).
When its container fails (exits non-zero), the kubelet must start it again in the same pod; once it
has exited 0 it must not be started again.
""",
    check=check_restart_policy,
    hint="spec.restartPolicy: Always (the default), OnFailure or Never; kubectl run has --restart. A container's own "
         "restartPolicy, if set, overrides the pod's.",
    imperative="""
kubectl run retry --image=bash:5 --restart=OnFailure --command -- sh -c "sleep 2 && exit 1"
""",
    declarative="""
apiVersion: v1
kind: Pod
metadata:
  name: retry
spec:
  restartPolicy: OnFailure
  containers:
  - name: retry
    image: bash:5
    command: ["sh", "-c", "sleep 2 && exit 1"]
""",
    sources=(SOURCE_RESTART, SOURCE_CONTAINER_RESTART, SOURCE_DEFAULT_RESTART,
             "k8s.io/kubectl@v0.36.4 pkg/cmd/run/run.go:191"),
    lab_cell="labs/10-pod-lifecycle.ipynb, cell cell-03: The zoo: one pod per STATUS",
))


# --- a crashed container: exit code and previous logs ----------------------------------------------

CRASH_LINES = ("connecting to orders-db:5432", "fatal: password authentication failed for user billing")
CRASH_CODES = (12, 42, 64, 78)  # more than any restartCount a check sees, so neither is taken for the other


def crash_pod(exit_code: int) -> dict:
    script = "; ".join(f'echo "{line}"' for line in CRASH_LINES) + f"; exit {exit_code}"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "billing", "labels": {"app": "billing"}},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [
                {"name": "billing", "image": "bash:5", "command": ["sh", "-c", script]}]}}


def setup_crash(view):
    created = kube.create(view.context, view.namespace, crash_pod(random.choice(CRASH_CODES)))
    _setup_record(view, **{"pod-uid": readers.uid(created)})
    view.settle("pod", lambda pods: any(readers.restart_count(p) >= 1 for p in pods),
                "pod billing's first crash", quiet=30, cap=60, field_selector="metadata.name=billing")


def printed_lines(log: str) -> list[str]:
    """The lines a container printed (the simulated kubelet's header line left out)."""
    return [line for line in log.splitlines() if line.strip() and not line.startswith(KWOK_HEADER)]


def crash_report_problems(data: dict, exit_code: int | None, restarts: int, last_line: str | None) -> list[str]:
    """Compare the learner's ConfigMap data with what the pod's status and previous log hold."""
    problems = []
    got = (data.get("exitCode") or "").strip()
    if got != str(exit_code):
        also = (f" ({got} is the restart count, status.containerStatuses[].restartCount, not an exit code)"
                if got == str(restarts) else "")
        problems.append(f"exitCode is {got!r}: the container's last run ended with exit code {exit_code} "
                        "(status.containerStatuses[].lastState.terminated.exitCode; `kubectl describe pod` shows it "
                        f"under Last State){also}")
    line = (data.get("lastLine") or "").strip()
    if last_line is not None and line != last_line:
        problems.append(f"lastLine is {line!r}: the last line the container printed before it ended was "
                        f"{last_line!r} (`kubectl logs billing --previous` shows the run before the restart)")
    return problems


def check_crash_report(view):
    pod = view.require("pod", "billing")
    setup = config_map(view, "practice-setup") or {"data": {}}
    problems = []
    if readers.uid(pod) != setup["data"].get("pod-uid"):
        problems.append("pod billing is not the one the task prepared (it was deleted and created again): the task "
                        "says not to change it")
    terms = readers.latest_terminations(pod)
    exit_code = terms[0][2].get("exitCode") if terms else None
    core = kube.core(view.context)
    previous = readers.last_exit_code(pod) is not None
    try:
        log = core.read_namespaced_pod_log("billing", view.namespace, container="billing", previous=previous)
    except client.ApiException:
        log = ""
    lines = printed_lines(log)
    report = config_map(view, "crash-report")
    found = [_pod_line(pod)]
    if report is None:
        raise Missing(f"there is no configmap called crash-report in namespace {view.namespace}")
    found.append(f"ConfigMap crash-report: {report.get('data') or {}}")
    problems += crash_report_problems(report.get("data") or {}, exit_code, readers.restart_count(pod),
                                      lines[-1] if lines else None)
    return verdict("pod-crash-report", problems, found,
                   f"the report has the exit code ({exit_code}) and the last line printed before the crash")


register(Task(
    id="pod-crash-report", topic="pods", minutes=4, title="A crashed container: exit code and previous logs",
    statement="""
In namespace {ns}, the Pod `billing` keeps restarting. Find the exit code its container ended with,
and the last line it printed before it ended. Record both in a ConfigMap named `crash-report`, with
the keys `exitCode` (the number, e.g. `2`) and `lastLine` (the line as printed). Do not change the pod.
""",
    setup=setup_crash,
    check=check_crash_report,
    hint="kubectl describe pod billing (Last State: Terminated, Exit Code); kubectl logs billing --previous; "
         "kubectl create configmap crash-report --from-literal=KEY=VALUE ...",
    imperative="""
code=$(kubectl get pod billing -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}')
line=$(kubectl logs billing --previous | tail -n 1)
kubectl create configmap crash-report --from-literal=exitCode="$code" --from-literal=lastLine="$line"
""",
    declarative="""
# read them first: kubectl describe pod billing (Last State); kubectl logs billing --previous
code=$(kubectl get pod billing -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}')
line=$(kubectl logs billing --previous | tail -n 1)
kubectl create configmap crash-report --from-literal=exitCode="$code" --from-literal=lastLine="$line" \
  --dry-run=client -o yaml > report.yaml
kubectl apply -f report.yaml
""",
    sources=("pkg/kubelet/kubelet_pods.go:1541-1560", SOURCE_RESTART),
    lab_cell="labs/10-pod-lifecycle.ipynb, cell cell-16: Exit codes: who ended each container",
))


# --- QoS class Guaranteed --------------------------------------------------------------------------

WANT_REQUESTS = {"cpu": "100m", "memory": "64Mi"}


def _same(a, b) -> bool:
    try:
        return a is not None and b is not None and parse_quantity(a) == parse_quantity(b)
    except ValueError:
        return False


def qos_problems(pod: dict) -> list[str]:
    """Why the pod is not Guaranteed with the requests the task asks for, read from its spec (after the
    API server's defaulting) and the qosClass the API server computed."""
    problems = []
    for c in pod["spec"].get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for r, want in WANT_REQUESTS.items():
            if not _same(req.get(r), want):
                problems.append(f"container {c.get('name')} requests {r} {req.get(r)}; the task asks for {want}")
            if lim.get(r) is None:
                problems.append(f"container {c.get('name')} has no {r} limit: Guaranteed needs a {r} limit in every "
                                f"container, equal to its request ({SOURCE_QOS}; a limit alone also sets the request "
                                f"to it, {SOURCE_LIMIT_DEFAULT})")
            elif not _same(lim.get(r), req.get(r)):
                problems.append(f"container {c.get('name')}'s {r} limit {lim.get(r)} differs from its request "
                                f"{req.get(r)}: Guaranteed needs them equal ({SOURCE_QOS})")
    qos = (pod.get("status") or {}).get("qosClass")
    if qos != "Guaranteed":
        problems.append(f"the API server gave the pod QoS class {qos}" + (
            " (no requests or limits at all)" if qos == "BestEffort" else ""))
    return problems


def check_qos(view):
    pod = view.require("pod", "db")
    problems = qos_problems(pod)
    found = [f"pod db: qosClass {(pod.get('status') or {}).get('qosClass')}, resources "
             f"{container(pod).get('resources') or {}}"]
    if not problems:
        problems = running_problems(view, pod)
    return verdict("pod-qos-guaranteed", problems, found, "pod db runs with QoS class Guaranteed")


register(Task(
    id="pod-qos-guaranteed", topic="pods", minutes=3, title="Requests and limits: QoS class Guaranteed",
    statement="""
In namespace {ns}, create a Pod named `db` (image `bash:5`, command `sleep infinity`) that requests
100m of CPU and 64Mi of memory, and whose QoS class is `Guaranteed` (its memory use can never
exceed its request, so among pods of the same priority a node under memory pressure evicts it last).
""",
    check=check_qos,
    hint="kubectl get pod db -o jsonpath='{.status.qosClass}'. Guaranteed: every container has cpu and memory "
         "limits, equal to its requests.",
    imperative="""
kubectl run db --image=bash:5 --overrides='{"spec":{"containers":[{"name":"db","image":"bash:5","command":["sleep","infinity"],"resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"100m","memory":"64Mi"}}}]}}'
""",
    declarative="""
apiVersion: v1
kind: Pod
metadata:
  name: db
spec:
  containers:
  - name: db
    image: bash:5
    command: ["sleep", "infinity"]
    resources:
      requests:
        cpu: 100m
        memory: 64Mi
      limits:
        cpu: 100m
        memory: 64Mi
""",
    sources=(SOURCE_QOS, SOURCE_LIMIT_DEFAULT),
))


# --- environment from a ConfigMap and a Secret -----------------------------------------------------

APP_CONFIG = {"LOG_LEVEL": "debug", "COLOR": "blue"}
DB_SECRET = {"user": "billing", "password": "s3cr3t-for-practice"}


def setup_env(view):
    core = kube.core(view.context)
    core.create_namespaced_config_map(view.namespace, {"metadata": {"name": "app-config"}, "data": APP_CONFIG})
    core.create_namespaced_secret(view.namespace, {"metadata": {"name": "db-credentials"}, "stringData": DB_SECRET})


Keys = dict[tuple[str, str], set[str]]  # (kind, name) of a ConfigMap or Secret -> the keys it holds


def _env_source(c: dict, var: str, keys: Keys) -> tuple[str, str | None, str | None, str | None]:
    """Where ``var`` comes from in container ``c``: ("value", None, None, literal), ("configMap"|"secret",
    name, key, None), ("envFrom configMap"|"envFrom secret", name, key, None) or ("missing", ...).
    ``keys``: (kind, name) -> the keys that object holds (envFrom makes a variable of each key only)."""
    for e in c.get("env") or []:
        if e.get("name") != var:
            continue
        source = e.get("valueFrom") or {}
        for field, kind in (("configMapKeyRef", "configMap"), ("secretKeyRef", "secret")):
            if field in source:
                return kind, source[field].get("name"), source[field].get("key"), None
        return ("value", None, None, e.get("value")) if not source else ("other", None, None, None)
    for ef in c.get("envFrom") or []:
        prefix = ef.get("prefix") or ""
        for field, kind in (("configMapRef", "configMap"), ("secretRef", "secret")):
            name = (ef.get(field) or {}).get("name")
            if name and var.startswith(prefix) and var[len(prefix):] in keys.get((kind, name), set()):
                return f"envFrom {kind}", name, var[len(prefix):], None
    return "missing", None, None, None


def env_problems(c: dict, keys: Keys) -> list[str]:
    """What keeps container ``c`` from reading LOG_LEVEL from ConfigMap app-config's key LOG_LEVEL and
    DB_PASSWORD from Secret db-credentials' key password (``keys``: (kind, name) -> the keys it holds)."""
    problems = []
    for var, want_kind, want_name, want_key in (("LOG_LEVEL", "configMap", "app-config", "LOG_LEVEL"),
                                                 ("DB_PASSWORD", "secret", "db-credentials", "password")):
        kind, name, key, literal = _env_source(c, var, keys)
        if kind == "missing":
            problems.append(f"the container has no variable {var}" + (
                " (envFrom makes one variable per key, named prefix + key as the key is spelled: "
                f"{want_name}'s keys are {', '.join(sorted(keys.get((want_kind, want_name), ())))})"
                if c.get("envFrom") else ""))
        elif kind == "value":
            problems.append(f"{var} is written into the pod as the literal {literal!r}: a change to the {want_kind} "
                            f"would never reach it, and anyone who can read the pod reads the value; use "
                            f"valueFrom.{want_kind}KeyRef")
        elif kind.removeprefix("envFrom ") != want_kind or name != want_name or key != want_key:
            problems.append(f"{var} comes from {kind} {name}, key {key}; the task says {want_kind} {want_name}, "
                            f"key {want_key}")
            if key not in keys.get((kind.removeprefix("envFrom "), name), set()):
                problems.append(f"{kind} {name} has no key {key}: on a real node the container would not start "
                                "(CreateContainerConfigError, \"couldn't find key\", pkg/kubelet/kubelet_pods.go:895)")
    return problems


def check_env(view):
    pod = view.require("pod", "app")
    core = kube.core(view.context)
    cm = config_map(view, "app-config") or {}
    secret = kube.raw(core.read_namespaced_secret, "db-credentials", view.namespace)
    c = container(pod)
    found = [f"pod app: env {[e.get('name') for e in c.get('env') or []]}, envFrom "
             f"{[(ef.get('configMapRef') or ef.get('secretRef') or {}).get('name') for ef in c.get('envFrom') or []]}"]
    problems = env_problems(c, {("configMap", "app-config"): set(cm.get("data") or {}),
                                ("secret", "db-credentials"): set(secret.get("data") or {})})
    if not problems:
        problems = running_problems(view, pod)
    return verdict("pod-env-config", problems, found,
                   "LOG_LEVEL comes from ConfigMap app-config and DB_PASSWORD from Secret db-credentials")


register(Task(
    id="pod-env-config", topic="pods", minutes=4, title="Environment from a ConfigMap and a Secret",
    statement="""
In namespace {ns}, the ConfigMap `app-config` and the Secret `db-credentials` exist. Create a Pod named
`app` (image `bash:5`, command `sleep infinity`) whose container has the variable `LOG_LEVEL` from
the ConfigMap's key `LOG_LEVEL` and the variable `DB_PASSWORD` from the Secret's key `password`.
Do not copy the values into the pod.
""",
    setup=setup_env,
    check=check_env,
    hint="env[].valueFrom.configMapKeyRef / secretKeyRef {name, key} (kubectl explain pod.spec.containers.env."
         "valueFrom); on a Deployment, kubectl set env --from=secret/NAME --keys=KEY --prefix=P_ writes such references.",
    imperative="""
kubectl run app --image=bash:5 --overrides='{"spec":{"containers":[{"name":"app","image":"bash:5","command":["sleep","infinity"],"env":[{"name":"LOG_LEVEL","valueFrom":{"configMapKeyRef":{"name":"app-config","key":"LOG_LEVEL"}}},{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db-credentials","key":"password"}}}]}]}}'
""",
    declarative="""
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: bash:5
    command: ["sleep", "infinity"]
    env:
    - name: LOG_LEVEL
      valueFrom:
        configMapKeyRef:
          name: app-config
          key: LOG_LEVEL
    - name: DB_PASSWORD
      valueFrom:
        secretKeyRef:
          name: db-credentials
          key: password
""",
    sources=("pkg/kubelet/kubelet_pods.go:895", "pkg/kubelet/kubelet_pods.go:922",
             "pkg/kubelet/kuberuntime/kuberuntime_container.go:69"),
))


# --- labels and annotations ------------------------------------------------------------------------

LABEL_PODS = {"web-1": {"app": "web", "env": "staging"}, "web-2": {"app": "web", "env": "staging"},
              "db-1": {"app": "db", "env": "staging"}}


def setup_labels(view):
    uids = {}
    for name, labels in LABEL_PODS.items():
        created = kube.create(view.context, view.namespace, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"terminationGracePeriodSeconds": 2,
                     "containers": [{"name": "main", "image": "bash:5", "command": ["sleep", "infinity"]}]}})
        uids[name] = readers.uid(created)
    _setup_record(view, **uids)


def label_problems(pods: dict[str, dict]) -> list[str]:
    """``pods``: name -> pod. The web pods must carry env=production and tier=frontend and the annotation
    owner=team-checkout; db-1 must be as prepared."""
    problems = []
    for name in ("web-1", "web-2"):
        labels, notes = readers.labels(pods[name]), readers.annotations(pods[name])
        for key, want in (("env", "production"), ("tier", "frontend"), ("app", "web")):
            if labels.get(key) != want:
                problems.append(f"pod {name} has label {key}={labels.get(key)}; the task asks for {key}={want}")
        if notes.get("owner") != "team-checkout":
            where = (" (owner is a label on it: labels are for selecting, annotations for information no selector "
                     "reads; kubectl annotate sets them)" if labels.get("owner") else "")
            problems.append(f"pod {name} has annotation owner={notes.get('owner')}{where}")
    if readers.labels(pods["db-1"]) != LABEL_PODS["db-1"]:
        problems.append(f"pod db-1 now has labels {readers.labels(pods['db-1'])}: only the pods labelled app=web were "
                        "to change (kubectl label pods -l app=web ... selects them)")
    return problems


def check_labels(view):
    setup = config_map(view, "practice-setup") or {"data": {}}
    pods = {name: view.require("pod", name) for name in LABEL_PODS}
    problems = [f"pod {n} is not the one the task prepared (deleted and created again): labels and annotations can "
                "be changed on a running pod" for n, p in pods.items() if readers.uid(p) != setup["data"].get(n)]
    problems += label_problems(pods)
    found = [f"pod {n}: labels {readers.labels(p)}, annotations "
             f"{ {k: v for k, v in readers.annotations(p).items() if 'kubernetes.io' not in k} }"
             for n, p in pods.items()]
    return verdict("pod-labels", problems, found, "the web pods are relabelled and annotated; db-1 is untouched")


register(Task(
    id="pod-labels", topic="pods", minutes=2, title="Labels and annotations",
    statement="""
In namespace {ns}, the pods labelled `app=web` move to production: change their label `env` to
`production`, add the label `tier=frontend`, and the annotation `owner=team-checkout`. Leave the
other pods as they are, and keep the pods running (do not recreate them).
""",
    setup=setup_labels,
    check=check_labels,
    hint="kubectl label pods -l app=web env=production --overwrite ...; kubectl annotate pods -l app=web ...",
    imperative="""
kubectl label pods -l app=web env=production tier=frontend --overwrite
kubectl annotate pods -l app=web owner=team-checkout
""",
    declarative="""
# metadata is mutable on a running pod: patch both pods' metadata
for p in web-1 web-2; do
  kubectl patch pod "$p" --type=merge -p '{"metadata":{"labels":{"env":"production","tier":"frontend"},"annotations":{"owner":"team-checkout"}}}'
done
""",
    sources=("pkg/apis/core/validation/validation.go:5701", "pkg/apis/core/validation/validation.go:5840"),
))



# --- STATUS Pending: a request no node can hold ----------------------------------------------------

PENDING_CPU = "64"  # more CPU than any node of either engine has to allocate


def pending_pod(cpu: str = PENDING_CPU) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "report"},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
                "name": "report", "image": "bash:5", "command": ["sleep", "infinity"],
                "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}}


def _unschedulable(pod: dict) -> dict | None:
    cond = readers.condition(pod, "PodScheduled") or {}
    return cond if cond.get("status") == "False" and cond.get("reason") == "Unschedulable" else None


def setup_pending(view):
    kube.create(view.context, view.namespace, pending_pod())
    view.settle("pod", lambda ps: any(_unschedulable(p) for p in ps), "the scheduler to find no node for report",
                quiet=20, cap=60, field_selector="metadata.name=report")


def pending_problems(pod: dict) -> list[str]:
    """Read before waiting: the request the task allows, and the pod otherwise as it was."""
    c = container(pod, "report")
    cpu = ((c.get("resources") or {}).get("requests") or {}).get("cpu")
    problems = []
    if cpu is not None and parse_quantity(cpu) > parse_quantity("200m"):
        why = _unschedulable(pod)
        problems.append(f"container report requests cpu {cpu}: the task allows at most 200m"
                        + (f"; the scheduler says: {why.get('message')} (\"Insufficient cpu\": no node has that "
                           "much CPU left to allocate, pkg/scheduler/framework/plugins/noderesources/fit.go:702)"
                           if why else ""))
    if c.get("image") != "bash:5" or c.get("command") != ["sleep", "infinity"]:
        problems.append(f"the container is {c.get('image')} {c.get('command')}: the task says keep its image and "
                        "command")
    return problems


def check_pending(view):
    pod = view.require("pod", "report")
    found = [f"{readers.describe_pod(pod)}, requests {(container(pod).get('resources') or {}).get('requests')}"]
    problems = pending_problems(pod)
    if not problems:
        problems = running_problems(view, pod)
    return verdict("pod-pending", problems, found, "report is scheduled and runs with a CPU request a node can hold")


register(Task(
    id="pod-pending", topic="pods", minutes=4, title="STATUS Pending: a request no node can hold",
    statement="""
In namespace {ns}, the Pod `report` stays Pending. Find out why, and make it run: it needs no more
than 200m of CPU. Keep its name, image and command.
""",
    setup=setup_pending,
    check=check_pending,
    hint="kubectl describe pod report: the FailedScheduling event (and the PodScheduled condition) say why. "
         "kubectl edit/apply cannot change a pod's requests; the resize subresource can, even on a Pending pod "
         "(kubectl patch pod report --subresource resize -p '{\"spec\":{\"containers\":[{\"name\":\"report\","
         "\"resources\":{\"requests\":{\"cpu\":\"200m\"}}}]}}'), or create the pod again "
         "(kubectl replace --force -f FILE).",
    imperative="""
kubectl delete pod report
kubectl run report --image=bash:5 --overrides='{"spec":{"containers":[{"name":"report","image":"bash:5","command":["sleep","infinity"],"resources":{"requests":{"cpu":"200m","memory":"64Mi"}}}]}}'
""",
    declarative="""
# the pod's own manifest with the smaller request; replace --force deletes the pod and creates it from the file
kubectl get pod report -o yaml > report.yaml
sed -i 's/cpu: "64"/cpu: 200m/' report.yaml
kubectl replace --force -f report.yaml
""",
    sources=("pkg/scheduler/framework/plugins/noderesources/fit.go:702",
             "pkg/apis/core/validation/validation.go:5840",
             "pkg/apis/core/validation/validation.go:6306"),
    lab_cell="labs/10-pod-lifecycle.ipynb, cell cell-03: The zoo: one pod per STATUS",
))

# --- STATUS CreateContainerConfigError: a missing ConfigMap key (kind only) --------------------------

def config_error_pod() -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
                "name": "web", "image": "bash:5", "command": ["sleep", "infinity"],
                "env": [{"name": "COLOUR",
                         "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "colour"}}}]}]}}


def setup_config_error(view):
    kube.core(view.context).create_namespaced_config_map(view.namespace, {
        "metadata": {"name": "web-config"}, "data": {"color": "blue"}})
    created = kube.create(view.context, view.namespace, config_error_pod())
    _setup_record(view, **{"pod-uid": readers.uid(created)})
    view.settle("pod", lambda ps: any(readers.waiting_in(p, "CreateContainerConfigError") for p in ps),
                "pod web's container to wait in CreateContainerConfigError", quiet=30, cap=60,
                field_selector="metadata.name=web")


def config_refs(pod: dict) -> list[tuple[str, str, str]]:
    """(variable, ConfigMap, key) of every env valueFrom.configMapKeyRef the pod's containers read."""
    return [(e.get("name"), e["valueFrom"]["configMapKeyRef"].get("name"), e["valueFrom"]["configMapKeyRef"].get("key"))
            for c in (pod.get("spec") or {}).get("containers") or [] for e in c.get("env") or []
            if "configMapKeyRef" in (e.get("valueFrom") or {})]


def config_error_problems(pod: dict, maps: dict[str, dict]) -> list[str]:
    """``maps``: ConfigMap name -> its data (None when it does not exist). Every key the pod reads must
    be there, and the one it reads its colour from must say blue."""
    problems = []
    for var, name, key in config_refs(pod):
        data = maps.get(name)
        if data is None:
            problems.append(f"the pod reads {var} from ConfigMap {name}, which does not exist (the kubelet: "
                            f"configmap \"{name}\" not found)")
        elif key not in data:
            problems.append(f"the pod reads {var} from key {key} of ConfigMap {name}, which holds only "
                            f"{', '.join(sorted(data)) or 'no key'}: the kubelet cannot build the container's "
                            f"environment (couldn't find key {key}, pkg/kubelet/kubelet_pods.go:895), so the container "
                            "waits in CreateContainerConfigError and is never started")
        elif data[key] != "blue":
            problems.append(f"key {key} of ConfigMap {name} is {data[key]!r}; the task says blue")
    return problems


def _data(cm: dict | None) -> dict | None:
    return None if cm is None else (cm.get("data") or {})


def check_config_error(view):
    pod = view.require("pod", "web")
    setup = config_map(view, "practice-setup") or {"data": {}}
    problems = []
    if readers.uid(pod) != setup["data"].get("pod-uid"):
        problems.append("pod web is not the one the task prepared (it was deleted and created again): the task says "
                        "to fix it without changing the pod")
    maps = {name: _data(config_map(view, name)) for _, name, _ in config_refs(pod)}
    found = [readers.describe_pod(pod), f"ConfigMaps the pod reads: {maps}"]
    problems += config_error_problems(pod, maps)
    if not problems:
        pod = view.settle("pod", lambda ps: any(readers.state(p)[0] == "running" for p in ps),
                          "the kubelet to retry and start web's container", quiet=30, cap=90,
                          field_selector="metadata.name=web")[1][0]
        if readers.state(pod)[0] != "running":
            problems.append(f"the container has not started ({readers.describe_pod(pod)})")
    return verdict("pod-config-error", problems, found,
                   "web's container started once its ConfigMap held the key it reads")


register(Task(
    id="pod-config-error", topic="pods", minutes=4, title="STATUS CreateContainerConfigError: a missing key",
    statement="""
In namespace {ns}, the Pod `web` does not start. Find out why from its STATUS and events, and fix it
without deleting or changing the pod: the setting it reads must have the value `blue`.
""",
    setup=setup_config_error,
    check=check_config_error,
    hint="kubectl get pod web (STATUS), kubectl describe pod web (the Failed event says what is missing); "
         "kubectl get configmap web-config -o yaml. The kubelet retries: fix what the pod reads, not the pod.",
    imperative="""
kubectl patch configmap web-config --type=merge -p '{"data":{"colour":"blue"}}'
""",
    declarative="""
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  color: blue
  colour: blue
""",
    engines=("kind",),
    kind_only_reason="the simulated kubelet (kwok) does not resolve env references: CreateContainerConfigError is "
                     "not simulated",
    sources=("pkg/kubelet/kubelet_pods.go:895", "pkg/kubelet/kuberuntime/kuberuntime_container.go:69"),
    lab_cell="labs/10-pod-lifecycle.ipynb, cell cell-03: The zoo: one pod per STATUS",
))
