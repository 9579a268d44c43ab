"""The machine-wide lock that serialises kwokctl's port picks opens when another user made the file.

In a sticky world-writable directory the kernel refuses O_CREAT on another user's existing file, even
to root (fs.protected_regular): the lock was skipped silently for every user but the file's owner,
and two `up`s at once picked the same ports (CI, test_two_ups_at_once_get_different_ports)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from kjlab.cluster import kwok


def _protected_regular() -> int:
    try:
        return int(Path("/proc/sys/fs/protected_regular").read_text())
    except (OSError, ValueError):
        return 0


@pytest.mark.skipif(os.geteuid() != 0 or _protected_regular() == 0,
                    reason="needs root to give the file to another user, and fs.protected_regular on")
def test_another_users_lock_file_opens(tmp_path):
    sticky = tmp_path / "lock"
    sticky.mkdir()
    sticky.chmod(0o1777)
    path = sticky / "kjlab-kwokctl-ports.lock"
    path.touch(mode=0o644)
    os.chown(path, 65534, 65534)
    with pytest.raises(PermissionError):  # the kernel's rule the old open ran into
        os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    fd = kwok.open_lock(path)
    assert fd is not None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        other = kwok.open_lock(path)  # a second `up` meets the lock held
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(other)
    finally:
        os.close(fd)


def test_a_missing_lock_file_is_made_readable_to_all(tmp_path):
    path = tmp_path / "kjlab-kwokctl-ports.lock"
    old = os.umask(0o077)  # a learner's private umask must not lock the others out
    try:
        fd = kwok.open_lock(path)
    finally:
        os.umask(old)
    assert fd is not None
    os.close(fd)
    assert path.stat().st_mode & 0o777 == 0o644


def test_ports_are_read_from_kwokctls_first_document(tmp_path, monkeypatch):
    (tmp_path / "kwok.yaml").write_text(
        "kind: KwokctlConfiguration\noptions:\n  kubeApiserverPort: 32766\n  kubeControllerManagerPort: 32764\n"
        "  kubeSchedulerPort: 32763\n  kwokControllerPort: 32765\n---\nkind: Stage\nspec: {}\n")
    monkeypatch.setattr(kwok, "workdir", lambda: tmp_path)
    assert kwok._listening_ports() == {32766: "the API server", 32764: "the controller manager",
                                       32763: "the scheduler"}


def test_no_readable_kwok_yaml_means_no_ports_to_wait_for(tmp_path, monkeypatch):
    monkeypatch.setattr(kwok, "workdir", lambda: tmp_path)
    assert kwok._listening_ports() == {}  # missing
    (tmp_path / "kwok.yaml").write_text("options: [not, a, mapping\n")
    assert kwok._listening_ports() == {}  # not YAML


def test_a_lock_held_too_long_is_waited_for_within_a_bound_and_said(tmp_path, monkeypatch):
    """An `up` stopped with Ctrl-Z while it holds the lock must not stall every other `up` for good."""
    path = tmp_path / "kjlab-kwokctl-ports.lock"
    monkeypatch.setattr(kwok, "MACHINE_LOCK", path)
    monkeypatch.setattr(kwok, "LOCK_WAIT_SECONDS", 0.6)
    holder = kwok.open_lock(path)
    fcntl.flock(holder, fcntl.LOCK_EX)
    said = []
    try:
        with kwok._machine_lock(said.append):
            pass
    finally:
        os.close(holder)
    assert "waiting for another kjlab up" in said[0] and "at most 1 s" in said[0]
    assert "is still held" in said[1] and "going on without it" in said[1]


def test_a_lock_let_go_in_time_is_taken(tmp_path, monkeypatch):
    import threading

    path = tmp_path / "kjlab-kwokctl-ports.lock"
    monkeypatch.setattr(kwok, "MACHINE_LOCK", path)
    holder = kwok.open_lock(path)
    fcntl.flock(holder, fcntl.LOCK_EX)
    threading.Timer(0.5, os.close, [holder]).start()  # the other `up` is done
    said = []
    with kwok._machine_lock(said.append):
        other = kwok.open_lock(path)
        with pytest.raises(BlockingIOError):  # ours now
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(other)
    assert len(said) == 1 and "waiting for another kjlab up" in said[0]
