"""Classroom density: N learners (Unix users, each with a private kwok cluster) run lab 01 (FAST)
at the same time on this machine. Prints, for each N: every learner's outcome (lab 01's own check
cell passed), lab time (median, worst, worst / single-learner), the clusters' idle memory and CPU,
and the machine's memory and CPU while the labs ran.

    sudo .venv/bin/python bench/classroom.py --learners 1,5,10,15,20 [--json artifacts/bench-classroom.json]

Heavy (lab 01 takes ~8 minutes: the no-policy run waits out the Job controller's back-off): run it
once for the figures, not in CI. Needs root (it creates kjlab-bench-NN users and removes them)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

from kjlab.classroom import accounts, shared

LAB = "labs/01-failjob.ipynb"


def machine_cpu() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def used_memory_mib() -> float:
    info = {line.split(":")[0]: int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()}
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def rss_mib(users: list[str]) -> float:
    total = 0
    for user in users:
        for pid in accounts.pids_of(user):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
    return total / 1024


def cpu_ticks(users: list[str]) -> int:
    total = 0
    for user in users:
        for pid in accounts.pids_of(user):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(stat[11]) + int(stat[12])
            except (OSError, IndexError):
                continue
    return total


def fast_copy(user: str) -> Path:
    """The learner's copy of lab 01 with FAST = True in its parameters cell (what papermill does)."""
    import pwd

    entry = pwd.getpwnam(user)
    nb = json.loads((shared.repo_dir() / LAB).read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "FAST = False" in "".join(cell["source"]):
            cell["source"] = "".join(cell["source"]).replace("FAST = False", "FAST = True")
            break
    else:
        raise SystemExit("lab 01 has no `FAST = False` parameters line any more: update bench/classroom.py")
    path = Path(entry.pw_dir) / "01-failjob.ipynb"
    path.write_text(json.dumps(nb))
    os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def one_round(n: int, env: dict, venv: Path) -> dict:
    users = [f"kjlab-bench-{i:02d}" for i in range(1, n + 1)]
    for user in users:
        accounts.remove_user(user)
        accounts.ensure_user(user)
    try:
        ups = []
        for user in users:  # one after the other, as learners arriving
            t = time.monotonic()
            up = accounts.run_as(user, [str(venv / "bin" / "kjlab"), "up", "--engine", "kwok"], env,
                                 capture_output=True, text=True)
            if up.returncode != 0:
                raise SystemExit(f"{user}: kjlab up failed: {up.stdout[-800:]}{up.stderr[-800:]}")
            ups.append(time.monotonic() - t)
        time.sleep(15)  # settle
        hz = os.sysconf("SC_CLK_TCK")
        c0, t0 = cpu_ticks(users), time.monotonic()
        time.sleep(30)
        idle_cpu = (cpu_ticks(users) - c0) / hz / (time.monotonic() - t0) / n * 100
        idle_rss = rss_mib(users) / n
        notebooks = {user: fast_copy(user) for user in users}
        outcomes: dict[str, dict] = {}
        peak = {"mem": used_memory_mib(), "rss": 0.0}
        stop = threading.Event()

        def sample():
            while not stop.wait(2):
                peak["mem"] = max(peak["mem"], used_memory_mib())
                peak["rss"] = max(peak["rss"], rss_mib(users))

        def run(user):
            t = time.monotonic()
            out = accounts.run_as(user, [str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                                         "--ExecutePreprocessor.timeout=1500", "--output", "executed.ipynb",
                                         str(notebooks[user])], env, capture_output=True, text=True)
            outcomes[user] = {"ok": out.returncode == 0, "seconds": time.monotonic() - t,
                              "error": "" if out.returncode == 0 else out.stderr.strip().splitlines()[-1:]}

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        busy0, all0 = machine_cpu()
        started = time.monotonic()
        threads = [threading.Thread(target=run, args=(u,)) for u in users]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        busy1, all1 = machine_cpu()
        stop.set()
        times = [o["seconds"] for o in outcomes.values()]
        return {"n": n, "correct": sum(o["ok"] for o in outcomes.values()), "up_s_median": statistics.median(ups),
                "lab_s_median": statistics.median(times), "lab_s_worst": max(times),
                "wall_s": time.monotonic() - started,
                "idle_rss_mib_per_learner": idle_rss, "idle_cpu_pct_of_core_per_learner": idle_cpu,
                "machine_cpu_busy_pct": 100 * (busy1 - busy0) / max(1, all1 - all0),
                "machine_mem_used_peak_mib": peak["mem"], "learners_rss_peak_mib": peak["rss"],
                "failures": {u: o["error"] for u, o in outcomes.items() if not o["ok"]}}
    finally:
        for user in users:
            accounts.run_as(user, [str(venv / "bin" / "kjlab"), "down"], env, capture_output=True)
            accounts.remove_user(user)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--learners", default="1,5,10,15,20")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("bench/classroom.py creates learner accounts: run it as root", file=sys.stderr)
        return 1
    env = {"KJLAB_BIN_DIR": str(shared.shared_bin_dir())}
    venv = shared.install()
    rows = []
    for n in [int(x) for x in args.learners.split(",")]:
        row = one_round(n, env, venv)
        rows.append(row)
        single = rows[0]["lab_s_median"] if rows[0]["n"] == 1 else None
        ratio = f"{row['lab_s_worst'] / single:.2f}x" if single else "-"
        print(f"N={n:>2}  correct {row['correct']}/{n}  lab median {row['lab_s_median']:.0f}s worst "
              f"{row['lab_s_worst']:.0f}s ({ratio} of N=1)  idle/learner {row['idle_rss_mib_per_learner']:.0f} MiB "
              f"{row['idle_cpu_pct_of_core_per_learner']:.1f}% core  machine during labs: CPU "
              f"{row['machine_cpu_busy_pct']:.0f}% of 2 cores, memory peak {row['machine_mem_used_peak_mib'] / 1024:.1f} GiB",
              flush=True)
        if row["failures"]:
            print(f"   failures: {row['failures']}", flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
