"""kjlab.oom on a real kernel: in a container with a memory limit, a process that outgrows it is
OOM-killed, and kjlab's own reader (kjlab/oom.py, run inside the container) counts that kill and
reads the limit from the memory cgroup the container sees -- the line a classroom learner is shown
when their kernel died for lack of memory. On cgroup v2 nodes the kubelet makes a kill end the whole
container instead (memory.oom.group = 1, pkg/kubelet/kubelet.go singleProcessOOMKill): the reader says
so (group_kill) and the test then asserts that real behaviour: the container ends OOMKilled."""

import subprocess
from pathlib import Path

from kubernetes import client

from kjlab.api import kube, readers, wait
from kjlab.cluster import tools

READER = (Path(__file__).resolve().parents[2] / "kjlab" / "oom.py").read_text()
LIMIT = 64 * 2**20


def _exec(ctx, ns, *command, stdin=None):
    return subprocess.run([str(tools.kubectl_path()), "--context", ctx, "-n", ns, "exec", "-i", "mem", "--", *command],
                          input=stdin, capture_output=True, text=True, timeout=120)


def _reading(ctx, ns):
    proc = _exec(ctx, ns, "python3", "-", stdin=READER + "\nr = read()\nprint(r.oom_kills, r.limit_bytes, r.group_kill, r.where)\n")
    assert proc.returncode == 0, proc.stderr
    kills, limit, group, where = proc.stdout.split()
    return int(kills), (None if limit == "None" else int(limit)), group == "True", where


def test_a_process_killed_for_the_limit_is_counted_with_the_limit(lab, ns):
    ctx = lab["context"]
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="mem"), spec=client.V1PodSpec(
        restart_policy="Never", containers=[client.V1Container(
            name="main", image="docker.io/library/python:3", command=["sleep", "600"],
            resources=client.V1ResourceRequirements(limits={"memory": str(LIMIT)}))]))
    kube.core(ctx).create_namespaced_pod(ns, pod)
    wait.pod(ctx, ns, lambda p: readers.phase(p) == "Running", "the pod to run", timeout=120, name="mem")
    before = _reading(ctx, ns)
    assert before[1] == LIMIT, before
    hog = _exec(ctx, ns, "python3", "-c", f"b = bytearray({4 * LIMIT}); print('survived')")
    print(f"reading before {before}; the hog exited {hog.returncode} ({hog.stdout.strip() or hog.stderr.strip()[-200:]})")
    assert hog.returncode == 137 and "survived" not in hog.stdout, (hog.returncode, hog.stdout, hog.stderr)
    if before[2]:  # cgroup v2, the kubelet's default: the whole container ended with the hog
        ended = wait.pod(ctx, ns, lambda p: readers.phase(p) == "Failed", "the pod to end", timeout=120, name="mem")
        assert (readers.terminated(ended) or {}).get("reason") == "OOMKilled", readers.terminated(ended)
        return
    after = _reading(ctx, ns)
    print(f"reading after {after}")
    assert after[0] == before[0] + 1 and after[1:] == before[1:], (before, after)
    # the container itself goes on: the killed process was not PID 1
    assert readers.phase(kube.raw(kube.core(ctx).read_namespaced_pod, "mem", ns)) == "Running"
