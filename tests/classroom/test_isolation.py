"""Two learners on one machine, each with a kwok cluster started as their own Unix user: learner A
tries every port of learner B's cluster (etcd's client and peer ports, the API server, the
controller manager, the scheduler, kjlab's log endpoint; kwok's own server must not listen at all) and B's files, and is
refused every time. The same probes run as B succeed, so a refusal is the cluster's doing, not a
broken probe."""

import base64
import json
import pwd
import subprocess
from pathlib import Path

import pytest
import yaml

from kjlab.classroom import accounts

A, B = "kjlab-iso-a", "kjlab-iso-b"
PROBE = Path(__file__).with_name("probe.py")


def _state(user):
    return Path(pwd.getpwnam(user).pw_dir) / ".local" / "state" / "kjlab"


def _cluster_dir(user):
    return _state(user) / "kwok" / "clusters" / "kjlab"


@pytest.fixture(scope="module")
def learners(shared_install):
    env = {"KJLAB_BIN_DIR": str(shared_install["bin"])}
    kjlab = str(shared_install["venv"] / "bin" / "kjlab")
    try:
        for user in (A, B):
            accounts.remove_user(user)  # a run killed half-way left it behind
            accounts.ensure_user(user)
            up = accounts.run_as(user, [kjlab, "up", "--engine", "kwok"], env, capture_output=True, text=True)
            assert up.returncode == 0, f"{user}: kjlab up failed:\n{up.stdout}\n{up.stderr}"
        yield {"env": env, "python": str(shared_install["venv"] / "bin" / "python"), "kjlab": kjlab}
    finally:
        for user in (A, B):
            if accounts.exists(user):
                accounts.run_as(user, [kjlab, "down"], env, capture_output=True)
                accounts.remove_user(user)


def _listening(user):
    """{component: [(address, port)]} for every TCP socket that user's cluster processes listen on."""
    pids = {}
    for pidfile in (_cluster_dir(user) / "pids").glob("*.pid"):
        pids[int(pidfile.read_text().strip())] = pidfile.stem
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found: dict[str, list] = {name: [] for name in pids.values()}
    for line in out.splitlines():
        fields = line.split()
        for pid, name in pids.items():
            if f"pid={pid}," in line:
                address, port = fields[3].rsplit(":", 1)
                found[name].append((address, int(port)))
    return found


def _probe(user, learners, targets, own_cert=True):
    pki = _cluster_dir(user) / "pki"
    args = [learners["python"], str(PROBE), json.dumps(targets)]
    if own_cert:
        args += [str(pki / "admin.crt"), str(pki / "admin.key")]
    out = accounts.run_as(user, args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _targets(ports):
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    configmap = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "intruder"}})
    # Which of etcd's two ports is which, from B's kwokctl config (read as root here; an intruder
    # would simply try both -- every probe goes to both kinds of port anyway).
    options = yaml.safe_load((_cluster_dir(B) / "kwok.yaml").read_text().split("\n---")[0])["options"]
    client, peer = options["etcdPort"], options["etcdPeerPort"]
    assert {client, peer} == {p for _, p in ports["etcd"]}
    targets = [
        # A write straight into etcd, under the API server's prefix: what the open port allowed before.
        {"what": "etcd client", "port": client, "method": "POST", "path": "/v3/kv/put",
         "body": json.dumps({"key": b64("/registry/configmaps/default/intruder"), "value": b64("x")})},
        {"what": "etcd client", "port": client, "method": "GET", "path": "/version"},
        {"what": "etcd peer", "port": peer, "method": "GET", "path": "/members"},
        {"what": "kube-apiserver", "port": ports["kube-apiserver"][0][1], "method": "POST",
         "path": "/api/v1/namespaces/default/configmaps", "body": configmap},
        {"what": "kube-apiserver", "port": ports["kube-apiserver"][0][1], "method": "GET", "path": "/api/v1/secrets"},
    ]
    for name in ("kube-controller-manager", "kube-scheduler"):
        for path in ("/metrics", "/configz"):
            targets.append({"what": name, "port": ports[name][0][1], "method": "GET", "path": path})
    # kjlab's log endpoint (issue 10): B's pod logs, and what kwok's server would have served too.
    for path in ("/containerLogs/default/any/main", "/debug/pprof/", "/metrics"):
        targets.append({"what": "kjlab-log-endpoint", "port": ports["kjlab-log-endpoint"][0][1], "method": "GET",
                        "path": path})
    return targets


