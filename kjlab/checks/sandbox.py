"""Run a learner's code in a separate, locked-down process with a time limit.

A check that has to run code from an answer (today: ``mark_and_delete`` for ``config-issue-step``)
never runs it in the checker's own process. It hands the code's *source* to :func:`run`, which starts
a fresh Python process and gets back an :class:`Outcome`: the function returned, raised, did not
return in time, or could not be loaded.

What the child gets, and what it does not:

* a fresh interpreter (``python -I``) that loads the source: nothing of the checker's memory (no
  credentials already loaded, no clients), a **scrubbed environment** (``PATH``, ``LANG``, ``HOME`` and
  ``TMPDIR`` pointing at its own temp dir, plus what the caller passes, e.g. its own ``KUBECONFIG``;
  none of the checker's ``KUBECONFIG``, ``HOME``, cloud or SSH variables) and a **temp working
  directory** that is removed afterwards;
* **resource limits**: CPU seconds, address space, number of processes (``RLIMIT_NPROC``, against
  fork bombs), file size, open files, no core dumps;
* when the checker runs as root: the child runs as **a uid of its own**, unused by any process or
  account, chosen afresh for each check (no supplementary groups), so it cannot write anywhere a
  non-root user cannot, nor read root's files (the checker's kubeconfig and keys) -- nor reach another
  check's processes, its /proc entries (its working directory, its kubeconfig) or its process limit,
  as it could if every check ran as the same ``nobody``; and, when the kernel allows a private mount namespace, it gets empty ``/tmp``,
  ``/var/tmp``, ``/run/lock``, ``/dev/shm``, ``/root`` and ``/home`` of its own (what Python needs from
  them comes back read-only), so even the world-writable places of the machine stay untouched; and
  when it is given the API server's loopback address, a network namespace where only that address
  answers (forwarded by the supervisor);
* a **PID namespace of its own** (as root; as another user, inside a user namespace of its own where
  the kernel allows one): the child is process 1 there, a small init that reaps and ends when the
  answer's process ends -- and when a namespace's process 1 ends, the kernel kills every process in it,
  whatever ``setsid``, double forks or re-parenting did. Inside it the code sees and signals only its
  own processes, so one check cannot kill another's;
* a **wall-clock limit** on loading the code and another on the call (the first ``loaded`` line starts
  the call's clock; writing it again does not re-arm it); at the end -- in time or not, on Ctrl-C, on
  SIGTERM, on any error of the supervisor -- every process the code started is killed. Where no PID
  namespace can be had, the supervisor is the *child subreaper* of everything below it and kills what it
  finds, round after round.

When the checker does not run as root, the child runs as the checker's own user: it can then read
what that user can read. That is why ``kjlab check`` only runs a ``.py`` answer file as a non-root
user when the file is that user's own (see ``kjlab.answers``).

The module is stdlib-only: this file is also the supervisor (``--supervise``) and the runner
(``--run``) of the child, started as a script, so neither imports the ``kjlab`` package before the
learner's code does.
"""

from __future__ import annotations

import ast
import dis
import inspect
import json
import os
import sys
import textwrap
import time
import types
from dataclasses import asdict, dataclass, field

# Each check run as root gets a uid of its own from this range: no account, file or process has one
# (a uid is checked to be unused before it is taken).
CHECK_UIDS = (0x60000000, 0x6FFFFFFF)
OUTPUT_TAIL = 4000            # characters of the child's stdout/stderr kept for the verdict


class NotSendable(Exception):
    """The function cannot be sent to a separate process (no source, or it uses an object)."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


@dataclass
class Code:
    """Code to run in the child: a module's source and the name of the function to call in it."""

    source: str
    function: str
    origin: str = "<answer>"      # a file name, or "<notebook>"


@dataclass
class Limits:
    call_seconds: float = 20.0     # the function must return within this
    load_seconds: float = 30.0     # importing (kjlab, kubernetes) and running the module's top level
    memory_bytes: int = 2 << 30    # address space
    processes: int = 32            # RLIMIT_NPROC above what the child's user already runs
    file_bytes: int = 1 << 20      # largest file the child may write (its output file included)
    open_files: int = 256


