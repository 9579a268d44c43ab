"""The kwok engine: the real v1.36 control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler) run as local processes by ``kwokctl --runtime binary``, with nodes and pods
driven by kwok's Stages in place of a kubelet (kjlab/cluster/kwok/kwok_stages)."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import yaml
from kubernetes import client

from kjlab.api import kube
from kjlab.cluster import nodes, tools
from kjlab.cluster.kwok import stages
from kjlab.cluster.names import CLUSTER_NAME
from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path, state_dir

ENGINE = "kwok"


def kwok_root() -> Path:
    """kwokctl's work directory, kept under kjlab's state so `down` can leave nothing behind."""
    return state_dir() / "kwok"


def workdir() -> Path:
    """kwokctl's own directory for the cluster (pids, logs, certificates, etcd data)."""
    return kwok_root() / "clusters" / CLUSTER_NAME


def _env(bindir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # kwokctl finds kubectl on PATH; the version it configures components for is KWOK_KUBE_VERSION.
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["KWOK_KUBE_VERSION"] = tools.kube_version()
    env["KWOK_WORKDIR"] = str(kwok_root())
    return env


def kwokctl_config(bindir: Path, time_scale: float, strict: bool = True) -> str:
    """kwokctl's --config: where each binary is (so nothing is downloaded) plus the full Stage set."""
    versions = tools.pinned_versions()
    options = {
        "runtime": "binary",
        "kubeVersion": versions["KUBERNETES_VERSION"],
        "etcdVersion": versions["ETCD_VERSION"],
        "kwokVersion": versions["KWOK_VERSION"],
        "kubeApiserverBinary": str(bindir / "kube-apiserver"),
        "kubeControllerManagerBinary": str(bindir / "kube-controller-manager"),
        "kubeSchedulerBinary": str(bindir / "kube-scheduler"),
        "kubectlBinary": str(bindir / "kubectl"),
        "etcdBinary": str(bindir / "etcd"),
        "kwokControllerBinary": str(bindir / "kwok"),
        "nodeLeaseDurationSeconds": 40,
        # Every component listens on loopback only: the lab cluster is for this machine.
        "bindAddress": "127.0.0.1",
    }
    # One lab control plane has nobody to hand leadership to: with leader election on, a 12-15 s
    # stall of etcd or the API server (a laptop suspend, a busy machine) makes the controller
    # manager and the scheduler exit for good ("leaderelection lost").
    no_leader_election = [{"key": "leader-elect", "value": "false"}]
    patches = [{"name": name, "extraArgs": no_leader_election}
               for name in ("kube-controller-manager", "kube-scheduler")]
    etcd_port, peer_port = _free_ports(2)
    options.update({"etcdPort": etcd_port, "etcdPeerPort": peer_port})
    patches = _merge_patches(patches, authenticated_patches(workdir() / "pki", etcd_port, peer_port),
                             light_patches())
    head = yaml.safe_dump(
        {"apiVersion": "config.kwok.x-k8s.io/v1alpha1", "kind": "KwokctlConfiguration", "options": options,
         "componentsPatches": patches},
        sort_keys=True,
    )
    return head + "---\n" + stages.render(time_scale=time_scale, kube_version=versions["KUBERNETES_VERSION"],
                                          strict=strict)


# --- Every port of the cluster requires authentication (issue 14) -------------------------------
# kwokctl runs etcd on plain HTTP without client authentication, and leaves /metrics of the
# controller manager and the scheduler, and all of kwok's own server, open to anyone: on a machine
# with several users (a classroom hub), any local user could write another user's etcd. Each
# cluster's own CA (kwokctl's pki/, made per cluster) now guards etcd's client and peer ports
# (TLS, client certificates required); the API server takes no anonymous requests; the
# controller manager and the scheduler serve only their health checks without credentials (their
# /metrics and /configz go through the API server's authorization); kwok's server (no
# authentication at all: metrics, pprof, debugging handlers, plain HTTP on the same port) is
# not started. `kubectl logs` is answered by kjlab's own log endpoint instead
# (kjlab/cluster/kwok/log_endpoint.py): loopback only, TLS with a client certificate of the
# cluster's CA required, container logs and nothing else (exec, attach need real containers: kind).

def _free_ports(count: int) -> list[int]:
    """Ports for etcd, from the kernel's ephemeral range (bind to port 0): kwokctl allocates its
    own ports downward from 32767, below that range, so the two never pick the same port; the
    sockets stay open until all are picked so the kernel hands out distinct ones."""

    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def authenticated_patches(pki: Path, etcd_port: int, peer_port: int) -> list[dict]:
    """kwokctl componentsPatches that put authentication on every component's port."""
    cert, key, ca = str(pki / "admin.crt"), str(pki / "admin.key"), str(pki / "ca.crt")

    def args(pairs: dict[str, str], override: bool) -> list[dict]:
        return [{"key": k, "value": v, "override": override} for k, v in pairs.items()]

    client_url, peer_url = f"https://127.0.0.1:{etcd_port}", f"https://127.0.0.1:{peer_port}"
    return [
        {"name": "etcd", "extraArgs": args({  # kwokctl's own http:// URLs, replaced
            "listen-client-urls": client_url, "advertise-client-urls": client_url,
            "listen-peer-urls": peer_url, "initial-advertise-peer-urls": peer_url,
            "initial-cluster": f"node0={peer_url}"}, True) + args({
            "cert-file": cert, "key-file": key, "trusted-ca-file": ca, "client-cert-auth": "true",
            "peer-cert-file": cert, "peer-key-file": key, "peer-trusted-ca-file": ca,
            "peer-client-cert-auth": "true"}, False)},
        {"name": "kube-apiserver", "extraArgs": args({"etcd-servers": client_url}, True) + args({
            "etcd-cafile": ca, "etcd-certfile": cert, "etcd-keyfile": key, "anonymous-auth": "false",
            # `kubectl logs`: the API server reaches a node's log endpoint (kjlab's, below) with
            # the cluster's own client certificate, at the node's InternalDNS name (localhost):
            # the nodes' InternalIPs are kind's, on no network of this machine.
            "kubelet-client-certificate": cert, "kubelet-client-key": key,
            "kubelet-preferred-address-types": "InternalDNS,InternalIP,Hostname"}, False)},
        # Without these two kubeconfigs they take every request as anonymous (no client CA, no
        # TokenReview): with them, the cluster's own credentials read /metrics, nobody else's do.
        *({"name": name, "extraArgs": args({"authorization-always-allow-paths": "/healthz,/readyz,/livez"}, True)
           + args({"authentication-kubeconfig": str(pki.parent / "kubeconfig.yaml"),
                   "authorization-kubeconfig": str(pki.parent / "kubeconfig.yaml")}, False)}
          for name in ("kube-controller-manager", "kube-scheduler")),
        {"name": "kwok-controller", "extraArgs": args({"server-address": "", "node-port": "0"}, True)},
    ]


def _merge_patches(*groups: list[dict]) -> list[dict]:
    """One patch entry per component: kwokctl applies only the first entry with a given name."""
    merged: dict[str, dict] = {}
    for group in groups:
        for patch in group:
            entry = merged.setdefault(patch["name"], {"name": patch["name"], "extraArgs": []})
            entry["extraArgs"] += patch.get("extraArgs", [])
            if patch.get("extraEnvs"):
                entry.setdefault("extraEnvs", []).extend(patch["extraEnvs"])
    return list(merged.values())


# --- A lighter lab cluster -------------------------------------------------------------------------
# Each setting below cut a measured figure (bench/cluster.py): resident memory (RSS) of each
# component of an idle cluster, before -> after, on kwok with 2 workers.

# What stays whole, although switching it off was measured to save memory: every controller of the
# controller manager (the labs' 17 alone: 106 -> 87 MiB RSS), every default admission plugin and API
# group (15 plugins and 6 groups off, with APF: apiserver 248 -> 221 MiB). A learner's own experiment
# (a StatefulSet, a ResourceQuota, a LimitRange, an HPA) must behave on kwok as on kind, or say that it
# does not -- silently doing nothing would teach something false. API Priority and Fairness is off:
# it changes nothing a learner can see on a cluster with one client (the flowcontrol API still answers).

# Go's garbage collector: GOGC=100 (the default) lets the heap grow to twice what is live before
# collecting. The other four have live heaps of 7-15 MiB: GOGC=50 took 0.3 MiB off the
# scheduler's private memory, 1.2 off kwok's, 6 off etcd's (with its snapshot settings) and 16 off
# the controller manager's (measured together with a shorter --controllers list, since dropped: above). The API server's live heap is about 75 MiB
# (half of it OpenAPI documents, says pprof): its private memory was 164 MiB at GOGC=100, 130 at
# 50, 113 at 25, for 1.0-1.1 % of a core idle at each. GOMEMLIMIT is not set: at 100 MiB the API
# server spent 52 % of a core collecting.
GO_GC = {"kube-apiserver": "25", "kube-controller-manager": "50", "kube-scheduler": "50",
         "kwok-controller": "50", "etcd": "50"}


def light_patches() -> list[dict]:
    """componentsPatches for a lighter cluster (issue 27): the figures are in the comments above."""
    def args(pairs: dict[str, str]) -> list[dict]:  # flags kwokctl does not set: added, not overridden
        return [{"key": k, "value": v, "override": False} for k, v in pairs.items()]

    patches = {
        "kube-apiserver": args({
            # API Priority and Fairness: one learner's cluster has one client that matters
            "enable-priority-and-fairness": "false",
        }),
        "kube-controller-manager": [],
        # etcd keeps the raft entries since its last snapshot in memory (10000 by default, plus
        # 5000 kept for a slow follower, of which a one-member etcd has none): a lab writes a
        # few thousand entries, so these bound what etcd holds while it runs (its peak in labs
        # 01, 06, 11: 57 MiB before, 49 MiB with these and GOGC=50).
        # Measured, not kept: --unsafe-no-fsync. All of `up` (the RBAC bootstrap's writes included)
        # cost etcd 211 WAL fsyncs taking 0.087 s and 19 commits taking 0.023 s on this machine's
        # ext4 (its etcd_disk_*_duration_seconds metrics): at most 0.11 s of `up`, and the /readyz
        # wait was no shorter without them (1.83 s, the log endpoint starting alongside, against 1.73;
        # medians of 5, load 6-13), for writes lost when a machine crashes.
        "etcd": args({"snapshot-count": "1000", "snapshot-catchup-entries": "500"}),
        "kube-scheduler": [],
        "kwok-controller": [],
    }
    return [{"name": name, "extraArgs": extra,
             "extraEnvs": [{"name": "GOGC", "value": GO_GC[name]}] if name in GO_GC else []}
            for name, extra in patches.items()]


def _private(path: Path) -> None:
    """The state directory holds the cluster's CA key, client keys and etcd's data: its owner's only.
    kwokctl makes its directories group-readable (0750), which on a machine whose learners
    share a group would let them read each other's keys."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _run(args: list[str], bindir: Path, progress, timeout: float) -> None:
    proc = subprocess.Popen(args, env=_env(bindir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = _readable(line.rstrip())
            if line:
                tail = (tail + [line])[-15:]
                progress(f"  kwokctl: {line}")
        proc.wait(timeout=timeout)
    except BaseException:
        proc.kill()
        raise
    if proc.returncode != 0:
        raise KjlabError(
            f"`{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(args))}` failed:\n    "
            + "\n    ".join(tail),
            "kjlab down, then kjlab up again (kjlab doctor shows what is missing)",
        )


def _readable(line: str) -> str:
    """kwokctl logs JSON; a learner wants the message and how long it took."""
    import json

    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "msg" not in record:
        return line
    text = record["msg"]
    if record.get("level") not in (None, "INFO"):
        text = f"{record['level']}: {text}"
    if record.get("err"):
        text += f": {record['err']}"
    elapsed = record.get("elapsed")
    if isinstance(elapsed, dict) and elapsed.get("human"):
        text += f" ({elapsed['human']})"
    return text


def exists() -> bool:
    """kwokctl has (possibly half-created) state for the lab cluster."""
    return workdir().exists()


def create(bindir: Path, time_scale: float, progress=print, strict: bool = True, while_waiting=None):
    """Create and start the cluster; return once its API server is ready. ``while_waiting`` (no
    arguments) runs in a thread from the moment kwokctl returns until then, and its result is returned."""
    # kwokctl's config goes in kjlab's state directory, not /tmp: an `up` killed with SIGKILL
    # leaves no kubeconfig material where other users can see it, and the next `up` replaces it.
    config_path = state_dir() / "kwokctl-config.yaml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    _private(state_dir())  # issue 14: keys and etcd data are their owner's only
    _private(kwok_root())
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(kwokctl_config(bindir, time_scale, strict))
    # The API client for the nodes and the status is loaded while kwokctl works: its first use
    # imports the generated CoreV1Api (0.7 s on 2 busy cores), off `kjlab up`'s path (issue 27).
    threading.Thread(target=lambda: client.CoreV1Api, name="kjlab-warm-client", daemon=True).start()
    try:
        with _machine_lock(progress):
            _run([str(bindir / "kwokctl"), "create", "cluster", "--name", CLUSTER_NAME, "--config", str(config_path),
                  "--kubeconfig", str(kubeconfig_path()), "--timeout", "3m"],
                 bindir, progress, timeout=240)
            _wait_listening(_listening_ports(), progress)
    finally:
        config_path.unlink(missing_ok=True)
    # What needs only kwokctl's files (the certificates, the kubeconfig), not a ready API server,
    # starts now: /readyz comes 1.7-1.8 s after the API server first answers (its last check is the
    # RBAC bootstrap, rbac/bootstrap-roles), and the log endpoint's Python start fits inside that
    # wait: from "the API server is ready" to the nodes' creation took 0.37 s with the endpoint
    # started after it, 0.05 s with it started here (bench/up_profile.py, medians of 5, load 6-13).
    result: dict = {}

    def alongside() -> None:
        try:
            result["value"] = while_waiting()
        except BaseException as e:  # raised in `up`'s own thread, below
            result["error"] = e

    helper = threading.Thread(target=alongside, name="kjlab-while-waiting", daemon=True) if while_waiting else None
    if helper:
        helper.start()
    # kwokctl's own --wait polls every 0.5 s, each time through a kubectl process: kjlab asks the
    # API server's /readyz (etcd, every post-start hook: RBAC, the system namespaces) every 0.1 s.
    _wait_ready(timeout=120)
    progress("  the API server is ready")
    if helper:
        helper.join()
        if "error" in result:
            raise result["error"]
    return result.get("value")


def _wait_ready(timeout: float) -> None:
    import http.client
    import ssl

    pki = workdir() / "pki"
    tls = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    tls.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    server = yaml.safe_load((workdir() / "kubeconfig.yaml").read_text())["clusters"][0]["cluster"]["server"]
    host, port = server.split("://", 1)[1].rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        conn = http.client.HTTPSConnection(host, int(port), context=tls, timeout=2)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):  # not listening yet, or hung up mid-start
            pass
        finally:
            conn.close()
        if time.monotonic() > deadline:
            raise KjlabError(f"the kwok cluster's API server was not ready within {timeout:.0f}s "
                             f"(see {workdir() / 'logs' / 'kube-apiserver.log'})", "kjlab down, then kjlab up again")
        time.sleep(0.1)


# kwokctl picks free ports when it writes a cluster's config and binds them only when the
# components start: two users' `up` at the same moment picked the same API server port. One
# lock per machine (an empty file every user can open; flock needs no write access) serialises
# that window. It is held for the few seconds of `kwokctl create`. It lives with the system's
# other lock files (/run/lock), not in /tmp, where only a machine without /run/lock puts it.
MACHINE_LOCK = (Path("/run/lock") if os.access("/run/lock", os.W_OK | os.X_OK) else Path(tempfile.gettempdir())) \
    / "kjlab-kwokctl-ports.lock"


# kwokctl counts its ports down from 32767 and takes the first that nobody listens on: the API
# server listens when `kwokctl create` returns, the controller manager and the scheduler up to a few
# seconds later. Another `up` that picked in those seconds took the controller manager's port for
# its own API server (one of the two failed to bind: CI, and 2 of 3 tries here). So the lock is held
# until every port kwokctl chose is listening.
PORT_OPTIONS = {"kubeApiserverPort": "the API server", "kubeControllerManagerPort": "the controller manager",
                "kubeSchedulerPort": "the scheduler"}


def _listening_ports() -> dict[int, str]:
    """The ports kwokctl chose for the cluster's components (its kwok.yaml, first document); none
    when the file cannot be read (then there is nothing to wait for: `up`'s own checks follow)."""
    try:
        first = (workdir() / "kwok.yaml").read_text().split("\n---", 1)[0]
        options = (yaml.safe_load(first) or {}).get("options") or {}
        return {int(options[k]): what for k, what in PORT_OPTIONS.items() if options.get(k)}
    except (OSError, yaml.YAMLError, ValueError, TypeError, AttributeError):
        return {}


def _wait_listening(ports: dict[int, str], progress, timeout: float = 60.0) -> None:
    """Until something accepts a connection on each port (loopback), or ``timeout`` s: a component
    that does not start is `up`'s later checks' business, not a reason to hold the lock."""
    start = time.monotonic()
    said = False
    waiting = dict(ports)
    while waiting and time.monotonic() - start < timeout:
        for port in list(waiting):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    del waiting[port]
        if waiting and not said and time.monotonic() - start > 3:
            progress(f"  waiting for {' and '.join(waiting.values())} to listen (at most {timeout:.0f} s)")
            said = True
        if waiting:
            time.sleep(0.1)


def open_lock(path: Path) -> int | None:
    """A read-only descriptor of the lock file, made if missing. An existing file is opened without
    O_CREAT: in a sticky world-writable directory (/run/lock, /tmp) the kernel refuses O_CREAT on
    another user's file even to root (fs.protected_regular, Debian's default 2), and the first
    learner of a classroom server to run `up` owns the file. None when it cannot be opened."""
    for flags in (os.O_RDONLY, os.O_RDONLY | os.O_CREAT | os.O_EXCL, os.O_RDONLY):  # made by another between
        try:
            fd = os.open(path, flags, 0o644)
        except (FileNotFoundError, FileExistsError):
            continue
        except OSError:
            return None
        if flags & os.O_CREAT:
            os.fchmod(fd, 0o644)  # every user opens it, whatever the maker's umask
        return fd
    return None


LOCK_WAIT_SECONDS = 330.0


@contextlib.contextmanager
def _machine_lock(progress):
    fd = open_lock(MACHINE_LOCK)
    if fd is None:  # a file we may not read: go on unserialised, as kwokctl would, and say so
        progress(f"  cannot open {MACHINE_LOCK}: another kjlab up at this moment may pick the same ports")
        yield
        return
    try:
        if not _flock_within(fd, 0):
            progress(f"  waiting for another kjlab up on this machine to pick its ports "
                     f"(at most {LOCK_WAIT_SECONDS:.0f} s)")
            if not _flock_within(fd, LOCK_WAIT_SECONDS):
                progress(f"  {MACHINE_LOCK} is still held (an `up` stopped with Ctrl-Z?): going on without it; "
                         "if this up fails on a port, run it again")
        yield
    finally:
        os.close(fd)


def _flock_within(fd: int, seconds: float) -> bool:
    """Take the lock within ``seconds``. A holder takes at most kwokctl's create (240 s) and the port
    wait (60 s): one held longer is stuck (a stopped process), and must not stall every other `up`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def delete(bindir: Path, progress=print) -> None:
    """Stop every component, remove kwokctl's directory and the kubeconfig context."""
    stop_log_endpoint()
    _run([str(bindir / "kwokctl"), "delete", "cluster", "--name", CLUSTER_NAME,
          "--kubeconfig", str(kubeconfig_path())], bindir, progress, timeout=120)
    # kwokctl leaves its (now empty) root behind; nothing else of kjlab's lives there.
    shutil.rmtree(kwok_root(), ignore_errors=True)


# kwokctl's names for the processes of a binary-runtime cluster (its pids/<name>.pid files),
# and kjlab's log endpoint, whose pid file sits beside theirs.
LOG_ENDPOINT = "kjlab-log-endpoint"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller", LOG_ENDPOINT)


def _log_endpoint_files() -> tuple[Path, Path]:
    return workdir() / "pids" / f"{LOG_ENDPOINT}.pid", workdir() / f"{LOG_ENDPOINT}.port"


def start_log_endpoint(context: str, time_scale: float | None = None, timeout: float = 20.0) -> int:
    """Start the cluster's log endpoint (kjlab/cluster/kwok/log_endpoint.py); its port. A restart
    (repair) asks for the port it had, which the nodes' status names, and the time scale the
    cluster was created with."""
    import sys

    pid_file, port_file = _log_endpoint_files()
    scale_file = workdir() / f"{LOG_ENDPOINT}.time-scale"
    if time_scale is None:
        time_scale = float(scale_file.read_text()) if scale_file.exists() else 1.0
    scale_file.write_text(repr(time_scale))
    previous = port_file.read_text().strip() if port_file.exists() else "0"
    port_file.unlink(missing_ok=True)
    pki = workdir() / "pki"
    log = open(workdir() / "logs" / f"{LOG_ENDPOINT}.log", "ab")
    with log:
        proc = subprocess.Popen(  # a file, not -m: it loads no kubernetes client (18 MiB, not 46: issue 27)
            [sys.executable, str(Path(__file__).with_name("log_endpoint.py")),
             "--server", kube.api_client(context).configuration.host, "--ca", str(pki / "ca.crt"),
             "--cert", str(pki / "admin.crt"), "--key", str(pki / "admin.key"), "--time-scale", repr(time_scale),
             "--port", previous, "--port-file", str(port_file)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)  # outlives `kjlab up`
    pid_file.write_text(str(proc.pid))
    # reaped by a thread of this process (a notebook kernel, a test run lives on): else, once stopped,
    # it would stay a zombie that `kjlab status` and `kjlab down` take for a running endpoint
    threading.Thread(target=proc.wait, name="kjlab-log-endpoint-reaper", daemon=True).start()
    deadline = time.monotonic() + timeout
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise KjlabError(f"the kwok cluster's log endpoint did not start (see {workdir() / 'logs' / LOG_ENDPOINT}.log)",
                             "kjlab down, then kjlab up again")
        time.sleep(0.05)
    return int(port_file.read_text())


def stop_log_endpoint() -> None:

    pid_file, _ = _log_endpoint_files()
    try:
        pid = int(pid_file.read_text().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as f:  # only our own process, not a reused pid
            if b"log_endpoint" in f.read():
                os.kill(pid, signal.SIGTERM)
    except (ValueError, OSError):
        pass
    pid_file.unlink(missing_ok=True)


def components() -> dict[str, bool]:
    """Each component of the cluster and whether its process runs."""
    state = {}
    for name in COMPONENTS:
        try:
            pid = int((workdir() / "pids" / f"{name}.pid").read_text().strip())
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as f:  # a zombie is dead too
                state[name] = f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (ValueError, OSError):
            state[name] = False
    return state


def _pid(name: str) -> int | None:
    try:
        return int((workdir() / "pids" / f"{name}.pid").read_text().strip())
    except (ValueError, OSError):
        return None


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (state first), or [] when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def stopped() -> dict[str, int]:
    """The components whose process runs but is stopped (SIGSTOP, a debugger: state T or t), with
    their pids: alive for kwokctl, so no repair restarts them, yet they answer nothing."""
    found = {}
    for name in COMPONENTS:
        pid = _pid(name)
        if pid and (_stat(pid)[:1] or [""])[0] in ("T", "t"):
            found[name] = pid
    return found


def _started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from /proc."""
    fields = _stat(pid)
    try:
        ticks = int(fields[19])  # field 22 of /proc/PID/stat: starttime, in clock ticks after boot
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError, OSError, StopIteration):
        return None


def _lease_seconds(pid: int) -> float:
    """The kwok-controller's --node-lease-duration-seconds (kwokctl's binary runtime sets 200)."""
    try:
        for arg in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0"):
            if arg.startswith("--node-lease-duration-seconds="):
                return float(arg.split("=", 1)[1])
    except (OSError, ValueError):
        pass
    return 200.0


def stale_node_leases(context: str, timeout: float = 2) -> list[tuple[str, str]]:
    """(node, holder) of each node lease last renewed before the running kwok-controller started:
    held by an instance that died. The new one does not take a lease another holder renewed until it
    expires (kwok v0.8.0 pkg/kwok/controllers/node_lease_controller.go tryAcquireOrRenew), and
    retries only every quarter of the lease duration (controller.go: renewInterval =
    leaseDuration / 4; kwokctl sets --node-lease-duration-seconds=200): until then it runs no pod
    on those nodes, while the nodes still look Ready."""
    pid = _pid("kwok-controller")
    started = _started_at(pid) if pid else None
    if started is None or time.time() - started > _lease_seconds(pid) * 1.25:
        return []  # by then a dead instance's leases have expired and the running one took them
    found = []
    for lease in kube.get(context, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", timeout)["items"]:
        spec = lease.get("spec") or {}
        renewed = spec.get("renewTime")
        if not renewed:
            continue
        when = dt.datetime.fromisoformat(renewed.replace("Z", "+00:00")).timestamp()
        if when < started - 1:  # a second's slack: /proc's start time is in clock ticks
            found.append((lease["metadata"]["name"], spec.get("holderIdentity") or "?"))
    return found


def release_node_leases(context: str, bindir: Path, progress) -> list[str]:
    """Hand the nodes of a dead kwok-controller to the running one at once: delete the leases it
    still holds, then restart the running kwok-controller, which creates a missing lease on its
    first sync (instead of retrying a renew interval, 50 s, later). The nodes released."""
    stale = stale_node_leases(context)
    if not stale:
        return []
    _delete_node_leases(context, [node for node, _ in stale])
    pid = _pid("kwok-controller")
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
    except OSError:
        cmdline = b""
    if b"kwok-controller" in cmdline and str(workdir()).encode() in cmdline:  # our cluster's, not a reused pid
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10  # it ends within a second of SIGTERM
        while _stat(pid)[:1] not in ([], ["Z"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        (workdir() / "pids" / "kwok-controller.pid").unlink(missing_ok=True)
    _run([str(bindir / "kwokctl"), "start", "cluster", "--name", CLUSTER_NAME], bindir, progress, timeout=120)
    return [node for node, _ in stale]


def _delete_node_leases(context: str, names: list[str]) -> None:
    api = client.CoordinationV1Api(kube.api_client(context, patient=False))
    for name in names:
        try:
            api.delete_namespaced_lease(name, "kube-node-lease", _request_timeout=5)
        except client.ApiException as e:
            if e.status != 404:
                raise


def repair(bindir: Path, progress=print, context: str = "kwok-" + CLUSTER_NAME) -> None:
    """Start the components that are not running; the running ones and etcd's data stay as they
    are (kwokctl skips a component whose process runs). A dead kwok-controller's node leases are
    deleted first when the API server answers, so the new one takes its nodes at once."""
    alive_now = components()
    for name, alive in alive_now.items():
        if not alive:  # kwokctl takes a killed, not yet reaped process (a zombie) for a running one
            (workdir() / "pids" / f"{name}.pid").unlink(missing_ok=True)
    if not alive_now["kwok-controller"] and alive_now["kube-apiserver"] and alive_now["etcd"]:
        with contextlib.suppress(Exception):  # not answering: release_node_leases after the start
            api = client.CoordinationV1Api(kube.api_client(context, patient=False))
            _delete_node_leases(context, [lease["metadata"]["name"] for lease in kube.raw(
                api.list_namespaced_lease, "kube-node-lease", _request_timeout=5)["items"]])
    if not all(alive for name, alive in alive_now.items() if name != LOG_ENDPOINT):
        _run([str(bindir / "kwokctl"), "start", "cluster", "--name", CLUSTER_NAME], bindir, progress, timeout=120)
    if not alive_now[LOG_ENDPOINT]:
        start_log_endpoint(context)


def own_kubeconfig() -> str | None:
    """The admin kubeconfig kwokctl keeps in the cluster's directory (its components use it), or None."""
    try:
        return (workdir() / "kubeconfig.yaml").read_text()
    except OSError:
        return None


def pids() -> list[int]:
    """PIDs of the cluster's running components (from kwokctl's pid files)."""
    found = []
    for pidfile in workdir().glob("pids/*.pid"):
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
            found.append(pid)
        except (ValueError, OSError):
            continue
    return found


def memory_bytes() -> int:
    """Resident memory of the running components (etcd, apiserver, controllers, kwok)."""
    total = 0
    for pid in pids():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class KwokProvider:
    """The kwok engine behind kjlab.cluster.provider.Provider: kwokctl's binary runtime plus
    Node objects for the simulated workers (kwok drives any node it is told to manage)."""

    name = ENGINE
    scales_time = True   # the Stages' delays are the simulation's own, so they can be scaled
    has_strict_mode = True  # the Stage set is chosen at create time: strict or lenient (issue 10)
    nodes_ready_timeout = 90.0

    def prepare(self, progress) -> Path:
        return tools.ensure_built(progress)

    def exists(self) -> bool:
        return exists()

    def leftover_is_ours(self) -> bool:
        # kwokctl's files live under kjlab's own state directory: whatever is there is kjlab's.
        return exists()

    def create(self, prepared: Path, workers: int, time_scale: float, progress, context: str,
               strict: bool = True) -> None:
        port = create(prepared, time_scale, progress, strict=strict,
                      while_waiting=lambda: start_log_endpoint(context, time_scale))
        _create_nodes(context, workers, port)

    def finished_creating(self) -> None:
        pass

    def delete(self, progress, remove_images: bool = False) -> None:
        delete(tools.bin_dir(), progress or (lambda _m: None))

    def purge(self, progress) -> None:
        pass  # kwok adds nothing to an engine: its binaries live in the build cache

    def components(self) -> dict[str, bool]:
        return components()

    def repair(self, progress) -> None:
        if not all(components().values()):
            repair(tools.ensure_built(progress), progress or (lambda _m: None))

    def stopped(self) -> dict[str, int]:
        return stopped()

    def stale_node_leases(self, context: str) -> list[tuple[str, str]]:
        return stale_node_leases(context)

    def release_node_leases(self, context: str, progress) -> list[str]:
        return release_node_leases(context, tools.ensure_built(progress), progress or (lambda _m: None))

    def memory_bytes(self) -> int:
        return memory_bytes()

    def own_kubeconfig(self) -> str | None:
        return own_kubeconfig()


def _create_nodes(context: str, workers: int, kubelet_port: int) -> None:
    api = kube.core(context)
    for manifest in nodes.kwok_node_manifests(workers, kubelet_port):
        try:
            api.create_node(manifest)
        except client.ApiException as e:
            if e.status != 409:  # a retried up finds its nodes there
                raise


PROVIDER = KwokProvider()
