"""Issue 25: what the simulated kubelet (kwok) does that a learner looks at with kubectl -- the same
as a real v1.36 kubelet, or visibly not simulated. The real kubectl binary, through the real API
server; kwok only (on kind these are the real kubelet's answers, tests/compare lists what still
needs a kind run)."""

import json
import time

import pytest

from kjlab.api import kube, readers, wait
from test_kubectl_logs import kubectl, run_pod, wait_for


def _until(what, predicate, timeout=30):
    """Poll `predicate` (a cheap kubectl read) until it returns a truthy value: bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}")
        time.sleep(0.3)


def test_kubectl_events_for_a_pod_shows_the_simulated_kubelets_events(lab, ns):
    """`kubectl events --for pod/X` selects involvedObject.apiVersion=v1 (kubectl
    pkg/cmd/events/events.go): the kubelet's events, the NotSimulated Warning included, must carry it."""
    ctx = lab["context"]
    run_pod(ctx, ns, "outside", "perl", "-e", "exit 3")
    run_pod(ctx, ns, "inside", "sleep", "600")
    shown = _until("the NotSimulated Warning in `kubectl events --for pod/outside`",
                   lambda: "NotSimulated" in (out := kubectl(ctx, "-n", ns, "events", "--for", "pod/outside").stdout) and out)
    assert "Warning" in shown and "--engine kind" in shown, shown
    started = _until("the Started event in `kubectl events --for pod/inside`",
                     lambda: "Started" in (out := kubectl(ctx, "-n", ns, "events", "--for", "pod/inside").stdout) and out)
    assert "Pulled" in started and "Created" in started, started
    # and every event of the namespace names its pod with the apiVersion a real kubelet sets
    refs = kubectl(ctx, "-n", ns, "get", "events", "-o",
                   "jsonpath={range .items[*]}{.involvedObject.kind}/{.involvedObject.apiVersion}{'\\n'}{end}").stdout
    assert refs.split() and set(refs.split()) == {"Pod/v1"}, refs


# --- deletion on a real kubelet's timing ---------------------------------------------------------

HOLD = "kjlab.io/test-hold"  # keeps the ended pod readable; the ns fixture removes it if a test fails


def _held_pod(name, command, image="docker.io/library/bash:5", grace=4):
    spec = {"restartPolicy": "Never", "terminationGracePeriodSeconds": grace,
            "containers": [{"name": "main", "image": image, **({"command": command} if command else {})}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "finalizers": [HOLD]}, "spec": spec}


@pytest.mark.parametrize("case,command,image,grace,phase,code,at_least,at_most", [
    # bash and sleep as PID 1 have no SIGTERM handler: SIGKILL when the grace period ends
    ("sleep-pid1", ["sleep", "3600"], "docker.io/library/bash:5", 4, "Failed", 137, 3.8, 12),
    ("bash-pid1", ["bash", "-c", "sleep 3600 && exit 0"], "docker.io/library/bash:5", 4, "Failed", 137, 3.8, 12),
    # the kubelet gives at least 2 s (kuberuntime_manager.go minimumGracePeriodInSeconds)
    ("grace-1", ["sleep", "3600"], "docker.io/library/bash:5", 1, "Failed", 137, 1.8, 10),
    # a script that ends inside the grace period ends by itself, with its own code
    ("ends-inside", ["bash", "-c", "sleep 2 && exit 3"], "docker.io/library/bash:5", 30, "Failed", 3, 0, 10),
    ("ends-0-inside", ["sleep", "2"], "docker.io/library/bash:5", 30, "Succeeded", 0, 0, 10),
    # pause's entrypoint exits 0 on SIGTERM (build/pause/linux/pause.c), at once; nginx's quits on its
    # STOPSIGNAL (SIGQUIT) the same way (the 32 s nginx delete; nginx is not preloaded on kind,
    # pause is every kind node's sandbox image, so that is the one tested)
    ("pause", None, "registry.k8s.io/pause:3.10", 30, "Succeeded", 0, 0, 5),
])
def test_a_deleted_running_pod_ends_on_a_real_kubelets_timing(lab, ns, case, command, image, grace, phase, code,
                                                               at_least, at_most):
    ctx = lab["context"]
    core = kube.core(ctx)
    core.create_namespaced_pod(ns, _held_pod("p", command, image, grace))
    wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "pod p to run", timeout=30, name="p")
    started = time.monotonic()
    core.delete_namespaced_pod("p", ns)
    ended = wait.pod(ctx, ns, lambda p: readers.phase(p) in ("Failed", "Succeeded"),
                     f"deleted pod p ({case}) to end", timeout=at_most + 10, name="p")
    took = time.monotonic() - started
    t = readers.terminated(ended)
    assert (readers.phase(ended), t["exitCode"]) == (phase, code), ended["status"]
    assert t["reason"] == ("Completed" if code == 0 else "Error"), t
    assert at_least <= took <= at_most, f"{case}: ended {took:.1f}s after the delete"
    core.patch_namespaced_pod("p", ns, {"metadata": {"finalizers": None}}, _content_type=kube.MERGE)