@dataclass
class Outcome:
    status: str                    # returned | raised | timeout | load-timeout | load-error | no-function | died |
                                   # start-error | interrupted | supervisor-error
    detail: str = ""               # the error, one line
    output: str = ""               # the tail of what the code printed
    seconds: float = 0.0           # how long the call took
    user: str = ""                 # who the code ran as
    private_tmp: bool = False      # /tmp & co. were private to the child
    private_network: bool = False  # the child's network reached only the one address it was given
    limits: dict = field(default_factory=dict)
    private_pids: bool = False     # the child ran in a PID namespace of its own (killed whole at the end)

    @property
    def returned(self) -> bool:
        return self.status == "returned"

    def explanation(self, what: str = "your function") -> str:
        """What happened, in one line a learner can act on."""
        call, load = self.limits.get("call_seconds"), self.limits.get("load_seconds")
        return {
            "returned": f"{what} returned",
            "raised": self.detail,
            "timeout": f"{what} did not return within {call:g} s: the check stopped it" if call else "timeout",
            "load-timeout": f"your code did not finish loading within {load:g} s (a loop at the top level?): "
                            "the check stopped it" if load else "load timeout",
            "load-error": f"your code could not be loaded: {self.detail}",
            "no-function": self.detail,
            "died": f"{what} ended its process: {self.detail}",
            "start-error": f"the check could not start a process for {what}: {self.detail}",
            "interrupted": f"the check was interrupted; {what} and every process it started were stopped",
            "supervisor-error": f"the check failed while it ran {what} ({self.detail}); {what} and every process "
                                "it started were stopped",
        }.get(self.status, self.detail)


# --- from a function object to source ----------------------------------------------------------

