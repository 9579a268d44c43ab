"""What a simulated container prints, from its script (kjlab/cluster/kwok/grammar.py), with when.

The kwok engine has no containers, so there is no output to collect: a script inside the
grammar says exactly what it would write and at which second of its run (``echo``/``print``
text, ``date``, placed after the ``sleep``/``time.sleep`` before it). :func:`output` turns a
container spec into that stream as ``(offset_seconds, bytes)`` chunks, lazily (a ``while true``
loop prints forever); the log endpoint (kjlab/cluster/kwok/log_endpoint.py) serves the chunks whose
time has come within the container's run, after :data:`BANNER`.

Faithful where a real container differs from "print the line": ``echo`` in a shell writes each
line at once; ``python3 -c`` writes to a pipe, so its stdout is block-buffered: nothing appears
until the program exits (or, in a ``while True:`` loop, until 8192 bytes are waiting), and a
killed program (SIGKILL, exit 137) loses what was still buffered. ``tail -f FILE`` prints
nothing here (what FILE holds is not known). A script outside the grammar prints nothing: the
simulation does not run it (strict mode) or guesses only its duration and exit code.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from kjlab.cluster.kwok import grammar

BANNER = ("[kjlab: simulated kubelet (kwok) \u2014 the lines below are what the script prints; "
          "run it for real with kjlab up --engine kind]\n")

# CPython's buffer for a pipe (io.DEFAULT_BUFFER_SIZE): a block is written when it fills.
PYTHON_BUFFER = 8192

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SH_PREFIX = re.compile(r"\A(?:/usr)?(?:/bin/)?(?:ba)?sh -c ")
_PY_PREFIX = re.compile(r"\A(?:/usr(?:/local)?/bin/)?python3? -c ")
# A shell word (quotes kept, unquoted later) or a statement separator.
_SH_TOKEN = re.compile(r"""(?:"[^"]*"|'[^']*'|[^\s;&"'])+|&&|;|\n""")


def date_text(at: datetime) -> str:
    """What `date` prints in a container (C locale, UTC): `Mon Nov 23 19:30:00 UTC 2026`."""
    return at.astimezone(timezone.utc).strftime("%a %b %e %H:%M:%S UTC %Y")


def _seconds(word: str) -> float:
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([smhd]?)", word)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else 0.0


def _shell_statements(text: str) -> list[list[str]]:
    """The script's statements, each a list of unquoted words."""
    statements, words = [], []
    for token in _SH_TOKEN.findall(text):
        if token in (";", "&&", "\n"):
            if words:
                statements.append(words)
            words = []
        else:
            words.append("".join(shlex.split(token)) if "'" in token or '"' in token else token)
    if words:
        statements.append(words)
    return statements


def _shell(statements: list[list[str]], scale: float, start: datetime) -> Iterator[tuple[float, bytes]]:
    """Chunks of a shell script: each echo/date written at once, as a shell does."""
    t = 0.0

    def run(block: list[list[str]]) -> Iterator[tuple[float, bytes]]:
        nonlocal t
        for words in block:
            if words[0] == "echo" and words[1:2] == ["-n"]:
                yield t, " ".join(words[2:]).encode()
            elif words[0] == "echo":
                yield t, (" ".join(words[1:]) + "\n").encode()
            elif words[0] == "date":
                yield t, (date_text(start + timedelta(seconds=t)) + "\n").encode()
            elif words[0] == "sleep" and len(words) > 1:
                t += _seconds(words[1]) * scale

    for i, words in enumerate(statements):
        if words[0] == "while":  # the grammar allows it only last: `while true; do ...; done`
            body = [w[1:] if w[0] == "do" else w for w in statements[i + 1:] if w[0] != "done"]
            body = [w for w in body if w]
            for _ in itertools.count():
                before = t
                yield from run(body)
                if t == before:  # no sleep in the loop: it prints as fast as it can, never ends
                    t += 0.001
        if words[0] in ("if", "elif", "else", "then", "fi", "exit", "false"):
            continue  # index branches and the exit print nothing
        yield from run([words])


def _python(code: str, scale: float):
    """(writes before any loop, one pass of a `while True:` body with times from the loop's
    start or None, how long one pass takes, when the loop starts)."""
    t, before, loop, loop_start = 0.0, [], None, 0.0
    for line in code.splitlines():
        stripped = line.strip()
        target = before if loop is None else loop
        if stripped.startswith("print("):
            target.append((t - (loop_start if loop is not None else 0.0), (stripped[7:-2] + "\n").encode()))
        elif stripped.startswith("time.sleep("):
            t += _seconds(stripped[len("time.sleep("):-1]) * scale
        elif re.match(r"while\s+True\s*:", stripped):
            loop, loop_start = [], t
    return before, loop, (t - loop_start if loop is not None else 0.0), loop_start


def output(container: dict, scale: float = 1.0, start: datetime | None = None,
           exited_after: float | None = None, killed: bool = False) -> Iterator[tuple[float, bytes]]:
    """The container's output as (seconds after it started, bytes), in order.

    ``exited_after``: when the run ended (seconds after start), if it did; a Python program's
    buffer is written then, unless it was ``killed`` (SIGKILL loses it)."""
    start = start or datetime.now(timezone.utc)
    text = grammar.script(container)
    if not text or not grammar.simulated(container, indexed=True):
        return iter(())
    argv = (container.get("command") or []) + (container.get("args") or [])
    if _SH_PREFIX.match(text):
        return _shell(_shell_statements(_SH_PREFIX.sub("", text, count=1)), scale, start)
    if _PY_PREFIX.match(text):
        return _python_output(_PY_PREFIX.sub("", text, count=1), scale, exited_after, killed)
    if argv and argv[0] == "echo":  # a bare command: the argv words as they are
        return iter([(0.0, (" ".join(argv[1:]) + "\n").encode())])
    if argv and argv[0] == "date":
        return iter([(0.0, (date_text(start) + "\n").encode())])
    return iter(())


def _python_output(code: str, scale: float, exited_after: float | None, killed: bool) -> Iterator[tuple[float, bytes]]:
    before, loop, period, first = _python(code, scale)
    if loop is None:  # the buffer is written once, when the program exits
        data = b"".join(d for _, d in before)
        if exited_after is not None and not killed and data:
            yield exited_after, data
        return

    def writes() -> Iterator[tuple[float, bytes]]:
        yield from before
        if not loop:
            return
        for n in itertools.count():
            for t, d in loop:
                yield first + n * max(period, 0.001) + t, d

    yield from _buffered(writes())


def _buffered(writes: Iterator[tuple[float, bytes]]) -> Iterator[tuple[float, bytes]]:
    """A block-buffered stdout: full 8192-byte blocks, at the time each fills."""
    pending = b""
    for t, data in writes:
        pending += data
        while len(pending) >= PYTHON_BUFFER:
            yield t, pending[:PYTHON_BUFFER]
            pending = pending[PYTHON_BUFFER:]


def until(chunks: Iterator[tuple[float, bytes]], end: float) -> Iterator[bytes]:
    """The chunks written up to `end` seconds after start."""
    for t, data in chunks:
        if t > end:
            return
        yield data
