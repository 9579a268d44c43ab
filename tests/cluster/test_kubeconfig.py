"""`kjlab up` and `kjlab down` leave the learner's own kubeconfig exactly as they found it."""

import glob
import os
import subprocess
import sys
import tempfile

import pytest

USERS_KUBECONFIG = """\
# my clusters -- hand-edited, keep this comment
apiVersion: v1
kind: Config
current-context: prod-eu-1
clusters:
- name: prod-eu-1
  cluster:
    server: https://127.0.0.1:1   # nothing listens here
contexts:
- name: prod-eu-1
  context: {cluster: prod-eu-1, user: me, namespace: payments}
- name: staging
  context: {cluster: prod-eu-1, user: me}
users:
- name: me
  user: {token: not-a-real-token}
preferences: {}
"""


def _kjlab(env, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "kjlab.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.parametrize("where", ["KUBECONFIG", "HOME"])
def test_up_and_down_leave_the_users_kubeconfig_byte_for_byte(lab, tmp_path, where):
    # A second, private lab cluster: its own state directory (so its own kjlab kubeconfig), and the
    # learner's kubeconfig found through $KUBECONFIG or through $HOME/.kube/config.
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    users = home / ".kube" / "config"
    users.write_text(USERS_KUBECONFIG)
    before = users.read_bytes()
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KJLAB_CONTEXT", "KJLAB_KUBECONFIG")}
    env.update(KJLAB_STATE=str(tmp_path / "state"), KJLAB_CACHE=os.environ.get("KJLAB_CACHE", str(
        os.path.join(os.path.expanduser("~"), ".cache", "kjlab"))), HOME=str(home))
    if where == "KUBECONFIG":
        env["KUBECONFIG"] = str(users)
    tmp_before = set(glob.glob(os.path.join(tempfile.gettempdir(), "kjlab-kwokctl-*.yaml")))

    try:
        up = _kjlab(env, "up", "--engine", "kwok", "--workers", "1")
        assert up.returncode == 0, up.stdout + up.stderr
        assert users.read_bytes() == before
        own = tmp_path / "state" / "kubeconfig"
        assert f"export KUBECONFIG={own}" in up.stdout  # how plain kubectl reaches the lab

        nodes = _kjlab(env, "kubectl", "get", "nodes", "-o", "name", timeout=60)
        assert nodes.returncode == 0 and "node/kjlab-worker" in nodes.stdout, nodes.stderr
        # The learner's own contexts still resolve through `kjlab kubectl` (kjlab's file is read first).
        contexts = _kjlab(env, "kubectl", "config", "get-contexts", "-o", "name", timeout=60)
        assert set(contexts.stdout.split()) == {"kwok-kjlab", "prod-eu-1", "staging"}, contexts.stderr
    finally:
        down = _kjlab(env, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert users.read_bytes() == before
    # kwokctl's config (kubeconfig material) never lands in /tmp, where a killed `up` would leave it.
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "kjlab-kwokctl-*.yaml"))) <= tmp_before
