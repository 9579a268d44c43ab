"""Figures for the kwok engine (issue 27): `kjlab up` wall time, and each component's memory after
start, after an idle spell, and at its peak while labs 01, 06 and 11 run. Optionally against a
second checkout ("before"), interleaved round by round on the same machine, each with its own
KJLAB_STATE, so that both see the same load.

Usage:
  .venv/bin/python bench/cluster.py [--rounds 5] [--idle 300] [--labs 01,06,11] [--before DIR]
  .venv/bin/python bench/cluster.py --cold-build     # also the tool build into a throwaway cache
  --before DIR   a checkout of the code to compare with (e.g. `git worktree add ../before main`)
  --labs ''      start time and idle memory only

Memory is the resident set (VmRSS) of each process of the cluster: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok-controller and kjlab's log endpoint. Prints one
line per figure: median over the rounds (min-max), with the load average at the start and end.
Each variant's cluster is created and deleted in its own state directory: a cluster running in
the default state directory is not touched.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _component_pids(state: Path) -> dict[str, int]:
    pids = {}
    for pidfile in (state / "kwok" / "clusters" / "kjlab" / "pids").glob("*.pid"):
        try:
            pids[pidfile.stem] = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
    return pids


def anon(state: Path) -> dict[str, float]:
    """MiB of private memory (RssAnon: heap, stacks) per component, and 'total': what the
    settings change; the rest of RSS is the binaries' pages, shared by every cluster on the machine."""
    per = {}
    for name, pid in sorted(_component_pids(state).items()):
        try:
            line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("RssAnon:"))
            per[name] = int(line.split()[1]) / 1024
        except (OSError, StopIteration):
            per[name] = 0.0
    return {**per, "total": sum(per.values())}


def memory(state: Path) -> dict[str, float]:
    """MiB resident per component, and 'total'."""
    per = {name: _rss_mib(pid) for name, pid in sorted(_component_pids(state).items())}
    return {**per, "total": sum(per.values())}


class Peak:
    """The highest RSS of each component (and of their sum) while it runs, sampled every 0.5 s."""

    def __init__(self, state: Path):
        self.state, self.peak, self._stop = state, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for name, mib in memory(self.state).items():
                self.peak[name] = max(self.peak.get(name, 0.0), mib)
            self._stop.wait(0.5)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _env(code: Path, state: Path) -> dict[str, str]:
    return {**os.environ, "KJLAB_STATE": str(state), "PYTHONPATH": str(code), "KJLAB_CONTEXT": "kwok-kjlab"}


def kjlab(code: Path, state: Path, *args: str, timeout: float = 300) -> tuple[float, str]:
    """Run the kjlab command of checkout ``code``: wall seconds from the command to its exit, output."""
    started = time.monotonic()
    out = subprocess.run([PYTHON, "-m", "kjlab.cli", *args], env=_env(code, state), capture_output=True,
                         text=True, timeout=timeout, cwd=code)  # cwd: `-m` puts it first on sys.path
    took = time.monotonic() - started
    if out.returncode != 0:
        raise SystemExit(f"kjlab {' '.join(args)} failed ({code}):\n{out.stdout}\n{out.stderr}")
    return took, out.stdout


def run_lab(code: Path, state: Path, lab: str) -> float:
    """Execute labs/<lab>-*.ipynb of ``code`` with papermill (FAST), as the notebook tests do."""
    notebook = next((code / "labs").glob(f"{lab}-*.ipynb"))
    script = ("import papermill,sys; papermill.execute_notebook(sys.argv[1], sys.argv[2], cwd=sys.argv[3], "
              "kernel_name='python3', progress_bar=False, parameters={'FAST': True, 'NAMESPACE': 'bench' + sys.argv[4], "
              "'CONTEXT': 'kwok-kjlab'}, execution_timeout=900)")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        out = subprocess.run([PYTHON, "-c", script, str(notebook), str(Path(tmp) / "out.ipynb"), str(notebook.parent),
                              lab], env=_env(code, state), capture_output=True, text=True, timeout=1200, cwd=code)
        took = time.monotonic() - started
    if out.returncode != 0:
        raise SystemExit(f"lab {lab} failed ({code}):\n{out.stderr[-3000:]}")
    return took


