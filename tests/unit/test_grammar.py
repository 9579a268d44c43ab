"""The simulated kubelet's grammar (kjlab/cluster/kwok/grammar.py): which commands the Stages run.

The expectations are written from what bash/python would do with each script, not from the
regex: a script the simulation cannot reproduce exactly must be outside the grammar. The same
regex runs in jq (Stage selectors) and Go (Stage templates), so each case is also checked there.
"""

import json
import shutil
import subprocess

import pytest

from kjlab.cluster.kwok import grammar, stages

IDX = {"batch.kubernetes.io/job-completion-index": "2"}
PY_MOD = ("import os, sys\nprint('Hello world')\n"
          "if int(os.environ.get('JOB_COMPLETION_INDEX')) % 2 == 0:\n  sys.exit(1)\n")
PY_ELIF = ('import os, sys\nindex = int(os.environ.get("JOB_COMPLETION_INDEX"))\n'
           "if index == 0:\n  sys.exit(1)\nelif index == 1:\n  sys.exit(42)\nelse:\n  sys.exit(0)\n")

# (command, indexed pod, simulated?)
CASES = [
    (["bash", "-c", "sleep 30 && exit 42"], False, True),
    (["sh", "-c", "sleep 90 && exit 0"], False, True),
    (["/bin/sh", "-c", "echo start; sleep 1.5m; echo done"], False, True),
    (["sleep", "30"], False, True),
    (["false"], False, True),
    (["sleep", "infinity"], False, True),
    (["bash", "-c", "while true; do date; sleep 10; done"], False, True),
    (["bash", "-c", 'echo "to fail, run: exit 5"'], False, True),
    (["bash", "-c", 'echo "a; sleep 5; echo b"'], False, True),  # one echo: the quotes hold the ;
    (["python3", "-c", "import time, sys\ntime.sleep(2)\nsys.exit(5)"], False, True),
    (["python3", "-c", PY_MOD], True, True),
    (["python3", "-c", PY_ELIF], True, True),
    (["bash", "-c", 'if [ "$JOB_COMPLETION_INDEX" == 1 ]; then exit 42; else exit 0; fi'], True, True),
    # Issue 25: shell text as the docs write it (`!` is literal in sh -c; files under /tmp).
    (["sh", "-c", "echo The app is running! && sleep 3600"], False, True),
    (["sh", "-c", "echo 'Hello, Kubernetes!' && sleep 5 && exit 0"], False, True),
    (["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"], False, True),
    (["sh", "-c", "touch /etc/healthy; sleep 30"], False, False),  # may fail for real: not simulated
    (["sh", "-c", "echo {a,b}"], False, False),  # brace expansion
    # Issue 10's cases a simulation cannot reproduce: outside the grammar.
    (["perl", "-e", "exit 3"], False, False),
    (["bash", "-c", "cat /missing/file"], False, False),
    (["python3", "-c", "1/0"], False, False),
    (["bash", "-c", "exit $((40+2))"], False, False),
    (["bash", "-c", "RC=7; exit $RC"], False, False),
    (["bash", "-c", "sleep $((5*6))"], False, False),
    (["bash", "-c", "echo $HOSTNAME"], False, False),
    (["bash", "-c", "exit 1; sleep 5"], False, False),   # statements after exit: exit must be last
    (["bash", "-c", "false; exit 0"], False, False),     # false only last
    (["bash", "-c", "trap 'exit 3' TERM; sleep 100 & wait"], False, False),
    (["bash", "-c", "sleep 10 | cat"], False, False),
    # Shell builtins without a shell: no such program, a real node cannot start the container.
    (["exit", "3"], False, False),
    ([":"], False, False),
    (["exit", "0"], True, False),
    (["true"], False, True),
    (["date"], False, True),
    (["tail", "-f", "/dev/null"], False, True),
    # Reading the index outside an Indexed Job (the variable is unset there).
    (["python3", "-c", PY_MOD], False, False),
]


