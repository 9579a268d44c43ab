"""Finding what an answer left running, for the sandbox tests: each answer starts a detached sleeper
(double fork + setsid, so it is re-parented away from the answer) whose command line carries a token
of its own; afterwards no process may carry it."""

import os
import secrets
import time

DETACH = ("    if os.fork() == 0:\n"
          "        os.setsid()\n"
          "        if os.fork() == 0:\n"
          "            os.execv('/bin/sleep', ['sleep', '{token}'])\n"
          "        os._exit(0)\n")


def token() -> str:
    return f"1000.{secrets.randbelow(10**9):09d}"  # a valid `sleep` argument nobody else uses


def left(token: str) -> list[int]:
    """Processes whose command line carries ``token``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def gone(token: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while left(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not left(token)


def started(token: str, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not left(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    return bool(left(token))


def caller_script(path, token: str, call: str) -> None:
    """A checker script at ``path`` whose answer detaches a sleeper and then sleeps; ``call`` is the
    script's last lines (how it calls sandbox.run)."""
    path.write_text("from kjlab import sandbox\n"
                    "code = sandbox.Code('''import os, time\ndef step():\n" + DETACH.format(token=token)
                    + "    time.sleep(60)\n''', 'step')\n" + call)
