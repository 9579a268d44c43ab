"""Which process holds something kjlab made: ``host/pid``, written on the object (a run's namespace,
a node a drain cordoned) so another process can tell a live holder from one that is gone (killed,
its kernel restarted) and undo what it left."""

from __future__ import annotations

import os
import socket

# While a kjlab drain runs, the node it cordoned names the drain's process; the drain takes the name off
# when it ends, whichever way (kubectl's way: a finished drain leaves the node cordoned). A drain killed
# before it could (SIGKILL, a dead kernel) leaves a node that `kjlab status` names and `kjlab up` uncordons;
# a cordon made on purpose (`kubectl cordon`, ops.cordon, a drain that finished) carries no name.
DRAINING = "kjlab.io/draining"


def me() -> str:
    """This process, as written on what it holds."""
    return f"{socket.gethostname()}/{os.getpid()}"


def alive_elsewhere(holder: str) -> bool:
    """True when ``holder`` (host/pid) is another process that still runs on this machine. A holder
    on another host cannot be checked, so it counts as alive: refusing is the safe side."""
    host, _, pid = holder.partition("/")
    if not holder or not pid.isdigit():
        return False
    if host != socket.gethostname():
        return True
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone(holder: str) -> bool:
    """``holder`` was a process of this machine that no longer runs (not this one, not another host's)."""
    return bool(holder) and holder != me() and not alive_elsewhere(holder)
