"""The chart's hub configuration, run for real: JupyterHub started on this machine with
kjlab/classroom/k8s_hub.py (the chart's jupyterhub_config.py), KubeSpawner talking to the lab's
kwok API server. A learner logs in with the class list's password; KubeSpawner creates their PVC
and pod, which the real API server accepts (kwok then simulates it: it never turns Ready here, the
kind test runs the images); the token the hub put in that pod records a verdict through the
kjlab-results service, and the class report reads it. Only the addresses differ from the chart
(the hub is not in the cluster), set through hub.config as an instructor would."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from kjlab import oom
from kjlab.classroom import auth, hub as single_hub, kube, report, verdict_service
from kjlab.classroom.accounts import parse_class_list

from .hubfixture import free_port_block

NS = "test-k8s-hub"
SC, PV = "test-k8s-hub-default", "test-k8s-hub-claim-ada"


@pytest.fixture
def cluster(lab):
    pytest.importorskip("kubespawner")
    cl = kube.Cluster(lab["context"], NS)
    cl.kubectl("create", "namespace", NS)
    manifest = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": SC, "annotations": {kube.DEFAULT_CLASS: "true"}},
         "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate"},
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": PV},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": SC,
                  "hostPath": {"path": "/tmp/kjlab-test-k8s-hub"}}}]}
    subprocess.run([*_kubectl(cl), "apply", "-f", "-"], input=json.dumps(manifest), text=True, check=True,
                   capture_output=True, env=kube.kubectl.environment())
    yield cl
    for args in (("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=60s"),
                 ("delete", "pv", PV, "--ignore-not-found"), ("delete", "storageclass", SC, "--ignore-not-found")):
        cl.kubectl(*args, timeout=90)


def _kubectl(cl):
    return [str(kube.kubectl.tools.kubectl_path()), "--context", cl.context]



def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: field 4 of stat, after the command's parens)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found

def test_the_charts_hub_config_logs_in_spawns_on_kubernetes_and_records_a_verdict(cluster, tmp_path):
    cl = cluster
    secret, data = tmp_path / "secret", tmp_path / "srv"
    secret.mkdir()
    data.mkdir()
    class_text = "ada  Ada Lovelace\nbob  Bob\n"
    (secret / "class-list.txt").write_text(class_text)
    learners = parse_class_list(class_text)
    (tmp_path / "sheet-dir").mkdir()
    new = auth.ensure_passwords(learners, tmp_path / "sheet-dir")  # as kjlab class up does
    (secret / "passwords.json").write_text((tmp_path / "sheet-dir" / "passwords.json").read_text())
    port = free_port_block(4)
    values = {
        "singleuser": {"image": {"name": "python", "tag": "3"}, "startTimeout": 30},
        "cull": {"timeout": 600, "every": 60},
        "hub": {"config": {
            "JupyterHub": {"bind_url": f"http://127.0.0.1:{port}", "hub_bind_url": f"http://127.0.0.1:{port + 1}",
                           "hub_connect_url": f"http://127.0.0.1:{port + 1}"},
            "ConfigurableHTTPProxy": {"should_start": True, "api_url": f"http://127.0.0.1:{port + 2}",
                                      "command": [single_hub.find_proxy()]}}}}
    (secret / "values.json").write_text(json.dumps(values))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(subprocess.run([*_kubectl(cl), "config", "view", "--raw", "--minify"], check=True,
                                         capture_output=True, text=True, env=kube.kubectl.environment()).stdout)
    config = tmp_path / "jupyterhub_config.py"
    config.write_text("from kjlab.classroom import k8s_hub\nk8s_hub.configure(c)\n")
    env = {**os.environ, "KJLAB_HUB_SECRET_DIR": str(secret), "KJLAB_HUB_DATA_DIR": str(data),
           "KJLAB_RESULTS_HOST": "127.0.0.1", "KJLAB_RESULTS_PORT": str(port + 3), "KJLAB_RELEASE": "t",
           "POD_NAMESPACE": NS, "KUBECONFIG": str(kubeconfig),
           "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    log = open(tmp_path / "hub.log", "w")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "jupyterhub"), "-f", str(config)],
                            cwd=data, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the hub answers once its services and proxy are up
            assert proc.poll() is None, (tmp_path / "hub.log").read_text()[-3000:]
            try:
                if requests.get(f"{base}/hub/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the hub did not answer in 90s: " + (tmp_path / "hub.log").read_text()[-2000:])
        session = requests.Session()
        session.get(f"{base}/hub/login", timeout=30)
        xsrf = next(c.value for c in session.cookies if c.name == "_xsrf")
        bad = session.post(f"{base}/hub/login", data={"username": "ada", "password": "wrong", "_xsrf": xsrf},
                           timeout=30, allow_redirects=False)
        assert bad.status_code == 403
        session.post(f"{base}/hub/login", data={"username": "ada", "password": new["ada"], "_xsrf": xsrf},
                     timeout=60)  # follows on to /hub/spawn: KubeSpawner starts ada's pod

        pod = None
        deadline = time.monotonic() + 60
        while pod is None and time.monotonic() < deadline:
            found = cl.json("get", "pods", "-n", NS, "-l", "component=singleuser-server")["items"]
            pod = found[0] if found else None
            time.sleep(0.5)
        assert pod is not None, (tmp_path / "hub.log").read_text()[-3000:]
        assert pod["metadata"]["name"] == "jupyter-ada"
        assert pod["metadata"]["labels"]["app.kubernetes.io/instance"] == "t"  # what the NetworkPolicy selects
        spec = pod["spec"]
        container = spec["containers"][0]
        # KubeSpawner gives cmd + its arguments as the container's args (kubespawner/objects.py make_pod):
        # the learner image has no ENTRYPOINT of its own in the way
        assert "command" not in container and container["args"][:2] == ["kjlab-learner-start", "jupyterhub-singleuser"]
        assert spec["securityContext"]["fsGroup"] == 100 and spec["automountServiceAccountToken"] is False
        assert {"name": "home", "mountPath": "/home/learner"} in [
            {k: m[k] for k in ("name", "mountPath")} for m in container["volumeMounts"]]
        assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "claim-ada"
        assert container["resources"]["limits"]["memory"] == str(2 * 1024**3)
        claim = cl.json("get", "pvc", "claim-ada", "-n", NS)
        assert claim["metadata"]["labels"]["app.kubernetes.io/instance"] == "t"  # kube.down finds it
        env_in_pod = {e["name"]: e.get("value") for e in container["env"]}
        assert env_in_pod["KJLAB_LEARNER"] == "ada"
        assert env_in_pod["KJLAB_RESULTS_URL"] == f"http://127.0.0.1:{port + 3}/services/kjlab-results/verdict"

        # What kjlab in ada's pod does after a check: post with the token the hub gave her server.
        token = env_in_pod["JUPYTERHUB_API_TOKEN"]
        problem = verdict_service.post({"exercise": "ex01", "passed": False, "summary": "backoffLimit too low",
                                        "learner": "bob"}, env_in_pod["KJLAB_RESULTS_URL"], token)
        assert problem is None
        assert "403" in verdict_service.post({"exercise": "ex01", "passed": True}, env_in_pod["KJLAB_RESULTS_URL"],
                                             "not-a-token")
        # What kjlab.Lab() in ada's pod asks: how her server's previous run ended. The service reads
        # her pod through the hub's kubeconfig (the hub pod's service account in the chart); kwok
        # never restarts a container, so there is none yet, and nothing is said.
        server_url = env_in_pod["KJLAB_RESULTS_URL"][:-len("verdict")] + "server"
        assert oom.ask_hub(server_url, token, timeout=30) == {"pod": "jupyter-ada", "restarts": 0, "last": None}
        assert oom.ask_hub(server_url, "not-a-token", timeout=30) is None
        rep = report.summarise(report.collect(state=data))
        assert rep["learners"] == {"ada": "Ada Lovelace", "bob": "Bob"}  # the class list the hub copied
        assert rep["table"]["ada"]["ex01"] == {"tries": 1, "passed": False, "last": rep["table"]["ada"]["ex01"]["last"]}
        assert rep["table"]["bob"] == {}  # the line's own "learner" field counts for nothing
    finally:
        # The hub starts its services (the idle culler) in sessions of their own: the group's signal
        # misses them, and one outlived a CI run by 40 minutes. Its children are read before it ends.
        services = _children(proc.pid)
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        for pid in services:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        log.close()
