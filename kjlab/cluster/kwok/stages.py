"""The simulated kubelet: KWOK Stage files shipped as package data, rendered per cluster."""

from __future__ import annotations

import json
from importlib import resources

import yaml

from kjlab.cluster.kind import preload_images  # the one list of the lab's images (tools/kind/lab-images.txt)
from kjlab.cluster.kwok import grammar

# Images the lab preloads (and kind loads with `kind load docker-image`): these pull, any
# other image fails with ErrImagePull / ImagePullBackOff, as on an air-gapped cluster.
# Matching is on the repository: tag and digest are ignored, docker.io/library/ is implied.
PULLABLE_IMAGES = (
    "bash",
    "busybox",
    "alpine",
    "debian",
    "ubuntu",
    "python",
    "perl",
    "nginx",
    "registry.k8s.io/pause",
)

STAGE_FILES = ("node.yaml", "pod.yaml")

# What a v1.36.4 kubelet with its default feature gates publishes as node.status.declaredFeatures
# (pkg/kubelet/kubelet_node_declared_features.go; k8s.io/component-helpers v0.36.4
# nodedeclaredfeatures/features/registry.go, each feature on when its gate is, sorted by name; the
# gates' defaults in pkg/features/kube_features.go; UserNamespacesHostNetworkSupport is alpha, off).
# The scheduler places a pod that needs one (a RestartAllContainers rule) only on a node declaring it.
DECLARED_FEATURES = ("ExtendWebSocketsToKubelet", "InPlacePodLevelResourcesVerticalScaling",
                     "InPlacePodVerticalScalingInitContainers", "RestartAllContainersOnContainerExits")

# The one image rule of the simulated kubelet (README, "What the simulated kubelet runs"):
# * an image the lab preloads (tools/kind/lab-images.txt, the list kind loads into its nodes) is present;
# * another tag of a repository in PULLABLE_IMAGES is taken as present too, with a Warning that the
#   simulated kubelet cannot check whether that tag exists;
# * a reference the course material uses knowing it does not exist (KNOWN_MISSING: the docs' typo
#   tags, the Job page's non-existing repository) fails as a real pull does, close to containerd's words
#   (the reference normalised as containerd names it; the registry's part abridged);
# * anything else fails to pull, saying that the simulated kubelet pulls nothing (never a false
#   "repository does not exist").
KNOWN_MISSING = {  # repository:tag as the Stages normalise it -> what containerd says after the reference
    "non-existing-repo/non-existing-image:example":  # kubernetes.io, Job page (pod failure policy)
        "pull access denied, repository does not exist or may require authorization",
    "nginx:1.161": "docker.io/library/nginx:1.161: not found",  # kubernetes.io, Deployment page (stuck rollout)
    "nginx:1.91": "docker.io/library/nginx:1.91: not found",  # CKAD exercises, wrong-image task
}
IMAGES_UNCHECKED_WARNING = (
    "the simulated kubelet (kwok) cannot check whether this image exists: it takes every tag of a preloaded "
    "repository (README: What the simulated kubelet runs) as present, and only the lab's own images are known. "
    "`kjlab up --engine kind` pulls it for real.")


def normalised_reference(image: str) -> str:
    """'docker.io/library/bash:5' -> 'bash:5', 'registry.k8s.io/pause' -> 'registry.k8s.io/pause:latest' (the Stages' jq does the same)."""
    import re

    image = re.sub(r"@.*$", "", image)
    if not re.search(r":[^:/]*$", image):
        image += ":latest"
    return re.sub(r"^library/", "", re.sub(r"^docker\.io/", "", image))


def present_images() -> tuple[str, ...]:
    """The exact images the lab preloads (kind's list), normalised."""
    return tuple(normalised_reference(i) for i in preload_images())


_REFS_JQ = ('[.spec.containers[], (.spec.initContainers // [])[] | .image | sub("@.*$"; "") '
            '| (if test(":[^:/]*$") then . else . + ":latest" end) | sub("^docker\\\\.io/"; "") | sub("^library/"; "")]')

# Images whose own entrypoint (no command, no args) runs until stopped and stops at once on the
# signal the runtime sends (the image's STOPSIGNAL, else SIGTERM), exiting 0: nginx quits on
# SIGQUIT, pause exits 0 on SIGTERM (kubernetes build/pause/linux/pause.c). A deleted pod of theirs
# ends at once, not at the end of its grace period. Any other entrypoint is taken to ignore SIGTERM
# as PID 1 (a shell, sleep, python without a handler): SIGKILL, 137, when the grace period ends.
STOPS_ON_SIGNAL = ("nginx", "registry.k8s.io/pause")