def _global_names(code: types.CodeType) -> list[str]:
    names: list[str] = []
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval not in names:
            names.append(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += [n for n in _global_names(const) if n not in names]
    return names


def _is_literal(value) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except Exception:
        return False


def _installed(module: str) -> bool:
    """Can the child import ``module``? True for the standard library and installed packages
    (kjlab included); not for a notebook's neighbour files, which are not on the child's path."""
    top = sys.modules.get(module.split(".")[0])
    file = getattr(top, "__file__", None)
    if top is None:
        return False
    if file is None:
        return True  # built in
    file = os.path.realpath(file)
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # kjlab/
    return any(file.startswith(r + os.sep) or file == r for r in roots)


def _importable(value) -> str | None:
    """`from M import N` for a function or class an installed module defines at its top level."""
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
    if not module or module == "__main__" or "." in qualname or "<" in qualname or not _installed(module):
        return None
    if getattr(sys.modules.get(module), qualname, None) is value:
        return f"from {module} import {qualname}"
    return None


def _function_source(fn) -> str:
    """The source of one function, without its decorators, dedented."""
    name = getattr(fn, "__name__", "?")
    fix = ("define it with `def` in a notebook cell and run that cell, or save it in a .py file and check that "
           "file: kjlab check config-issue-step --answer FILE.py")
    if not isinstance(fn, types.FunctionType):
        raise NotSendable(f"the check runs your function in a separate process from its source; {name!r} is a "
                          f"{type(fn).__name__}, not a function defined with def", fix)
    if fn.__name__ == "<lambda>":
        raise NotSendable("the check runs your function in a separate process from its source, and a lambda has "
                          "no source of its own", fix)
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as e:
        raise NotSendable(f"the check runs your function in a separate process from its source, and Python cannot "
                          f"find the source of {name} ({e})", fix) from None
    tree = ast.parse(source)
    node = tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise NotSendable(f"the source Python finds for {name} is not a def", fix)
    return "\n".join(source.splitlines()[node.lineno - 1:]) + "\n"


def from_function(fn, _seen: set | None = None) -> Code:
    """The source of ``fn`` plus what it uses from its notebook, as one module for the child.

    What the function uses goes along: modules as imports, functions and classes of an importable
    module as imports, other functions of the notebook by their own source, plain values (numbers,
    strings, lists, dicts of those) by value. Anything else -- an open client, an object -- cannot be
    sent to another process: the learner is told to create it inside the function.
    """
    seen = _seen if _seen is not None else set()
    seen.add(fn.__name__ if isinstance(fn, types.FunctionType) else id(fn))
    body = _function_source(fn)
    values = dict(fn.__globals__)
    if fn.__closure__:
        values.update({n: c.cell_contents for n, c in zip(fn.__code__.co_freevars, fn.__closure__)
                       if _has_contents(c)})
    names = _global_names(fn.__code__) + [n for n in fn.__code__.co_freevars if n not in _global_names(fn.__code__)]
    prelude: list[str] = []
    import builtins

    for name in names:
        if name not in values:
            continue  # a builtin, or a NameError the learner will see when it runs
        if hasattr(builtins, name) and getattr(builtins, name) is values[name]:
            continue
        value = values[name]
        if isinstance(value, types.ModuleType):
            prelude.append(f"import {value.__name__} as {name}" if value.__name__ != name else f"import {name}")
        elif (line := _importable(value)) is not None:
            prelude.append(line + (f" as {name}" if value.__name__ != name else ""))
        elif isinstance(value, types.FunctionType):
            if value.__name__ in seen:
                continue
            inner = from_function(value, seen)
            prelude.append(inner.source if value.__name__ == name else inner.source + f"{name} = {value.__name__}\n")
        elif _is_literal(value):
            prelude.append(f"{name} = {value!r}")
        else:
            raise NotSendable(
                f"your function uses `{name}` (a {type(value).__name__}), which cannot be passed to the separate "
                f"process the check runs it in",
                f"create `{name}` inside the function (plain values -- numbers, strings, lists, dicts -- are passed on)")
    return Code(source="\n".join(prelude + [body]), function=fn.__name__, origin="<notebook>")


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


# --- running it ------------------------------------------------------------------------------

def run(code: Code, args: tuple = (), files: dict[str, str] | None = None, env: dict[str, str] | None = None,
        limits: Limits | None = None, python: str | None = None, connect: tuple[str, int] | None = None) -> Outcome:
    """Run ``code.function(*args)`` in a locked-down child process; never raises for what the code does.

    ``files`` are written into the child's temp dir (e.g. its kubeconfig); in ``env`` values the text
    ``{workdir}`` becomes that directory. ``args`` must be JSON values. ``connect``: the one
    loopback address (e.g. the API server's) the child may reach; as root, the child then gets a
    network namespace of its own in which that address is forwarded and nothing else exists.
    """
    import subprocess

    limits = limits or Limits()
    spec = {"source": code.source, "function": code.function, "origin": code.origin, "args": list(args),
            "files": files or {}, "env": env or {}, "limits": asdict(limits), "python": python or sys.executable,
            "connect": list(connect) if connect else None, **_hidden_and_kept()}
    margin = 15.0
    proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__), "--supervise", str(os.getpid())],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(json.dumps(spec), timeout=limits.load_seconds + limits.call_seconds + margin)
    except subprocess.TimeoutExpired:  # the supervisor is our code: it should never get here
        _stop_supervisor(proc)
        return Outcome("timeout", "the supervisor did not finish", limits=asdict(limits))
    except BaseException:  # Ctrl-C (KeyboardInterrupt) or SIGTERM: the supervisor cleans up first
        _stop_supervisor(proc)
        raise
    try:
        data = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        err = (stderr.strip().splitlines() or ["no output"])[-1]
        return Outcome("start-error", err, limits=asdict(limits))
    return Outcome(**data)


