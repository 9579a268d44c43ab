"""A real classroom hub for tests: `kjlab hub` started as a process, on a free port, with a state
directory of its own, torn down with its learners (accounts, servers, clusters) afterwards."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from kjlab.classroom import accounts

REPO = Path(__file__).resolve().parents[2]


def free_port_block(size=3):
    """A port with the next size-1 ports free too (the hub uses port, port+1, port+2)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + size > 65535:
            continue
        try:
            socks = []
            for p in range(base, base + size):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free block of ports")


class Hub:
    def __init__(self, tmp: Path, class_list: str):
        os.chmod(tmp, 0o711)  # learners must reach their results directory below it (not list it)
        self.state = tmp / "hub-state"
        self.class_list = tmp / "class.txt"
        self.class_list.write_text(class_list)
        self.port = free_port_block()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "hub.log"
        self.proc = None
        self.learners = accounts.read_class_list(self.class_list)

    def start(self, timeout=240) -> float:
        """Start `kjlab hub` and wait until it answers; returns the seconds it took."""
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kjlab.cli", "hub", "--class-list", str(self.class_list),
             "--port", str(self.port), "--state", str(self.state)],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, cwd=REPO)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kjlab hub exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.base}/hub/health", timeout=2).ok:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the hub did not answer within {timeout}s:\n{self.log.read_text()[-3000:]}")

    def password(self, login):
        for line in (self.state / "passwords-to-hand-out.txt").read_text().splitlines():
            name, _, password = line.partition("\t")
            if name == login:
                return password
        raise KeyError(login)

    def stop(self):
        """SIGTERM to the hub (it is the process we started: kjlab hub execs JupyterHub)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        pidfile = self.state / "proxy.pid"  # the proxy the hub started, should it have outlived it
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            except (ValueError, OSError):
                pass

    def remove_learners(self, venv):
        for learner in self.learners:
            if accounts.exists(learner.unix_user):
                accounts.run_as(learner.unix_user, [str(venv / "bin" / "kjlab"), "down"],
                                {"KJLAB_BIN_DIR": os.environ.get("KJLAB_HUB_BIN", "")}, capture_output=True)
                accounts.remove_user(learner.unix_user)


@contextlib.contextmanager
def running_hub(class_list: str, venv: Path):
    """A started hub for a module's tests; everything it made is gone afterwards. Its directory is
    not pytest's tmp_path: that root is 0700, and learners must reach their results below the state."""
    tmp = Path(tempfile.mkdtemp(prefix="kjlab-hub-test-"))
    hub = Hub(tmp, class_list)
    for learner in hub.learners:
        accounts.remove_user(learner.unix_user)  # a run killed half-way left it behind
    try:
        hub.startup_seconds = hub.start()
        yield hub
    finally:
        hub.stop()
        hub.remove_learners(venv)
        shutil.rmtree(tmp, ignore_errors=True)
