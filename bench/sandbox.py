"""How long the sandbox takes to run a learner's function, and how long the clean-up of a detached
process takes: medians over interleaved rounds, optionally against another copy of sandbox.py (e.g.
the previous release's, `git show REV:kjlab/sandbox.py > /tmp/old.py`), since the module is stdlib-only.

    .venv/bin/python bench/sandbox.py [--rounds 5] [--against /tmp/old.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time

from kjlab.checks import sandbox as current

RETURNS = "def step():\n    return None\n"
DETACHES = ("import os, time\ndef step():\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
            "            os.execv('/bin/sleep', ['sleep', '300'])\n        os._exit(0)\n    time.sleep(60)\n")


def load(path: str):
    spec = importlib.util.spec_from_file_location(f"sandbox_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def timed(module, source: str, limits) -> tuple[float, str]:
    started = time.monotonic()
    out = module.run(module.Code(source, "step"), limits=limits)
    return time.monotonic() - started, out.status


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--against", help="another sandbox.py to compare with")
    args = p.parse_args()
    modules = {"current": current}
    if args.against:
        modules["against"] = load(os.path.abspath(args.against))
    figures: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, module in modules.items():  # interleaved: the machine's noise falls on both alike
            for case, source, call in (("returns", RETURNS, 20.0), ("detached+timeout(2 s)", DETACHES, 2.0)):
                seconds, status = timed(module, source, module.Limits(call_seconds=call, load_seconds=20.0))
                figures.setdefault((name, f"{case} -> {status}"), []).append(seconds)
    print(f"load average: {os.getloadavg()[0]:.1f}; rounds: {args.rounds}")
    for (name, case), values in sorted(figures.items()):
        print(f"{name:<8} {case:<36} median {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f})")


if __name__ == "__main__":
    main()
