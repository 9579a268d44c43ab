"""The classroom images (tools/classroom/build.sh): size, cold and cached build time, and the
learner container's memory idle, with its kwok lab cluster up and (--lab01) while lab 01 runs.

    python3 bench/classroom_image.py [--images learner,hub] [--skip-build] [--lab01] [--json FILE]

Build: each image is built twice under a throwaway image repository (KJLAB_CLASSROOM_IMAGE_REPO)
and a throwaway cache (KJLAB_CACHE: an empty pip cache), so the lab's own images and caches are
not touched:
  cold     no stage cached: apt-get, the venv from PyPI (and npm for the hub), then kjlab, the
           handout and the cluster tools. Its prerequisites are not counted: tools/kind/build.sh's
           Debian image and tools/build.sh's cluster tools (linked in through KJLAB_BIN_DIR).
  cached   the same command again (nothing changed: it finds the image)
The throwaway images are removed at the end. Memory: the lab's learner image (built if missing),
running JupyterLab's server as uid 1000 as a learner's pod would (`jupyter lab`, the server
jupyterhub-singleuser extends), sampled with `docker stats`: idle, then after `kjlab up --engine
kwok` in the container, and with --lab01 every 2 s while lab 01 (FAST) runs in it through nbconvert
(a kernel, as the learner's). Needs a Docker engine; prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "tools" / "classroom" / "build.sh"
LINE = re.compile(r"^\[classroom-build (\d+)s\] (\w+) (os stage|venv stage|image): (.*)$")
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def sh(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise SystemExit(f"bench/classroom_image.py: `{' '.join(args)}` failed: {proc.stderr.strip()[-600:]}")
    return proc


def build(image: str, env: dict, *options: str) -> tuple[float, dict[str, int], str]:
    """One build; wall seconds, seconds per stage (from the progress lines), the image name."""
    start = time.monotonic()
    proc = sh("bash", str(BUILD), image, *options, env=env)
    wall = time.monotonic() - start
    marks = []
    for line in proc.stderr.splitlines():
        m = LINE.match(line)
        if m:
            marks.append((int(m.group(1)), m.group(3), m.group(4)))
    stages: dict[str, int] = {}
    for (t, stage, _msg), nxt in zip(marks, marks[1:] + [(round(wall), "", "")]):
        name = stage.split()[0] if stage != "image" else "final"
        stages[name] = stages.get(name, 0) + nxt[0] - t
    return wall, stages, proc.stdout.split()[-1]


def bench_builds(images: list[str]) -> dict:
    tools = sh("bash", str(ROOT / "tools" / "build.sh"), "--print-dir").stdout.strip()
    cache = Path(tempfile.mkdtemp(prefix="kjlab-bench-classroom-"))
    repo = f"kjlab.local/bench-{os.getpid()}"
    env = {**os.environ, "KJLAB_CACHE": str(cache), "KJLAB_BIN_DIR": os.environ.get("KJLAB_BIN_DIR", tools),
           "KJLAB_CLASSROOM_IMAGE_REPO": repo}
    out = {}
    try:
        for image in images:
            print(f"building {image} cold under {repo} ...", file=sys.stderr)
            cold, stages, name = build(image, env, "--force")  # --force: not even Docker's layer cache
            cached, _, again = build(image, env)
            assert again == name, (name, again)
            size = int(sh("docker", "image", "inspect", "-f", "{{.Size}}", name).stdout)
            out[image] = {"cold_s": round(cold, 1), "cold_stages_s": stages, "cached_s": round(cached, 1),
                          "size_bytes": size}
    finally:
        listed = sh("docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split()
        mine = [ref for ref in listed if ref.startswith(repo + "/")]
        if mine:
            sh("docker", "rmi", *mine, check=False)
        shutil.rmtree(cache, ignore_errors=True)
    return out


def mem_bytes(container: str) -> tuple[float, float]:
    """(memory bytes, CPU %) from one `docker stats` sample."""
    usage, cpu = sh("docker", "stats", "--no-stream", "--format", "{{.MemUsage}}|{{.CPUPerc}}", container).stdout.strip().split("|")
    value = usage.split("/")[0].strip()
    m = re.match(r"([\d.]+)\s*([A-Za-z]+)", value)
    return float(m.group(1)) * UNITS[m.group(2)], float(cpu.rstrip("%"))


def sample(container: str, n: int = 5, gap: float = 2.0) -> dict:
    mems, cpus = [], []
    for _ in range(n):
        mem, cpu = mem_bytes(container)
        mems.append(mem)
        cpus.append(cpu)
        time.sleep(gap)
    return {"mem_mib": round(statistics.median(mems) / 2**20, 1), "cpu_pct": round(statistics.median(cpus), 1)}


def bench_memory(lab01: bool = False) -> dict:
    learner = sh("bash", str(BUILD), "learner").stdout.split()[-1]
    name = f"{os.environ.get('KJLAB_TEST_CONTAINER_PREFIX', 'kjlab-bench')}-learner-{os.getpid()}"
    sh("docker", "run", "-d", "--name", name, "--user", "1000:100", learner,
       "jupyter", "lab", "--ip=127.0.0.1", "--no-browser", "--ServerApp.token=bench")
    try:
        # bounded by the server answering, not by a fixed wait
        deadline = time.monotonic() + 120
        while sh("docker", "exec", name, "curl", "-fsS", "http://127.0.0.1:8888/api", check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise SystemExit("bench/classroom_image.py: JupyterLab did not answer in the learner container within 120 s")
            time.sleep(1)
        time.sleep(5)  # let start-up work (extension loading) finish before sampling
        idle = sample(name)
        start = time.monotonic()
        sh("docker", "exec", name, "kjlab", "up", "--engine", "kwok")
        up_s = time.monotonic() - start
        time.sleep(10)  # the controllers' first sync
        with_cluster = sample(name)
        lab = run_lab01(name) if lab01 else None
        sh("docker", "exec", name, "kjlab", "down", "--engine", "kwok", check=False)
    finally:
        sh("docker", "rm", "-f", name, check=False)
    return {"image": learner, "idle": idle, "with_kwok_cluster": with_cluster, "kjlab_up_s": round(up_s, 1),
            "lab01": lab}


FAST_COPY = """
import json, pathlib
src = pathlib.Path.home() / "labs" / "01-failjob.ipynb"
nb = json.loads(src.read_text())
for cell in nb["cells"]:
    if cell["cell_type"] == "code" and "FAST = False" in "".join(cell["source"]):
        cell["source"] = "".join(cell["source"]).replace("FAST = False", "FAST = True")
        break
