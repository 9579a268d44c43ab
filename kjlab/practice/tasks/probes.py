"""Practice tasks on probes, init containers and memory limits: they need a real kubelet (kind). The
simulated one (kwok) runs no probe (a Warning NotSimulated, containers Ready at once), runs init
containers only as far as its script grammar goes (no file written and read back), and kills nothing for memory (README: What the simulated kubelet runs).
Topic "pods", as registry.TOPICS orders the curriculum.

What the explanations say about Kubernetes v1.36.4, and where it is written:
- only a failed liveness (or startup) probe restarts a container; a failed readiness probe never
  does -- pkg/kubelet/prober/worker.go:380-390; the kubelet kills it with the message "Container %s
  failed liveness probe, will be restarted" -- pkg/kubelet/kuberuntime/kuberuntime_manager.go:1345-1364,
  after the Warning "Liveness probe failed: ..." (reason Unhealthy) -- pkg/kubelet/prober/prober.go:123;
- probe defaults: periodSeconds 10, failureThreshold 3 -- pkg/apis/core/v1/defaults.go:233-245;
- a pod's Ready condition is False while a container is not ready ("ContainersNotReady") --
  pkg/kubelet/status/generate.go:50-111; an EndpointSlice marks a pod's endpoint ready only when the
  pod is Ready -- k8s.io/endpointslice@v0.36.4 utils.go:39;
- init containers run one after another, each to a successful end, before the regular containers
  start; an init container with restartPolicy Always is a sidecar, started (not ended) before them --
  pkg/kubelet/kuberuntime/kuberuntime_container.go:1061 (computeInitContainerActions);
- a container killed for exceeding its memory limit: the runtime reports reason OOMKilled (exit code
  137 = 128+SIGKILL), which the kubelet copies into the container status --
  pkg/kubelet/kuberuntime/kuberuntime_container.go:760, pkg/kubelet/kubelet_pods.go:2364; a pod's resources change only through the
  resize subresource, otherwise the pod is created again -- pkg/apis/core/validation/validation.go:5840.
"""

from __future__ import annotations

import time

from kubernetes.utils.quantity import parse_quantity

from kjlab.api import kube, readers
from kjlab.practice.model import Task
from kjlab.practice.registry import register
from kjlab.practice.tasks.pods import container
from kjlab.practice.verdicts import verdict

NO_PROBES = "the simulated kubelet (kwok) runs no probe: its containers are Ready at once and never restarted by one"
NO_INIT = ("the simulated kubelet (kwok) runs init containers only as far as its script grammar goes (sleep, echo, "
           "exit); these write a file in a shared volume and read it back, which it cannot simulate")
NO_OOM = "the simulated kubelet (kwok) enforces no memory limit: nothing is OOMKilled"
SOURCE_WORKER = "pkg/kubelet/prober/worker.go:380-390"
PROBE_DEFAULTS = {"periodSeconds": 10, "failureThreshold": 3, "initialDelaySeconds": 0}


def _probe(c: dict, kind: str) -> dict | None:
    return c.get(f"{kind}Probe")


def probe_field(probe: dict, field: str) -> int:
    """A probe's field as the API server defaults it."""
    return probe.get(field) if probe.get(field) is not None else PROBE_DEFAULTS[field]


def _pod_settle(view, name: str, done, what: str, quiet: float = 20, cap: float = 60) -> dict:
    _, pods = view.settle("pod", done, what, quiet=quiet, cap=cap, field_selector=f"metadata.name={name}")
    return pods[0] if pods else view.require("pod", name)


# --- liveness ----------------------------------------------------------------------------------------

HUNG_SCRIPT = "touch /tmp/healthy; sleep 5; rm -f /tmp/healthy; sleep 3600"


def liveness_problems(c: dict) -> list[str]:
    """What keeps the container's probe from restarting it within 10 s of /tmp/healthy disappearing."""
    probe = _probe(c, "liveness")
    if not probe:
        also = (": a readiness probe takes the pod out of its Services' endpoints but never restarts the "
                f"container ({SOURCE_WORKER})") if _probe(c, "readiness") else ""
        return [f"container {c.get('name')} has no livenessProbe{also}"]
    problems = []
    if probe_field(probe, "periodSeconds") != 2:
        problems.append(f"periodSeconds is {probe_field(probe, 'periodSeconds')}"
                        + (" (the default)" if probe_field(probe, "periodSeconds") == PROBE_DEFAULTS["periodSeconds"]
                           else "")
                        + ": the task asks for a check every 2 seconds")
    window = probe_field(probe, "periodSeconds") * probe_field(probe, "failureThreshold")
    if window > 10:
        problems.append(f"the kubelet restarts the container after failureThreshold "
                        f"({probe_field(probe, 'failureThreshold')}) failures in a row, {window} s after the file is "
                        "gone; the task allows 10 s")
    return problems