# --- exec, attach, port-forward, cp, debug: one readable line ---------------------------------------

def test_exec_attach_port_forward_cp_and_debug_answer_one_readable_line(lab, ns):
    ctx = lab["context"]
    run_pod(ctx, ns, "p", "sleep", "600")
    wait_for(ctx, ns, "p", "{.status.phase}", "Running")
    cannot = "the simulated kubelet (kwok) cannot"
    for args, what in ((["exec", "p", "--", "ls"], "exec into containers"),
                       (["cp", "p:/etc/hosts", "/tmp/kjlab-test-cp-hosts"], "exec into containers"),
                       (["attach", "p"], "attach to containers"),
                       (["debug", "-it", "p", "--image=docker.io/library/bash:5"],
                        "run ephemeral (debug) containers")):
        out = kubectl(ctx, "-n", ns, *args, timeout=40, check=False)
        assert out.returncode != 0, (args, out)
        errors = [line for line in out.stderr.splitlines() if line.startswith(("error:", "Error from server"))]
        assert len(errors) == 1 and f"{cannot} {what}; use kjlab up --engine kind" in errors[0], (args, out.stderr)
        assert "<html" not in (out.stdout + out.stderr).lower(), out
    # the debug container is ended, visibly: its status and a Warning say why
    eph = json.loads(kubectl(ctx, "-n", ns, "get", "pod", "p", "-o", "jsonpath={.status.ephemeralContainerStatuses}").stdout)
    assert eph and eph[0]["state"]["terminated"]["reason"] == "NotSimulated", eph
    import socket
    import subprocess

    from kjlab.cluster import tools
    from kjlab.paths import kubeconfig_path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(tools.kubectl_path()), "--kubeconfig", str(kubeconfig_path()), "--context", ctx,
                             "-n", ns, "port-forward", "p", f"{port}:80"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # it fails when it opens its stream to the kubelet: at once, or at the first connection
        _until("port-forward to end", lambda: proc.poll() is not None or (_connects(port) and False), timeout=20)
        _, err = proc.communicate(timeout=5)
    finally:
        proc.kill()
    assert f"{cannot} forward ports to pods; use kjlab up --engine kind" in err and "<html" not in err.lower(), err


def _connects(port):
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.recv(1)
        return True
    except OSError:
        return False


# --- kubectl logs --timestamps / --since-time ----------------------------------------------------------

