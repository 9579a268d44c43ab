"""The check of exercise 13 (exit-on-sigterm) against a real kubelet: answers written differently from
the solution pass, and each wrong answer gets the explanation that fits it (the test asserts the
explanation, not only the failure). Every test deletes a real pod and times its end."""

import pytest

from kind_reuse import load

from kjlab import check

explained = load("cluster/verdicts.py").explained


def test_trap_with_wait_written_differently_passes(lab):
    v = check.run("exit-on-sigterm", "trap 'exit 3' SIGTERM\nsleep infinity &\nwait $!\n", context=lab["context"],
                  echo=False)
    assert v.passed, v
    explained(v, "with exit code 3", "the pod ended Failed", "the worker exited 3 (non-zero")
    assert v.evidence["seconds"] <= check.SIGTERM_WITHIN


WRONG = {  # answer -> what the verdict must say about it
    "no-trap": ("while true; do echo working; sleep 1; done",
                ["with exit code 137", "the kubelet sent SIGKILL", "bash running as PID 1 ignores SIGTERM unless it traps it"]),
    "exits-0": ("trap 'exit 0' TERM\nwhile true; do sleep 1 & wait $!; done",
                ["with exit code 0", "the pod ended Succeeded", "exit code 0 makes a deleted pod Succeeded",
                 "a Job with a pod failure policy (or podReplacementPolicy Failed) counts the interrupted work as a completion"]),
    "foreground-sleep": ("trap 'exit 143' TERM\nsleep 600",
                         ["with exit code 137", "bash runs a trap only after the command in the foreground returns",
                          "sleep 600 & wait $!"]),
    "ends-by-itself": ("echo done; exit 0",
                       ["the worker ended by itself before it was deleted", "must keep working until it is stopped"]),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_answers_are_explained(lab, case):
    answer, phrases = WRONG[case]
    v = check.run("exit-on-sigterm", answer, context=lab["context"], echo=False)
    assert not v.passed and v.solved, v
    explained(v, *phrases)


def test_not_a_script_is_refused_in_one_line(lab):
    v = check.run("exit-on-sigterm", {"command": ["sleep"]}, context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the check could not run your answer", "should be a bash script")
