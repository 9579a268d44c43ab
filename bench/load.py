"""N concurrent `kjlab scenario run failjob --fast` runs on the lab cluster: correctness, wall time,
control-plane memory before and after, and what is left behind.

Usage: .venv/bin/python bench/load.py [--runs 10,30,50] [--scenario failjob]
Each run is a separate `kjlab` process with a namespace of its own, as separate learners' or
terminals' runs would be. Needs the lab cluster (kjlab up --engine kwok).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from kjlab.api import kube
from kjlab.cluster import kwok, lab_context

EXPECTED = {"failjob": ("Failed", "PodFailurePolicy", 2), "ignore": ("Complete", None, 0)}


def _leftovers(context: str, prefix: str) -> list[str]:
    names = []
    for ns in kube.core(context).list_namespace().items:
        if ns.metadata.name.startswith(prefix) and ns.metadata.deletion_timestamp is None:
            names.append(ns.metadata.name)
    return names


def one_round(context: str, n: int, scenario: str) -> dict:
    prefix = f"load{n}-"
    before = kwok.memory_bytes()
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "kjlab.cli", "scenario", "run", scenario, "--fast", "--json",
                               "--namespace", f"{prefix}{i}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "KJLAB_CONTEXT": context}) for i in range(n)]
    peak = before
    durations, wrong, failed_runs = [], [], []
    pending = list(enumerate(procs))
    while pending:
        peak = max(peak, kwok.memory_bytes())
        still = []
        for i, p in pending:
            if p.poll() is None:
                still.append((i, p))
                continue
            out, err = p.communicate()
            if p.returncode != 0:
                failed_runs.append(f"{i}: exit {p.returncode}: {err.strip().splitlines()[-1] if err.strip() else ''}")
                continue
            result = json.loads(out)
            durations.append(result["duration_s"])
            outcome, reason, failed = EXPECTED[scenario]
            if (result["outcome"], result["reason"], result["failed"]) != (outcome, reason, failed):
                wrong.append(f"{i}: {result['outcome']} {result['reason']} failed={result['failed']}")
        pending = still
        time.sleep(0.5)
    wall = time.monotonic() - started
    time.sleep(5)
    return {"runs": n, "correct": n - len(wrong) - len(failed_runs), "wrong": wrong, "errors": failed_runs,
            "wall_s": round(wall, 1), "median_run_s": round(statistics.median(durations), 1) if durations else None,
            "worst_run_s": round(max(durations), 1) if durations else None,
            "memory_mib_before": round(before / 2**20), "memory_mib_peak": round(peak / 2**20),
            "memory_mib_after": round(kwok.memory_bytes() / 2**20), "left_behind": _leftovers(context, prefix)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="10,30,50")
    parser.add_argument("--scenario", default="failjob", choices=sorted(EXPECTED))
    args = parser.parse_args()
    context = lab_context()
    print(f"{'runs':>5} {'correct':>8} {'wall':>7} {'median':>7} {'worst':>7} {'mem before':>11} {'peak':>6} "
          f"{'after':>6} {'left':>5}")
    for n in (int(x) for x in args.runs.split(",")):
        r = one_round(context, n, args.scenario)
        print(f"{r['runs']:>5} {r['correct']:>8} {r['wall_s']:>6}s {r['median_run_s']!s:>6}s {r['worst_run_s']!s:>6}s "
              f"{r['memory_mib_before']:>8} MiB {r['memory_mib_peak']:>6} {r['memory_mib_after']:>6} "
              f"{len(r['left_behind']):>5}", flush=True)
        for line in r["wrong"] + r["errors"]:
            print(f"      {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