def test_logs_timestamps_and_since_are_honoured(lab, ns):
    from datetime import datetime, timedelta

    ctx = lab["context"]
    run_pod(ctx, ns, "p", "bash", "-c", "echo early; sleep 3; echo late; sleep 600")
    wait_for(ctx, ns, "p", "{.status.phase}", "Running")
    started = datetime.fromisoformat(kubectl(ctx, "-n", ns, "get", "pod", "p", "-o",
                                             "jsonpath={.status.containerStatuses[0].state.running.startedAt}")
                                     .stdout.replace("Z", "+00:00"))
    _until("the second line", lambda: "late" in kubectl(ctx, "-n", ns, "logs", "p").stdout.splitlines(), timeout=20)
    stamped = kubectl(ctx, "-n", ns, "logs", "--timestamps", "p").stdout.splitlines()[1:]  # after the banner
    times = {line.split(" ", 1)[1]: datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
             for line in stamped}
    assert set(times) == {"early", "late"}, stamped
    assert abs((times["late"] - times["early"]).total_seconds() - 3) < 0.01, times
    assert abs((times["early"] - started).total_seconds()) < 1, (times, started)
    since = (started + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shown = kubectl(ctx, "-n", ns, "logs", f"--since-time={since}", "p").stdout.splitlines()
    assert shown[1:] == ["late"] and "simulated kubelet" in shown[0], shown


# --- the grammar: the docs' shell text, or the token it refuses --------------------------------------

def test_the_docs_echo_runs_and_a_refused_script_names_its_token(lab, ns):
    ctx = lab["context"]
    run_pod(ctx, ns, "app", "sh", "-c", "echo The app is running! && sleep 3600")
    wait_for(ctx, ns, "app", "{.status.phase}", "Running")
    assert kubectl(ctx, "-n", ns, "logs", "app").stdout.splitlines()[1:] == ["The app is running!"]
    run_pod(ctx, ns, "arith", "bash", "-c", "exit $((40+2))")
    wait_for(ctx, ns, "arith", "{.status.containerStatuses[0].state.waiting.reason}", "NotSimulated")
    out = kubectl(ctx, "-n", ns, "logs", "arith", check=False)
    assert out.returncode != 0 and "refuses `$((40+2))` in `exit $((40+2))`" in out.stderr, out


# --- init containers: run in their turn when they end, else visibly NotSimulated -------------------

def _init_pod(name, init_command, restart="Never"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": restart, "terminationGracePeriodSeconds": 1,
        "initContainers": [{"name": "setup", "image": "docker.io/library/bash:5", "command": init_command}],
        "containers": [{"name": "main", "image": "docker.io/library/bash:5", "command": ["sleep", "600"]}]}}


@pytest.mark.parametrize("case,command,restart,shows", [
    ("slow", ["bash", "-c", "sleep 30"], "Never", "Init:0/1"),          # a real kubelet: Init:0/1 for 30 s
    ("fails", ["bash", "-c", "sleep 1 && exit 1"], "Never", "Init:Error"),  # Init:Error, the pod Failed
    ("crashloop", ["bash", "-c", "sleep 1 && exit 1"], "OnFailure", "Init:CrashLoopBackOff"),
])
def test_an_init_container_that_takes_time_or_fails_runs_in_its_turn(lab, ns, case, command, restart, shows):
    """Issue 25 (kuberuntime_manager.go computePodActions: the main containers start only after every
    init container completed; kubelet_pods.go getPhase: a failed one with Never fails the pod)."""
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, _init_pod("p", command, restart))
    row = _until(f"{shows} in `kubectl get pod p`", lambda: (out := kubectl(
        ctx, "-n", ns, "get", "pod", "p", "--no-headers").stdout.split()) and out[2] == shows and out, timeout=30)
    pod = json.loads(kubectl(ctx, "-n", ns, "get", "pod", "p", "-o", "json").stdout)
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing", row
    initialized = next(c for c in pod["status"]["conditions"] if c["type"] == "Initialized")
    assert (initialized["status"], initialized["message"]) == ("False", "containers with incomplete status: [setup]")
    assert pod["status"]["phase"] == ("Failed" if case == "fails" else "Pending"), row
    if case == "slow":  # still initializing a few seconds on
        time.sleep(3)
        assert kubectl(ctx, "-n", ns, "get", "pod", "p", "--no-headers").stdout.split()[2] == "Init:0/1"


