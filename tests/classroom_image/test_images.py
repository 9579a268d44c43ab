"""The learner and hub images: who they run as, what they hold, and a kwok lab cluster inside the
learner's container (a real etcd, API server, controller manager and scheduler; kwok stands in for
the kubelets, as in every learner's lab)."""

import json
import os
import secrets
import subprocess
import time
from pathlib import Path

from kjlab.classroom import kube

from .conftest import BUILD, REPO, pin


def run(image, *args, name, user=None, volumes=(), timeout=120):
    argv = ["docker", "run", "--rm", "--name", name]
    if user:
        argv += ["--user", user]
    for host, inside in volumes:
        argv += ["-v", f"{host}:{inside}"]
    proc = subprocess.run([*argv, image, *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} in {image} exited {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.stdout


def inspect(image):
    return json.loads(subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True,
                                     check=True).stdout)[0]


def test_the_printed_names_are_the_built_images_and_their_labels_name_the_key(images):
    printed = subprocess.run(["bash", str(BUILD), "all", "--print-image"], capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.split() == [images["learner"], images["hub"]]
    for kind, image in images.items():
        repo, key = image.split(":")
        assert repo == f"kjlab.local/{kind}"
        labels = inspect(image)["Config"]["Labels"]
        assert labels["io.kjlab.local-build"] == "true" and labels["io.kjlab.build-key"] == key
    # what `kjlab class up --kubernetes` installs: the images built, recorded under this tree
    assert kube.built_images()[0] == {"singleuser": images["learner"], "hub": images["hub"]}


def test_the_learner_image_runs_as_learner_uid_1000_gid_100_not_root(images, container_name):
    config = inspect(images["learner"])["Config"]
    assert config["User"] == "1000:100"
    out = run(images["learner"], "bash", "-c", 'id -u; id -g; id -un; echo "$HOME"; test -w "$HOME" && echo writable',
              name=container_name("id"))
    assert out.split() == ["1000", "100", "learner", "/home/learner", "writable"]
    assert "8888/tcp" in config["ExposedPorts"]


def test_the_learner_image_holds_the_pinned_cluster_tools_and_a_real_kjlab_install(images, container_name):
    out = run(images["learner"], "bash", "-c",
              "echo $KJLAB_BIN_DIR; kubectl version --client -o json; python -c 'import kjlab, sys; print(kjlab.__file__)'",
              name=container_name("tools"))
    bin_dir, rest = out.split("\n", 1)
    assert bin_dir == "/opt/kjlab/bin"
    versions = dict(line.split("=", 1) for line in (REPO / "tools" / "versions.env").read_text().splitlines()
                    if line and not line.startswith("#") and "=" in line)
    client = json.loads(rest[:rest.rindex("}") + 1])["clientVersion"]["gitVersion"]
    assert client == versions["KUBERNETES_VERSION"]
    # a real install, not the repo: the learner cannot edit kjlab's code in their volume by accident
    assert rest.strip().endswith("/opt/kjlab/venv/lib/python3.11/site-packages/kjlab/__init__.py")


def test_a_kwok_lab_cluster_runs_a_pod_inside_the_learner_container_as_uid_1000(images, container_name):
    script = """
    set -u
    kjlab up --engine kwok >/tmp/up.log 2>&1 || { echo "UP FAILED"; tail -n 20 /tmp/up.log; exit 1; }
    kjlab kubectl create namespace t >/dev/null
    kjlab kubectl -n t run p --image=busybox --restart=Never -- sleep 600 >/dev/null
    # the scheduler binds it, kwok plays its node's kubelet: bounded by a timeout, not a sleep
    kjlab kubectl -n t wait --for=jsonpath='{.status.phase}'=Running pod/p --timeout=120s >/dev/null
    echo "phase=$(kjlab kubectl -n t get pod p -o jsonpath='{.status.phase}')"
    echo "node=$(kjlab kubectl -n t get pod p -o jsonpath='{.spec.nodeName}')"
    echo "apiserver-user=$(ps -o user= -C kube-apiserver | sort -u | tr -d ' ')"
    kjlab down --engine kwok >/tmp/down.log 2>&1 && echo down=ok || { echo down=failed; tail -n 5 /tmp/down.log; }
    echo "left=$(pgrep -c -x 'kube-apiserver|kube-controller|kube-scheduler|etcd|kwok' || true)"
    """
    out = run(images["learner"], "bash", "-c", script, name=container_name("kwok"), user="1000:100", timeout=600)
    fields = dict(line.split("=", 1) for line in out.split() if "=" in line)
    assert fields.get("phase") == "Running", out
    assert fields["node"].startswith("kjlab-"), out
    assert fields["apiserver-user"] == "learner", out
    assert fields["down"] == "ok", out
    assert fields["left"] == "0", out


def test_the_handout_lands_in_an_empty_home_and_a_learners_edit_survives_the_next_start(images, container_name, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 1000, 100)  # a fresh PVC that z2jh's fsGroup made the learner's
    learner = images["learner"]
    volumes = [(home, "/home/learner")]
    run(learner, "true", name=container_name("start1"), volumes=volumes)
    for folder in ("labs", "exercises"):
        assert sorted(p.name for p in (home / folder).iterdir()) == sorted(p.name for p in (REPO / folder).iterdir()
                                                                           if p.name != ".ipynb_checkpoints")
    lab = home / "labs" / "01-failjob.ipynb"
    assert lab.read_bytes() == (REPO / "labs" / "01-failjob.ipynb").read_bytes()
    assert lab.stat().st_uid == 1000
    lab.write_text("the learner's own notes\n")
    gone = home / "exercises" / sorted(p.name for p in (home / "exercises").iterdir())[0]
    gone.unlink()
    run(learner, "true", name=container_name("start2"), volumes=volumes)
    assert lab.read_text() == "the learner's own notes\n"
    assert gone.read_bytes() == (REPO / "exercises" / gone.name).read_bytes()


def test_the_entrypoint_runs_the_single_user_server_by_default(images):
    config = inspect(images["learner"])["Config"]
    assert config["Entrypoint"][-1] == "kjlab-learner-start"
    assert config["Cmd"] == ["jupyterhub-singleuser"]


def test_the_learner_single_user_server_and_the_hub_are_the_same_jupyterhub(images, container_name):
    singleuser = run(images["learner"], "jupyterhub-singleuser", "--version", name=container_name("su")).strip()
    hub = run(images["hub"], "jupyterhub", "--version", name=container_name("hubv")).strip()
    assert singleuser == hub == pin("requirements-hub.txt", "jupyterhub") == pin("requirements-learner.txt", "jupyterhub")


def test_the_hub_image_has_the_proxy_kubespawner_and_oauthenticator(images, container_name):
    hub = images["hub"]
    assert run(hub, "configurable-http-proxy", "--version", name=container_name("chp")).strip() == \
        pin("npm-hub.txt", "configurable-http-proxy")
    out = run(hub, "python", "-c", "import kubespawner, oauthenticator, jupyterhub_idle_culler, kjlab.classroom.accounts; "
              "from importlib.metadata import version as v; "
              "print(v('jupyterhub-kubespawner'), v('oauthenticator'), v('jupyterhub-idle-culler'))",
              name=container_name("imports"))
    assert out.split() == [pin("requirements-hub.txt", p)
                           for p in ("jupyterhub-kubespawner", "oauthenticator", "jupyterhub-idle-culler")]
    config = inspect(hub)["Config"]
    assert config["User"] == "1000:100" and config["WorkingDir"] == "/srv/jupyterhub"
    assert config["Cmd"] == ["jupyterhub", "-f", "/usr/local/etc/jupyterhub/jupyterhub_config.py"]
    out = run(hub, "bash", "-c", "id -un; touch /srv/jupyterhub/jupyterhub.sqlite && echo writable",
              name=container_name("hubid"))
    assert out.split() == ["hub", "writable"]


def test_the_build_leaves_no_package_index_certificate_in_the_images(images, container_name):
    # the install mounts the host's CA bundle at /run/kjlab-build-ca.crt; it must not stay behind
    for image in images.values():
        out = run(image, "bash", "-c", "ls -d /run/kjlab-build-ca.crt /run/kjlab-build /root/.cache 2>&1; true",
                  name=container_name("ca"), user="0:0")  # /root is root's alone
        assert out.count("No such file") == 3, out


# --- the two images together: the hub image's JupyterHub and proxy serve the learner image's server --
HUB_CONFIG = '''
import json, os
from jupyterhub.spawner import Spawner

class HandOffSpawner(Spawner):
    """Starts nothing: writes the environment a KubeSpawner pod would get to a file, and the test
    starts the learner container with it (as KubeSpawner's pod would run), in the hub's network."""
    async def start(self):
        env = {k: v for k, v in self.get_env().items() if k.startswith(("JUPYTERHUB_", "JPY_"))}
        with open("/shared/env.partial", "w") as f:
            json.dump(env, f)
        os.rename("/shared/env.partial", "/shared/env.json")
        return ("127.0.0.1", 8888)
    async def poll(self):
        return None
    async def stop(self, now=False):
        pass

c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = 8000
c.JupyterHub.spawner_class = HandOffSpawner
c.Spawner.ip = "127.0.0.1"
c.Spawner.port = 8888
c.Spawner.env_keep = []  # KubeSpawner's default too: nothing of the hub's environment leaks into a pod
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{"name": "probe", "api_token": "TOKEN"}]
c.JupyterHub.load_roles = [{"name": "probe", "services": ["probe"],
                            "scopes": ["admin:users", "admin:servers", "access:servers"]}]
'''

PROBE = '''
import json, sys, time, urllib.request
method, path = sys.argv[1], sys.argv[2]
req = urllib.request.Request("http://127.0.0.1:8000" + path, method=method, headers={"Authorization": "token TOKEN"})
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())
'''


def test_the_hub_image_serves_the_learner_images_single_user_server_through_its_proxy(images, container_name, tmp_path):
    token = secrets.token_hex(16)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "jupyterhub_config.py").write_text(HUB_CONFIG.replace("TOKEN", token))
    (shared / "probe.py").write_text(PROBE.replace("TOKEN", token))
    os.chmod(shared, 0o777)  # the hub runs as uid 1000 and writes env.json here
    hub = container_name("hub")
    subprocess.run(["docker", "run", "-d", "--name", hub, "-v", f"{shared}:/shared",
                    images["hub"], "jupyterhub", "-f", "/shared/jupyterhub_config.py"], check=True, capture_output=True)

    def api(method, path):
        proc = subprocess.run(["docker", "exec", hub, "python", "/shared/probe.py", method, path],
                              capture_output=True, text=True, timeout=60)
        status, _, body = proc.stdout.partition("\n")
        return int(status or 0), body

    def until(what, check, seconds=120):
        deadline = time.monotonic() + seconds
        while not (found := check()):
            assert time.monotonic() < deadline, f"no {what} within {seconds}s; hub log: " + subprocess.run(
                ["docker", "logs", "--tail", "30", hub], capture_output=True, text=True).stderr
            time.sleep(1)
        return found

    until("hub API through the proxy", lambda: api("GET", "/hub/api")[0] == 200)
    assert api("POST", "/hub/api/users/learner")[0] == 201
    assert api("POST", "/hub/api/users/learner/server")[0] in (201, 202)
    env = json.loads(until("spawn environment", lambda: (shared / "env.json").exists() and (shared / "env.json").read_text()))
    argv = ["docker", "run", "-d", "--name", container_name("learner"), f"--network=container:{hub}", "--user", "1000:100"]
    for key, value in env.items():
        argv += ["-e", f"{key}={value}"]
    subprocess.run([*argv, images["learner"]], check=True, capture_output=True)  # its own CMD: the entrypoint, then jupyterhub-singleuser
    until("ready server", lambda: json.loads(api("GET", "/hub/api/users/learner")[1] or "{}")
          .get("servers", {}).get("", {}).get("ready"))
    status, body = api("GET", "/user/learner/api/contents/labs")
    assert status == 200, body
    names = {item["name"] for item in json.loads(body)["content"]}
    assert "01-failjob.ipynb" in names and names <= {p.name for p in (REPO / "labs").iterdir()}


def test_a_restarted_learner_container_brings_back_its_lab_cluster_from_the_volume(images, container_name, tmp_path):
    # a learner's pod deleted mid-lab: the new pod mounts the same volume; `kjlab up` (the first lab
    # cell) restarts the control plane on the etcd data kept there, so the learner's objects survive
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 1000, 100)
    first = container_name("pod1")
    subprocess.run(["docker", "run", "-d", "--name", first, "--user", "1000:100", "-v", f"{home}:/home/learner",
                    images["learner"], "sleep", "600"], check=True, capture_output=True)
    up = subprocess.run(["docker", "exec", first, "bash", "-c",
                         "kjlab up --engine kwok >/tmp/up.log 2>&1 || { tail -n 20 /tmp/up.log; exit 1; }; "
                         "kjlab kubectl create namespace kept-across-restarts"],
                        capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    subprocess.run(["docker", "rm", "-f", first], check=True, capture_output=True)  # no `kjlab down`: a killed pod
    out = run(images["learner"], "bash", "-c",
              "kjlab up --engine kwok >/tmp/up.log 2>&1 || { tail -n 20 /tmp/up.log; exit 1; }; "
              "kjlab kubectl get namespace kept-across-restarts -o name; kjlab down --engine kwok >/dev/null 2>&1",
              name=container_name("pod2"), user="1000:100", volumes=[(home, "/home/learner")], timeout=300)
    assert out.strip() == "namespace/kept-across-restarts"


def test_the_entrypoint_passes_kubespawners_arguments_through_as_given(images, container_name):
    # KubeSpawner puts cmd + its options in the container's args (after the image's ENTRYPOINT); the
    # chart's cmd names the entrypoint again, which must drop itself and keep every other argument intact
    out = run(images["learner"], "kjlab-learner-start", "python", "-c", "import sys, json; print(json.dumps(sys.argv[1:]))",
              "--ip=0.0.0.0", "--port=8888", "a b", "", name=container_name("args"), user="1000:100")
    assert json.loads(out) == ["--ip=0.0.0.0", "--port=8888", "a b", ""]


def test_the_paths_the_hub_passes_to_jupyterlab_exist_in_the_learner_image(images, container_name):
    # the hub computes JupyterLab's options (settings directory, the terminal's rc file) from ITS kjlab
    # install; the learner's server opens them in ITS image: the same path in both
    args = json.loads(run(images["hub"], "python", "-c",
                          "import json; from kjlab import paths; print(json.dumps([str(paths.JUPYTERLAB_SETTINGS_DIR), "
                          "str(paths.TERMINAL_RC), paths.terminal_shell_command()[1]]))", name=container_name("hubpaths")))
    settings, rc, env_bin = args
    assert env_bin == "KJLAB_ENV_BIN=/opt/kjlab/venv/bin"
    out = run(images["learner"], "bash", "-c", f"test -d {settings}/overrides.d && test -f {rc} && test -x /opt/kjlab/venv/bin/jupyter && echo same",
              name=container_name("learnerpaths"))
    assert out.strip() == "same"