def _stop_supervisor(proc, seconds: float = 40.0) -> None:
    """Ask the supervisor to stop (it kills every process of the answer, then ends), and kill it if it
    does not end in time -- its init then dies with it (parent-death signal), and the kernel ends the
    rest of the PID namespace. A second Ctrl-C while waiting goes straight to the kill."""
    import signal
    import subprocess

    try:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def _hidden_and_kept() -> dict:
    """The checker's home (as root: /root and /home too) is hidden from the child; what Python needs
    from there (its prefix, the venv, kjlab's repo) comes back read-only."""
    hide = {os.path.realpath(os.path.expanduser("~"))}
    if os.geteuid() == 0:  # root (sudo included): every user's home
        hide |= {h for h in ("/root", "/home") if os.path.isdir(h)}
    hide = sorted(h for h in hide if not any(h != o and h.startswith(o + os.sep) for o in hide))
    need = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))}
    # installed packages only: not the notebook's directory or the current one
    need |= {p for p in sys.path if p and os.path.isdir(p) and os.path.basename(p) in ("site-packages", "dist-packages")}
    # The private /tmp & co. hide whatever lives there too -- kjlab's repo in a clone under /tmp, say.
    covered = hide + list(PRIVATE_DIRS)
    keep = set()
    for path in map(os.path.realpath, need):
        if any(path == h or path.startswith(h + os.sep) for h in covered):
            keep.add(path)
    # a kept path inside another kept path comes along with it
    keep = {p for p in keep if not any(p != q and p.startswith(q + os.sep) for q in keep)}
    return {"hide": [h for h in hide if h != "/"], "keep": sorted(keep)}


# --- the supervisor (root or not; started by run()) -----------------------------------------------

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
CLONE_NEWNS, CLONE_NEWNET, MS_REC, MS_PRIVATE = 0x00020000, 0x40000000, 0x4000, 1 << 18
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


MS_RDONLY, MS_REMOUNT, MS_BIND, MS_MOVE = 1, 32, 4096, 8192


def _private_mounts(hide: list[str], keep: list[str]) -> bool:
    """A mount namespace of our own: empty tmpfs over the world-writable directories and over the
    checker's home; the paths Python needs from that home (its prefix, the venv) come back read-only."""
    import tempfile

    libc = _libc()

    def mount(source, target, fstype, flags, data=None) -> bool:
        enc = (lambda v: v.encode() if isinstance(v, str) else v)
        return libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) == 0

    if libc.unshare(CLONE_NEWNS) != 0 or not mount("none", "/", None, MS_REC | MS_PRIVATE):
        return False
    # Bind what must stay (read-only) before anything is covered -- it may live under /tmp -- in a
    # staging directory outside every directory about to be covered; moved back into place after.
    stage = tempfile.mkdtemp(prefix="kjlab-keep-", dir="/run" if os.path.isdir("/run") else "/")
    staged = []
    try:
        for i, path in enumerate(keep):
            target = os.path.join(stage, str(i))
            os.mkdir(target)
            if not (mount(path, target, None, MS_BIND | MS_REC) and
                    mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)):
                return False
            staged.append((target, path))
        for d in PRIVATE_DIRS:
            if os.path.isdir(d) and not mount("tmpfs", d, "tmpfs", 0, "mode=1777,size=64m"):
                return False
        for home in hide:
            if os.path.isdir(home) and not mount("tmpfs", home, "tmpfs", 0, "mode=0755,size=1m"):
                return False
        for target, path in staged:
            os.makedirs(path, mode=0o755, exist_ok=True)
            if not mount(target, path, None, MS_MOVE):
                return False
        return True
    finally:  # the staging directory is the host's: leave nothing of it behind
        for target, _path in staged:
            try:
                os.rmdir(target)
            except OSError:
                pass
        try:
            os.rmdir(stage)
        except OSError:
            pass


def _private_network(host: str, port: int):
    """A network namespace of our own for the child: only loopback, where ``host:port`` is forwarded
    to the real ``host:port``. Returns (listening socket, our own namespace's fd), or None when it
    cannot be done (not a loopback address, no privilege); the
    forwarder starts later (unshare(CLONE_NEWNS) refuses a process with threads)."""
    import fcntl
    import ipaddress
    import socket
    import struct

    try:
        if not ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        return None
    libc = _libc()
    host_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    if libc.unshare(CLONE_NEWNET) != 0:
        os.close(host_ns)
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH22x", b"lo", 0)))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, port))
    listener.listen(16)
    return listener, host_ns


