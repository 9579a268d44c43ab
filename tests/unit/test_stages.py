import yaml
import pytest

from kjlab.cluster.kwok import stages


def _docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


def test_render_is_a_full_stage_set_for_nodes_and_pods():
    docs = _docs(stages.render(time_scale=0.5, kube_version="v1.36.4"))
    assert all(d["kind"] == "Stage" for d in docs)
    kinds = {d["spec"]["resourceRef"]["kind"] for d in docs}
    assert kinds == {"Node", "Pod"}  # kwokctl drops its defaults: both must be covered
    names = [d["metadata"]["name"] for d in docs]
    assert len(names) == len(set(names))


def test_placeholders_are_filled():
    text = stages.render(time_scale=0.25, kube_version="v1.36.9")
    assert "__" not in text.replace("__init__", "")
    assert "* 0.25 + (" in text  # the exit and back-off delays (stages.py EXIT_IN_JQ, RESTART_IN_JQ)
    assert 'kubeletVersion: "v1.36.9"' in text


def test_time_scale_is_bounded():
    with pytest.raises(ValueError):
        stages.render(time_scale=0)


def test_no_stage_touches_finalizers():
    # The Job controller must remove batch.kubernetes.io/job-tracking itself.
    for doc in _docs(stages.render()):
        for step in doc["spec"].get("steps", []):
            assert "finalizers" not in step


@pytest.mark.parametrize("image,repo", [
    ("docker.io/library/bash:5", "bash"),
    ("bash", "bash"),
    ("library/busybox:1.36@sha256:abc", "busybox"),
    ("non-existing-repo/non-existing-image:example", "non-existing-repo/non-existing-image"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause"),
    ("localhost:5000/app", "localhost:5000/app"),
])
def test_image_repository(image, repo):
    assert stages.image_repository(image) == repo


def test_documented_images():
    assert stages.is_pullable("docker.io/library/bash:5")
    assert not stages.is_pullable("non-existing-repo/non-existing-image:example")


def test_event_messages_are_never_template_text():
    # kwok sends an event's message as written (only status patches are rendered): a template
    # there reaches `kubectl get events` and the dashboard as raw text.
    events = [step["event"] for d in _docs(stages.render(time_scale=1, kube_version="v1.36.4"))
              for step in d["spec"].get("steps") or [] if "event" in step]
    assert len(events) >= 8
    assert [e["message"] for e in events if "{{" in e["message"] or "}}" in e["message"]] == []


@pytest.mark.skipif(__import__("shutil").which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize("strict", [True, False])
def test_every_jq_expression_of_the_stages_compiles_and_runs(strict):
    """A Stage whose jq does not compile makes kwok fail that Stage's init, and kwok v0.8.0 then
    crashes on the half-initialised Stage (lifecycle.go Weight): every selector key and delay
    expression must run on a pod (jq and kwok's gojq share the syntax used here)."""
    import json
    import subprocess

    import yaml

    pod = {"metadata": {"name": "p", "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30},
           "spec": {"containers": [{"name": "main", "image": "docker.io/library/bash:5", "command": ["sleep", "5"]}],
                    "readinessGates": [{"conditionType": "x"}]},
           "status": {"phase": "Running", "containerStatuses": [
               {"name": "main", "ready": True, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}}
    selectors, delays = [], []
    for doc in yaml.safe_load_all(stages.render(strict=strict)):
        if not doc or doc["spec"]["resourceRef"]["kind"] != "Pod":
            continue
        selectors += [e["key"] for e in doc["spec"]["selector"]["matchExpressions"]]
        delays += [((doc["spec"].get("delay") or {}).get("durationFrom") or {}).get("jq", {}).get("expression")]
    for expression in selectors:  # run on every pod: must answer
        run = subprocess.run(["jq", expression], input=json.dumps(pod), text=True, capture_output=True)
        assert run.returncode == 0, (expression[:200], run.stderr)
    for expression in filter(None, delays):  # run only on the Stage's own pods: must compile (jq: 3 if not)
        run = subprocess.run(["jq", expression], input=json.dumps(pod), text=True, capture_output=True)
        assert run.returncode != 3 and "compile error" not in run.stderr, (expression[:200], run.stderr)


@pytest.mark.skipif(__import__("shutil").which("jq") is None, reason="jq is not installed")
def test_each_init_step_has_one_stage_with_the_kubelets_events():
    """kwok writes a Stage's events whatever its template decides, so the init container's next step
    (a script ends, one in back-off runs again, the next starts) is selected on, one Stage each."""
    import json
    import subprocess

    import yaml

    def step(*states):
        pod = {"status": {"initContainerStatuses": [{"name": f"c{i}", "state": s} for i, s in enumerate(states)]}}
        return json.loads(subprocess.run(["jq", stages.INIT_STEP_JQ], input=json.dumps(pod), text=True,
                                         capture_output=True, check=True).stdout)

    done = {"terminated": {"exitCode": 0}}
    assert step() == "start"
    assert step(done, {"waiting": {"reason": "PodInitializing"}}) == "start"
    assert step(done, {"running": {"startedAt": "2026-01-01T00:00:00Z"}}) == "end"
    assert step({"waiting": {"reason": "CrashLoopBackOff"}}) == "restart"
    by_step = {}
    for doc in yaml.safe_load_all(stages.render()):
        for expr in (doc or {}).get("spec", {}).get("selector", {}).get("matchExpressions", []):
            if expr["key"] == stages.INIT_STEP_JQ:
                by_step[expr["values"][0]] = [s["event"]["reason"] for s in doc["spec"]["steps"] if "event" in s]
    assert by_step == {"end": [], "start": ["Pulled", "Created", "Started"],
                       "restart": ["BackOff", "Pulled", "Created", "Started"]}