def test_an_init_container_is_simulated_when_it_ends():
    def pod(command, sidecar=False):
        init = {"name": "init", "image": "bash", "command": command, **({"restartPolicy": "Always"} if sidecar else {})}
        return {"spec": {"initContainers": [init], "containers": [{"name": "main", "image": "bash",
                                                                     "command": ["sleep", "1"]}]}}
    assert grammar.not_simulated(pod(["sh", "-c", "echo init done; touch /tmp/ready"])) == []
    assert grammar.not_simulated(pod(["sh", "-c", "echo hi && exit 0"])) == []
    # issue 25: one that takes time or fails runs in its turn, in a pod without sidecars
    for command in (["sh", "-c", "sleep 30"], ["sh", "-c", "exit 1"], ["false"]):
        assert grammar.not_simulated(pod(command)) == [], command
        assert grammar.refused({"command": command}, init=True) == (
            "an init container that takes time or fails is run in its turn only in a pod without sidecars "
            "(init containers with restartPolicy Always)")
    with_sidecar = pod(["sh", "-c", "sleep 30"])
    with_sidecar["spec"]["initContainers"].append({"name": "side", "image": "bash", "command": ["sleep", "infinity"],
                                                   "restartPolicy": "Always"})
    assert grammar.not_simulated(with_sidecar) == [("init", "sh -c sleep 30")]
    # one that never ends never completes
    assert grammar.not_simulated(pod(["sleep", "infinity"])) == [("init", "sleep infinity")]
    assert "never completes" in grammar.refused({"command": ["sleep", "infinity"]}, init=True)
    assert grammar.not_simulated(pod(["sleep", "infinity"], sidecar=True)) == []  # a sidecar runs beside main
    for builtin in (["exit", "0"], [":"]):  # no such program: a real node cannot start it
        assert grammar.not_simulated(pod(builtin)) == [("init", grammar.script({"command": builtin}))], builtin
        assert "shell builtin" in grammar.refused({"command": builtin}, init=True)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_agrees_on_init_containers():
    pods = [{"metadata": {}, "spec": {"initContainers": [{"name": "i", "command": c, **extra}],
                                      "containers": [{"name": "m", "command": ["sleep", "1"]}]}}
            for c, extra in ((["sh", "-c", "echo ok"], {}), (["sh", "-c", "sleep 3"], {}),
                             (["sleep", "infinity"], {"restartPolicy": "Always"}), (["bash", "-c", "exit 1"], {}),
                             (["exit", "0"], {}), (["sleep", "infinity"], {}), (["bash", "-c", 'echo "sleep infinity"'], {}))]
    side = {"name": "s", "command": ["sleep", "infinity"], "restartPolicy": "Always"}
    pods.append({"metadata": {}, "spec": {"initContainers": [{"name": "i", "command": ["sh", "-c", "sleep 3"]}, side],
                                          "containers": [{"name": "m", "command": ["sleep", "1"]}]}})
    out = subprocess.run(["jq", "-c", f"[.[] | {grammar.jq_not_simulated()}]"], input=json.dumps(pods), text=True,
                         capture_output=True, check=True).stdout
    assert json.loads(out) == [bool(grammar.not_simulated(p)) for p in pods] == [
        False, False, False, False, True, True, False, True]


def _pod(command, indexed):
    return {"metadata": {"annotations": IDX if indexed else {}},
            "spec": {"containers": [{"name": "main", "image": "bash", "command": command}]}}


@pytest.mark.parametrize("command,indexed,simulated", CASES)
def test_python_reads_the_grammar(command, indexed, simulated):
    assert (grammar.not_simulated(_pod(command, indexed)) == []) is simulated


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_in_the_stage_selector_agrees():
    # The very expression the Stages carry (kwok's jq is gojq; this is jq: both implement the
    # same regex subset the grammar keeps to).
    expression = grammar.jq_not_simulated()
    assert expression.replace("'", "''") in stages.render()
    pods = [_pod(c, i) for c, i, _ in CASES]
    out = subprocess.run(["jq", "-c", f"[.[] | {expression}]"], input=json.dumps(pods), text=True,
                         capture_output=True, check=True).stdout
    assert json.loads(out) == [not s for _c, _i, s in CASES]


