"""A class on Kubernetes, measured (issue 29): the chart on a kind cluster of one control plane and
three workers (kjlab.classroom.kind_class), then for each N in --learners, N learners at once log in
through the proxy (KubeSpawner starts a pod and a volume for each), bring up their lab cluster
inside their pod and run lab 01 (FAST, with its own check cells) there. Prints, per round: each
learner's outcome, the pod start (login to server ready), login to a Ready lab cluster, lab 01's
time (median, worst, worst / one learner's), and each pod's memory (working set, from its cgroup)
idle and at its peak while lab 01 ran.

    .venv/bin/python bench/class_on_kind.py --learners 1,3,6 [--keep] [--json artifacts/bench-class-on-kind.json]

Every kind node shares this machine's cores and memory: N learners on "three workers" here is N
learners on one machine. Needs Docker; builds the images and the cluster when missing (minutes)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


import requests

from kjlab.classroom import kind_class
from kjlab.classroom.client import Learner
from kjlab.cluster import tools

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "kjlab-class"

# Lab 01 with FAST = True, executed in the learner's pod as a notebook is (nbconvert, a kernel of its
# own); the lab's own check cells raise when an outcome is wrong, so "ok" is every outcome right.
RUN_LAB = """
import json, subprocess, time, nbformat
nb = nbformat.read('labs/01-failjob.ipynb', as_version=4)
at = next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', []))
nb.cells.insert(at + 1, nbformat.v4.new_code_cell("FAST = True\\nNAMESPACE = 'bench01'"))
nbformat.write(nb, '/tmp/lab01-bench.ipynb')
t = time.monotonic()
p = subprocess.run(['jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=1800',
                    '--output', '/tmp/lab01-bench.out.ipynb', '/tmp/lab01-bench.ipynb'], capture_output=True, text=True)
