"""What an interrupted cell or command says: one line naming what kjlab cleaned up, instead of a
KeyboardInterrupt traceback through urllib3's internals.

The clean-up itself stays where the work is (a run deletes its namespace, a drain undoes its
cordon, both in their own ``except BaseException``); they :func:`note` it here, and the IPython
handler installed on import prints the notes once.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

_notes: list[str] = []
_running: list[str] = []   # what an interrupt leaves going on purpose (a background run)
_lock = threading.Lock()
# Background runs of this process (thread -> what it is and how to stop it): an interrupt leaves
# them going, and the line says so while they live.
_background: dict[threading.Thread, str] = {}


class Stopped(BaseException):
    """Raised inside a background run's thread to end it (a newer run took its namespace over)."""


def background(thread: threading.Thread, what: str) -> None:
    """Register a background run's thread, described for the interrupt line."""
    with _lock:
        for t in [t for t in _background if not t.is_alive() and t is not thread]:
            del _background[t]
        _background[thread] = what


def note(what: str) -> None:
    """Record one thing an interrupted operation undid (e.g. "namespace x deleted")."""
    with _lock:
        if what not in _notes:
            _notes.append(what)


def still_running(what: str) -> None:
    """Record something the interrupt did not stop (and how to stop it), so the line says so."""
    with _lock:
        if what not in _running:
            _running.append(what)


def take() -> str:
    """The notes so far as one phrase, and forget them."""
    with _lock:
        text = "; ".join(_notes)
        _notes.clear()
    return text


def message() -> str:
    done = take()
    with _lock:
        running = "; ".join(_running + [what for t, what in _background.items() if t.is_alive()
                                         and what not in _running])
        _running.clear()
    parts = ([f"cleaned up: {done}"] if done else []) + ([f"still running: {running}"] if running else [])
    return "kjlab: interrupted; " + ("; ".join(parts) or "nothing of kjlab's was left running")


@contextlib.contextmanager
def finishing(what: str):
    """Let a clean-up finish although Ctrl-C comes again: a learner who presses it twice must not
    leave a run's namespace or a cordoned node behind. The first extra Ctrl-C (or SIGTERM) is held
    back with a line saying what is being finished; a second one goes through. Only the main thread
    receives signals, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {}

    def hold(signum, frame):
        if held:  # asked twice while finishing: let it through
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        held.append(signum)
        print(f"kjlab: finishing the clean-up ({what}) first; press Ctrl-C again to leave it half-done",
              file=sys.stderr)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def out_of_order(name: str | None) -> str:
    """The line under a NameError in a lab: a name a cell above defines, in a cell run out of order."""
    what = f"`{name}` is" if name else "a name here is"
    return (f"kjlab: {what} made by a cell above this one, which has not run in this kernel (or ran before a "
            "restart): run the notebook from the top (Run > Run All Cells, or the cells above this one)")


def _ipython_handler(shell, etype, evalue, tb, tb_offset=None):
    if issubclass(etype, NameError):  # the usual traceback, then what to do about it
        shell.showtraceback((etype, evalue, tb), tb_offset=tb_offset)
        print(out_of_order(getattr(evalue, "name", None)), file=sys.stderr)
        return None
    print(message(), file=sys.stderr)


def install_in_ipython() -> None:
    """In a notebook kernel, show interrupts as :func:`message`, and under a NameError (a cell run
    out of order) say to run the notebook from the top (a no-op outside IPython). IPython keeps one
    custom handler: both go through :func:`_ipython_handler`."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is not None:
        shell.set_custom_exc((KeyboardInterrupt, NameError), _ipython_handler)
