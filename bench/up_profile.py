"""Where the seconds of `kjlab up --engine kwok` go (issue 27): one line per phase, from the command
to the prompt, medians over the rounds (min-max), with the load average. Optionally against a
second checkout (--before DIR), interleaved round by round, each with its own KJLAB_STATE.

Usage:
  .venv/bin/python bench/up_profile.py [--rounds 5] [--before DIR] [--probe 0.1]

Each moment is read from what the run leaves behind, not guessed:
  - kjlab's own output lines, time-stamped as they arrive (imports end at the first line;
    kwokctl's "creating/created/starting/started"; kjlab's "API server is ready", the nodes);
  - each component's process start (/proc/PID/stat) and its own log (etcd "ready to serve
    client requests", the API server's and the controller manager's "Serving securely");
  - a probe of the API server's /readyz?verbose every --probe seconds (0 for none) with the
    cluster's own client certificate: when it first answers and when each check first passes,
    so the slowest post-start hooks are named. The probe costs a TLS handshake per try.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller",
              "kjlab-log-endpoint")


def _env(code: Path, state: Path) -> dict[str, str]:
    return {**os.environ, "KJLAB_STATE": str(state), "PYTHONPATH": str(code), "KJLAB_CONTEXT": "kwok-kjlab"}


def _workdir(state: Path) -> Path:
    return state / "kwok" / "clusters" / "kjlab"


class ReadyzProbe:
    """Polls /readyz?verbose once the cluster's certificates and kubeconfig exist: when the API
    server first answered, and when each of its checks ("[+]name ok") was first seen passing."""

    def __init__(self, state: Path, interval: float):
        self.state, self.interval = state, interval
        self.first_answer: float | None = None
        self.passed: dict[str, float] = {}
        self.ready: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _target(self):
        work = _workdir(self.state)
        try:
            server = re.search(r"server: (https://\S+)", (work / "kubeconfig.yaml").read_text()).group(1)
            tls = ssl.create_default_context(cafile=str(work / "pki" / "ca.crt"))
            tls.load_cert_chain(str(work / "pki" / "admin.crt"), str(work / "pki" / "admin.key"))
        except (OSError, AttributeError, ssl.SSLError):
            return None
        host, port = server.split("://", 1)[1].rsplit(":", 1)
        return host, int(port), tls

    def _run(self):
        target = None
        while not self._stop.is_set() and self.ready is None:
            target = target or self._target()
            if target:
                conn = http.client.HTTPSConnection(target[0], target[1], context=target[2], timeout=2)
                try:
                    conn.request("GET", "/readyz?verbose")
                    response = conn.getresponse()
                    body = response.read().decode(errors="replace")
                    now = time.time()
                    self.first_answer = self.first_answer or now
                    for name in re.findall(r"^\[\+\](\S+) ok", body, re.M):
                        self.passed.setdefault(name, now)
                    if response.status == 200:
                        self.ready = now
                except (OSError, http.client.HTTPException):
                    pass
                finally:
                    conn.close()
            self._stop.wait(self.interval if target else 0.02)

    def __enter__(self):
        if self.interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _process_start(pid: int) -> float | None:
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(x.split()[1]) for x in Path("/proc/stat").read_text().splitlines() if x.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, StopIteration):
        return None


def _klog_time(line: str) -> float | None:
    """klog's 'I1206 16:52:47.427863' (local time, no year) as seconds since the epoch."""
    m = re.match(r"[IWEF](\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d+)", line)
    if not m:
        return None
    now = dt.datetime.now()
    stamp = dt.datetime.strptime(f"{now.year}-{m.group(1)}-{m.group(2)} {m.group(3)}", "%Y-%m-%d %H:%M:%S.%f")
    return stamp.timestamp()


def _log_moment(path: Path, needle: str) -> float | None:
    try:
        for line in path.read_text(errors="replace").splitlines():
            if needle in line:
                if line.startswith("{"):
                    record = json.loads(line)
                    stamp = record.get("ts") or record.get("time")
                    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")[:26] + "+00:00").timestamp() \
                        if stamp else None
                return _klog_time(line)
    except (OSError, ValueError):
        pass
    return None


