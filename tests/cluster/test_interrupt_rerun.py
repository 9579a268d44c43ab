"""Issue 26 item 5, in a real notebook kernel: lab 06's podReplacementPolicy cell is interrupted
while its foreground run goes on (its background run holds namespace <prefix>-replace-failed);
the interrupt line says that run is still going, and the cell run again at once takes the
namespace over and completes -- no "in use by another run in this process". The same once the
foreground run is over and the cell waits in ``failed_run.result()`` (a Ctrl-C in Thread.join made
the background run look ended on Python 3.10-3.12: "nothing of kjlab's was left running").

Nothing here is timed by the clock: the interrupt is sent on what the cell shows -- the foreground
run has deleted its pod (it then waits out the pod's 15 s grace, the Job controller's back-off and a
20 s replacement) and the background run's namespace exists, held by the kernel; or result()'s line
shows the background run with a pod active (its 20 s sleep) -- and each execution is bounded by its
progress (QUIET_SECONDS without new output or dashboard change), not by a total."""

import json
import queue
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB06 = ROOT / "labs" / "06-completions-parallelism.ipynb"
PREFIX = "nbint06"
FOREGROUND, BACKGROUND = f"{PREFIX}-replace-terminating", f"{PREFIX}-replace-failed"
# An execution fails when the cell shows nothing new this long: no output, no dashboard change (a
# dashboard changes on every change of its Job, pods and events). The cell's own quiet spells are a
# pod's 15 s grace, the controller's 10 s back-off and the 20 s sleep.
QUIET_SECONDS = 120
# A line redrawn only for its clock ("[  43 s] Running ...") is no progress.
CLOCK = re.compile(r"\d+(\.\d+)? ?s\b")
WIDGET = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.cluster


def _cell(cell_id: str) -> str:
    return "".join(next(c["source"] for c in json.loads(LAB06.read_text())["cells"] if c["id"] == cell_id))


@dataclass
class Execution:
    status: str | None = None
    texts: list[str] = field(default_factory=list)   # what it printed (streams, errors, text displays)
    seconds: float = 0.0
    interrupted_at: float | None = None

    @property
    def out(self) -> str:
        return "".join(self.texts)

    def tail(self, chars: int = 3000) -> str:
        return self.out[-chars:]


def _execute(kc, code: str, what: str, interrupt_when=None, km=None) -> Execution:
    """Run ``code`` and collect what it printed; ``interrupt_when(execution)`` true: interrupt the
    kernel (once). Fails when the cell shows no progress for QUIET_SECONDS."""
    started = time.monotonic()
    msg_id = kc.execute(code)
    run = Execution()
    progressed = started
    shown: dict[str, str] = {}  # display id -> its text without clocks
    while run.status is None:
        if interrupt_when is not None and run.interrupted_at is None and interrupt_when(run):
            km.interrupt_kernel()
            run.interrupted_at = time.monotonic() - started
        if time.monotonic() - progressed > QUIET_SECONDS:
            raise AssertionError(f"{what}: no progress for {QUIET_SECONDS} s (after {time.monotonic() - started:.0f} s); "
                                 f"its output so far:\n{run.tail()}")
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        progressed_now = True
        if kind == "stream":
            run.texts.append(content["text"])
        elif kind == "error":
            run.texts.append(f"{content['ename']}: {content['evalue']}\n")
        elif kind in ("display_data", "update_display_data", "execute_result"):
            data = content.get("data", {})
            if WIDGET not in data:  # a widget's text/plain is its repr: only its comm messages say what changed
                text = data.get("text/plain", "")
                key = (content.get("transient") or {}).get("display_id") or str(len(run.texts))
                progressed_now = shown.get(key) != CLOCK.sub("N s", text)
                shown[key] = CLOCK.sub("N s", text)
                run.texts.append(text + "\n")
        elif kind == "status" and content["execution_state"] == "idle":
            run.status = _reply(kc, msg_id, what, run)
        if progressed_now:
            progressed = time.monotonic()
    run.seconds = time.monotonic() - started
    return run