def test_an_init_container_that_never_ends_is_not_faked(lab, ns):
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, _init_pod("p", ["sleep", "infinity"]))
    wait_for(ctx, ns, "p", "{.status.initContainerStatuses[0].state.waiting.reason}", "NotSimulated")
    shown = kubectl(ctx, "-n", ns, "get", "pod", "p", "--no-headers").stdout.split()
    assert shown[2] == "Init:NotSimulated", shown  # kubectl's STATUS column, not Running/Completed
    message = kubectl(ctx, "-n", ns, "get", "pod", "p", "-o",
                      "jsonpath={.status.initContainerStatuses[0].state.waiting.message}").stdout
    assert "in its turn" in message and "--engine kind" in message, message
    events = kubectl(ctx, "-n", ns, "events", "--for", "pod/p").stdout
    assert "NotSimulated" in events, events


def test_an_init_container_that_succeeds_at_once_completes(lab, ns):
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, _init_pod("p", ["sh", "-c", "echo init done; touch /tmp/ready"]))
    wait_for(ctx, ns, "p", "{.status.phase}", "Running")
    state = json.loads(kubectl(ctx, "-n", ns, "get", "pod", "p", "-o",
                               "jsonpath={.status.initContainerStatuses[0].state}").stdout)
    assert state["terminated"]["exitCode"] == 0 and state["terminated"]["reason"] == "Completed", state


def _event_counts(ctx, ns, name):
    """{reason: count} of the pod's events as `kubectl events --for` lists them (kwok aggregates two
    equal messages into one event with count 2; a real kubelet's differ in fieldPath: summed)."""
    out = json.loads(kubectl(ctx, "-n", ns, "events", "--for", f"pod/{name}", "-o", "json").stdout or "{}")
    counts = {}
    for e in out.get("items") or []:
        counts[e["reason"]] = counts.get(e["reason"], 0) + (e.get("count") or 1)
    return counts


def test_each_init_container_start_writes_the_kubelets_events(lab, ns):
    """Issue 25: a kubelet writes Pulled, Created, Started for every container it starts, init
    containers included (kuberuntime_container.go startContainer), and BackOff while a failed one waits
    (kuberuntime_manager.go doBackOff): `kubectl events --for` and `describe` show them."""
    ctx = lab["context"]
    spec = _init_pod("p", ["bash", "-c", "sleep 1"])
    spec["spec"]["initContainers"].append({"name": "second", "image": "docker.io/library/bash:5",
                                           "command": ["sh", "-c", "sleep 1; echo ok"]})
    kube.core(ctx).create_namespaced_pod(ns, spec)
    kube.core(ctx).create_namespaced_pod(ns, _init_pod("crash", ["bash", "-c", "sleep 1 && exit 1"], "OnFailure"))
    wait_for(ctx, ns, "p", "{.status.phase}", "Running")
    # two init containers and the main one: three of each (kind records them the same: tests/data/runs)
    counts = _until("three Started events for pod/p", lambda: (c := _event_counts(ctx, ns, "p")).get("Started") == 3 and c)
    assert (counts.get("Pulled"), counts.get("Created")) == (3, 3), counts
    described = kubectl(ctx, "-n", ns, "describe", "pod", "p").stdout
    assert "Container started" in described, described
    backed_off = _until("a BackOff Warning for pod/crash, the init container restarted",
                        lambda: (c := _event_counts(ctx, ns, "crash")).get("BackOff") and c, timeout=45)
    assert backed_off.get("Started", 0) >= 2, backed_off


# --- readiness gates and probes ----------------------------------------------------------------------

GATE = "example.com/load-balancer-ready"


def _condition(ctx, ns, name, kind):
    pod = kube.raw(kube.core(ctx).read_namespaced_pod, name, ns)
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c["type"] == kind), None)