def _forward(listener, host_ns: int, host: str, port: int) -> int:
    """Accept the child's connections (its namespace) and connect each to ``host:port`` (ours), in a
    process of its own: started before the answer's PID namespace, because a process that made one
    can no longer start threads. It dies with the supervisor; returns its pid."""
    import signal
    import socket
    import threading

    pid = os.fork()
    if pid:
        listener.close()
        return pid
    try:
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if _libc().setns(host_ns, CLONE_NEWNET) != 0:  # its new sockets are in the host's namespace
            os._exit(1)
        while True:
            try:
                inner, _ = listener.accept()
            except OSError:
                continue
            try:
                outer = socket.create_connection((host, port), timeout=10)
                outer.settimeout(None)
            except OSError:
                inner.close()  # the child sees the connection refused, as it would without us
                continue
            for a, b in ((inner, outer), (outer, inner)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()
    finally:
        os._exit(0)


def _pump(src, dst) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(2)
            except OSError:
                pass


def _fresh_uid() -> tuple[int, int]:
    """A uid (and the same gid) no process runs as: this check's own identity."""
    import secrets

    while True:
        uid = CHECK_UIDS[0] + secrets.randbelow(CHECK_UIDS[1] - CHECK_UIDS[0])
        if _tasks_of(uid) == 0:
            return uid, uid


def _tasks_of(uid: int) -> int:
    """Processes and threads a uid runs now (RLIMIT_NPROC counts them all)."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            if int(status["Uid"].split()[0]) == uid:
                count += int(status.get("Threads", "1"))
        except (OSError, KeyError, ValueError):
            continue
    return count


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_all_below(me: int, seconds: float = 30.0) -> None:
    """Stop, then SIGKILL, every descendant, round after round until two scans in a row find none
    (orphans come back to us as the subreaper). Stopping first matters for a fork bomb on a busy
    machine: a stopped process cannot fork while the round kills the others."""
    import signal

    deadline = time.monotonic() + seconds
    empty = 0
    while empty < 2 and time.monotonic() < deadline:
        pids = _descendants(me)
        if not pids:
            empty += 1
            time.sleep(0.05)  # a child forked during the scan shows up in the next one
            continue
        empty = 0
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.01)
                break


class _Stopped(BaseException):
    """SIGTERM, SIGINT or SIGHUP reached the supervisor: stop the answer and report."""


def _stop(signum, _frame):
    raise _Stopped(signum)


def _supervise() -> None:
    """Run one answer and print its Outcome as the last line; whatever happens -- the answer's doing, a
    signal, an error of ours -- every process of the answer is killed before this returns."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _stop)
    # The caller killed (a notebook kernel restarted): we go too, and with us the answer's init.
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(sys.argv[2]):  # it died before the line above
        sys.exit(1)
    spec: dict = {}
    state: dict = {"child": None, "workdir": None, "user": "", "private": False, "pids": False}
    try:
        spec = json.loads(sys.stdin.read())
        outcome = _supervised(spec, state)
    except _Stopped:
        outcome = Outcome("interrupted", "stopped by a signal", user=state["user"], limits=spec.get("limits", {}))
    except BaseException as e:  # noqa: BLE001 -- ours, not the learner's: reported, never a traceback
        outcome = Outcome("supervisor-error", f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}",
                          user=state["user"], limits=spec.get("limits", {}))
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # the clean-up below is not interrupted half-way
        child = state["child"]
        if child is not None and child.poll() is None:
            try:  # the namespace's process 1: the kernel kills everything else in it
                child.kill()
            except OSError:
                pass
        _kill_all_below(os.getpid())
    if state["workdir"]:  # read once nothing of the answer can write to it any more
        outcome.output = _tail(os.path.join(state["workdir"], "output"))
    if state["workdir"]:
        import shutil

        shutil.rmtree(state["workdir"], ignore_errors=True)
    _emit(outcome)