def image_repository(image: str) -> str:
    """'docker.io/library/bash:5' -> 'bash' (the same normalisation the Stage's jq applies)."""
    import re

    image = re.sub(r"@.*$", "", image)
    image = re.sub(r":[^:/]*$", "", image)
    image = re.sub(r"^docker\.io/", "", image)
    return re.sub(r"^library/", "", image)


def is_pullable(image: str, pullable=PULLABLE_IMAGES) -> bool:
    """Whether the simulated kubelet takes this image as present (its repository is preloaded and
    the reference is not one known not to exist)."""
    return image_repository(image) in pullable and normalised_reference(image) not in KNOWN_MISSING


# When the next thing happens to a running pod's containers, in seconds from now (jq; null: never):
# EXIT_IN, the earliest end of a running container's script (its startedAt, whole seconds, + 1 or
# now if sooner, + its sleeps: never before the script's end, at most 1 s after it); RESTART_IN,
# the earliest end of a back-off (kuberuntime_manager.go: 10 s doubling per restart, at most 5 min,
# from the container's last end). kjlab-pod-exit plays the first, kjlab-pod-crashloop-restart the
# second, whichever comes first: kwok plays one of the Stages that match a pod.
_SLEEPS_JQ = (r'[match("sleep[ (]+([0-9]+(\\.[0-9]+)?)([smhd]?)"; "g") | (.captures[0].string | tonumber) '
              r'* ({"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[.captures[2].string // ""])] | add // 0')


def _exit_in(specs: str, statuses: str) -> str:
    return (f'(({statuses} // []) | map({{key: .name, value: .}}) | from_entries) as $st '
            f'| [({specs} // [])[] as $c | ($st[$c.name] // {{}}) as $s | select($s.state.running != null) '
            '| ((($c.command // []) + ($c.args // [])) | join(" ")) as $raw | ($raw | gsub(__OUTPUT_JQ__; "")) as $text '
            '| select(($raw | length) > 0 and ($text | test(__FOREVER_JQ__) | not)) '
            f'| ($text | {_SLEEPS_JQ}) * __TIME_SCALE__ + ($s.state.running.startedAt | [fromdate + 1 - now, 0] | min)] | min')


def _restart_in(statuses: str) -> str:
    return (f'[({statuses} // [])[] | select(.state.waiting.reason == "CrashLoopBackOff" '
            'and .lastState.terminated != null) | ([10 * pow(2; .restartCount - 1), 300] | min) * __TIME_SCALE__ '
            '+ (.lastState.terminated.finishedAt | [fromdate + 1 - now, 0] | min)] | min')


EXIT_IN_JQ = _exit_in(".spec.containers", ".status.containerStatuses")
RESTART_IN_JQ = _restart_in(".status.containerStatuses")
# The same for regular init containers run in their turn (kjlab-pod-init-next); with neither, the
# next one starts.
INIT_NEXT_IN_JQ = (f'({_exit_in(".spec.initContainers", ".status.initContainerStatuses")}) // '
                   f'({_restart_in(".status.initContainerStatuses")}) // 0.5')
# How long a deleted pod's running containers take to end, in seconds from now (jq, a Stage's delay):
# the latest end among them, each its script's own end if it comes inside the grace period (PID 1
# ignores SIGTERM), else the grace period's end (SIGKILL, at least 2 s: kuberuntime_container.go
# killContainer); an image entrypoint of STOPS_ON_SIGNAL at once. kjlab-pod-kill-running for the
# main containers, kjlab-pod-kill-initializing for an init container run in its turn.
_KILL_IN = ('(.metadata.deletionGracePeriodSeconds // 0) as $g | ((.metadata.deletionTimestamp | '
            'fromdate) - $g + 1) as $request | ($request + ([$g, 2] | max) * __TIME_SCALE__) as $deadline | '
            '(({statuses} // []) | map({key: .name, value: .}) | from_entries) as $st | [({specs} // [])[] as $c | '
            '($st[$c.name] // {}) as $s | select($s.state.running != null) | '
            '((($c.command // []) + ($c.args // [])) | join(" ")) as $text | if ($text | '
            'length) == 0 then (if ($c.image | sub("@.*$"; "") | sub(":[^:/]*$"; "") | '
            'sub("^docker\\\\.io/"; "") | sub("^library/"; "") | '
            'IN(__STOPS_ON_SIGNAL_JQ__)) then now else $deadline end) elif ($text | '
            'gsub(__OUTPUT_JQ__; "") | '
            'test(__FOREVER_JQ__)) then $deadline else ([($s.state.running.startedAt | '
            'fromdate) + ([$text | gsub(__OUTPUT_JQ__; "") | '
            'match("sleep[ (]+([0-9]+(\\\\.[0-9]+)?)([smhd]?)"; "g") | (.captures[0].string | '
            'tonumber) * ({"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[.captures[2].string // ""])] | '
            'add // 0) * __TIME_SCALE__, $deadline] | min) end] | ((max // $request) - now) | '
            'if . < 0 then 0 else . end | . * 1000 | floor | tostring + "ms"')