def liveness_restart_problems(pod: dict, events: list[dict]) -> list[str]:
    """Was the container restarted, and by its liveness probe? (From the pod as last seen and its events.)"""
    if readers.restart_count(pod) < 1:
        return [f"the container was not restarted ({readers.describe_pod(pod)}, restartCount 0)"]
    killed = [e for e in events if e.get("reason") == "Killing" and "failed liveness probe" in (e.get("message") or "")]
    if not killed:
        last = ((readers.container_status(pod) or {}).get("lastState") or {}).get("terminated") or {}
        return [f"the container was restarted, but not by its liveness probe: its last run ended {last.get('reason')} "
                f"with exit code {last.get('exitCode')}, and no Killing event says \"failed liveness probe\""]
    return []


def check_liveness(view):
    pod = view.require("pod", "hung")
    c = container(pod)
    found = [f"pod hung: livenessProbe {_probe(c, 'liveness')}"]
    problems = liveness_problems(c)
    if not problems:
        pod = _pod_settle(view, "hung", lambda ps: any(readers.restart_count(p) >= 1 for p in ps),
                          "pod hung's container to be restarted by its liveness probe", quiet=30, cap=60)
        events = view.events(uid=readers.uid(pod))
        found += [f"event {e.get('reason')}: {e.get('message')}" for e in events
                  if e.get("reason") in ("Unhealthy", "Killing")][:2]
        problems = liveness_restart_problems(pod, events)
    return verdict("probe-liveness", problems, found, "the liveness probe restarted the hung container")


register(Task(
    id="probe-liveness", topic="pods", minutes=5, title="A liveness probe restarts a hung container",
    statement=f"""
In namespace {{ns}}, create a Pod named `hung` (image `bash:5`, terminationGracePeriodSeconds 2) whose
container `hung` runs `sh -c "{HUNG_SCRIPT}"`. After 5 seconds it hangs: it
still runs, but /tmp/healthy is gone. Add a probe that runs `cat /tmp/healthy` in the container every
2 seconds, so that the kubelet restarts the container within 10 seconds of the file disappearing.
""",
    check=check_liveness,
    hint="livenessProbe.exec.command, periodSeconds, failureThreshold "
         "(kubectl explain pod.spec.containers.livenessProbe).",
    imperative=f"""
kubectl run hung --image=bash:5 --overrides='{{"spec":{{"terminationGracePeriodSeconds":2,"containers":[{{"name":"hung","image":"bash:5","command":["sh","-c","{HUNG_SCRIPT}"],"livenessProbe":{{"exec":{{"command":["cat","/tmp/healthy"]}},"periodSeconds":2,"failureThreshold":1}}}}]}}}}'
""",
    declarative=f"""
apiVersion: v1
kind: Pod
metadata:
  name: hung
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: hung
    image: bash:5
    command: ["sh", "-c", "{HUNG_SCRIPT}"]
    livenessProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      periodSeconds: 2
      failureThreshold: 1
""",
    engines=("kind",), kind_only_reason=NO_PROBES,
    sources=(SOURCE_WORKER, "pkg/kubelet/kuberuntime/kuberuntime_manager.go:1345-1364",
             "pkg/kubelet/prober/prober.go:123"),
    lab_cell="labs/13-probes-and-termination.ipynb, cell liveness-md: Liveness: restart a container that stopped "
             "working",
))


# --- readiness ---------------------------------------------------------------------------------------

SHOP_SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop"},
                "spec": {"selector": {"app": "shop"}, "ports": [{"port": 80, "targetPort": 8080}]}}


def setup_readiness(view):
    kube.core(view.context).create_namespaced_service(view.namespace, SHOP_SERVICE)


