"""A clean-up (a run's namespace, a drain's cordon) finishes although Ctrl-C comes again (issue 31)."""

import os
import signal
import threading
import time

from kjlab import interrupts


def test_a_second_ctrl_c_waits_for_the_clean_up_and_a_further_one_goes_through():
    def finish(presses: int) -> str:
        done = []

        def press():
            for _ in range(presses):
                time.sleep(0.3)
                os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=press).start()
        try:
            with interrupts.finishing("a test clean-up"):
                deadline = time.monotonic() + 0.3 * presses + 0.6
                while time.monotonic() < deadline:
                    time.sleep(0.05)
                done.append("finished")
        except KeyboardInterrupt:
            return "interrupted"
        return done[0]

    assert finish(1) == "finished"
    assert finish(2) == "interrupted"


def test_a_name_error_in_a_kernel_says_to_run_the_notebook_from_the_top():
    """Issue 26 item 7: a cell run out of order gives its NameError and one line saying what to do."""
    import json
    import queue

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        def run(code):
            msg_id = kc.execute(code)
            texts = []
            while True:
                try:
                    msg = kc.get_iopub_msg(timeout=60)
                except queue.Empty:
                    break
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] in ("stream", "error"):
                    texts.append(json.dumps(msg["content"]))
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            return "".join(texts)

        run("import kjlab")
        out = run("never_defined_here + 1")
        assert "NameError" in out and "never_defined_here" in out
        assert "run the notebook from the top" in out and "`never_defined_here`" in out, out
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
