"""A Ctrl-C while a cell waits in ``Background.result()`` must leave the background run known as
running. ``Thread.join(timeout)`` interrupted by KeyboardInterrupt marks a running thread as stopped
on Python 3.10-3.12 (threading.py's ``_wait_for_tstate_lock``): the interrupt line then said
"nothing of kjlab's was left running" while the run went on, and the cell run again took its namespace
over without stopping it (lab 06's cell, interrupted once its foreground run had ended)."""

import signal
import threading

import pytest

from kjlab import interrupts, lab as lab_module
from kjlab.actions import namespaces


def _interrupt_in(seconds: float):
    """A KeyboardInterrupt in the main thread ``seconds`` from now, as Ctrl-C in a kernel gives one."""
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGALRM, raise_interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return previous


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread")
def test_a_ctrl_c_in_result_leaves_the_run_known_as_running_and_a_rerun_stops_it(monkeypatch):
    release, stopped = threading.Event(), threading.Event()
    name = "bg-interrupted"

    def run(**kwargs):  # holds its namespace as scenarios.run does, until released or stopped
        namespaces._hold(kwargs["namespace"])
        try:
            while not release.wait(0.05):
                pass
        except interrupts.Stopped:
            stopped.set()
            raise
        finally:
            namespaces.release(kwargs["namespace"])
        return "a result"

    monkeypatch.setattr(lab_module.scenarios, "run", run)
    background = lab_module.Background(dashboard=False, scenario="replacement", namespace=name)
    previous = _interrupt_in(0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            background.result()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    try:
        assert background._thread.is_alive() and not background.done
        line = interrupts.message()
        assert f"still running: the background run of replacement in namespace {name}" in line, line
        # the cell run again: its run of the same namespace stops this one first (not a silent take-over)
        namespaces._hold(name)
        assert stopped.is_set() and background.done
        assert namespaces._held.get(name) is threading.current_thread()
    finally:
        release.set()
        namespaces.release(name)
        background._ended.wait(5)
    with pytest.raises(Exception, match="was stopped: a newer run took its namespace over"):
        background.result()


def test_an_older_run_that_had_not_yet_held_its_namespace_does_not_stop_the_newer(monkeypatch):
    """A cell interrupted and run again while its background run was still in its health checks: the
    older thread reached its own hold after the newer run had held the name, and stopped the newer."""
    checked = threading.Event()  # the older run's health checks end once the newer run is going
    name = "bg-claimed"

    def run(**kwargs):
        if kwargs["tag"] == "older":
            while not checked.wait(0.05):  # Python bytecode between waits: a stop's async exception lands
                pass
        namespaces._hold(kwargs["namespace"])
        try:
            while not kwargs["release"].wait(0.05):
                pass
        finally:
            namespaces.release(kwargs["namespace"])
        return kwargs["tag"]

    monkeypatch.setattr(lab_module.scenarios, "run", run)
    older_release, newer_release = threading.Event(), threading.Event()
    older = lab_module.Background(dashboard=False, scenario="replacement", namespace=name, tag="older",
                                  release=older_release)
    newer = lab_module.Background(dashboard=False, scenario="replacement", namespace=name, tag="newer",
                                  release=newer_release)
    try:
        checked.set()
        older._ended.wait(5)
        assert older.done and not newer.done  # the older run was stopped; the newer goes on
        assert namespaces._held.get(name) is newer._thread
        with pytest.raises(Exception, match="was stopped: a newer run took its namespace over"):
            older.result()
    finally:
        older_release.set()
        newer_release.set()
    assert newer.result() == "newer"
