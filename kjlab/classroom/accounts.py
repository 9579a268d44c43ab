"""The class list and the learners' Unix accounts.

A class list is a text file, one learner a line: ``login`` or ``login  Display Name``; blank
lines and ``#`` comments are skipped. Each learner runs as the Unix user ``PREFIX + login``
(``kjlab-`` by default), so a learner's processes, HOME and cluster are theirs alone and the
machine's own accounts are never reused for a learner."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kjlab import files
from kjlab.errors import KjlabError

PREFIX = os.environ.get("KJLAB_LEARNER_PREFIX", "kjlab-")
# A login becomes part of a Unix user name (32 characters at most, portable characters only).
LOGIN = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")


@dataclass(frozen=True)
class Learner:
    login: str
    display: str

    @property
    def unix_user(self) -> str:
        return PREFIX + self.login


def parse_class_list(text: str, source: str = "class list") -> list[Learner]:
    """The learners of a class list; a bad line is one error that names it and says the fix."""
    learners: dict[str, Learner] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        login, _, display = line.partition(" ")
        login = login.strip().lower()
        if not LOGIN.match(login):
            raise KjlabError(
                f"{source}, line {number}: {raw.strip()!r} does not start with a login name",
                "each line is `login  Display Name`; a login is 1-24 lowercase letters, digits, - or _, "
                "starting with a letter",
            )
        if login in learners:
            raise KjlabError(f"{source}, line {number}: login {login!r} is listed twice",
                             "give each learner a login of their own (display names may repeat)")
        learners[login] = Learner(login, display.strip() or login)
    if not learners:
        raise KjlabError(f"{source} lists no learner", "one line per learner: `login  Display Name`")
    return list(learners.values())


def read_class_list(path: Path) -> list[Learner]:
    try:  # a regular text file of at most 1 MiB: --class-list /dev/zero is refused, not read forever
        text = files.read_text(path, "class list")
    except OSError as e:
        raise KjlabError(f"cannot read the class list {path}: {e}", "pass a UTF-8 text file, one learner a line")
    return parse_class_list(text, str(path))


def labels(learners: list[Learner]) -> dict[str, str]:
    """What the instructor sees for each login: the display name, with the login beside it when
    two learners share a display name (so the report never merges two people)."""
    counts: dict[str, int] = {}
    for lr in learners:
        counts[lr.display] = counts.get(lr.display, 0) + 1
    return {lr.login: lr.display if counts[lr.display] == 1 else f"{lr.display} ({lr.login})" for lr in learners}


def exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def ensure_user(user: str) -> pwd.struct_passwd:
    """Create the Unix user (own group, own HOME readable by nobody else) unless it exists.
    Only names with kjlab's learner prefix are created: the hub never takes over a machine account."""
    if not user.startswith(PREFIX):
        raise KjlabError(f"refusing to create {user!r}: learner accounts start with {PREFIX!r}")
    if not exists(user):
        subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", user],
                       check=True, capture_output=True)
    entry = pwd.getpwnam(user)
    os.chmod(entry.pw_dir, 0o700)  # HOME_MODE differs between distributions: say it here
    return entry


def remove_user(user: str) -> None:
    """Remove a learner account, its processes and its HOME (tests and `kjlab hub --remove-users`)."""
    if not user.startswith(PREFIX) or not exists(user):
        return
    import time

    deadline = time.monotonic() + 15
    while True:
        for pid in pids_of(user):  # this account's processes, each by its pid
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        # userdel refuses while the account still has a process (a dying one included): retry.
        if subprocess.run(["userdel", "--remove", user], capture_output=True).returncode in (0, 6, 12) \
                or time.monotonic() > deadline:
            return
        time.sleep(0.3)


def pids_of(user: str) -> list[int]:
    uid = pwd.getpwnam(user).pw_uid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def run_as(user: str, args: list[str], env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``args`` as ``user`` with a clean environment of that user's (HOME, USER, PATH) plus ``env``."""
    entry = pwd.getpwnam(user)
    base = {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8"}
    base.update(env or {})
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in base.items()), *args],
                          cwd="/", **kwargs)