def _private_pids(root: bool, uid: int, gid: int) -> bool:
    """A PID namespace for the processes started from now on; as a non-root user inside a user
    namespace of its own that maps only that user (where the kernel allows unprivileged ones).
    Must be called while the supervisor has no thread (unshare refuses a user namespace then)."""
    libc = _libc()
    if root:
        return libc.unshare(CLONE_NEWPID) == 0
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0:
        return False
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError:
        return False  # in a user namespace now, but unmapped: the child still gets the PID namespace
    return True


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - OUTPUT_TAIL))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _supervised(spec: dict, state: dict) -> Outcome:
    import ctypes
    import resource
    import selectors
    import signal
    import subprocess
    import tempfile

    lim = spec["limits"]
    libc = _libc()
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    root = os.geteuid() == 0
    private = _private_mounts(spec["hide"], spec["keep"]) if root else False
    state["private"] = private
    try:
        network = _private_network(*spec["connect"]) if root and spec.get("connect") else None
    except OSError:
        network = None
    if network:  # forked before any pipe of the child's exists, so it holds none of them
        _forward(*network, *spec["connect"])
    uid, gid = _fresh_uid() if root else (os.getuid(), os.getgid())
    user = f"a uid of its own ({uid})" if root else f"uid {uid} (the checker's own user)"
    state["user"] = user

    workdir = tempfile.mkdtemp(prefix="kjlab-answer-")
    state["workdir"] = workdir
    for name, text in {**spec["files"], "answer.json": json.dumps(
            {k: spec[k] for k in ("source", "function", "origin", "args")})}.items():
        path = os.path.join(workdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        os.chown(path, uid, gid)
    os.chmod(workdir, 0o700)
    os.chown(workdir, uid, gid)
    output = os.open(os.path.join(workdir, "output"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchown(output, uid, gid)

    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir,
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "MPLCONFIGDIR": workdir, "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "XDG_CACHE_HOME": os.path.join(workdir, ".cache"),
           "XDG_STATE_HOME": os.path.join(workdir, ".state"), "XDG_CONFIG_HOME": os.path.join(workdir, ".config")}
    env.update({k: v.replace("{workdir}", workdir) for k, v in spec["env"].items()})
    nproc = (0 if root else _tasks_of(uid)) + lim["processes"]  # a fresh uid runs nothing yet
    cpu = int(lim["load_seconds"] + lim["call_seconds"]) + 5

    def lock_down():  # runs in the child after it took its uid and before it execs Python
        for res, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, lim["memory_bytes"]),
                           (resource.RLIMIT_NPROC, nproc), (resource.RLIMIT_FSIZE, lim["file_bytes"]),
                           (resource.RLIMIT_NOFILE, lim["open_files"]), (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(res, (value, value))
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    read_end, write_end = os.pipe()
    extra = {"user": uid, "group": gid, "extra_groups": []} if root else {}
    pids = _private_pids(root, uid, gid)
    state["pids"] = pids
    started = time.monotonic()
    try:
        child = subprocess.Popen([spec["python"], "-I", os.path.abspath(__file__), "--run", workdir, str(write_end)],
                                 cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                 pass_fds=(write_end,), start_new_session=True, preexec_fn=lock_down, **extra)
    except OSError as e:
        return Outcome("start-error", str(e), user=user, private_tmp=private, limits=lim)
    state["child"] = child
    os.close(write_end)
    os.close(output)

    sel = selectors.DefaultSelector()
    sel.register(read_end, selectors.EVENT_READ)
    buffer = b""
    deadline = started + lim["load_seconds"]
    call_started = None
    status, detail, ended = None, "", ""
    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            status = "timeout" if call_started else "load-timeout"
            break
        if not sel.select(timeout=min(left, 0.5)):
            if child.poll() is not None and not sel.select(timeout=0):
                break
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        buffer += chunk
        if len(buffer) > 65536:
            status, detail = "died", "it wrote too much to the check's result channel"
            break
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line == b"loaded":
                if call_started is None:  # the call's clock starts once; writing it again re-arms nothing
                    call_started = time.monotonic()
                    deadline = call_started + lim["call_seconds"]
            elif line.startswith(b"ended "):  # the init's word on how the answer's process ended
                ended = line[len(b"ended "):].decode("utf-8", "replace")
            elif line.startswith(b"{"):
                try:
                    result = json.loads(line)
                    status, detail = str(result.get("status")), str(result.get("detail", ""))[:2000]
                except ValueError:
                    status, detail = "died", "it wrote to the check's result channel"
                break
    # The channel closed without a result: wait, within the same deadline, for the process to end.
    while status is None and child.poll() is None:
        if time.monotonic() >= deadline:
            status = "timeout" if call_started else "load-timeout"
            break
        time.sleep(0.05)
    seconds = time.monotonic() - (call_started or started)
    if status is None:  # the process ended without a result
        detail = _how_it_ended(ended, child.returncode, cpu)
        status = "died"
    elif status in ("returned", "raised", "load-error", "no-function"):
        try:  # the runner exits by itself right after its result; what it left running does not wait
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
    # what is left is killed, and the output read, once, by _supervise
    return Outcome(status, detail, "", round(seconds, 3), user, private, network is not None, lim, private_pids=pids)


def _how_it_ended(ended: str, code: int | None, cpu: int) -> str:
    """One line for the answer's process's end: the init's report (``exit N`` / ``signal N``), else
    the child's own return code."""
    import signal

    kind, _, number = ended.partition(" ")
    if kind == "signal" and number.isdigit():
        code = -int(number)
    elif kind == "exit" and number.isdigit():
        code = int(number)
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {"SIGXCPU": f"it used more than {cpu} s of CPU time", "SIGKILL": "it was killed",
               "SIGSEGV": "it crashed (out of memory?)"}.get(name, name)
        return f"{why} ({name})"
    return f"exit status {code}"


def _emit(outcome: Outcome) -> None:
    print(json.dumps(asdict(outcome)), flush=True)


# --- the runner (the child: the learner's code runs here) ------------------------------------

def _be_init(fd: int) -> None:
    """As process 1 of the answer's PID namespace: fork the answer's process, reap whatever gets
    re-parented here, and end when the answer's process ends -- the kernel then kills every other
    process in the namespace. Returns only in the answer's process."""
    import signal

    answer = os.fork()
    if answer == 0:
        return
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_IGN)  # the answer's signals to process 1 do not end the check early
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == answer:
            how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
            try:
                os.write(fd, f"\nended {how}\n".encode())  # on a line of its own after a partial one
            except OSError:
                pass
            os._exit(0)


def _run_answer(workdir: str, fd: int) -> None:
    import traceback

    if os.getpid() == 1:  # a PID namespace of its own (see _private_pids)
        _be_init(fd)

    channel = os.fdopen(fd, "w", buffering=1)
    sys.path = [p for p in sys.path if p and os.path.abspath(p) != os.path.dirname(os.path.abspath(__file__))]

    def report(status: str, detail: str = "") -> None:
        channel.write(json.dumps({"status": status, "detail": detail}) + "\n")
        channel.flush()

    with open(os.path.join(workdir, "answer.json")) as f:
        spec = json.load(f)
    namespace = {"__name__": "__kjlab_answer__", "__file__": spec["origin"]}
    try:
        exec(compile(spec["source"], spec["origin"], "exec"), namespace)
    except BaseException as e:  # noqa: BLE001 -- the learner's code: report whatever it is
        report("load-error", _one_line(e, spec["origin"]))
        return
    fn = namespace.get(spec["function"])
    if not callable(fn):
        report("no-function", f"{spec['origin']} defines no function {spec['function']}")
        return
    channel.write("loaded\n")
    try:
        fn(*spec["args"])
    except BaseException as e:  # noqa: BLE001
        traceback.print_exc()
        report("raised", _one_line(e, spec["origin"]))
        return
    report("returned")


def _one_line(e: BaseException, origin: str) -> str:
    import traceback

    where = ""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if frame.filename == origin:
            where = f" (line {frame.lineno})"
            break
    message = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {message}{where}" if message else f"{type(e).__name__}{where}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--supervise"]:
        _supervise()
    elif sys.argv[1:2] == ["--run"]:
        _run_answer(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: sandbox.py --supervise | --run WORKDIR FD (started by kjlab.sandbox.run)")