def test_a_readiness_gate_holds_ready_until_its_condition_is_true(lab, ns):
    ctx = lab["context"]
    core = kube.core(ctx)
    core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gated"}, "spec": {
        "readinessGates": [{"conditionType": GATE}],
        "containers": [{"name": "main", "image": "docker.io/library/bash:5", "command": ["sleep", "600"]}]}})
    wait_for(ctx, ns, "gated", "{.status.phase}", "Running")
    ready = _until("the Ready condition", lambda: _condition(ctx, ns, "gated", "Ready"))
    assert (ready["status"], ready.get("reason")) == ("False", "ReadinessGatesNotReady"), ready
    # the kubelet's words (pkg/kubelet/status/generate.go)
    assert ready["message"] == f'corresponding condition of pod readiness gate "{GATE}" does not exist.', ready
    assert _condition(ctx, ns, "gated", "ContainersReady")["status"] == "True"
    core.patch_namespaced_pod_status("gated", ns, {"status": {"conditions": [
        {"type": GATE, "status": "True", "lastTransitionTime": kube.now_rfc3339()}]}}, _content_type=kube.STRATEGIC_MERGE)
    _until("Ready=True once the gate is True", lambda: _condition(ctx, ns, "gated", "Ready")["status"] == "True")
    core.patch_namespaced_pod_status("gated", ns, {"status": {"conditions": [
        {"type": GATE, "status": "False", "lastTransitionTime": kube.now_rfc3339()}]}}, _content_type=kube.STRATEGIC_MERGE)
    back = _until("Ready=False once the gate is False", lambda: (c := _condition(ctx, ns, "gated", "Ready"))["status"] == "False" and c)
    assert back["message"] == f'the status of pod readiness gate "{GATE}" is not "True", but False', back


def test_a_status_patch_does_not_restart_the_scripts_sleep(lab, ns):
    """A condition set through the status subresource while the script sleeps (a gate, ConfigIssue):
    the container still ends its sleep counted from its own start."""
    ctx = lab["context"]
    core = kube.core(ctx)
    run_pod(ctx, ns, "p", "bash", "-c", "sleep 5 && exit 0")
    wait_for(ctx, ns, "p", "{.status.phase}", "Running")
    time.sleep(2.5)
    core.patch_namespaced_pod_status("p", ns, {"status": {"conditions": [
        {"type": GATE, "status": "True", "lastTransitionTime": kube.now_rfc3339()}]}}, _content_type=kube.STRATEGIC_MERGE)
    ended = wait.pod(ctx, ns, readers.ended, "pod p to end", timeout=20, name="p")
    t = readers.terminated(ended)
    from datetime import datetime

    ran = (datetime.fromisoformat(t["finishedAt"].replace("Z", "+00:00"))
           - datetime.fromisoformat(t["startedAt"].replace("Z", "+00:00"))).total_seconds()
    assert 4 <= ran <= 6, f"ran {ran}s for `sleep 5` (a restarted sleep would be 7 s or more)"


@pytest.mark.parametrize("field,value", [
    ("readinessProbe", {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 5}),
    ("lifecycle", {"preStop": {"exec": {"command": ["sh", "-c", "sleep 5"]}}}),
])
def test_a_pod_with_a_probe_or_hook_says_it_is_not_run(lab, ns, field, value):
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probed"}, "spec": {
        "containers": [{"name": "main", "image": "docker.io/library/bash:5", "command": ["sleep", "600"], field: value}]}})
    shown = _until("the probe-not-run Warning in `kubectl events --for pod/probed`",
                   lambda: "probe not run" in (out := kubectl(ctx, "-n", ns, "events", "--for", "pod/probed").stdout) and out)
    line = next(x for x in shown.splitlines() if "probe not run" in x)
    assert "Warning" in line and "NotSimulated" in line and "--engine kind" in line, line
    wait_for(ctx, ns, "probed", "{.status.phase}", "Running")


# --- images: one rule (kjlab/cluster/kwok/stages.py), visible per pod ---------------------------------------

def _waiting(ctx, ns, name):
    return json.loads(kubectl(ctx, "-n", ns, "get", "pod", name, "-o",
                              "jsonpath={.status.containerStatuses[0].state.waiting}").stdout or "{}")


def _waiting_as(ctx, ns, name, *reasons):
    """The waiting state when its reason is one of ``reasons``, from ONE read: the simulated kubelet
    moves a failed pull on to ImagePullBackOff, so a second read may already show the back-off (it
    did, in a loaded run)."""
    state = _waiting(ctx, ns, name)
    return state if state.get("reason") in reasons else None


