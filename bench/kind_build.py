"""Cold and warm times of the offline kind build (tools/kind/build.sh), piece by piece.

    python3 bench/kind_build.py [--cold-go] [--keep]

Runs `tools/kind/build.sh node-image` three times in a throwaway cache (KJLAB_CACHE) and a
throwaway image repository, so nothing the lab uses is touched:
  cold    no piece cached: every Go piece, the Debian root filesystem and the image are built
  image   pieces cached, node image absent (what `kjlab up` does after `kjlab down` removed it)
  warm    everything present
The kwok engine's tools (tools/build.sh) are linked in from the real cache, as CI builds them
first. --cold-go starts from an empty Go build cache instead (GOCACHE; the module cache stays) and
rebuilds the kwok tools too, as a fresh CI machine does: slow (20-30 min on 2 cores).
Needs root and a Docker engine, like the build itself. Prints one table; --keep keeps the cache dir.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "tools" / "kind" / "build.sh"
LINE = re.compile(r"^\[kind-build (\d+)s\] (.*)$")
BUILT = re.compile(r"^([\w-]+): built in (\d+)s$")


def run(env: dict) -> tuple[float, dict[str, int], str]:
    """One build; returns wall seconds, seconds per step, and the image printed."""
    start = time.monotonic()
    proc = subprocess.Popen([str(BUILD), "node-image"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.monotonic() - start
    sys.stderr.write(err)
    if proc.returncode != 0:
        raise SystemExit(f"bench/kind_build.py: the build failed (exit {proc.returncode}); see above")
    steps: dict[str, int] = {}
    marks = []  # (t, message) of every progress line, to time the Docker steps between them
    for line in err.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        t, msg = int(m.group(1)), m.group(2)
        marks.append((t, msg))
        b = BUILT.match(msg)
        if b:
            steps[b.group(1)] = int(b.group(2))
    docker_steps = {"docker import": "debian-import", "kind base image": "base-image",
                    "component images": "component-images", "release tarball": "release-tarball",
                    "kind build node-image": "kind-node-image"}
    for (t, msg), nxt in zip(marks, marks[1:] + [(round(wall), "")]):
        for prefix, name in docker_steps.items():
            if msg.startswith(prefix):
                steps[name] = nxt[0] - t
    return wall, steps, out.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold-go", action="store_true", help="start from an empty GOCACHE")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway cache directory")
    args = ap.parse_args()

    real_tools = subprocess.run(["bash", str(ROOT / "tools" / "build.sh"), "--print-dir"],
                                capture_output=True, text=True, check=True).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="kjlab-kind-bench.", dir="/var/tmp"))
    env = dict(os.environ, KJLAB_CACHE=str(tmp / "cache"), KJLAB_NODE_IMAGE_REPO="kjlab.local/kind-node-bench")
    if args.cold_go:
        env["GOCACHE"] = str(tmp / "gocache")
    else:  # reuse the kwok tools as CI would have them (built first, same Go cache)
        link = tmp / "cache" / "tools" / Path(real_tools).parent.name
        link.parent.mkdir(parents=True)
        link.symlink_to(Path(real_tools).parent)
    results = {}
    image = ""
    try:
        for phase in ("cold", "image", "warm"):
            if phase == "image":
                subprocess.run(["docker", "rmi", image], capture_output=True)
            print(f"== {phase}", file=sys.stderr)
            results[phase] = run(env)
            image = results[phase][2]
    finally:
        if image:
            subprocess.run(["docker", "rmi", image], capture_output=True)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"cache kept in {tmp}", file=sys.stderr)

    names = []
    for _, steps, _ in results.values():
        names += [n for n in steps if n not in names]
    print(f"{'piece':<24}{'cold':>8}{'image':>8}{'warm':>8}")
    for n in names:
        cells = "".join(f"{(str(results[p][1][n]) + 's') if n in results[p][1] else '-':>8}" for p in results)
        print(f"{n:<24}{cells}")
    print(f"{'total (wall)':<24}" + "".join(f"{results[p][0]:>7.0f}s" for p in results))
    size = subprocess.run(["du", "-sh", str(tmp / "cache" / "kind")], capture_output=True, text=True).stdout.split()
    if size:
        print(f"pieces cache: {size[0]}")


if __name__ == "__main__":
    main()
