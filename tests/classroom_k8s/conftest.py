"""The class on Kubernetes on a real multi-node cluster: a kind cluster of one control plane and
three workers (kjlab.classroom.kind_class), the classroom images loaded, the chart installed with
`kjlab class up --kubernetes`. Marked ``classk8s`` (and ``cluster``: the unit run leaves them out);
without a Docker engine they are skipped with the reason, like the kind suite."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from kjlab.classroom import kind_class
from kjlab.cluster import tools

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NAMESPACE = "kjlab-class"
CLASS = "ada  Ada Lovelace\nbob  Bob\ncyd  Cyd\n"
ARTIFACTS = REPO / "artifacts" / "classroom-k8s"


def pytest_configure(config):
    config.addinivalue_line("markers", "classk8s: the class on a multi-node kind cluster; -m classk8s selects it")


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.classk8s)
            item.add_marker(pytest.mark.cluster)


def _docker_problem() -> str:
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["docker info failed"])[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(message: str) -> None:
    print(f"[class-on-kind] {message}", flush=True)


class Class:
    """The installed class: its URL through a port-forward, the learners' passwords, kubectl on it."""

    def __init__(self, state: Path, env: dict, base: str):
        self.state, self.env, self.base = state, env, base
        self.timings: dict[str, float] = {}
        self.restarts = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _restart_if_ended(self, who: str) -> bool:
        """Start the port-forward again on the same port if it exited; whether it did."""
        with self._lock:
            if self._stop.is_set() or self.forward.poll() is None:
                return False  # (after stop_forwarding: never start one that nothing would stop)
            self.restarts += 1
            say(f"the port-forward to proxy-public exited ({self.forward.returncode}); starting it again "
                f"({who}, restart {self.restarts})")
            self.forward = _port_forward(self.env, self.port)
            return True

    def forwarding(self, timeout: float = 120) -> None:
        """The port-forward to proxy-public, started again on the same port if it exited, and the hub
        answering through it: kubectl port-forward ends when a forwarded connection fails (as it can
        while a learner's pod is deleted under the proxy); a learner's browser would simply reconnect
        to the hub's address."""
        if self._restart_if_ended("a test"):
            _wait_for_hub(self.base, self.forward, timeout)

    def keep_forwarding(self) -> None:
        """In a thread until :meth:`stop_forwarding`: the port-forward started again within a second
        whenever it exits, also while a browser test runs (stop 37's CI: every cell of ada's lab stayed
        [ ] and the next test's login met a refused port, the port-forward gone)."""
        def watch():
            while not self._stop.wait(1):
                self._restart_if_ended("the watcher")
        self._watcher = threading.Thread(target=watch, name="port-forward watcher", daemon=True)
        self._watcher.start()

    def stop_forwarding(self) -> None:
        self._stop.set()
        if getattr(self, "_watcher", None):
            self._watcher.join(timeout=30)
        with self._lock:
            self.forward.terminate()
            self.forward.wait(timeout=30)

    def password(self, login: str) -> str:
        sheet = kind_class_dir(self.state) / "passwords-to-hand-out.txt"
        for line in sheet.read_text().splitlines():
            name, _, password = line.partition("\t")
            if name == login:
                return password
        raise KeyError(login)

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 120, check: bool = True):
        proc = subprocess.run([str(tools.kubectl_path()), "--context", kind_class.CONTEXT, "-n", NAMESPACE, *args],
                              input=input, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc

    def json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def kjlab(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kjlab.cli", *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout)


def kind_class_dir(state: Path) -> Path:
    return state / "classroom" / f"{kind_class.CONTEXT}__{NAMESPACE}"


def _port_forward(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen([str(tools.kubectl_path()), "--context", kind_class.CONTEXT, "-n", NAMESPACE,
                             "port-forward", "svc/proxy-public", f"{port}:80"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def _wait_for_hub(base: str, forward: subprocess.Popen, timeout: float = 120) -> None:
    """Until the hub answers through the port-forward (seconds once the proxy is Ready: class up waited for that)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{base}/hub/health", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline and forward.poll() is None, "the port-forward to proxy-public never answered"
        time.sleep(1)


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    problem = _docker_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI has no Docker engine for the class on kind: {problem}")
        pytest.skip(f"no Docker engine answers: {problem}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_factory.mktemp("class-k8s")
    # KJLAB_CLASS_TEST_STATE: the state of a class kept by KJLAB_KEEP_CLUSTER=1 (its password sheet)
    state = Path(os.environ.get("KJLAB_CLASS_TEST_STATE") or tmp / "state")
    env = {**kind_class.environment(), "KJLAB_STATE": str(state)}
    timings: dict[str, float] = {}

    t = time.monotonic()
    say("building the classroom images (tools/classroom/build.sh all; cached: seconds)")
    built = subprocess.run(["bash", str(REPO / "tools" / "classroom" / "build.sh"), "all"],
                           capture_output=True, text=True, timeout=3600)
    assert built.returncode == 0, built.stderr[-3000:]
    images = built.stdout.split()
    timings["images_build_s"] = time.monotonic() - t
    say(f"images: {images} ({timings['images_build_s']:.0f}s)")
    timings["cluster_create_s"] = kind_class.up(3, say)
    took = kind_class.load(images, say)
    timings.update({f"load_{i.split('/')[-1].split(':')[0]}_s": s for i, s in took.items()})
    t = time.monotonic()
    if kind_class.offline_nodes():  # kindnetd's stand-in enforces no NetworkPolicy: kube-router's firewall does
        say("the nodes run kjlab's offline node image: building kube-router's firewall (tools/classroom/build.sh netpol)")
        say(kind_class.enforce_network_policy(kind_class.netpol_image(), say))
        timings["network_policy_s"] = time.monotonic() - t

    class_list = tmp / "class.txt"
    class_list.write_text(CLASS)
    t = time.monotonic()
    up = subprocess.run([sys.executable, "-m", "kjlab.cli", "class", "up", "--kubernetes", kind_class.CONTEXT,
                         "--class-list", str(class_list)], capture_output=True, text=True, env=env, timeout=1800)
    say("kjlab class up:\n" + up.stdout + up.stderr)
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    timings["class_up_s"] = time.monotonic() - t

    port = _free_port()
    forward = _port_forward(env, port)
    base = f"http://127.0.0.1:{port}"
    _wait_for_hub(base, forward)
    klass = Class(state, env, base)
    klass.timings = timings
    klass.forward = forward
    klass.port = port
    klass.keep_forwarding()
    try:
        yield klass
    finally:
        klass.stop_forwarding()
        klass.timings["port_forward_restarts"] = klass.restarts
        (ARTIFACTS / "timings.json").write_text(json.dumps(klass.timings, indent=1))
        if os.environ.get("KJLAB_KEEP_CLUSTER") == "1":
            say(f"kept the class and the {kind_class.NAME} cluster (KJLAB_KEEP_CLUSTER=1)")
        else:
            down = klass.kjlab("class", "down", "--kubernetes", kind_class.CONTEXT, "--delete-volumes")
            say("kjlab class down:\n" + down.stdout + down.stderr)
            kind_class.down(say)