def readiness_spec_problems(pod: dict) -> list[str]:
    c = container(pod)
    problems = []
    if readers.labels(pod).get("app") != "shop":
        problems.append(f"pod shop has labels {readers.labels(pod)}: Service shop selects app=shop")
    if not _probe(c, "readiness"):
        also = (": a liveness probe restarts the container when it fails and does not keep a started container "
                "out of the Service (with no readiness probe a container is ready once it has started)"
                if _probe(c, "liveness") else "")
        problems.append(f"container {c.get('name')} has no readinessProbe{also}")
    return problems


def endpoint_of(slices: list[dict], pod_name: str) -> dict | None:
    """The endpoint of ``pod_name`` in a Service's EndpointSlices, or None."""
    for s in slices:
        for e in s.get("endpoints") or []:
            if (e.get("targetRef") or {}).get("name") == pod_name:
                return e
    return None


def readiness_problems(pod: dict, slices: list[dict]) -> list[str]:
    """After the probe has had time to run: the pod must be running, not Ready, not restarted, and not a
    ready endpoint of the Service."""
    problems = []
    if readers.phase(pod) != "Running":
        problems.append(f"pod {readers.name(pod)} is not running ({readers.describe_pod(pod)})")
    if readers.is_true(pod, "Ready"):
        problems.append(f"pod {readers.name(pod)} is Ready although /tmp/ready does not exist: its readiness "
                        "probe does not test the file")
    if readers.restart_count(pod):
        problems.append(f"the container was restarted {readers.restart_count(pod)} time(s): something other than a "
                        f"readiness probe is failing it ({SOURCE_WORKER})")
    e = endpoint_of(slices, readers.name(pod))
    if e is not None and (e.get("conditions") or {}).get("ready"):
        problems.append(f"pod {readers.name(pod)} is a ready endpoint of Service shop: the Service sends it traffic")
    return problems


def check_readiness(view):
    pod = view.require("pod", "shop")
    problems = readiness_spec_problems(pod)
    found = [f"pod shop: labels {readers.labels(pod)}, readinessProbe {_probe(container(pod), 'readiness')}"]
    if not problems:
        probe = _probe(container(pod), "readiness")
        # long enough for the first probes to have run once the container started
        wait = min(30, probe_field(probe, "initialDelaySeconds") + 2 * probe_field(probe, "periodSeconds") + 3)
        pod = _pod_settle(view, "shop", lambda ps: any(readers.is_true(p, "Ready") for p in ps),
                          f"pod shop to run and its readiness probe to run ({wait} s without change)",
                          quiet=wait, cap=60)
        slices = view.list("endpointslice", "kubernetes.io/service-name=shop")
        e = endpoint_of(slices, "shop")
        found.append(f"{readers.describe_pod(pod)}, Ready={readers.is_true(pod, 'Ready')}; endpoint in Service shop: "
                     + (f"ready={(e.get('conditions') or {}).get('ready')}" if e else "none"))
        problems = readiness_problems(pod, slices)
    return verdict("probe-readiness", problems, found,
                   "pod shop runs, not Ready, so Service shop does not send it traffic (and it is not restarted)")


register(Task(
    id="probe-readiness", topic="pods", minutes=4, title="A readiness probe keeps a pod out of a Service",
    statement="""
In namespace {ns}, the Service `shop` exists. Create a Pod named `shop` (label `app=shop`, image
`bash:5`, command `sh -c "sleep 3600"`). It can serve only once the file /tmp/ready exists in its
container (here it never does). Add a probe (`cat /tmp/ready`, every 2 seconds) so that the Service
does not send it traffic while the file is missing -- and the container keeps running.
""",
    setup=setup_readiness,
    check=check_readiness,
    hint="readinessProbe (not livenessProbe); kubectl get endpointslices -l kubernetes.io/service-name=shop -o yaml "
         "shows each endpoint's conditions.ready.",
    imperative="""
kubectl run shop --image=bash:5 --labels=app=shop --overrides='{"spec":{"containers":[{"name":"shop","image":"bash:5","command":["sh","-c","sleep 3600"],"readinessProbe":{"exec":{"command":["cat","/tmp/ready"]},"periodSeconds":2}}]}}'
""",
    declarative="""
apiVersion: v1
kind: Pod
metadata:
  name: shop
  labels:
    app: shop
spec:
  containers:
  - name: shop
    image: bash:5
    command: ["sh", "-c", "sleep 3600"]
    readinessProbe:
      exec:
        command: ["cat", "/tmp/ready"]
      periodSeconds: 2
""",
    engines=("kind",), kind_only_reason=NO_PROBES,
    sources=(SOURCE_WORKER, "pkg/kubelet/status/generate.go:50-111", "k8s.io/endpointslice@v0.36.4 utils.go:39"),
    lab_cell="labs/13-probes-and-termination.ipynb, cell readiness-md: Readiness: out of the Service, not restarted",
))


