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
