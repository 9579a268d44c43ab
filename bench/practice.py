"""How long each practice task takes to start (its prepared namespace ready) and to check (a right
answer, both routes), on the lab cluster: medians and worst over rounds, per task.

    KJLAB_STATE=... .venv/bin/python bench/practice.py [--rounds 1] [--tasks pdb,drain]

Each round starts the task, types the reference answers in bash with the cluster's kubectl (as
tests/cluster/test_practice.py does) and times `session.check`. It deletes the last task's namespace at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from kjlab.cluster import lab_context, tools
from kjlab.practice import env, registry, session


def type_answer(context: str, task, commands: str, cwd: Path) -> None:
    directory = session.practice_dir()
    kubeconfig = env.write_kubeconfig(directory, context, task.namespace())
    bin_dir = env.kubectl_dir(directory, tools.kubectl_path())
    out = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", commands], cwd=cwd, capture_output=True, text=True,
                         env={"PATH": f"{bin_dir}:/usr/bin:/bin", "KUBECONFIG": str(kubeconfig), "HOME": str(cwd)})
    if out.returncode:
        raise SystemExit(f"{task.id}: the reference answer failed: {out.stderr.strip()}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--tasks", help="comma-separated task ids (default: every task the engine runs)")
    args = p.parse_args()
    context = lab_context()
    tasks = [registry.get(t) for t in args.tasks.split(",")] if args.tasks else registry.for_engine("kwok")[0]
    print(f"{'task':<22} {'start median':>12} {'start worst':>11} {'check median':>12} {'check worst':>11}")
    for task in tasks:
        starts, checks = [], []
        for _ in range(args.rounds):
            for route in ("imperative", "declarative"):
                with tempfile.TemporaryDirectory() as tmp:
                    t0 = time.monotonic()
                    session.start(task.id, context)
                    starts.append(time.monotonic() - t0)
                    if route == "declarative" and task.declarative_is_yaml:
                        (Path(tmp) / "answer.yaml").write_text(task.declarative)
                        commands = "kubectl apply -f answer.yaml"
                    else:
                        commands = task.imperative if route == "imperative" else task.declarative
                    type_answer(context, task, commands, Path(tmp))
                    t0 = time.monotonic()
                    verdict = session.check(context, task)
                    checks.append(time.monotonic() - t0)
                    if not verdict.passed:
                        raise SystemExit(f"{task.id} ({route}): the reference answer did not pass:\n{verdict}")
        print(f"{task.id:<22} {statistics.median(starts):>12.1f} {max(starts):>11.1f} "
              f"{statistics.median(checks):>12.1f} {max(checks):>11.1f}", flush=True)
        if task.cleanup:
            task.cleanup(context)


if __name__ == "__main__":
    main()