def _kill_in(specs: str, statuses: str) -> str:
    return _KILL_IN.replace("{specs}", specs).replace("{statuses}", statuses)


KILL_IN_JQ = _kill_in(".spec.containers", ".status.containerStatuses")
INIT_KILL_IN_JQ = _kill_in(".spec.initContainers", ".status.initContainerStatuses")
# A pod with a regular init container that does not succeed at once (grammar.runs_in_turn), and
# whether every regular init container has completed (exit 0): kjlab-pod-ready starts the main
# containers only then.
INIT_IN_TURN_JQ = ('[(.spec.initContainers // [])[] | select(.restartPolicy != "Always") '
                   '| ((.command // []) + (.args // [])) | join(" ") | test(__INIT_GRAMMAR_JQ__) | not] | any')
# Which step of kjlab-pod-init-next comes for such a pod: a running init container's script ends
# ("end"), one waiting out its back-off runs again ("restart"), else the next one starts ("start").
# Selected on, as kwok writes a Stage's events whatever its template decides (_init_steps).
INIT_STEP_JQ = ('[(.status.initContainerStatuses // [])[] | if .state.running != null then "end" '
                'elif .state.waiting.reason == "CrashLoopBackOff" then "restart" else empty end] | first // "start"')
INITIALIZED_JQ = (f'({INIT_IN_TURN_JQ} | not) or ([(.spec.initContainers // [])[] | select(.restartPolicy != "Always") '
                  '| .name] - [(.status.initContainerStatuses // [])[] | select(.state.terminated.exitCode == 0) '
                  '| .name] | length == 0)')


def _grammar_placeholders() -> dict[str, str]:
    """The grammar's regexes (kjlab/cluster/kwok/grammar.py, their one definition) as the Stage files
    need them: jq inside single-quoted YAML ('' for '), Go template strings inside block scalars."""
    yq = lambda text: text.replace("'", "''")  # noqa: E731 -- a YAML single-quoted scalar
    return {
        "__NOT_SIMULATED_JQ__": yq(grammar.jq_not_simulated()),
        "__FOREVER_JQ__": yq(grammar.jq_string(grammar.FOREVER)),
        "__FOREVER_GO__": grammar.jq_string(grammar.FOREVER),
        "__OUTPUT_JQ__": yq(grammar.jq_string(grammar.OUTPUT)),
        "__OUTPUT_GO__": grammar.jq_string(grammar.OUTPUT),
        "__GRAMMAR_GO__": grammar.jq_string(grammar.GRAMMAR),
        "__INIT_GRAMMAR_GO__": grammar.jq_string(grammar.INIT_GRAMMAR),
        "__INIT_GRAMMAR_JQ__": yq(grammar.jq_string(grammar.INIT_GRAMMAR)),
        "__READS_INDEX_GO__": grammar.jq_string(grammar.READS_INDEX),
        "__PROBES_JQ__": yq(PROBES_JQ),
        "__KNOWN_MISSING_GO__": " ".join(f"{json.dumps(k)} {json.dumps(v)}" for k, v in KNOWN_MISSING.items()),
        "__STOPS_ON_SIGNAL_JQ__": ", ".join(json.dumps(p) for p in STOPS_ON_SIGNAL),
        "__STOPS_ON_SIGNAL_GO__": " ".join(json.dumps(p) for p in STOPS_ON_SIGNAL),
    }


def _snippet(text: str, placeholder: str, file: str) -> str:
    """A Go template file of kwok_stages/ in place of each line holding only `placeholder`,
    indented as that line (the Stages' templates are YAML block scalars)."""
    if placeholder not in text:
        return text
    body = resources.files("kjlab.cluster.kwok").joinpath("kwok_stages").joinpath(file).read_text().rstrip("\n")
    out = []
    for line in text.split("\n"):
        if line.strip() == placeholder:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + b if b else b for b in body.split("\n"))
        else:
            out.append(line)
    return "\n".join(out)


