"""The check of exercise 11 (debug-pod-out) on the real cluster. Each answer runs in its own
namespace (about 5 s when right, 15 s when the pod stays in the ReplicaSet), so they run at the same
time, in threads. A right answer written differently from the solution passes; each wrong answer gets
the explanation that fits it (the test asserts the explanation, not only the failure)."""

import pytest

from kjlab import check
from verdicts import check_all, explained

RIGHT = {"metadata": {"labels": {"role": None}}}   # removes a selector label, as a pod's metadata (the solution changes app)
WRONG = {  # answer -> what the verdict must say about it
    "label-not-in-selector": ("version: debug",
                              ["its controller: replicaset/web", "still match the ReplicaSet's selector app=web,role=frontend",
                               "(version is not in it)"]),
    "same-labels-again": ("app: web\nrole: frontend",
                          ["its controller: replicaset/web", "still match the ReplicaSet's selector"]),
    "invalid-value": ('app: "web debug"',
                      ["the API does not accept these labels", "metadata.labels: Invalid value: \"web debug\""]),
}


@pytest.fixture(scope="module")
def verdicts(lab):
    answers = {"right": RIGHT, **{k: v[0] for k, v in WRONG.items()}}
    return check_all("debug-pod-out", answers, lab["context"])


def test_right_answer_written_differently_passes(verdicts):
    v = verdicts["right"]
    assert v.passed, v
    explained(v, "its controller: none (an orphan)", "still Running", "the ReplicaSet controls 3 pods, 3 Ready",
              "released the pod")
    assert "role" not in v.evidence["labels"] and v.evidence["pod"] not in v.evidence["owned"]


@pytest.mark.parametrize("case", WRONG)
def test_wrong_answer_is_explained(verdicts, case):
    v = verdicts[case]
    assert not v.passed and v.solved
    explained(v, *WRONG[case][1])


def test_placeholder_is_not_solved_yet(lab):
    v = check.run("debug-pod-out", None, context=lab["context"], echo=False)
    assert not v.passed and not v.solved


def test_cleanup_removes_the_lab_node_labels_of_its_prefix_only(lab):
    from kjlab.labs import controllers
    from kjlab.api import kube, readers
    from kjlab.actions import ops

    node = "kjlab-worker"
    mine, other = controllers.node_label("t11x-ctl"), controllers.node_label("t11xy-ctl")
    ops.label_node(lab["context"], node, {mine: "ssd", other: "ssd"}, echo=False)
    try:
        assert controllers.remove_node_labels(lab["context"], "t11x") == [node]
        labels = readers.labels(kube.raw(kube.core(lab["context"]).read_node, node))
        assert mine not in labels and labels.get(other) == "ssd"
    finally:
        ops.label_node(lab["context"], node, {mine: None, other: None}, echo=False)