GO_PROGRAM = """package main
import ("encoding/json"; "fmt"; "os"; "regexp")
func main() {
  var in struct { Re string; Scripts []string }
  json.NewDecoder(os.Stdin).Decode(&in)
  re := regexp.MustCompile(in.Re)
  out := []bool{}
  for _, s := range in.Scripts { out = append(out, re.MatchString(s)) }
  b, _ := json.Marshal(out); fmt.Println(string(b))
}
"""


@pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed")
def test_go_regexp_in_the_stage_template_agrees(tmp_path):
    # sprig's regexMatch is Go's regexp.MatchString: the strict Stage's message uses it.
    (tmp_path / "main.go").write_text(GO_PROGRAM)
    scripts = [grammar.script({"command": c}) for c, _i, _s in CASES]
    out = subprocess.run(["go", "run", "main.go"], cwd=tmp_path, text=True, capture_output=True, check=True,
                         input=json.dumps({"Re": grammar.GRAMMAR, "Scripts": scripts}),
                         env={**__import__("os").environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}).stdout
    python = [bool(grammar._GRAMMAR.match(s)) for s in scripts]
    assert json.loads(out) == python


def test_strict_and_lenient_stage_sets():
    names = lambda text: [d["metadata"]["name"] for d in __import__("yaml").safe_load_all(text) if d]  # noqa: E731
    strict, lenient = names(stages.render(strict=True)), names(stages.render(strict=False))
    assert "kjlab-pod-not-simulated" in strict and "kjlab-pod-create-assumed" not in strict
    assert "kjlab-pod-not-simulated" not in lenient and "kjlab-pod-create-assumed" in lenient


def test_the_readme_documents_the_grammar():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "What the simulated kubelet runs" in readme
    assert "NotSimulated" in readme and "--no-strict" in readme


def test_kjlab_names_the_command_it_cannot_simulate(capsys):
    # ops.apply's warning (scenario runs, checks, notebooks): on kwok only, naming the command.
    from kjlab.actions import ops

    job = {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "bash", "command": ["bash", "-c", "exit $((40+2))"]},
        {"name": "ok", "image": "bash", "command": ["bash", "-c", "sleep 3 && exit 1"]}]}}}}
    ops._warn_not_simulated("kwok-kjlab", job, echo=True, recorder=None)
    out = capsys.readouterr().out
    assert "container main runs `bash -c exit $((40+2))`" in out and "--engine kind" in out
    assert "container ok" not in out
    ops._warn_not_simulated("kind-kjlab", job, echo=True, recorder=None)
    assert capsys.readouterr().out == ""


def _exit_stage():
    import yaml

    return next(d for d in yaml.safe_load_all(stages.render(time_scale=1)) if d and d["metadata"]["name"] == "kjlab-pod-exit")