else:
    raise SystemExit("lab 01 has no `FAST = False` parameters line any more: update bench/classroom_image.py")
(src.parent / "01-fast.ipynb").write_text(json.dumps(nb))
"""


def run_lab01(name: str) -> dict:
    """Lab 01 (FAST) executed in the learner container as bench/classroom.py runs it for a Unix
    learner (nbconvert: a kernel like the learner's), with docker stats sampled all along."""
    import threading

    sh("docker", "exec", name, "python", "-c", FAST_COPY)
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            samples.append(mem_bytes(name))  # each sample takes about 2 s (docker stats measures CPU)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    start = time.monotonic()
    proc = sh("docker", "exec", "-w", "/home/learner/labs", name, "jupyter", "nbconvert", "--to", "notebook",
              "--execute", "--ExecutePreprocessor.timeout=1500", "--output", "01-fast-executed.ipynb",
              "01-fast.ipynb", check=False)
    seconds = time.monotonic() - start
    stop.set()
    thread.join()
    mems = [m for m, _ in samples]
    cpus = [c for _, c in samples]
    return {"ok": proc.returncode == 0, "seconds": round(seconds, 1),
            "error": "" if proc.returncode == 0 else proc.stderr.strip().splitlines()[-1:],
            "mem_mib_peak": round(max(mems) / 2**20, 1), "mem_mib_median": round(statistics.median(mems) / 2**20, 1),
            "cpu_pct_median": round(statistics.median(cpus), 1), "cpu_pct_peak": round(max(cpus), 1),
            "samples": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default="learner,hub")
    parser.add_argument("--skip-build", action="store_true", help="only the memory figures")
    parser.add_argument("--lab01", action="store_true", help="also run lab 01 (FAST, ~8 min) in the container and sample it")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures = {"builds": {} if args.skip_build else bench_builds(args.images.split(",")), "memory": bench_memory(args.lab01)}
    print(f"{'image':8} {'size':>8} {'cold build':>11} {'(os/venv/final s)':>18} {'cached':>7}")
    for image, f in figures["builds"].items():
        st = f["cold_stages_s"]
        print(f"{image:8} {f['size_bytes'] / 1e9:>6.2f}GB {f['cold_s']:>10.0f}s "
              f"{st.get('os', 0):>6}/{st.get('venv', 0)}/{st.get('final', 0):<6} {f['cached_s']:>6.1f}s")
    m = figures["memory"]
    print(f"learner container ({m['image']}), docker stats medians of 5 samples:")
    print(f"  idle JupyterLab server:      {m['idle']['mem_mib']:>7.1f} MiB  {m['idle']['cpu_pct']:>5.1f}% CPU")
    print(f"  + kwok lab cluster up:       {m['with_kwok_cluster']['mem_mib']:>7.1f} MiB  "
          f"{m['with_kwok_cluster']['cpu_pct']:>5.1f}% CPU  (kjlab up took {m['kjlab_up_s']:.1f}s)")
    lab = m["lab01"]
    if lab:
        print(f"  lab 01 (FAST) in the container: {'every check right' if lab['ok'] else 'FAILED ' + str(lab['error'])} "
              f"in {lab['seconds']:.0f}s; memory median {lab['mem_mib_median']:.0f} MiB, peak {lab['mem_mib_peak']:.0f} MiB; "
              f"CPU median {lab['cpu_pct_median']:.0f}%, peak {lab['cpu_pct_peak']:.0f}% ({lab['samples']} samples)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
