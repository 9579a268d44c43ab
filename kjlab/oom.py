"""Has the learner's memory run out since kjlab last looked? A learner's server in a classroom pod
has a memory limit (the chart's ``singleuser.memory.limit``). When it is reached the kernel's OOM
killer ends a process in the container: the notebook's kernel (JupyterLab then says only that the
kernel "appears to have died"), the lab cluster's API server, or the server itself (the kubelet
starts the container again: KubeSpawner's pods are ``restartPolicy: OnFailure``). The next
``kjlab.Lab(...)`` reads the container's memory cgroup and says, once, that this happened.

Where one process at a time is killed, that is: nodes on cgroup v1, or on cgroup v2 with the
kubelet's ``singleProcessOOMKill: true``. By default on cgroup v2 the kubelet sets the container's
``memory.oom.group`` to 1 (pkg/kubelet/kubelet.go, singleProcessOOMKill; kuberuntime_container_linux.go),
so the kernel ends every process of the container at once, the container starts again with a new
cgroup counting from 0, and nothing inside it can tell why the old one ended (the pod's
``lastState.terminated`` says reason ``OOMKilled``, exit code 137: the reason is the container
runtime's, set on an OOM event in the container's cgroup). ``Reading.group_kill`` is True there.

The counters are the kernel's: cgroup v2 ``memory.events`` ``oom_kill`` (Documentation/admin-guide/
cgroup-v2.rst: "The number of processes belonging to this cgroup killed by any kind of OOM killer",
this cgroup and its descendants), cgroup v1 ``memory.oom_control`` ``oom_kill`` (kernels since 4.13;
Documentation/admin-guide/cgroup-v1/memory.rst, "memory.oom_control").
A first look only records the count: kills before it are not news. A count lower than the one
recorded is a new container (its cgroup starts at 0): recorded again, not reported, since a
restarted container cannot tell from its own cgroup why the one before it ended.

That is what ``restarts_since_last_look`` is for: in a pod of the Kubernetes hub it asks the hub's
kjlab-results service (kjlab/classroom/verdict_service.py, GET .../server, with the learner's own API
token) how the server container's previous run ended, and says so once per restart.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
UNLIMITED_V1 = 1 << 62  # v1 writes PAGE_COUNTER_MAX * page size (about 2**63) for "no limit"


@dataclass(frozen=True)
class Reading:
    where: str                 # the cgroup directory read (a new container has another)
    oom_kills: int
    limit_bytes: int | None    # None: no limit
    group_kill: bool = False   # cgroup v2 memory.oom.group = 1: a kill ends the whole container


def _field(text: str, name: str) -> int | None:
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return None


def parse_v2(where: str, events: str, memory_max: str, oom_group: str = "0") -> Reading | None:
    kills = _field(events, "oom_kill")
    if kills is None:
        return None
    limit = memory_max.strip()
    return Reading(where, kills, int(limit) if limit.isdigit() else None, oom_group.strip() == "1")


def parse_v1(where: str, oom_control: str, limit_in_bytes: str) -> Reading | None:
    kills = _field(oom_control, "oom_kill")  # kernels before 4.13 do not count: nothing to say
    if kills is None:
        return None
    limit = limit_in_bytes.strip()
    return Reading(where, kills, int(limit) if limit.isdigit() and int(limit) < UNLIMITED_V1 else None)


def _own_paths(proc_self_cgroup: str) -> tuple[str | None, str | None]:
    """(the v2 path, the v1 memory path) of this process, from /proc/self/cgroup."""
    v2 = v1 = None
    for line in proc_self_cgroup.splitlines():
        number, _, rest = line.partition(":")
        subsystems, _, path = rest.partition(":")
        if number == "0" and subsystems == "":
            v2 = path
        elif "memory" in subsystems.split(","):
            v1 = path
    return v2, v1


def read(root: Path = CGROUP, proc_self_cgroup: str | None = None) -> Reading | None:
    """This process's memory cgroup as the kernel shows it, or None where it cannot be read."""
    try:
        text = proc_self_cgroup if proc_self_cgroup is not None else Path("/proc/self/cgroup").read_text()
    except OSError:
        return None
    v2, v1 = _own_paths(text)
    # Inside a container the cgroup mount is the container's own subtree, while /proc/self/cgroup may
    # still name the host's full path (cgroup v1 without a cgroup namespace): the mount's top is it.
    candidates = []
    if v1 is not None:
        candidates += [(root / "memory" / v1.lstrip("/"), parse_v1, "memory.oom_control", "memory.limit_in_bytes"),
                       (root / "memory", parse_v1, "memory.oom_control", "memory.limit_in_bytes")]
    if v2 is not None:
        candidates += [(root / v2.lstrip("/"), parse_v2, "memory.events", "memory.max"),
                       (root, parse_v2, "memory.events", "memory.max")]
    for directory, parse, counter, limit in candidates:
        try:
            texts = [(directory / counter).read_text(), (directory / limit).read_text()]
        except OSError:
            continue
        if parse is parse_v2:
            try:
                texts.append((directory / "memory.oom.group").read_text())
            except OSError:  # before Linux 4.19 there is no group kill
                pass
        return parse(str(directory), *texts)
    return None


