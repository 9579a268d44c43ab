"""The package's shape in figures: lines per module, and what importing costs.

    python bench/package.py [--repo DIR] [--runs 7]

Prints the module tree with line counts, then the median import time (fresh interpreter each
run) of `kjlab.cli` (what `kjlab --help` pays), `kjlab` and a notebook's first cell
(`kjlab.Lab` where it exists), and which heavy libraries each one loads. ``--repo`` measures
another checkout (e.g. a worktree of an older commit) with this interpreter.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HEAVY = ("kubernetes", "pandas", "IPython", "ipywidgets", "matplotlib", "nbformat")


def lines(repo: Path) -> list[tuple[str, int]]:
    out = []
    for path in sorted((repo / "kjlab").rglob("*.py")):
        out.append((str(path.relative_to(repo)), sum(1 for _ in path.open())))
    return out


def import_cost(repo: Path, statement: str, runs: int) -> tuple[float, int, list[str]]:
    code = ("import sys, time; sys.path.insert(0, %r); t = time.perf_counter(); %s; "
            "print(time.perf_counter() - t); print(len([m for m in sys.modules if m.startswith('kjlab')])); "
            "print(','.join(h for h in %r if h in sys.modules))") % (str(repo), statement, HEAVY)
    times, count, heavy = [], 0, []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
        times.append(float(out[0]))
        count, heavy = int(out[1]), [h for h in out[2].split(",") if h]
    return statistics.median(times), count, heavy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    repo = Path(args.repo).resolve()
    rows = lines(repo)
    for name, n in rows:
        print(f"{n:6d}  {name}")
    print(f"{sum(n for _, n in rows):6d}  total in {len(rows)} modules (largest {max(n for _, n in rows)})")
    print()
    probes = [("kjlab.cli", "import kjlab.cli"), ("kjlab", "import kjlab")]
    if (repo / "kjlab" / "lab.py").read_text().find("class Lab") >= 0:
        probes.append(("kjlab.Lab", "import kjlab; kjlab.Lab"))
    else:
        probes.append(("kjlab.connect", "import kjlab; kjlab.connect"))
    for label, statement in probes:
        median, count, heavy = import_cost(repo, statement, args.runs)
        print(f"import {label:<14} median {median * 1000:6.0f} ms over {args.runs} runs; "
              f"{count} kjlab modules; loads {', '.join(heavy) or 'none of ' + '/'.join(HEAVY)}")


if __name__ == "__main__":
    main()
