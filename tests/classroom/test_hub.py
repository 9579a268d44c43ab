"""The classroom hub from a clone: `kjlab hub` starts JupyterHub, a learner logs in with their own
password (a wrong one is refused), their server runs as their Unix user on their copy of labs/,
the first lab cell brings up *their* kwok cluster, a check records its verdict, the instructor's
report shows it, and a hub restart keeps the learner's server, cluster and results."""

import pwd
import subprocess
import sys

import pytest

from kjlab.classroom import accounts
from kjlab.classroom.client import Learner

from .hubfixture import running_hub

CLASS = "hub-ada  Ada Lovelace\nhub-bob  Bob\n"
POLICY = 'rules:\n- action: FailJob\n  onExitCodes: {containerName: main, operator: In, values: [42]}\n'
WRONG = 'rules:\n- action: FailJob\n  onExitCodes: {containerName: main, operator: In, values: [1]}\n'


@pytest.fixture(scope="module")
def hub(shared_install):
    with running_hub(CLASS, shared_install["venv"]) as hub:
        yield hub


def test_a_wrong_password_and_an_unknown_learner_are_refused(hub):
    with pytest.raises(PermissionError):
        Learner(hub.base, "hub-ada", hub.password("hub-bob")).log_in()  # Bob's password is not Ada's
    with pytest.raises(PermissionError):
        Learner(hub.base, "mallory", hub.password("hub-ada")).log_in()


def test_learner_logs_in_runs_the_first_cell_and_a_check_and_the_report_shows_it(hub, shared_install):
    ada = Learner(hub.base, "hub-ada", hub.password("hub-ada"))
    print(f"hub ready in {hub.startup_seconds:.1f}s; Ada's server in {ada.log_in():.1f}s")
    listing = {item["name"] for item in ada.api("GET", "contents/labs")["content"]}
    assert "01-failjob.ipynb" in listing
    # The first code cell of every lab: connect (kjlab up when there is no cluster yet).
    first = ada.run("import kjlab\nctx = kjlab.connect(None)\nimport os; print('uid', os.getuid())", timeout=300)
    assert first["status"] == "ok", first
    assert "cluster: kwok-kjlab (kwok engine)" in first["stdout"], first
    assert f"uid {pwd.getpwnam('kjlab-hub-ada').pw_uid}" in first["stdout"]
    # Ada's cluster runs as Ada, with its state in Ada's HOME.
    etcd_pids = [pid for pid in accounts.pids_of("kjlab-hub-ada")
                 if open(f"/proc/{pid}/comm").read().strip() == "etcd"]
    assert len(etcd_pids) == 1
    for answer, expected in ((WRONG, "False"), (POLICY, "True")):
        ran = ada.run(f"import kjlab\nv = kjlab.check.run('failjob-policy', {answer!r}, context='kwok-kjlab')\n"
                      "print('PASSED', v.passed)", timeout=300)
        assert ran["status"] == "ok" and f"PASSED {expected}" in ran["stdout"], ran
    report = subprocess.run([sys.executable, "-m", "kjlab.cli", "class", "report", "--state", str(hub.state)],
                            capture_output=True, text=True, check=True).stdout
    row = next(line for line in report.splitlines() if line.startswith("Ada Lovelace"))
    assert "pass (2)" in row, report           # two tries, the second passed
    bob = next(line for line in report.splitlines() if line.startswith("Bob"))
    assert "pass" not in bob and "not yet" not in bob, report
    assert "1/2" in report                     # the progress line of failjob-policy: Ada of two
    assert "1 x " in report and "why:" in report, report  # Ada's wrong answer, with its explanation


def test_a_learner_sees_only_their_own_results(hub, shared_install):
    env = {"KJLAB_LEARNER": "hub-bob", "KJLAB_RESULTS_DIR": str(hub.state / "results" / "kjlab-hub-bob")}
    out = accounts.run_as("kjlab-hub-bob", [str(shared_install["venv"] / "bin" / "kjlab"), "class", "report",
                                             "--state", str(hub.state)], env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rows = [line.split()[0] for line in out.stdout.split("\n\n")[0].splitlines()[1:]]
    assert rows == ["hub-bob"], out.stdout   # Bob's own row, and nobody else's
    assert "pass (" not in out.stdout and "0/1" in out.stdout, out.stdout
    results = hub.state / "results" / "kjlab-hub-ada" / "results.jsonl"
    peek = accounts.run_as("kjlab-hub-bob", ["cat", str(results)], capture_output=True, text=True)
    assert peek.returncode != 0 and "Permission denied" in peek.stderr


def test_hub_restart_keeps_the_learners_server_cluster_and_results(hub):
    before = sorted(accounts.pids_of("kjlab-hub-ada"))
    hub.stop()
    hub.start()
    ada = Learner(hub.base, "hub-ada", hub.password("hub-ada"))
    ada.log_in()
    assert set(before) <= set(accounts.pids_of("kjlab-hub-ada"))  # the same server, kernel-free cluster
    again = ada.run("import kjlab\nctx = kjlab.connect(None)", timeout=120)
    assert again["status"] == "ok" and "cluster: kwok-kjlab" in again["stdout"], again
    results = (hub.state / "results" / "kjlab-hub-ada" / "results.jsonl").read_text().splitlines()
    assert len(results) == 2


def test_a_crashed_cluster_comes_back_with_the_next_cell(hub):
    """A learner's API server dies (a crash, an OOM kill): their next connect cell brings the
    cluster back, with its state (the kjlab marker ConfigMap, so the guard still knows it)."""
    import os
    import signal
    import time

    apiserver = [pid for pid in accounts.pids_of("kjlab-hub-ada")
                 if open(f"/proc/{pid}/comm").read().strip() == "kube-apiserver"]
    assert len(apiserver) == 1
    os.kill(apiserver[0], signal.SIGKILL)  # a process of the cluster this test's learner started
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{apiserver[0]}") and open(f"/proc/{apiserver[0]}/stat").read().split()[2] != "Z" \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    ada = Learner(hub.base, "hub-ada", hub.password("hub-ada"))
    ada.log_in()
    back = ada.run("import kjlab\nctx = kjlab.connect(None)\nprint(kjlab.kubectl('get', 'cm', '-n', 'kube-system', "
                   "'kjlab-cluster', '-o', 'name', context=ctx))", timeout=180)
    assert back["status"] == "ok", back
    assert "cluster: kwok-kjlab (kwok engine)" in back["stdout"] and "configmap/kjlab-cluster" in back["stdout"], back
