"""Figures for the kwok engine: tool build (cached), `up`, `down`, memory of the running cluster.

Usage: .venv/bin/python bench/cluster.py [--rounds 3] [--cold-build]
  --cold-build  also time a full tool build into a throwaway cache (several minutes)
Prints one line per figure. Leaves no cluster running unless one was running before (then it is
recreated with its default options at the end).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kjlab import cluster
from kjlab.cluster import kwok, tools

ROOT = Path(__file__).resolve().parents[1]


def timed(fn):
    started = time.monotonic()
    out = fn()
    return time.monotonic() - started, out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-build", action="store_true")
    args = parser.parse_args()

    if args.cold_build:
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "KJLAB_CACHE": cache, "GOCACHE": str(Path(cache) / "gocache")}
            seconds, _ = timed(lambda: subprocess.run(["bash", str(ROOT / "tools/build.sh")], env=env, check=True,
                                                      stdout=subprocess.DEVNULL))
            size = sum(f.stat().st_size for f in Path(cache, "tools").rglob("*") if f.is_file())
            print(f"tool build, empty Go build cache (modules already downloaded): {seconds:.0f} s, "
                  f"binaries {size / 2**20:.0f} MiB")

    seconds, _ = timed(lambda: subprocess.run(["bash", str(ROOT / "tools/build.sh")], check=True, stdout=subprocess.DEVNULL))
    print(f"tool build, cached: {seconds:.2f} s")
    binsize = sum((tools.bin_dir() / b).stat().st_size for b in tools.BINARIES)
    print(f"binaries: {binsize / 2**20:.0f} MiB for {len(tools.BINARIES)} tools")

    was_running = cluster.registry.entry("kwok-kjlab") is not None
    cluster.down(engine="kwok", progress=None)
    ups, downs, mems = [], [], []
    for _ in range(args.rounds):
        t_up, _ = timed(lambda: cluster.up(engine="kwok", progress=None))
        time.sleep(5)  # let the controllers settle before reading memory
        mems.append(kwok.memory_bytes() / 2**20)
        t_down, _ = timed(lambda: cluster.down(engine="kwok", progress=None))
        ups.append(t_up)
        downs.append(t_down)
    print(f"kjlab up (kwok, 2 workers, Ready): median {statistics.median(ups):.1f} s over {args.rounds} "
          f"(min {min(ups):.1f}, max {max(ups):.1f})")
    print(f"kjlab down: median {statistics.median(downs):.2f} s")
    print(f"memory of the running cluster (RSS of etcd, apiserver, controller-manager, scheduler, kwok): "
          f"median {statistics.median(mems):.0f} MiB")
    if was_running:
        cluster.up(engine="kwok", progress=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