def test_every_component_listens_on_loopback_only_and_kwok_not_at_all(learners):
    ports = _listening(B)
    assert set(ports) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller",
                          "kjlab-log-endpoint"}
    assert len(ports["etcd"]) == 2  # client and peer
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kjlab-log-endpoint"):
        assert len(ports[name]) == 1, (name, ports[name])
    assert ports["kwok-controller"] == [], "kwok's server has no authentication: it must not listen"
    for name, sockets in ports.items():
        for address, _ in sockets:
            assert address == "127.0.0.1", f"{name} listens on {address}"


def test_learner_a_is_refused_by_every_port_of_learner_bs_cluster(learners):
    targets = _targets(_listening(B))
    results = _probe(A, learners, targets)
    for r in results:
        for way, outcome in r["ways"].items():
            refused = "refused" in outcome or outcome["status"] in (400, 401, 403)
            assert refused, f"A got through to B's {r['what']} {r['method']} {r['path']} by {way}: {outcome}"
        if r["what"].startswith("etcd") or r["what"] == "kjlab-log-endpoint":
            # no answer at all without B's certificate (the TLS handshake requires it)
            assert all("refused" in o for o in r["ways"].values()), r
        if r["what"] == "kube-apiserver":  # no anonymous requests, and A's certificate is no credential
            assert r["ways"]["tls"]["status"] == 401 and r["ways"]["tls+own-cert"]["status"] == 401, r


def test_the_same_probes_as_learner_b_get_through(learners):
    """The control: B's own certificate opens B's etcd, API server and components."""
    results = _probe(B, learners, _targets(_listening(B)))
    by = {(r["what"], r["path"]): r["ways"]["tls+own-cert"] for r in results}
    assert by[("etcd client", "/v3/kv/put")].get("status") == 200, by
    assert by[("etcd peer", "/members")].get("status") == 200, by
    assert by[("kube-apiserver", "/api/v1/secrets")].get("status") == 200, by
    assert by[("kube-controller-manager", "/metrics")].get("status") == 200, by
    assert by[("kube-scheduler", "/metrics")].get("status") == 200, by
    # B's certificate opens B's log endpoint, which serves container logs and nothing else.
    assert by[("kjlab-log-endpoint", "/containerLogs/default/any/main")].get("status") == 404, by  # no such pod
    assert by[("kjlab-log-endpoint", "/debug/pprof/")].get("status") == 404, by


def test_learner_a_cannot_read_learner_bs_files(learners):
    home = pwd.getpwnam(B).pw_dir
    cluster = _cluster_dir(B)
    paths = [home, str(_state(B) / "kubeconfig"), str(cluster / "pki" / "admin.key"),
             str(cluster / "pki" / "ca.key"), str(cluster / "etcd")]
    script = ("import json, os, sys\n"
              "out = {}\n"
              "for p in sys.argv[1:]:\n"
              "    try:\n"
              "        out[p] = 'read ' + str(len(os.listdir(p) if os.path.isdir(p) else open(p, 'rb').read()))\n"
              "    except OSError as e:\n"
              "        out[p] = type(e).__name__\n"
              "print(json.dumps(out))\n")
    as_a = json.loads(accounts.run_as(A, [learners["python"], "-c", script, *paths],
                                      capture_output=True, text=True, check=True).stdout)
    assert as_a == {p: "PermissionError" for p in paths}
    as_b = json.loads(accounts.run_as(B, [learners["python"], "-c", script, *paths],
                                      capture_output=True, text=True, check=True).stdout)
    assert all(v.startswith("read ") for v in as_b.values()), as_b


def test_learner_a_kjlab_refuses_bs_cluster(learners, tmp_path):
    """A kubeconfig of A's pointing at B's API server (with A's certificate): kjlab's guard refuses
    the context it did not create before any request, and B's API server would refuse A anyway."""
    port = _listening(B)["kube-apiserver"][0][1]
    pki = _cluster_dir(A) / "pki"
    kubeconfig = Path(pwd.getpwnam(A).pw_dir) / "intruder.yaml"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "b",
        "clusters": [{"name": "b", "cluster": {"server": f"https://127.0.0.1:{port}", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "a", "user": {"client-certificate": str(pki / "admin.crt"),
                                         "client-key": str(pki / "admin.key")}}],
        "contexts": [{"name": "b", "context": {"cluster": "b", "user": "a"}}]}))
    uid = pwd.getpwnam(A)
    import os
    os.chown(kubeconfig, uid.pw_uid, uid.pw_gid)
    out = accounts.run_as(A, [learners["kjlab"], "scenario", "run", "failjob", "--fast", "--context", "b"],
                          {**learners["env"], "KUBECONFIG": str(kubeconfig)}, capture_output=True, text=True)
    assert out.returncode != 0
    assert "kjlab did not create that cluster" in out.stderr + out.stdout or "Unauthorized" in out.stderr + out.stdout, \
        out.stderr + out.stdout