# --- init container ----------------------------------------------------------------------------------

PREPARE = "sleep 3; echo ready > /work/ready"
APP = "cat /work/ready && sleep 3600"


def init_spec_problems(pod: dict) -> list[str]:
    spec = pod.get("spec") or {}
    inits = {c.get("name"): c for c in spec.get("initContainers") or []}
    regular = {c.get("name") for c in spec.get("containers") or []}
    if "prepare" not in inits:
        where = (" it is a regular container, and a pod's regular containers start together"
                 if "prepare" in regular else "")
        return [f"prepare is not an init container:{where} (spec.initContainers run, each to its end, before them)"]
    if inits["prepare"].get("restartPolicy") == "Always":
        return ["prepare has restartPolicy Always: that makes it a sidecar, which the kubelet starts and then starts "
                "the regular containers beside it, without waiting for it to end"]
    if "app" not in regular:
        return [f"the pod has no regular container app (its containers: {', '.join(sorted(regular))})"]
    return []


def init_problems(pod: dict, init: str = "prepare", main: str = "app") -> list[str]:
    """From the pod's status: ``init`` ended 0 before ``main`` started, and ``main`` has not failed."""
    status = next((cs for cs in readers.container_statuses(pod, init=True) if cs.get("name") == init), {})
    ended = (status.get("state") or {}).get("terminated") or {}
    if ended.get("exitCode") != 0:
        return [f"init container {init} has not completed ({status.get('state')})"]
    started = (((readers.container_status(pod, main) or {}).get("state") or {}).get("running") or {}).get("startedAt")
    if not started or readers.restart_count(pod, main):
        return [f"container {main} is not running since its first start ({readers.describe_pod(pod)}, restartCount "
                f"{readers.restart_count(pod, main)}): did it find /work/ready (the volume mounted in both)?"]
    if started < ended.get("finishedAt", ""):  # RFC 3339 in UTC: ordered as text
        return [f"container {main} started at {started}, before {init} ended at {ended.get('finishedAt')}"]
    return []


def check_init(view):
    pod = view.require("pod", "app")
    problems = init_spec_problems(pod)
    found = [f"pod app: initContainers {[c.get('name') for c in pod['spec'].get('initContainers') or []]}, "
             f"containers {[c.get('name') for c in pod['spec'].get('containers') or []]}"]
    if not problems:
        pod = _pod_settle(view, "app", lambda ps: any(readers.phase(p) == "Running" and readers.is_true(p, "Ready")
                                                      for p in ps), "prepare to end and app to run", quiet=20, cap=60)
        found.append(readers.describe_pod(pod))
        problems = init_problems(pod)
    return verdict("probe-init", problems, found, "prepare ran to its end (exit 0) before app started, and app runs")


register(Task(
    id="probe-init", topic="pods", minutes=5, title="An init container finishes before the main one",
    statement=f"""
In namespace {{ns}}, create a Pod named `app` with an emptyDir volume `work` mounted at /work in both
of its containers: `prepare` (image `bash:5`, command `sh -c "{PREPARE}"`), which must run to its
end before `app` (image `bash:5`, command `sh -c "{APP}"`) starts.
""",
    check=check_init,
    hint="spec.initContainers: the kubelet runs them in order, each to a successful end, before spec.containers.",
    imperative=f"""
kubectl run app --image=bash:5 --overrides='{{"spec":{{"volumes":[{{"name":"work","emptyDir":{{}}}}],"initContainers":[{{"name":"prepare","image":"bash:5","command":["sh","-c","{PREPARE}"],"volumeMounts":[{{"name":"work","mountPath":"/work"}}]}}],"containers":[{{"name":"app","image":"bash:5","command":["sh","-c","{APP}"],"volumeMounts":[{{"name":"work","mountPath":"/work"}}]}}]}}}}'
""",
    declarative=f"""
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  volumes:
  - name: work
    emptyDir: {{}}
  initContainers:
  - name: prepare
    image: bash:5
    command: ["sh", "-c", "{PREPARE}"]
    volumeMounts:
    - name: work
      mountPath: /work
  containers:
  - name: app
    image: bash:5
    command: ["sh", "-c", "{APP}"]
    volumeMounts:
    - name: work
      mountPath: /work
""",
    engines=("kind",), kind_only_reason=NO_INIT,
    sources=("pkg/kubelet/kuberuntime/kuberuntime_container.go:1061",),
))


