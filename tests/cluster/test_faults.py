"""Control-plane faults on a private lab cluster: what status, runs and `up` make of them.

Each test brings up a one-worker kwok cluster of its own (its own state directory and kubeconfig),
so killing or stopping its components never touches the session's cluster.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from kubernetes import client

from kjlab import cluster
from kjlab.api import kube, readers
from kjlab.runs import scenarios
from kjlab.cluster import kwok, registry
from kjlab.errors import KjlabError


@pytest.fixture
def private(lab, tmp_path, monkeypatch):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("KJLAB_KUBECONFIG", raising=False)
    cluster.up(engine="kwok", workers=1, progress=None)
    context = "kwok-kjlab"
    monkeypatch.setenv("KJLAB_CONTEXT", context)
    yield context
    cluster.down(engine="kwok", progress=None)


def _pid(name):
    return int((kwok.workdir() / "pids" / f"{name}.pid").read_text())


def _status(context):
    env = {**os.environ, "KJLAB_CONTEXT": context}
    return subprocess.run([sys.executable, "-m", "kjlab.cli", "status"], capture_output=True, text=True,
                          env=env, timeout=60)


def test_a_dead_controller_manager_is_named_refused_and_repaired(private):
    os.kill(_pid("kube-controller-manager"), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while kwok.components()["kube-controller-manager"] and time.monotonic() < deadline:
        time.sleep(0.1)
    status = _status(private)
    assert status.returncode == 1
    assert "problem:  not running: kube-controller-manager" in status.stdout
    assert "fix: kjlab up" in status.stdout

    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        scenarios.run("failjob", fast=True, context=private, echo=False)
    assert time.monotonic() - started < 10  # at once, not after the run's timeout
    assert e.value.message == f"the lab cluster ({private}) is not whole: not running: kube-controller-manager"

    cluster.up(engine="kwok", workers=1, progress=None)  # repairs in place
    assert all(kwok.components().values())
    r = scenarios.run("failjob", fast=True, context=private, echo=False)
    assert (r.outcome, r.reason) == ("Failed", "PodFailurePolicy")


def test_a_component_that_exited_while_up_ran_is_started_again(private):
    """On a loaded machine kube-controller-manager exits when the API server is not healthy within
    10 s of its start; the nodes still turn Ready, so `up` checks the processes before it returns."""
    from kjlab.cluster import provider

    os.kill(_pid("kube-controller-manager"), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while kwok.components()["kube-controller-manager"] and time.monotonic() < deadline:
        time.sleep(0.1)
    said = []
    cluster._start_what_exited(provider.get("kwok"), private, said.append)
    assert all(kwok.components().values())
    assert any("kube-controller-manager exited while the cluster started" in line for line in said), said


def test_a_missing_marker_is_written_back_when_the_cluster_is_the_recorded_one(private):
    kube.core(private).delete_namespaced_config_map(registry.MARKER_NAME, registry.MARKER_NAMESPACE)
    registry.guard(private, "drain node kjlab-worker")  # tells it by its kube-system uid
    assert registry.read_marker(private)["uid"] == registry.entry(private)["uid"]
    assert _status(private).returncode == 0


def test_a_missing_marker_without_a_recorded_cluster_id_is_named_and_written_back_by_up(private):
    # a record written before kjlab kept the kube-system uid: the guard cannot tell, so it refuses
    entries = registry.load()
    entries[private].pop("cluster_id")
    registry._save(entries)
    kube.core(private).delete_namespaced_config_map(registry.MARKER_NAME, registry.MARKER_NAMESPACE)
    with pytest.raises(KjlabError) as e:
        registry.guard(private, "drain node kjlab-worker")
    assert "its marker ConfigMap kube-system/kjlab-cluster is missing" in e.value.message
    assert "the marker ConfigMap kube-system/kjlab-cluster is missing" in _status(private).stdout
    cluster.up(engine="kwok", workers=1, progress=None)
    registry.guard(private, "drain node kjlab-worker")
    assert _status(private).returncode == 0


def test_a_stalled_api_server_does_not_kill_the_controllers(private):
    # A laptop suspend or a busy machine: the API server stops answering for 20 s. With leader
    # election on, the controller manager and the scheduler exit for good after ~15 s.
    apiserver = _pid("kube-apiserver")
    os.kill(apiserver, signal.SIGSTOP)
    try:
        with pytest.raises(KjlabError) as e:
            registry.guard(private, "drain node kjlab-worker")
        assert e.value.message.startswith(f"cannot drain node kjlab-worker: the lab cluster ({private}) does not answer")
        time.sleep(20)
    finally:
        os.kill(apiserver, signal.SIGCONT)
    time.sleep(3)
    assert kwok.components() == {name: True for name in kwok.COMPONENTS}
    r = scenarios.run("failjob", fast=True, context=private, echo=False)
    assert (r.outcome, r.reason) == ("Failed", "PodFailurePolicy")


def test_two_ups_at_once_get_different_ports(lab, tmp_path):
    # Two users bringing up their clusters at the same moment (own state, own kubeconfig each).
    procs, envs = [], []
    for who in ("a", "b"):
        env = {k: v for k, v in os.environ.items() if k not in ("KJLAB_CONTEXT", "KJLAB_KUBECONFIG")}
        env["KJLAB_STATE"] = str(tmp_path / who)
        envs.append(env)
        procs.append(subprocess.Popen([sys.executable, "-m", "kjlab.cli", "up", "--engine", "kwok", "--workers", "1"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env))
    try:
        outputs = [p.communicate(timeout=300)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        hosts = []
        for env in envs:
            config = client.Configuration()
            from kubernetes import config as kconfig

            kconfig.load_kube_config(config_file=os.path.join(env["KJLAB_STATE"], "kubeconfig"),
                                     context="kwok-kjlab", client_configuration=config)
            hosts.append(config.host)
        assert hosts[0] != hosts[1]
    finally:
        for env in envs:
            subprocess.run([sys.executable, "-m", "kjlab.cli", "down"], env=env, capture_output=True, timeout=120)


def test_sigterm_during_a_drain_undoes_the_cordon_and_deletes_the_namespace(lab):
    ctx = lab["context"]
    name = "test-sigterm-drain"
    proc = subprocess.Popen([sys.executable, "-m", "kjlab.cli", "scenario", "run", "ignore", "--fast",
                             "--namespace", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "KJLAB_CONTEXT": ctx})
    try:
        for line in proc.stdout:  # kubectl's own words: the node is cordoned, the drain under way
            if line.strip().endswith("cordoned"):
                proc.send_signal(signal.SIGTERM)
                break
        _out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("kjlab: interrupted")
    assert "Traceback" not in err
    assert not [readers.name(n) for n in kube.raw(kube.core(ctx).list_node)["items"] if readers.unschedulable(n)]
    try:
        assert readers.deleting(kube.raw(kube.core(ctx).read_namespace, name))
    except client.ApiException as e:
        assert e.status == 404


def test_a_job_deleted_mid_run_ends_the_run_at_once(lab):
    ctx = lab["context"]
    name = "test-job-deleted"
    errors = []

    def run():
        try:
            scenarios.run("failjob", policy=False, fast=True, context=ctx, namespace=name, echo=False)
        except KjlabError as e:
            errors.append(e)

    import threading

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the run has created its Job and is waiting for it
        try:
            if kube.raw(kube.batch(ctx).list_namespaced_job, name)["items"]:
                break
        except client.ApiException:
            pass
        time.sleep(0.2)
    deleted = time.monotonic()
    kube.batch(ctx).delete_namespaced_job("job-pod-failure-policy-failjob", name, propagation_policy="Background")
    t.join(60)
    assert not t.is_alive() and time.monotonic() - deleted < 15
    assert errors and errors[0].message.startswith(
        "Job job-pod-failure-policy-failjob was deleted while kjlab waited for Job job-pod-failure-policy-failjob to finish")


def test_an_api_server_restart_mid_run_is_survived(private):
    import threading

    results, errors = {}, []

    def run():
        try:
            results["r"] = scenarios.run("ignore", fast=True, context=private, namespace="restart", echo=False)
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    from kjlab.api import wait

    wait.pod(private, "restart", lambda p: readers.phase(p) == "Running", "a pod to run", timeout=60)
    os.kill(_pid("kube-apiserver"), signal.SIGKILL)
    time.sleep(3)
    cluster.up(engine="kwok", workers=1, progress=None)  # restarts it in place
    t.join(300)
    assert not errors, errors
    r = results["r"]
    assert (r.outcome, r.succeeded, r.failed) == ("Complete", 4, 0), r.headline()


def test_a_stopped_controller_manager_ends_the_service_account_wait_with_the_fix(private):
    """The default-ServiceAccount wait goes on while the controller manager runs (a busy machine) and
    ends at once, with the fix, when it does not (here: stopped)."""
    from kjlab.actions import namespaces

    kcm = _pid("kube-controller-manager")
    os.kill(kcm, signal.SIGSTOP)
    try:
        kube.core(private).create_namespace({"metadata": {"name": "no-sa-yet"}})
        started = time.monotonic()
        with pytest.raises(KjlabError) as e:
            namespaces._wait_default_service_account(private, "no-sa-yet", quick=2, cap=60)
        assert time.monotonic() - started < 10
        assert "kube-controller-manager is not running" in e.value.message and "kjlab up" in e.value.fix
    finally:
        os.kill(kcm, signal.SIGCONT)
    namespaces._wait_default_service_account(private, "no-sa-yet")  # it comes once the controller runs again
