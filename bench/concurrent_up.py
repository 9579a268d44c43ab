"""Two users' `kjlab up --engine kwok` at the same moment (a classroom's first minute): whether both
clusters come up, whether the second waited for the machine lock, and each one's "ready in" time.
Medians over the rounds, the ratio second/first, and the load average. Each user has a KJLAB_STATE
of its own in a temporary directory; both clusters are taken down after each round.

Usage:
  .venv/bin/python bench/concurrent_up.py [--rounds 3] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

READY = re.compile(r"ready in ([0-9.]+)s")
WAITED = "waiting for another kjlab up"


def up(state: Path, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("KJLAB_CONTEXT", "KJLAB_KUBECONFIG")}
    env["KJLAB_STATE"] = str(state)
    return subprocess.Popen([sys.executable, "-m", "kjlab.cli", "up", "--engine", "kwok", "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def down(state: Path) -> None:
    subprocess.run([sys.executable, "-m", "kjlab.cli", "down"], env={**os.environ, "KJLAB_STATE": str(state)},
                   capture_output=True, timeout=180)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    first, second, failed = [], [], 0
    with tempfile.TemporaryDirectory(prefix="kjlab-concurrent-up-") as tmp:
        for n in range(args.rounds):
            states = [Path(tmp) / f"r{n}-{who}" for who in ("a", "b")]
            procs = [up(s, args.workers) for s in states]
            try:
                outs = [p.communicate(timeout=600)[0] for p in procs]
            finally:
                for s in states:
                    down(s)
            load = os.getloadavg()[0]
            rows = []
            for who, (p, out) in zip("ab", zip(procs, outs)):
                ready = READY.search(out)
                waited = WAITED in out
                rows.append((waited, float(ready.group(1)) if ready and p.returncode == 0 else None))
                print(f"round {n + 1} {who}: exit {p.returncode}, "
                      f"{'waited for the lock, ' if waited else ''}ready in {ready.group(1) if ready else '-'} s "
                      f"(load {load:.1f})")
                if p.returncode != 0:
                    failed += 1
                    print("  " + "\n  ".join(out.strip().splitlines()[-4:]))
            rows.sort()  # the one that did not wait first
            if rows[0][1] is not None and rows[1][1] is not None:
                first.append(rows[0][1])
                second.append(rows[1][1])
    print(f"\n{args.rounds} rounds, {failed} failed ups")
    if first:
        f, s = statistics.median(first), statistics.median(second)
        print(f"ready in, median: first {f:.1f} s, second (waited) {s:.1f} s, ratio {s / f:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