# Lenient mode (kjlab up --engine kwok --no-strict): a pod outside the grammar runs with what the
# Stages read from its script anyway, and this Warning says so. kwok does not render event
# messages, so it cannot name the command; `kjlab scenario run`/`check` name it (grammar.not_simulated).
LENIENT_WARNING = (
    "kwok simulates the kubelet and cannot run a command of this pod (it is outside the grammar in the kjlab "
    "README, \"What the simulated kubelet runs\"). Assumed: it runs for the sum of its literal sleeps and exits "
    "with its last literal exit code (0 when none). `kjlab up --engine kind` runs it on a real kubelet.")


def _lenient(docs: list[dict]) -> list[dict]:
    """Strict Stages out; the create Stage also for pods outside the grammar, with the warning."""
    import copy

    out = []
    for doc in docs:
        if (doc["metadata"].get("labels") or {}).get("kjlab.io/mode") == "strict":
            continue
        out.append(doc)
        if doc["metadata"]["name"] in ("kjlab-pod-create", "kjlab-pod-create-unchecked"):
            assumed = copy.deepcopy(doc)
            assumed["metadata"]["name"] = doc["metadata"]["name"] + "-assumed"
            for expr in assumed["spec"]["selector"]["matchExpressions"]:
                if expr["key"] == grammar.jq_not_simulated():
                    expr["values"] = ["true"]
            assumed["spec"]["steps"].insert(0, {"event": {"type": "Warning", "reason": "NotSimulated",
                                                          "message": LENIENT_WARNING}})
            out.append(assumed)
    return out


# Probes and lifecycle hooks need a process to probe or to run a hook in: the simulated kubelet runs
# neither. A pod that declares one says so when its containers start (issue 25).
PROBES_JQ = ('[(.spec.containers // [])[], (.spec.initContainers // [])[] | (.livenessProbe, .readinessProbe, '
             '.startupProbe, .lifecycle.postStart, .lifecycle.preStop) | select(. != null)] | length > 0')
PROBES_WARNING = (
    "probe not run (simulated kubelet): kwok runs no liveness, readiness or startup probe and no postStart or "
    "preStop hook; this pod's containers are Ready as soon as they start and no probe restarts them. "
    "`kjlab up --engine kind` runs them on a real kubelet.")


RESTART_ALL_MESSAGE = (
    "RestartAllContainers not simulated: a real kubelet restarts every container of this pod, init containers "
    "first, when a restartPolicyRule with that action matches; kwok's simulated kubelet restarts only the container "
    "that exited. `kjlab up --engine kind` runs it on a real kubelet.")


def _probes_not_run(docs: list[dict]) -> dict:
    """kjlab-pod-ready (which pod.yaml keeps to pods without probes or hooks) for a pod with them:
    first a Warning (reason NotSimulated) that they are not run."""
    import copy

    warned = copy.deepcopy(next(d for d in docs if d["metadata"]["name"] == "kjlab-pod-ready"))
    warned["metadata"]["name"] = "kjlab-pod-ready-probes-not-run"
    for expr in warned["spec"]["selector"]["matchExpressions"]:
        if expr["key"] == PROBES_JQ:
            expr["values"] = ["true"]
    warned["spec"]["steps"].insert(0, {"event": {"type": "Warning", "reason": "NotSimulated", "message": PROBES_WARNING}})
    return warned


# The events of a container's start and of a back-off's end, as kjlab-pod-crashloop-restart writes them
# for the main containers (fixed text: kwok renders no template in event messages).
_STARTED = [{"event": {"type": "Normal", "reason": "Pulled", "message": "Container image already present on machine"}},
            {"event": {"type": "Normal", "reason": "Created", "message": "Container created"}},
            {"event": {"type": "Normal", "reason": "Started", "message": "Container started"}}]
_BACKED_OFF = [{"event": {"type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container"}}]


def _init_steps(docs: list[dict]) -> list[dict]:
    """kjlab-pod-init-next (which pod.yaml keeps to a script's end) for an init container's start and
    for the end of its back-off, each with the events a kubelet writes then."""
    import copy

    base = next(d for d in docs if d["metadata"]["name"] == "kjlab-pod-init-next")
    out = []
    for step, events in (("start", _STARTED), ("restart", _BACKED_OFF + _STARTED)):
        stage = copy.deepcopy(base)
        stage["metadata"]["name"] = f"kjlab-pod-init-{step}"
        for expr in stage["spec"]["selector"]["matchExpressions"]:
            if expr["key"] == INIT_STEP_JQ:
                expr["values"] = [step]
        stage["spec"]["steps"][:0] = copy.deepcopy(events)
        out.append(stage)
    return out