def _first_klog(path: Path) -> float | None:
    try:
        return next((t for t in map(_klog_time, path.read_text(errors="replace").splitlines()) if t), None)
    except OSError:
        return None


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def one_round(code: Path, state: Path, probe_interval: float) -> dict[str, float]:
    subprocess.run([PYTHON, "-m", "kjlab.cli", "down", "--engine", "kwok"], env=_env(code, state),
                   capture_output=True, cwd=code, timeout=120)
    lines: list[tuple[float, str]] = []
    load = os.getloadavg()[0]
    with ReadyzProbe(state, probe_interval) as probe:
        t0 = time.time()
        proc = subprocess.Popen([PYTHON, "-m", "kjlab.cli", "up", "--engine", "kwok"], env=_env(code, state),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=code)
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.time(), line.rstrip()))
        proc.wait()
        end = time.time()
    if proc.returncode != 0:
        raise SystemExit("kjlab up failed:\n" + "\n".join(text for _, text in lines))

    def said(fragment: str) -> float | None:
        return next((t for t, text in lines if fragment in text), None)

    work = _workdir(state)
    logs = work / "logs"
    moments = {
        "first output (imports, engine choice)": lines[0][0] if lines else None,
        "kwokctl: creating": said("Cluster is creating"),
        "kwokctl: created (pki, config)": said("Cluster is created"),
        # the first line each writes: /proc's start time (clock ticks after an integral boot second)
        # can be a second off the wall clock
        "etcd first log line": _log_moment(logs / "etcd.log", '"ts"'),
        "kube-apiserver first log line": _first_klog(logs / "kube-apiserver.log"),
        "etcd ready to serve": _log_moment(logs / "etcd.log", "ready to serve client requests"),
        "kube-apiserver serving (TLS port open)": _log_moment(logs / "kube-apiserver.log", "Serving securely"),
        "kube-apiserver first probe answer": probe.first_answer,
        "kwokctl: started (its /version poll)": said("Cluster is started"),
        "kube-apiserver /readyz 200 (probe)": probe.ready,
        "kjlab: API server is ready": said("the API server is ready"),
        "controller-manager serving": _log_moment(logs / "kube-controller-manager.log", "Serving securely"),
        "log endpoint listening (its port file)": _mtime(work / "kjlab-log-endpoint.port"),
        "kjlab: waiting for nodes": said("waiting for the nodes to be Ready"),
        "kjlab: ready in": said("ready in "),
        "status printed": lines[-1][0] if lines else None,
        "command exited": end,
    }
    figures = {name: (t - t0 if t else None) for name, t in moments.items()}
    # The post-start hooks (and other /readyz checks) that passed last, after the port opened.
    opened = probe.first_answer or t0
    for check, t in sorted(probe.passed.items(), key=lambda kv: kv[1])[-6:]:
        figures[f"  readyz check {check}: after first answer"] = t - opened
    figures["load average (1 min) at start"] = load
    return figures


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f}-{max(values):.2f})"


def report(results: dict[str, list[dict]]) -> None:
    names = list(results)
    print("\nseconds after the command started: median (min-max)")
    print(f"{'moment':<58}" + "".join(f"{n:>22}" for n in names))
    keys: list[str] = []
    for rounds in results.values():
        for r in rounds:
            keys += [k for k in r if k not in keys]
    for key in keys:
        cols = [[r[key] for r in results[n] if r.get(key) is not None] for n in names]
        print(f"{key:<58}" + "".join(f"{_fmt(c) if c else '-':>22}" for c in cols))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, help="a checkout to compare with, run interleaved")
    parser.add_argument("--probe", type=float, default=0.1, help="seconds between /readyz?verbose probes (0: none)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    variants = {**({"before": args.before.resolve()} if args.before else {}), "after": ROOT}
    results: dict[str, list[dict]] = {name: [] for name in variants}
    base = Path(os.environ.get("KJLAB_STATE") or tempfile.mkdtemp(prefix="kjlab-up-profile-"))
    states = {name: Path(f"{base}-{name}") for name in variants}
    try:
        for i in range(args.rounds):
            order = list(variants) if i % 2 == 0 else list(reversed(variants))
            for name in order:
                r = one_round(variants[name], states[name], args.probe)
                results[name].append(r)
                print(f"round {i + 1} {name}: exit {r['command exited']:.2f} s, ready-in line "
                      f"{r['kjlab: ready in'] or 0:.2f} s (load {r['load average (1 min) at start']:.1f})", flush=True)
    finally:
        for name in variants:
            subprocess.run([PYTHON, "-m", "kjlab.cli", "down", "--engine", "kwok"], env=_env(variants[name], states[name]),
                           capture_output=True, cwd=variants[name])
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
