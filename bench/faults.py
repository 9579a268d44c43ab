"""Replay the fault cases of issue 30 (tests/faults/cases.py: bad inputs, writes aimed at a cluster
kjlab did not make, stopped and killed components, the turn-2 data-loss and sandbox cases) and print
the table of outcomes per family, then every case that was not clear or survived.

    KJLAB_STATE=/tmp/st-me .venv/bin/python bench/faults.py [--family F ...] [--source DIR] [--json FILE]

Needs a running kwok lab cluster in $KJLAB_STATE (`kjlab up --engine kwok`): its components are
stopped and killed (its own, from its pid files) and repaired with `kjlab up`. --source DIR measures
another checkout's kjlab (e.g. `git archive 09de2af | tar -x -C DIR`) on the same cases.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))
import cases as fault_cases  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", action="append", choices=fault_cases.FAMILIES, help="only these families")
    p.add_argument("--source", help="a checkout whose kjlab to measure instead of this one")
    p.add_argument("--json", help="also write every case's outcome to this file")
    args = p.parse_args()
    harness = fault_cases.Harness(source=str(Path(args.source).resolve()) if args.source else None)
    rows = []
    try:
        for case in fault_cases.cases():
            if args.family and case.family not in args.family:
                continue
            outcome, seconds, tail = harness.run(case)
            rows.append({"family": case.family, "case": case.name, "outcome": outcome, "seconds": round(seconds, 1),
                         "tail": tail})
            print(f"{outcome:<12} {seconds:6.1f} s  {case.id}", file=sys.stderr, flush=True)
    finally:
        harness.close()
    families = [f for f in fault_cases.FAMILIES if any(r["family"] == f for r in rows)]
    counts = {f: Counter(r["outcome"] for r in rows if r["family"] == f) for f in families}
    total = Counter(r["outcome"] for r in rows)
    width = max(len(f) for f in families + ["total"])
    print("| family".ljust(width + 2) + " | cases | " + " | ".join(fault_cases.OUTCOMES) + " |")
    print("|" + "---|" * (2 + len(fault_cases.OUTCOMES)))
    for name, c in [(f, counts[f]) for f in families] + [("total", total)]:
        print(f"| {name:<{width}} | {sum(c.values()):>5} | "
              + " | ".join(str(c.get(o, 0)) for o in fault_cases.OUTCOMES) + " |")
    bad = [r for r in rows if r["outcome"] not in ("clear", "survived")]
    if bad:
        print("\nnot clear:")
        for r in bad:
            print(f"  {r['outcome']:<12} {r['family']}/{r['case']} ({r['seconds']} s): {r['tail'][:200]}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
