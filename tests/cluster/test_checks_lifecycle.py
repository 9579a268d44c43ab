"""The check of exercise 10 (crash-loop-code) on the real cluster. A right answer written
differently from the solution passes; each wrong answer gets the explanation that fits it (the test
asserts the explanation, not only the failure). The answers run at the same time, in threads."""

import pytest

from kjlab import check
from verdicts import check_all, explained

BASH = "docker.io/library/bash:5"
RIGHT = {  # python instead of bash, OnFailure instead of Always, a whole manifest with extra fields
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "mine", "labels": {"app": "x"}},
    "spec": {"restartPolicy": "OnFailure", "hostNetwork": True,
             "containers": [{"name": "app", "image": "docker.io/library/python:3",
                             "command": ["python3", "-c", "import sys\nsys.exit(3)"]}]}}
WRONG = {  # answer -> what the verdict must say about it
    "never": (f"spec:\n  restartPolicy: Never\n  containers:\n  - name: main\n    image: {BASH}\n"
              "    command: [bash, -c, 'sleep 1 && exit 3']",
              ["restartPolicy Never: the kubelet does not restart the container", "STATUS Error",
               "it needs Always or OnFailure"]),
    "wrong-code": (f"spec:\n  containers:\n  - name: main\n    image: {BASH}\n    command: [bash, -c, 'sleep 1 && exit 1']",
                   ["CrashLoopBackOff", "the container exited with 1, not 3"]),
    "success-onfailure": (f"spec:\n  restartPolicy: OnFailure\n  containers:\n  - name: main\n    image: {BASH}\n"
                          "    command: [bash, -c, 'sleep 1 && exit 0']",
                          ["exit code 0 is success", "ended Completed"]),
    "missing-image": ("spec:\n  containers:\n  - name: main\n    image: example.invalid/crash:1\n"
                      "    command: [bash, -c, 'exit 3']",
                      ["the container never started", "could not be pulled"]),
}


@pytest.fixture(scope="module")
def verdicts(lab):
    answers = {"right": RIGHT, **{k: v[0] for k, v in WRONG.items()}}
    return check_all("crash-loop-code", answers, lab["context"])


def test_right_answer_written_differently_passes(verdicts):
    v = verdicts["right"]
    assert v.passed, v
    explained(v, "CrashLoopBackOff", "last exit code 3", "restartPolicy OnFailure", "left out: hostNetwork")


@pytest.mark.parametrize("case", WRONG)
def test_wrong_answer_is_explained(verdicts, case):
    v = verdicts[case]
    assert not v.passed and v.solved, v
    explained(v, *WRONG[case][1])


def test_not_a_pod_is_explained(lab):
    v = check.run("crash-loop-code", "kind: Job\nspec: {}", context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the answer should be a Pod manifest")


def test_placeholder_is_not_solved_yet(lab):
    v = check.run("crash-loop-code", None, context=lab["context"], echo=False)
    assert not v.passed and not v.solved
