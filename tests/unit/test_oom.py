"""kjlab.oom reads the memory cgroup's OOM-kill counter the way the kernel writes it (v1 and v2 files
laid out in a temporary directory, as a container sees them) and says a kill once."""

import json

from kjlab import oom

V1_OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill {n}\n"
V2_EVENTS = "low 0\nhigh 0\nmax 12\noom 1\noom_kill {n}\noom_group_kill 0\n"
HOST_V1 = "12:memory:/kubepods/burstable/pod1/abc\n11:cpu,cpuacct:/kubepods/burstable/pod1/abc\n0::/\n"


def v1_container(root, n, limit="2147483648"):
    # runc mounts the container's own memory cgroup at /sys/fs/cgroup/memory; /proc/self/cgroup names the host path
    (root / "memory").mkdir(parents=True, exist_ok=True)
    (root / "memory" / "memory.oom_control").write_text(V1_OOM_CONTROL.format(n=n))
    (root / "memory" / "memory.limit_in_bytes").write_text(limit + "\n")


def test_v1_in_a_container_reads_the_mounted_subtree_and_the_limit(tmp_path):
    v1_container(tmp_path, 3)
    got = oom.read(tmp_path, HOST_V1)
    assert got == oom.Reading(str(tmp_path / "memory"), 3, 2 * 2**30)


def test_v1_without_a_limit_and_a_kernel_that_does_not_count(tmp_path):
    v1_container(tmp_path, 0, limit="9223372036854771712")
    assert oom.read(tmp_path, HOST_V1).limit_bytes is None
    (tmp_path / "memory" / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\n")  # before 4.13
    assert oom.read(tmp_path, HOST_V1) is None


def test_v2_reads_this_process_cgroup_then_the_namespace_root(tmp_path):
    (tmp_path / "user.slice").mkdir()
    (tmp_path / "user.slice" / "memory.events").write_text(V2_EVENTS.format(n=2))
    (tmp_path / "user.slice" / "memory.max").write_text("max\n")
    assert oom.read(tmp_path, "0::/user.slice\n") == oom.Reading(str(tmp_path / "user.slice"), 2, None)
    (tmp_path / "memory.events").write_text(V2_EVENTS.format(n=5))  # a container with a cgroup namespace: 0::/
    (tmp_path / "memory.max").write_text("1073741824\n")
    assert oom.read(tmp_path, "0::/\n") == oom.Reading(str(tmp_path), 5, 2**30)
    # the kubelet's default on cgroup v2: a kill ends the whole container (memory.oom.group = 1)
    (tmp_path / "memory.oom.group").write_text("1\n")
    assert oom.read(tmp_path, "0::/\n") == oom.Reading(str(tmp_path), 5, 2**30, group_kill=True)


def test_nothing_readable_is_none(tmp_path):
    assert oom.read(tmp_path, HOST_V1) is None
    assert oom.read(tmp_path, "") is None


def test_a_kill_is_said_once_with_the_limit_and_a_first_look_or_a_new_container_says_nothing(tmp_path, monkeypatch):
    record = tmp_path / "state" / "oom-kills.json"
    counts = iter([1, 1, 3, 3, 0, 1])
    monkeypatch.setattr(oom, "read", lambda: oom.Reading("/sys/fs/cgroup/memory", next(counts), 2 * 2**30))
    said = [oom.since_last_look(record) for _ in range(6)]
    assert said[0] is None  # first look: a kill before it is not news
    assert said[1] is None
    assert "ended 2 process(es)" in said[2] and "limit 2.0 GiB" in said[2]
    assert said[3] is None  # said once
    assert said[4] is None  # a new container: its cgroup starts at 0
    assert "ended 1 process(es)" in said[5]
    assert json.loads(record.read_text()) == {"where": "/sys/fs/cgroup/memory", "oom_kills": 1}


def test_an_unwritable_state_directory_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(oom, "read", lambda: oom.Reading("/x", 1, None))
    assert oom.since_last_look(blocker / "sub" / "oom-kills.json") is None