def test_images_follow_one_rule_and_say_so(lab, ns):
    ctx = lab["context"]
    core = kube.core(ctx)

    def pod(name, image):
        core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
            "containers": [{"name": "main", "image": image, "command": ["sleep", "600"]}]}})

    pod("typo", "nginx:1.161")                         # the Deployment page's stuck rollout, as it spells it
    pod("elsewhere", "registry.k8s.io/e2e-test-images/agnhost:2.53")  # real, not preloaded
    pod("other-tag", "registry.k8s.io/pause:3.10")      # a preloaded repository, a tag kjlab does not know
    pod("lab", "docker.io/library/bash:5")              # the lab's own image
    typo = _until("nginx:1.161 to fail its pull", lambda: _waiting_as(ctx, ns, "typo", "ErrImagePull", "ImagePullBackOff"))
    # containerd names the reference normalised (ParseDockerRef), whatever the pod spec spelled
    assert typo["reason"] == "ErrImagePull" and typo["message"] == (
        'failed to pull and unpack image "docker.io/library/nginx:1.161": failed to resolve reference '
        '"docker.io/library/nginx:1.161": docker.io/library/nginx:1.161: not found') \
        or typo["reason"] == "ImagePullBackOff", typo
    other = _until("agnhost to fail its pull", lambda: _waiting_as(ctx, ns, "elsewhere", "ErrImagePull"))
    assert "pulls no image" in other["message"] and "does not exist" not in other["message"], other
    wait_for(ctx, ns, "other-tag", "{.status.phase}", "Running")
    wait_for(ctx, ns, "lab", "{.status.phase}", "Running")
    unchecked = kubectl(ctx, "-n", ns, "events", "--for", "pod/other-tag").stdout
    assert "cannot check whether this image exists" in unchecked, unchecked
    assert "cannot check" not in kubectl(ctx, "-n", ns, "events", "--for", "pod/lab").stdout


# --- review of the simulated kubelet against v1.36.4 -------------------------------------------------

def test_a_shell_builtin_without_a_shell_is_not_run(lab, ns):
    """`exit` and `:` are shell builtins: with no shell a real node finds no such executable and the
    container fails to start (StartError, 128); the simulation does not invent that, it refuses."""
    ctx = lab["context"]
    run_pod(ctx, ns, "bare-exit", "exit", "3")
    wait_for(ctx, ns, "bare-exit", "{.status.containerStatuses[0].state.waiting.reason}", "NotSimulated")
    out = kubectl(ctx, "-n", ns, "logs", "bare-exit", check=False)
    assert out.returncode != 0 and "`exit` without a shell" in out.stderr, out


def test_an_exit_code_is_its_low_8_bits(lab, ns):
    """The wait status holds 8 bits: `exit 300` ends 44 in sh, sys.exit(256) ends 0 in Python."""
    ctx = lab["context"]
    run_pod(ctx, ns, "sh300", "sh", "-c", "exit 300")
    run_pod(ctx, ns, "py256", "python3", "-c", "import sys\nsys.exit(256)", image="docker.io/library/python:3")
    wait_for(ctx, ns, "sh300", "{.status.containerStatuses[0].state.terminated.exitCode}", "44")
    wait_for(ctx, ns, "sh300", "{.status.phase}", "Failed")
    wait_for(ctx, ns, "py256", "{.status.containerStatuses[0].state.terminated.exitCode}", "0")
    wait_for(ctx, ns, "py256", "{.status.phase}", "Succeeded")


def test_the_crash_loop_back_off_reads_as_a_go_duration(lab, ns):
    """kuberuntime_manager.go formats the back-off (a time.Duration) with %s: 10s, 20s, 40s, 1m20s.
    Takes the three back-offs before the fourth (70 s on a time scale of 1)."""
    ctx = lab["context"]
    run_pod(ctx, ns, "loop", "bash", "-c", "exit 1", restart="Always")
    seen = set()

    def reached():
        message = kubectl(ctx, "-n", ns, "get", "pod", "loop", "-o",
                          "jsonpath={.status.containerStatuses[0].state.waiting.message}", check=False).stdout
        if message.startswith("back-off "):
            seen.add(message.split()[1])
        return "1m20s" in seen

    _until("the fourth back-off (1m20s)", reached, timeout=150)
    assert {"10s", "20s", "40s"} <= seen and not seen & {"80s", "160s", "300s"}, seen


