"""`kjlab up --engine kind` with the node image present, and where its seconds go (issue 27, item 3):
the wall time from the command to the prompt, kind's own create, the lab-image loads and the wait for
Ready nodes, read from the lines `up` prints. With ``--before-image``, rounds alternate between that
node image (an offline build without the io.kjlab.preloaded-image-ids label, so `up` loads the lab
images with `kind load` as it used to) and the one `up` chooses, on the same machine, interleaved.

Usage (no other kind cluster may run on the machine; each round ends with `kjlab down`):
  KJLAB_STATE=/tmp/st-kind .venv/bin/python bench/kind_up.py [--rounds 3] [--before-image REF]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KJLAB = [sys.executable, "-m", "kjlab.cli"]


def one_up(env: dict) -> dict:
    """One `kjlab up --engine kind`, timed, with the figures its lines give; then `kjlab down`."""
    load = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.run([*KJLAB, "up", "--engine", "kind"], capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    out = proc.stdout + proc.stderr
    if proc.returncode:
        raise SystemExit(f"kjlab up failed:\n{out[-2000:]}")
    loads = [float(s) for s in re.findall(r"loaded in (\d+)s", out)]
    ready = re.search(r"ready in ([0-9.]+)s", out)
    subprocess.run([*KJLAB, "down", "--engine", "kind"], capture_output=True, text=True, env=env, check=True)
    return {"wall": wall, "ready_in": float(ready.group(1)) if ready else None, "loads": sum(loads),
            "baked": out.count("already in every node"), "load_avg": load}


def median(values) -> str:
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before-image", help="a node image without the baked-images label")
    args = parser.parse_args()
    variants = {"after": {k: v for k, v in os.environ.items() if k != "KJLAB_KIND_NODE_IMAGE"}}
    if args.before_image:
        variants = {"before": {**variants["after"], "KJLAB_KIND_NODE_IMAGE": args.before_image}, **variants}
    results: dict[str, list[dict]] = {name: [] for name in variants}
    for round_ in range(args.rounds):
        for name, env in variants.items():
            r = one_up(env)
            results[name].append(r)
            print(f"round {round_ + 1} {name}: wall {r['wall']:.1f} s, ready in {r['ready_in']} s, "
                  f"kind load {r['loads']:.0f} s, baked images {r['baked']}, load average {r['load_avg']:.1f}", flush=True)
    for name, rows in results.items():
        print(f"{name}: wall {median(r['wall'] for r in rows)} s; 'ready in' {median(r['ready_in'] for r in rows)} s; "
              f"kind load {median(r['loads'] for r in rows)} s; load average {median(r['load_avg'] for r in rows)}")


if __name__ == "__main__":
    main()