# --- OOMKilled ---------------------------------------------------------------------------------------

HOG_SCRIPT = "import time; data = [0] * (20 * 1024 * 1024); time.sleep(3600)"  # 160 MiB of list, every page written


def hog_pod(memory: str = "100Mi") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hog"},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
                "name": "hog", "image": "python:3", "command": ["python3", "-c", HOG_SCRIPT],
                "resources": {"requests": {"memory": memory}, "limits": {"memory": memory}}}]}}


def setup_oom(view):
    kube.create(view.context, view.namespace, hog_pod())
    _pod_settle(view, "hog", lambda ps: any(oom_killed(p) for p in ps), "pod hog's first OOM kill", quiet=30, cap=90)


def oom_killed(pod: dict) -> dict | None:
    """The container's latest run, if it was killed for its memory limit (reason OOMKilled)."""
    for _, _, term in readers.latest_terminations(pod):
        if term.get("reason") == "OOMKilled":
            return term
    return None


def _memory(pod: dict, which: str):
    value = ((container(pod, "hog").get("resources") or {}).get(which) or {}).get("memory")
    return value, (parse_quantity(value) if value else None)


def oom_spec_problems(pod: dict) -> list[str]:
    limit, limit_q = _memory(pod, "limits")
    killed = oom_killed(pod)
    why = (f": its last run ended OOMKilled (exit code {killed.get('exitCode')}), the kernel's answer to a "
           "container that uses more memory than its limit" if killed else "")
    if limit is None:
        return [f"container hog has no memory limit{why}; the task asks for 256Mi"]
    if limit_q != parse_quantity("256Mi"):
        return [f"the memory limit is {limit}{why}; the container needs about 170Mi and the task asks for 256Mi"]
    request, request_q = _memory(pod, "requests")
    if request_q != parse_quantity("256Mi"):
        return [f"the memory request is {request}; the task asks for 256Mi"]
    command = container(pod, "hog").get("command") or []
    if HOG_SCRIPT not in command:
        return [f"the command is {command}: the task says keep it"]
    return []


def running_with_limit(pod: dict, limit: str = "256Mi") -> str | None:
    """The ``containerID`` of hog's run if it is running with ``limit`` as the kubelet reports it, else
    None. For a running container, containerStatuses[].resources.limits is the runtime's report (or the
    kubelet's record of what it actuated) -- pkg/kubelet/kuberuntime/kuberuntime_container.go:687-711;
    for one that is not running it is only the allocated spec (kubelet_pods.go:2423-2425). The spec says
    what was asked; a run restarted from its back-off a moment before the resize has the old limit."""
    cs = readers.container_status(pod, "hog") or {}
    applied = ((cs.get("resources") or {}).get("limits") or {}).get("memory")
    if readers.state(pod, "hog")[0] == "running" and applied and parse_quantity(applied) == parse_quantity(limit):
        return cs.get("containerID")
    return None


def run_outcome(pod: dict, container_id: str) -> tuple[str, dict]:
    """What became of hog's run ``container_id``: ("running", {}) while it runs, else ("terminated", its
    terminated state) -- found in ``state`` or, once restarted, ``lastState`` -- or ("unknown", {}) when
    the status no longer shows that run (it restarted twice). A run is told by its container ID: a
    startedAt has one-second resolution, and a run restarted at once can share it."""
    cs = readers.container_status(pod, "hog") or {}
    now = cs.get("state") or {}
    if now.get("running") is not None and cs.get("containerID") == container_id:
        return "running", {}
    for term in ((now.get("terminated") or {}), ((cs.get("lastState") or {}).get("terminated") or {})):
        if term.get("containerID") == container_id:
            return "terminated", term
    return "unknown", {}