def _unchecked(docs: list[dict], images_exact: str) -> dict:
    """kjlab-pod-create (which pod.yaml keeps to pods whose images the lab preloads, tags included)
    for a pod with another tag of a preloaded repository: first a Warning that it is not checked."""
    import copy

    warned = copy.deepcopy(next(d for d in docs if d["metadata"]["name"] == "kjlab-pod-create"))
    warned["metadata"]["name"] = "kjlab-pod-create-unchecked"
    for expr in warned["spec"]["selector"]["matchExpressions"]:
        if expr["key"] == images_exact:
            expr["values"] = ["false"]
    warned["spec"]["steps"].insert(0, {"event": {"type": "Warning", "reason": "NotSimulated",
                                                 "message": IMAGES_UNCHECKED_WARNING}})
    return warned


def render(time_scale: float = 1.0, kube_version: str = "v0.0.0", pullable=PULLABLE_IMAGES,
           strict: bool = True) -> str:
    """The full Stage set as one multi-document YAML string, ready for kwokctl's --config.
    strict: a container outside the grammar waits (NotSimulated) instead of running as guessed."""
    if not 0 < time_scale <= 10:
        raise ValueError(f"time scale must be in (0, 10], got {time_scale}")
    pullable_jq = ", ".join(json.dumps(p) for p in pullable)  # jq: IN("a", "b")
    missing_jq = ", ".join(json.dumps(m) for m in KNOWN_MISSING)
    images_present = (f'{_REFS_JQ} | all((sub(":[^:/]*$"; "") | IN({pullable_jq})) and (IN({missing_jq}) | not))')
    images_exact = f'{_REFS_JQ} | all(IN({", ".join(json.dumps(i) for i in present_images())}))'

    pullable_tpl = " ".join(json.dumps(p) for p in pullable)  # Go template: (list "a" "b")
    docs = []
    for name in STAGE_FILES:
        text = resources.files("kjlab.cluster.kwok").joinpath("kwok_stages").joinpath(name).read_text()
        text = _snippet(text, "__EXIT_CODE_GO__", "exit_code.gotpl")
        text = _snippet(text, "__CONTAINERS_BY_NAME_GO__", "containers_by_name.gotpl")
        text = _snippet(text, "__READY_CONDITION_GO__", "ready_condition.gotpl")
        text = _snippet(text, "__SCRIPT_SECONDS_GO__", "script_seconds.gotpl")
        text = _snippet(text, "__SHOULD_RESTART_GO__", "should_restart.gotpl")
        text = (
            text.replace("__EXIT_IN_JQ__", EXIT_IN_JQ).replace("__RESTART_IN_JQ__", RESTART_IN_JQ)
            .replace("__INIT_NEXT_IN_JQ__", INIT_NEXT_IN_JQ).replace("__INIT_IN_TURN_JQ__", INIT_IN_TURN_JQ)
            .replace("__INITIALIZED_JQ__", INITIALIZED_JQ).replace("__INIT_STEP_JQ__", INIT_STEP_JQ)
            .replace("__KILL_IN_JQ__", KILL_IN_JQ).replace("__INIT_KILL_IN_JQ__", INIT_KILL_IN_JQ)
            .replace("__RESTART_ALL_MESSAGE__", RESTART_ALL_MESSAGE.replace("'", "''"))
            .replace("__DECLARED_FEATURES__", json.dumps(list(DECLARED_FEATURES)))
            .replace("__TIME_SCALE__", repr(float(time_scale)))
            .replace("__PULLABLE_LIST__", pullable_tpl)
            .replace("__IMAGES_PRESENT_JQ__", images_present.replace("'", "''"))
            .replace("__IMAGES_EXACT_JQ__", images_exact.replace("'", "''"))
            .replace("__PULLABLE__", pullable_jq)
            .replace("__KUBE_VERSION__", kube_version)
        )
        for key, value in _grammar_placeholders().items():
            text = text.replace(key, value)
        docs.append(text)
    rendered = "\n---\n".join(docs)
    # Fail here, not inside kwok, when a placeholder or YAML is off.
    assert "__" not in "".join(l for l in rendered.splitlines() if not l.lstrip().startswith("#"))
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    added = [_probes_not_run(docs), _unchecked(docs, images_exact), *_init_steps(docs)]
    rendered += "".join("\n---\n" + yaml.safe_dump(d, sort_keys=False, width=1 << 20) for d in added)
    if not strict:
        rendered = yaml.safe_dump_all(_lenient(docs + added), sort_keys=False, width=1 << 20)
    return rendered