def _jq(expression, pod):
    out = subprocess.run(["jq", "-c", expression], input=json.dumps(pod), text=True, capture_output=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize("script,ends,ms", [
    ('echo "sleep 50"; sleep 2', True, 2000),          # echo's text is output, not a sleep
    ('echo "while true"; exit 3', True, 0),            # ... nor a loop
    ("sleep 0.05m && exit 6", True, 3000),
    ("while true; do date; sleep 10; done", False, None),
    ("sleep infinity", False, None),
])
def test_the_exit_stage_reads_sleeps_and_loops_outside_echo_text(script, ends, ms):
    # The exit Stage's own jq (selector and delay), run by jq on a pod with that script.
    stage = _exit_stage()
    # running, started in a second still to come: the delay is the script's sleeps, from now
    pod = {"spec": {"containers": [{"name": "main", "command": ["bash", "-c", script]}]},
           "status": {"containerStatuses": [{"name": "main", "state": {"running": {"startedAt": "2099-01-01T00:00:00Z"}}}]}}
    finite = next(e["key"] for e in stage["spec"]["selector"]["matchExpressions"] if "join" in e["key"])
    assert _jq(finite, pod) is ends
    if ms is not None:
        assert _jq(stage["spec"]["delay"]["durationFrom"]["jq"]["expression"], pod) == f"{ms}ms"


@pytest.mark.parametrize("command,token", [
    (["perl", "-e", "exit 3"], "the program `perl`"),
    (["bash", "-c", "exit $((40+2))"], "`$((40+2))` in `exit $((40+2))`"),
    (["bash", "-c", "RC=7; exit $RC"], "the variable assignment `RC=7`"),
    (["bash", "-c", "sleep 10 | cat"], "`|` after `sleep 10`"),
    (["sh", "-c", "until nslookup myservice; do echo waiting; sleep 2; done"], "the program `until`"),
    (["python3", "-c", "import sys\n1/0"], "the Python line `1/0`"),
    (["exit", "3"], "`exit` without a shell: it is a shell builtin"),
    ([":"], "`:` without a shell"),
])
def test_a_refused_script_names_the_token(command, token):
    assert token in grammar.refused({"command": command})


def test_a_simulated_script_has_nothing_refused():
    assert grammar.refused({"command": ["sh", "-c", "echo The app is running! && sleep 3600"]}) is None


def _stage(name):
    import yaml

    return next(d for d in yaml.safe_load_all(stages.render(time_scale=1)) if d and d["metadata"]["name"] == name)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize("other_sleep,plays,ms", [(4, "kjlab-pod-exit", 4000),
                                                  (40, "kjlab-pod-crashloop-restart", 10000)])
def test_each_container_has_its_own_next_event_and_one_stage_plays_it(other_sleep, plays, ms):
    """Issue 25: a container in back-off (its first: 10 s, kuberuntime_manager.go) beside one still
    running: the earlier of the back-off's end and the script's end is played, by exactly one Stage
    (kwok plays one of the Stages that match a pod)."""
    future = "2099-01-01T00:00:00Z"  # a start/end in a second still to come: delays count from now
    pod = {"spec": {"restartPolicy": "OnFailure", "containers": [
        {"name": "main", "command": ["sh", "-c", "sleep 1; exit 1"]},
        {"name": "long", "command": ["sleep", str(other_sleep)]}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "main", "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": future}}},
            {"name": "long", "state": {"running": {"startedAt": future}}}]}}
    matching = []
    for name in ("kjlab-pod-exit", "kjlab-pod-crashloop-restart"):
        stage = _stage(name)
        if _jq(stage["spec"]["selector"]["matchExpressions"][-1]["key"], pod):
            matching.append(name)
            assert _jq(stage["spec"]["delay"]["durationFrom"]["jq"]["expression"], pod) == f"{ms}ms"
    assert matching == [plays]


def test_simulated_nodes_declare_a_v1_36_kubelets_features():
    """What a v1.36.4 kubelet publishes with its default gates (component-helpers v0.36.4
    nodedeclaredfeatures registry; the scheduler needs RestartAllContainersOnContainerExits on the node
    for a pod with a RestartAllContainers rule)."""
    node = _stage("kjlab-node-initialize")["spec"]["steps"][0]["patch"]["template"]
    line = next(l for l in node.splitlines() if l.strip().startswith("declaredFeatures:"))
    declared = json.loads(line.split(":", 1)[1])
    assert declared == sorted(declared) and "RestartAllContainersOnContainerExits" in declared
    assert "UserNamespacesHostNetworkSupport" not in declared  # alpha in v1.36: off by default