def test_deleting_a_pod_that_never_initialized_leaves_its_containers_waiting(lab, ns):
    """status_manager.go TerminatePod marks main containers ContainerStatusUnknown (137) only once
    the pod has initialized (hasPodInitialized); before that they stay Waiting, the pod Failed."""
    ctx = lab["context"]
    core = kube.core(ctx)
    spec = _init_pod("p", ["sleep", "infinity"])  # waits Init:NotSimulated: never initialized
    spec["metadata"]["finalizers"] = [HOLD]
    core.create_namespaced_pod(ns, spec)
    wait_for(ctx, ns, "p", "{.status.initContainerStatuses[0].state.waiting.reason}", "NotSimulated")
    core.delete_namespaced_pod("p", ns)
    ended = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Failed", "deleted pod p to fail", timeout=30, name="p")
    main = ended["status"]["containerStatuses"][0]
    assert "waiting" in main["state"] and "terminated" not in main["state"], ended["status"]
    core.patch_namespaced_pod("p", ns, {"metadata": {"finalizers": None}}, _content_type=kube.MERGE)


@pytest.mark.parametrize("case,command,grace,code,at_least,at_most", [
    ("killed", ["bash", "-c", "sleep 3600"], 3, 137, 2.8, 15),          # SIGKILL when the grace period ends
    ("ends-inside", ["bash", "-c", "sleep 3 && exit 3"], 30, 3, 0, 12),  # ends by itself, its own code
])
def test_deleting_a_pod_while_an_init_container_runs_stops_it_as_any_container(lab, ns, case, command, grace,
                                                                              code, at_least, at_most):
    """Issue 25: the kubelet kills every running container of a deleted pod, init containers included
    (kuberuntime_manager.go killPodWithSyncResult, kuberuntime_container.go killContainer: SIGTERM,
    ignored by PID 1 without a handler, then SIGKILL after the grace period); the pod then Fails
    (status_manager.go TerminatePod) with its main container still Waiting (hasPodInitialized)."""
    ctx = lab["context"]
    core = kube.core(ctx)
    spec = _init_pod("p", command)
    spec["spec"]["terminationGracePeriodSeconds"] = grace
    spec["metadata"]["finalizers"] = [HOLD]
    core.create_namespaced_pod(ns, spec)
    _until("the init container of p to run", lambda: kubectl(ctx, "-n", ns, "get", "pod", "p", "-o",
           "jsonpath={.status.initContainerStatuses[0].state.running.startedAt}").stdout)
    started = time.monotonic()
    core.delete_namespaced_pod("p", ns)
    ended = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Failed", f"deleted pod p ({case}) to fail",
                     timeout=at_most + 10, name="p")
    took = time.monotonic() - started
    setup = ended["status"]["initContainerStatuses"][0]["state"]
    assert (setup["terminated"]["exitCode"], setup["terminated"]["reason"]) == (code, "Error"), setup
    assert at_least <= took <= at_most, f"{case}: ended {took:.1f}s after the delete"
    main = ended["status"]["containerStatuses"][0]
    assert main["state"].get("waiting", {}).get("reason") == "PodInitializing", ended["status"]
    core.patch_namespaced_pod("p", ns, {"metadata": {"finalizers": None}}, _content_type=kube.MERGE)


