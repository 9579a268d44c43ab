"""The chart's install time (issue 29's figures): `kjlab class up --kubernetes CONTEXT` timed, from
the first kubectl call to the hub and the proxy Ready, over --rounds fresh installs (each ends with
`kjlab class down --delete-volumes`). Prints helm's own time and the time to Ready for each round.

    .venv/bin/python bench/class_up.py --context kind-kjlab --class-list class.txt [--values v.yaml] [--rounds 3]

On kind the images must be loaded first (chart README, "Testing it on kind"); on kwok the hub
never turns Ready (strict kwok runs no JupyterHub): use --no-wait there to time helm alone."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from kjlab.classroom import kube
from kjlab.errors import KjlabError


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--context", required=True)
    p.add_argument("--class-list", type=Path, required=True)
    p.add_argument("--values", type=Path, action="append", default=[])
    p.add_argument("--namespace", default="kjlab-bench")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-wait", action="store_true", help="time helm only (kwok)")
    args = p.parse_args()
    rounds = []
    for n in range(args.rounds):
        helm_s: list[float] = []

        def progress(line: str) -> None:
            if line.strip().startswith("helm applied the chart in "):
                helm_s.append(float(line.split(" in ")[1].rstrip("s")))
            if args.no_wait and "is Ready" in line:
                line = "(--no-wait: helm only; the hub's readiness was not waited for)"
            print(f"  [{n + 1}] {line}")

        if args.no_wait:
            kube.wait_ready = lambda cl, progress=print, **kw: None  # helm alone
        started = time.monotonic()
        try:
            kube.up(args.context, args.class_list, args.namespace, values_files=tuple(args.values), progress=progress)
        except KjlabError as e:
            print(f"round {n + 1}: {e.message}")
            return 1
        rounds.append({"helm_s": helm_s[0] if helm_s else None,
                       "up_s" if args.no_wait else "ready_s": round(time.monotonic() - started, 2)})
        kube.down(args.context, args.namespace, delete_volumes=True, progress=lambda line: None)
    key = "up_s" if args.no_wait else "ready_s"
    print(json.dumps({"rounds": rounds, f"median_{key}": statistics.median(r[key] for r in rounds)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