def _reply(kc, msg_id: str, what: str, run: Execution) -> str:
    """The execute_reply's status (it comes on the shell channel, around the idle status)."""
    waited = time.monotonic()
    while time.monotonic() - waited < QUIET_SECONDS:
        try:
            reply = kc.get_shell_msg(timeout=1)
        except queue.Empty:
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["status"]
    raise AssertionError(f"{what}: no execute_reply {QUIET_SECONDS} s after the kernel went idle; output:\n{run.tail()}")


def _held_by_kernel(context: str, namespace: str, kernel_pid: int) -> bool:
    """The background run holds ``namespace``: it exists, not being deleted, and names the kernel as
    its holder (kjlab.namespaces.fresh holds the name in-process before it creates the namespace)."""
    from kjlab.actions import namespaces
    from kjlab.api import readers

    existing = namespaces._read(context, namespace)
    return (existing is not None and not (existing.get("metadata") or {}).get("deletionTimestamp")
            and readers.annotations(existing).get(namespaces.HOLDER_ANNOTATION) == f"{socket.gethostname()}/{kernel_pid}")


# result()'s line while the background run has a pod running: "[  40 s] Running · active 1 · ..."
WAITING_IN_RESULT = re.compile(r"^\[\s*\d+ s\] Running · active [1-9]", re.M)


@pytest.mark.parametrize("where", ["foreground", "result"])
def test_an_interrupted_cell_run_again_at_once_takes_over(lab, where):
    from jupyter_client.manager import start_new_kernel

    from kjlab import lab as kjlab_lab

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "labs"))
    try:
        setup = f"CONTEXT = {lab['context']!r}\nNAMESPACE = {PREFIX!r}\n" + _cell("cell-02")
        run = _execute(kc, setup, "the setup cell")
        assert run.status == "ok", f"the setup cell failed:\n{run.tail()}"
        cell = _cell("cell-28")
        deleted = re.compile(rf"\$ kubectl delete pod \S+ -n {FOREGROUND}\b")
        checked = [0.0]

        def due(run: Execution) -> bool:
            """foreground: the foreground run has deleted its pod (it now waits for its Job, tens of
            seconds) and the background run holds its namespace (the cluster is read at most once a
            second); result: the foreground run is over and result() shows the background run going."""
            if where == "result":
                return bool(WAITING_IN_RESULT.search(run.out))
            if not deleted.search(run.out) or time.monotonic() - checked[0] < 1:
                return False
            checked[0] = time.monotonic()
            return _held_by_kernel(lab["context"], BACKGROUND, km.provisioner.pid)

        run = _execute(kc, cell, "cell-28, interrupted", interrupt_when=due, km=km)
        line = next((text for text in run.out.splitlines() if text.startswith("kjlab: interrupted")), None)
        assert run.interrupted_at is not None, f"cell-28 ended ({run.status}) before the interrupt was due:\n{run.tail()}"
        assert run.status == "error", f"cell-28 was interrupted at {run.interrupted_at:.0f} s but ended {run.status}:\n{run.tail()}"
        assert line is not None, f"no 'kjlab: interrupted' line after the interrupt at {run.interrupted_at:.0f} s:\n{run.tail()}"
        assert "still running" in line and BACKGROUND in line, f"the interrupt line does not name the background run: {line}"
        rerun = _execute(kc, cell + "\nprint('outcome', replaced_failed.outcome)", "cell-28 run again")
        assert "in use by another run" not in rerun.out, f"the re-run was refused its namespace:\n{rerun.tail()}"
        assert rerun.status == "ok", f"the re-run ended {rerun.status}:\n{rerun.tail()}"
        assert "outcome Complete" in rerun.out, f"the re-run's background run did not complete:\n{rerun.tail()}"
        print(f"{where}: interrupted at {run.interrupted_at:.0f} s; re-run after the interrupt: {rerun.seconds:.0f} s")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        kjlab_lab.cleanup(lab["context"], PREFIX)