print(json.dumps({'ok': p.returncode == 0, 'seconds': time.monotonic() - t, 'error': p.stderr[-600:]}))
"""
UP = """
import json, subprocess, time
t = time.monotonic()
p = subprocess.run(['kjlab', 'up', '--engine', 'kwok'], capture_output=True, text=True)
print(json.dumps({'ok': p.returncode == 0, 'seconds': time.monotonic() - t, 'error': p.stdout[-400:]}))
"""
# the kubelet's working set: usage minus inactive file pages (cgroup v1 and v2)
MEMORY = ("f=/sys/fs/cgroup/memory.current; if [ -f $f ]; then u=$(cat $f); "
          "i=$(awk '/^inactive_file /{print $2}' /sys/fs/cgroup/memory.stat); else "
          "u=$(cat /sys/fs/cgroup/memory/memory.usage_in_bytes); "
          "i=$(awk '/^total_inactive_file /{print $2}' /sys/fs/cgroup/memory/memory.stat); fi; echo $((u - i))")


def kubectl(env, *args, timeout=120):
    return subprocess.run([str(tools.kubectl_path()), "--context", kind_class.CONTEXT, "-n", NAMESPACE, *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


def memory_mib(env, login: str) -> float | None:
    out = kubectl(env, "exec", f"jupyter-{login}", "--", "sh", "-c", MEMORY).stdout.strip()
    return int(out) / 2**20 if out.isdigit() else None


def install(learners: int, env: dict, state: Path) -> tuple[str, dict]:
    images = subprocess.run(["bash", str(REPO / "tools" / "classroom" / "build.sh"), "all"],
                            capture_output=True, text=True, check=True).stdout.split()
    kind_class.up(3)
    kind_class.load(images)
    if kind_class.offline_nodes():  # as the class test does: the chart's NetworkPolicy enforced (and paid for)
        print(kind_class.enforce_network_policy(kind_class.netpol_image()), flush=True)
    class_list = state / "class.txt"
    class_list.write_text("".join(f"bench{i:02d}  Learner {i}\n" for i in range(1, learners + 1)))
    t = time.monotonic()
    subprocess.run([sys.executable, "-m", "kjlab.cli", "class", "up", "--kubernetes", kind_class.CONTEXT,
                    "--class-list", str(class_list)], env=env, check=True)
    figures = {"class_up_s": time.monotonic() - t}
    sheet = state / "classroom" / f"{kind_class.CONTEXT}__{NAMESPACE}" / "passwords-to-hand-out.txt"
    passwords = dict(line.split("\t", 1) for line in sheet.read_text().splitlines())
    return passwords, figures


def one_round(n: int, base: str, passwords: dict, env: dict) -> dict:
    logins = sorted(passwords)[:n]
    results: dict[str, dict] = {}
    peak: dict[str, float] = {}
    running = threading.Event()
    running.set()

    def sample():
        while running.is_set():
            for login in logins:
                m = memory_mib(env, login) if login in results else None
                if m is not None:
                    peak[login] = max(peak.get(login, 0.0), m)
            time.sleep(3)

    def learner(login):
        r = results.setdefault(login, {})
        me = Learner(base, login, passwords[login].strip())
        started = time.monotonic()
        while True:  # the round before deleted this learner's pod: until the hub notices (its poll),
            try:     # the proxy still routes to it and answers 503, as the class test also meets
                r["pod_start_s"] = me.log_in(timeout=900)
                break
            except (requests.HTTPError, requests.ConnectionError) as e:
                status = getattr(e.response, "status_code", None)
                if status not in (503, None) or time.monotonic() - started > 300:
                    raise
                print(f"{login}: the proxy answers {status or type(e).__name__} "
                      f"{time.monotonic() - started:.0f}s after the last round's delete; logging in again in 5 s",
                      flush=True)
                time.sleep(5)
        r["idle_mib"] = memory_mib(env, login)
        up = json.loads(me.run(UP, timeout=900)["stdout"].strip().splitlines()[-1])
        r["login_to_cluster_s"] = r["pod_start_s"] + up["seconds"]
        r["cluster_idle_mib"] = memory_mib(env, login)
        lab = json.loads(me.run(RUN_LAB, timeout=2400)["stdout"].strip().splitlines()[-1])
        r.update(ok=lab["ok"] and up["ok"], lab_s=lab["seconds"], error=lab["error"] if not lab["ok"] else "")

    def learner_or_error(login):  # a learner who fails is a row that says why, not a lost thread
        try:
            learner(login)
        except Exception as e:
            results.setdefault(login, {}).update(ok=False, lab_s=None, error=f"{type(e).__name__}: {e}"[:600])

    threading.Thread(target=sample, daemon=True).start()
    threads = [threading.Thread(target=learner_or_error, args=(login,)) for login in logins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    running.clear()
    for login in logins:
        results[login]["peak_mib"] = peak.get(login)
        kubectl(env, "delete", "pod", f"jupyter-{login}", "--wait=true", timeout=300)  # next round starts cold
    return results


def summary(n: int, results: dict, single: float | None) -> dict:
    labs = [r["lab_s"] for r in results.values() if r.get("lab_s") is not None] or [float("nan")]
    med = lambda key: statistics.median([r[key] for r in results.values() if r.get(key) is not None]  # noqa: E731
                                        or [float("nan")])
    return {"learners": n, "all_ok": all(r["ok"] for r in results.values()),
            "pod_start_s": med("pod_start_s"), "login_to_cluster_s": med("login_to_cluster_s"),
            "lab_median_s": statistics.median(labs), "lab_worst_s": max(labs),
            "worst_vs_one": max(labs) / single if single else 1.0,
            "idle_mib": med("idle_mib"), "cluster_idle_mib": med("cluster_idle_mib"), "peak_mib": med("peak_mib"),
            "errors": {k: r["error"] for k, r in results.items() if not r["ok"]}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", default="1,3", help="comma-separated round sizes (default 1,3)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", action="store_true", help="leave the class and the cluster for the next run")
    args = ap.parse_args()
    rounds = [int(x) for x in args.learners.split(",")]
    state = Path(tempfile.mkdtemp(prefix="bench-class-"))
    env = {**kind_class.environment(), "KJLAB_STATE": str(state)}
    passwords, figures = install(max(rounds), env, state)
    port = 18000 + os.getpid() % 1000
    forward = subprocess.Popen([str(tools.kubectl_path()), "--context", kind_class.CONTEXT, "-n", NAMESPACE,
                                "port-forward", "svc/proxy-public", f"{port}:80"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    out = {"install": figures, "rounds": []}
    try:
        single = None
        for n in rounds:
            results = one_round(n, f"http://127.0.0.1:{port}", passwords, env)
            row = summary(n, results, single)
            single = single or row["lab_median_s"]
            out["rounds"].append(row)
            print(json.dumps(row), flush=True)
    finally:
        forward.terminate()
        if not args.keep:
            subprocess.run([sys.executable, "-m", "kjlab.cli", "class", "down", "--kubernetes", kind_class.CONTEXT,
                            "--delete-volumes"], env=env)
    print(f"class up {figures['class_up_s']:.0f}s")
    print(f"{'N':>3} {'ok':>3} {'pod start':>9} {'login->cluster':>14} {'lab med':>8} {'worst':>6} {'x one':>6} "
          f"{'idle MiB':>8} {'+cluster':>8} {'peak':>6}")
    for r in out["rounds"]:
        print(f"{r['learners']:>3} {'yes' if r['all_ok'] else 'NO':>3} {r['pod_start_s']:>8.0f}s {r['login_to_cluster_s']:>13.0f}s "
              f"{r['lab_median_s']:>7.0f}s {r['lab_worst_s']:>5.0f}s {r['worst_vs_one']:>6.2f} {r['idle_mib']:>8.0f} "
              f"{r['cluster_idle_mib']:>8.0f} {r['peak_mib'] or 0:>6.0f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0 if all(r["all_ok"] for r in out["rounds"]) else 1


if __name__ == "__main__":
    sys.exit(main())
