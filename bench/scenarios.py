"""Figures for the documented examples: duration of each scenario with and without its policy,
and the time from the deciding pod's failure to the Job's Failed condition.

Usage: .venv/bin/python bench/scenarios.py [--documented] [--only failjob,ignore,...]
  default: FAST sleeps (what CI runs); --documented: the manifests' own sleeps (30 s, 90 s).
Needs the lab cluster (kjlab up). Runs one after another; failjob without its policy takes minutes.
"""

import argparse
import sys

from kjlab import examples
from kjlab.runs import scenarios


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documented", action="store_true")
    parser.add_argument("--only", default=",".join(examples.names()))
    args = parser.parse_args()
    fast = not args.documented
    print(f"{'scenario':<14} {'policy':<7} {'outcome':<9} {'reason':<22} {'failed':>6} {'pods':>5} "
          f"{'duration':>9} {'exit->Failed':>12}")
    for name in args.only.split(","):
        for policy in (True, False):
            r = scenarios.run(name, policy=policy, fast=fast, echo=False, namespace=f"bench-{name}-{int(policy)}")
            dur = f"{r.duration_s:.1f}s" if r.duration_s is not None else "-"
            e2f = r.exit_to_failed_s
            print(f"{name:<14} {str(policy):<7} {r.outcome:<9} {str(r.reason):<22} {r.failed:>6} "
                  f"{r.pods_created:>5} {dur:>9} {(f'{e2f:.2f}s' if e2f is not None else '-'):>12}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