def one_round(name: str, code: Path, state: Path, idle: float, labs: list[str]) -> dict:
    kjlab(code, state, "down", "--engine", "kwok")
    figures: dict = {"load_before": os.getloadavg()[0]}
    figures["up_s"], _ = kjlab(code, state, "up", "--engine", "kwok")
    figures["anon_after_start"] = anon(state)
    figures["after_start"] = memory(state)
    time.sleep(idle)
    figures["idle"] = memory(state)
    figures["anon_idle"] = anon(state)
    for lab in labs:
        with Peak(state) as peak:
            figures[f"lab{lab}_s"] = run_lab(code, state, lab)
        figures[f"lab{lab}_peak"] = peak.peak
    figures["after_labs"] = memory(state)
    figures["down_s"], _ = kjlab(code, state, "down", "--engine", "kwok")
    figures["load_after"] = os.getloadavg()[0]
    print(f"  {name}: up {figures['up_s']:.2f} s, after start {figures['after_start']['total']:.0f} MiB, "
          f"idle {figures['idle']['total']:.0f} MiB"
          + "".join(f", lab {lab} peak {figures[f'lab{lab}_peak'].get('total', 0):.0f} MiB" for lab in labs)
          + f" (load {figures['load_before']:.1f}->{figures['load_after']:.1f})", flush=True)
    return figures


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} ({min(values):.1f}-{max(values):.1f})"


def report(results: dict[str, list[dict]], labs: list[str]) -> None:
    names = list(results)
    print("\nmedians over the rounds (min-max); memory in MiB RSS, time in s")
    print(f"{'figure':<46}" + "".join(f"{n:>26}" for n in names) + ("   after/before" if len(names) == 2 else ""))

    def line(label: str, pick) -> None:
        cols = []
        for n in names:
            values = [v for v in (pick(r) for r in results[n]) if v is not None]
            cols.append(values)
        text = f"{label:<46}" + "".join(f"{_median(v) if v else '-':>26}" for v in cols)
        if len(cols) == 2 and cols[0] and cols[1] and statistics.median(cols[0]):
            text += f"   {statistics.median(cols[1]) / statistics.median(cols[0]):.2f}"
        print(text)

    line("kjlab up --engine kwok (command to prompt)", lambda r: r["up_s"])
    line("kjlab down", lambda r: r["down_s"])
    components = sorted({c for rs in results.values() for r in rs for c in r["idle"]} - {"total"})
    for when in ["after_start", "idle", "anon_after_start", "anon_idle"] + [f"lab{lab}_peak" for lab in labs]:
        line(f"memory {when}: total", lambda r, w=when: r[w].get("total") if w in r else None)
        for c in components:
            line(f"  {c}", lambda r, w=when, c=c: r[w].get(c) if w in r else None)
    for lab in labs:
        line(f"lab {lab} run (papermill, FAST)", lambda r, lab=lab: r.get(f"lab{lab}_s"))
    line("load average (1 min) at start of round", lambda r: r["load_before"])


def cold_build() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "KJLAB_CACHE": cache, "GOCACHE": str(Path(cache) / "gocache")}
        started = time.monotonic()
        subprocess.run(["bash", str(ROOT / "tools/build.sh")], env=env, check=True, stdout=subprocess.DEVNULL)
        size = sum(f.stat().st_size for f in Path(cache, "tools").rglob("*") if f.is_file())
        print(f"tool build, empty Go build cache (modules already downloaded): {time.monotonic() - started:.0f} s, "
              f"binaries {size / 2**20:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=300, help="seconds idle before the idle reading")
    parser.add_argument("--labs", default="01,06,11", help="comma-separated lab numbers ('' for none)")
    parser.add_argument("--lab-rounds", type=int, help="run the labs in the first N rounds only (default: all)")
    parser.add_argument("--before", type=Path, help="a checkout to compare with, run interleaved")
    parser.add_argument("--parallel", action="store_true",
                        help="run the variants of a round at the same time (lab memory peaks in one time window; "
                             "their up times then compete for the CPU)")
    parser.add_argument("--json", type=Path, help="also write every round's figures here")
    parser.add_argument("--cold-build", action="store_true")
    args = parser.parse_args()
    labs = [lab for lab in args.labs.split(",") if lab]

    if args.cold_build:
        cold_build()
    variants = {**({"before": args.before.resolve()} if args.before else {}), "after": ROOT}
    results: dict[str, list[dict]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="kjlab-bench-") as tmp:
        states = {name: Path(tmp) / name for name in variants}
        try:
            for i in range(args.rounds):
                order = list(variants) if i % 2 == 0 else list(reversed(variants))  # interleaved, alternating
                print(f"round {i + 1}/{args.rounds} (load {os.getloadavg()[0]:.1f})", flush=True)
                with_labs = labs if args.lab_rounds is None or i < args.lab_rounds else []
                if args.parallel:
                    from concurrent.futures import ThreadPoolExecutor

                    with ThreadPoolExecutor(len(order)) as pool:
                        done = {name: pool.submit(one_round, name, variants[name], states[name], args.idle, with_labs)
                                for name in order}
                    for name in order:
                        results[name].append(done[name].result())
                else:
                    for name in order:
                        results[name].append(one_round(name, variants[name], states[name], args.idle, with_labs))
        finally:
            for name in variants:
                subprocess.run([PYTHON, "-m", "kjlab.cli", "down", "--engine", "kwok"],
                               env=_env(variants[name], states[name]), capture_output=True, cwd=variants[name])
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    report(results, labs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