def news(previous: dict | None, now: Reading) -> str | None:
    """The line to show for ``now`` after the reading recorded as ``previous``, or None."""
    if not previous or previous.get("where") != now.where or now.oom_kills <= previous.get("oom_kills", 0):
        return None
    count = now.oom_kills - previous["oom_kills"]
    # the counter rises for whichever OOM killer acted (this group's limit, a parent's, the machine's)
    limit = f"memory limit {now.limit_bytes / 2**30:.1f} GiB" if now.limit_bytes else "no memory limit of its own"
    return (f"kjlab: memory ran out since the last look: the kernel's OOM killer ended {count} process(es) "
            f"in this server's memory group ({limit}). If your notebook's kernel restarted, that was why; "
            "if it ended your lab cluster, kjlab.Lab() starts it again. Shut down the kernels you are not "
            "using (Kernel > Shut Down All Kernels, or the Running tab) to make room.")


def since_last_look(record: Path) -> str | None:
    """Read the cgroup, compare with the reading recorded in ``record`` (a file in kjlab's state
    directory), record this one; the line to show or None. Never raises: a record that cannot be
    written only means no record. (This module imports nothing of kjlab's, so the test on kind runs it
    inside a plain container.)"""
    now = read()
    if now is None:
        return None
    return news(_swap(record, {"where": now.where, "oom_kills": now.oom_kills}), now)


def _swap(record: Path, new: dict) -> dict | None:
    """Write ``new`` into ``record`` and return what it held before (None: nothing readable). A record
    that cannot be written only means no record next time."""
    try:
        previous = json.loads(record.read_text())
    except (OSError, ValueError):
        previous = None
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(new))
    except OSError:
        pass
    return previous


def restart_news(previous: dict | None, answer: dict, limit_bytes: int | None = None) -> str | None:
    """The line to show for the hub's ``answer`` about the learner's server pod (verdict_service.
    server_restarts) after the one recorded as ``previous``, or None: said once per ended run."""
    last = answer.get("last")
    if not last or (previous and previous.get("pod") == answer.get("pod")
                    and previous.get("finishedAt") == last.get("finishedAt")):
        return None
    when = (last.get("finishedAt") or "an unknown time").replace("T", " ").replace("Z", " UTC")
    if last.get("reason") == "OOMKilled" and last.get("exitCode") == 137:
        limit = f" ({limit_bytes / 2**30:.1f} GiB)" if limit_bytes else ""
        return (f"kjlab: your server was started again after it ran out of memory at {when}: the container "
                f"reached its memory limit{limit} (reason OOMKilled) and every process in it ended, your "
                "notebooks' kernels and your lab cluster with them. Your files are kept; kjlab.Lab() starts "
                "a new lab cluster. Shut down the kernels you are not using (Kernel > Shut Down All Kernels, "
                "or the Running tab) to make room.")
    killed = (" It was killed (exit code 137, SIGKILL), most often for the memory limit: shut down the kernels "
              "you are not using.") if last.get("exitCode") == 137 else ""
    return (f"kjlab: your server was started again: its previous run ended at {when} with reason "
            f"{last.get('reason')}, exit code {last.get('exitCode')}.{killed} Your files are kept; kjlab.Lab() "
            "starts a new lab cluster.")


def ask_hub(url: str, token: str, timeout: float = 3.0) -> dict | None:
    """The hub's answer about the learner's server pod, or None where it gives none."""
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def restarts_since_last_look(record: Path, url: str | None = None, token: str | None = None) -> str | None:
    """In a learner's pod of the Kubernetes hub ($KJLAB_RESULTS_URL and $JUPYTERHUB_API_TOKEN set):
    ask the hub how the server container's previous run ended, compare with ``record``, record the
    answer; the line to show or None. Elsewhere, or when the hub does not answer, None. Never raises."""
    verdict_url = url or os.environ.get("KJLAB_RESULTS_URL") or ""
    token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
    if not verdict_url.rstrip("/").endswith("/verdict") or not token:
        return None
    answer = ask_hub(verdict_url.rstrip("/")[:-len("verdict")] + "server", token)
    if answer is None:
        return None
    previous = _swap(record, {"pod": answer.get("pod"), "finishedAt": (answer.get("last") or {}).get("finishedAt")})
    now = read()
    return restart_news(previous, answer, now.limit_bytes if now else None)
