"""Exercise 13's verdict (exit-on-sigterm) from a deleted worker's end, without a cluster: a Job worker
must stop with a non-zero code, because a deleted pod whose containers all exit 0 ends Succeeded and
the Job would count the interrupted work as done (v1.36 pkg/kubelet/kubelet_pods.go getPhase)."""

from kjlab.checks import termination as check

TRAP = "trap 'exit 143' TERM\nwhile true; do sleep 1 & wait $!; done"


def test_a_quick_non_zero_exit_passes():
    ok, reasons = check.sigterm_reasons(143, 1.2, "Failed", TRAP)
    assert ok and "exit code 143" in reasons[0] and "the pod ended Failed" in reasons[0]
    assert check.sigterm_reasons(3, 0.4, "Failed", TRAP)[0]


def test_exit_0_fails_and_says_the_job_would_count_it_as_done():
    ok, reasons = check.sigterm_reasons(0, 0.5, "Succeeded", TRAP.replace("143", "0"))
    assert not ok
    assert any("makes a deleted pod Succeeded" in r and "completion" in r for r in reasons), reasons


def test_sigkill_and_slow_exits_fail_with_their_reason():
    ok, reasons = check.sigterm_reasons(137, 15.1, "Failed", "while true; do sleep 1; done")
    assert not ok and any("ignores SIGTERM unless it traps it" in r for r in reasons), reasons
    ok, reasons = check.sigterm_reasons(137, 15.1, "Failed", "trap 'exit 143' TERM\nsleep 600")
    assert not ok and any("sleep 600 & wait $!" in r for r in reasons), reasons
    ok, reasons = check.sigterm_reasons(143, check.SIGTERM_WITHIN + 1.0, "Failed", TRAP)
    assert not ok and any("more than" in r for r in reasons), reasons