def oom_problems(pod: dict, container_id: str) -> list[str]:
    """After watching the run ``container_id``, which had the new limit: it must still run."""
    outcome, term = run_outcome(pod, container_id)
    if outcome == "running":
        return []
    if term.get("reason") == "OOMKilled":
        return [f"the container was OOMKilled again with its new limit ({readers.describe_pod(pod)})"]
    if outcome == "terminated":
        return [f"the container's run ended ({term.get('reason')}, exit code {term.get('exitCode')}): "
                f"{readers.describe_pod(pod)}"]
    return [f"the container restarted more than once in 8 s ({readers.describe_pod(pod)})"]


def resize_pending(pod: dict) -> str:
    """The PodResizePending condition's reason and message (Deferred/Infeasible), or ''."""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "PodResizePending" and c.get("status") == "True":
            return f"{c.get('reason')}: {c.get('message')}"
    return ""


def check_oom(view):
    pod = view.require("pod", "hog")
    found = [f"pod hog: memory request {_memory(pod, 'requests')[0]}, limit {_memory(pod, 'limits')[0]}, "
             f"{readers.describe_pod(pod)}, restartCount {readers.restart_count(pod)}"]
    problems = oom_spec_problems(pod)
    # A run that started before the kubelet applied the new limit may still be killed for the old one;
    # only a run the kubelet reports running with 256Mi tells whether the fix holds. A container in its
    # back-off starts again as soon as the kubelet has allocated the resize: the back-off key includes
    # the resources of the allocated pod (pkg/kubelet/kuberuntime/helpers.go:193-207, pod_workers.go:991);
    # a pod made again starts at once.
    for attempt in range(2):
        if problems:
            break
        pod = _pod_settle(view, "hog", lambda ps: any(running_with_limit(p) for p in ps),
                          "hog's container to run with 256Mi (its status' resources)", quiet=60, cap=150)
        run = running_with_limit(pod)
        if not run:
            pending = resize_pending(pod)
            problems = [f"the container does not run with a 256Mi limit ({readers.describe_pod(pod)})"
                        + (f"; the kubelet has not taken the resize: PodResizePending {pending}" if pending else "")]
            break
        print("check: watching hog's container for 8 s (it allocates its memory at once) ...", flush=True)
        time.sleep(8)
        pod = view.require("pod", "hog")
        found.append(f"a run with 256Mi, 8 s later: {readers.describe_pod(pod)}, "
                     f"restartCount {readers.restart_count(pod)}")
        problems = oom_problems(pod, run)
        if not problems or run_outcome(pod, run)[1].get("reason") != "OOMKilled" or attempt:
            break
        # one more run is watched before the verdict blames the answer, so that a kill racing the resize
        # of a run that had just started is not taken for a limit that is still too low
        found.append("that run was OOMKilled: watching the next run too")
        problems = []
    return verdict("probe-oom", problems, found, "hog runs within its 256Mi memory limit (no more OOMKilled)")


register(Task(
    id="probe-oom", topic="pods", minutes=5, title="An OOMKilled container: a memory limit",
    statement="""
In namespace {ns}, the Pod `hog` keeps restarting. Find out why, and fix it: its program needs about
170Mi of memory. Give its container a memory request and limit of 256Mi, keeping its image and command.
""",
    setup=setup_oom,
    check=check_oom,
    hint="kubectl describe pod hog: Last State: Terminated, Reason. A pod's resources cannot be changed by "
         "kubectl edit/apply: create it again (kubectl replace --force) or use the resize subresource.",
    imperative=f"""
kubectl delete pod hog
kubectl run hog --image=python:3 --overrides='{{"spec":{{"terminationGracePeriodSeconds":2,"containers":[{{"name":"hog","image":"python:3","command":["python3","-c","{HOG_SCRIPT}"],"resources":{{"requests":{{"memory":"256Mi"}},"limits":{{"memory":"256Mi"}}}}}}]}}}}'
""",
    declarative="""
# the pod's own manifest with the new memory; replace --force deletes the pod and creates it from the file
kubectl get pod hog -o yaml > hog.yaml
sed -i 's/100Mi/256Mi/g' hog.yaml
kubectl replace --force -f hog.yaml
""",
    engines=("kind",), kind_only_reason=NO_OOM,
    sources=("pkg/kubelet/kuberuntime/kuberuntime_container.go:760", "pkg/kubelet/kubelet_pods.go:2364",
             "pkg/apis/core/validation/validation.go:5840"),
))
