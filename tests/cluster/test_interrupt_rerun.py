"""Issue 26 item 5, in a real notebook kernel: lab 06's podReplacementPolicy cell is interrupted
while its foreground run goes on (its background run holds namespace <prefix>-replace-failed);
the interrupt line says that run is still going, and the cell run again at once takes the
namespace over and completes -- no "in use by another run in this process"."""

import json
import queue
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB06 = ROOT / "labs" / "06-completions-parallelism.ipynb"
PREFIX = "nbint06"

pytestmark = pytest.mark.cluster


def _cell(cell_id: str) -> str:
    return "".join(next(c["source"] for c in json.loads(LAB06.read_text())["cells"] if c["id"] == cell_id))


def _execute(kc, code: str, timeout: float, interrupt_after=None, km=None) -> tuple[str, str, float]:
    """(status, every text the cell printed, seconds); ``interrupt_after`` s: interrupt the kernel then."""
    started = time.monotonic()
    msg_id = kc.execute(code)
    texts, status, interrupted = [], None, False
    while time.monotonic() - started < timeout:
        if interrupt_after is not None and not interrupted and time.monotonic() - started >= interrupt_after:
            km.interrupt_kernel()
            interrupted = True
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        content = msg["content"]
        if msg["msg_type"] == "stream":
            texts.append(content["text"])
        elif msg["msg_type"] == "error":
            texts.append(f"{content['ename']}: {content['evalue']}")
        elif msg["msg_type"] in ("display_data", "update_display_data", "execute_result"):
            texts.append(content["data"].get("text/plain", ""))
        elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
            status = kc.get_shell_msg(timeout=10)["content"]["status"]
            break
    return status, "".join(texts), time.monotonic() - started


def test_an_interrupted_cell_run_again_at_once_takes_over(lab):
    from jupyter_client.manager import start_new_kernel

    from kjlab import lab as kjlab_lab

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "labs"))
    try:
        setup = f"CONTEXT = {lab['context']!r}\nNAMESPACE = {PREFIX!r}\n" + _cell("cell-02")
        status, out, _ = _execute(kc, setup, 120)
        assert status == "ok", out
        cell = _cell("cell-28")
        # the foreground run deletes its pod once it runs, then waits 15 s of grace: 12 s is inside it
        status, out, _ = _execute(kc, cell, 120, interrupt_after=12, km=km)
        assert status == "error", out
        assert "kjlab: interrupted" in out and "still running" in out and f"{PREFIX}-replace-failed" in out, out
        assert "nothing of kjlab's was left running" not in out, out
        status, out, took = _execute(kc, cell + "\nprint('outcome', replaced_failed.outcome)", 300)
        assert status == "ok", out
        assert "in use by another run" not in out and "outcome Complete" in out, out
        print(f"re-run after the interrupt: {took:.0f} s")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        kjlab_lab.cleanup(lab["context"], PREFIX)