def test_an_unready_sidecar_is_listed_first_in_the_ready_conditions(lab, ns):
    """status/generate.go lists restartable init containers before the main ones: while the pod's
    containers are being created neither the sidecar nor main is ready. Read from a watch started
    at the pod's creation (the state lasts until the containers start)."""
    from kubernetes import watch as k8s_watch

    ctx = lab["context"]
    core = kube.core(ctx)
    created = core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
        "initContainers": [{"name": "side", "image": "docker.io/library/bash:5", "restartPolicy": "Always",
                            "command": ["sleep", "infinity"]}],
        "containers": [{"name": "main", "image": "docker.io/library/bash:5", "command": ["sleep", "600"]}]}})
    messages = {"Ready": [], "ContainersReady": []}
    stream = k8s_watch.Watch()
    for event in stream.stream(core.list_namespaced_pod, ns, field_selector="metadata.name=p",
                               resource_version=created.metadata.resource_version, timeout_seconds=30):
        conditions = {c.type: c for c in event["object"].status.conditions or []}
        for kind in messages:
            if kind in conditions and conditions[kind].message:
                messages[kind].append(conditions[kind].message)
        if getattr(conditions.get("Ready"), "status", None) == "True":
            stream.stop()
    for kind, seen in messages.items():
        assert seen and set(seen) == {"containers with unready status: [side main]"}, messages


# --- each container of a pod has its own life (issue 25) -----------------------------------------

def _two_containers(name, restart, first, second, **main_extra):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": restart, "terminationGracePeriodSeconds": 2, "containers": [
            {"name": "main", "image": "docker.io/library/bash:5", "command": first, **main_extra},
            {"name": "other", "image": "docker.io/library/bash:5", "command": second}]}}


def test_a_container_that_ends_early_leaves_its_pod_partly_ready(lab, ns):
    """kubelet_pods.go getPhase: a pod with a running container is Running; status/generate.go: it is
    not Ready, ContainersNotReady naming the ended one. `kubectl get pod` READY 1/2 (kwok showed 2/2
    until the longest script ended)."""
    ctx = lab["context"]
    kube.core(ctx).create_namespaced_pod(ns, _two_containers("p", "Never", ["sh", "-c", "sleep 1; exit 3"],
                                                             ["sleep", "600"]))
    row = _until("READY 1/2 in `kubectl get pod p`", lambda: (out := kubectl(
        ctx, "-n", ns, "get", "pod", "p", "--no-headers").stdout.split()) and out[1] == "1/2" and out, timeout=30)
    pod = json.loads(kubectl(ctx, "-n", ns, "get", "pod", "p", "-o", "json").stdout)
    assert pod["status"]["phase"] == "Running", row
    states = {cs["name"]: cs["state"] for cs in pod["status"]["containerStatuses"]}
    assert states["main"]["terminated"]["exitCode"] == 3 and "running" in states["other"], states
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False", "ContainersNotReady", "containers with unready status: [main]"), ready


def test_restart_all_containers_runs_and_says_it_is_not_simulated(lab, ns):
    """A RestartAllContainers rule needs a node that declares RestartAllContainersOnContainerExits (the
    scheduler's NodeDeclaredFeatures plugin): the pod runs, and kwok says, in a condition and an event
    `kubectl events --for` shows, that it restarts the exited container alone."""
    ctx = lab["context"]
    rule = {"action": "RestartAllContainers", "exitCodes": {"operator": "In", "values": [42]}}
    kube.core(ctx).create_namespaced_pod(ns, _two_containers(
        "p", "Never", ["sh", "-c", "sleep 1; exit 42"], ["sleep", "600"], restartPolicy="Never",
        restartPolicyRules=[rule]))
    cond = _until("the kjlab.io/NotSimulated condition", lambda: next(
        (c for c in json.loads(kubectl(ctx, "-n", ns, "get", "pod", "p", "-o", "json").stdout)["status"].get(
            "conditions", []) if c["type"] == "kjlab.io/NotSimulated"), None))
    assert cond["reason"] == "RestartAllContainersNotSimulated" and "--engine kind" in cond["message"], cond
    events = kubectl(ctx, "-n", ns, "events", "--for", "pod/p").stdout
    assert "NotSimulated" in events and "RestartAllContainers" in events, events
    _until("main restarted by its rule", lambda: kubectl(
        ctx, "-n", ns, "get", "pod", "p", "-o", "jsonpath={.status.containerStatuses[0].restartCount}").stdout
        not in ("", "0"), timeout=30)
