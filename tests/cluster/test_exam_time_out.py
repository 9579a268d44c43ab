"""kjlab.exam.after_deadline on the cluster: a kubectl write after the deadline is the learner's, the
Job controller's pods made after it are not (the managedFields the unit tests record, read live); and
an exam whose second answer was typed after time ran out scores it 0 at the next exam command."""

import subprocess
import time

import pytest

from kjlab.cluster import tools
from kjlab.exam import after_deadline
from kjlab.paths import kubeconfig_path
from kjlab.practice.cluster_view import View

pytestmark = pytest.mark.usefixtures("practice_namespaces_removed")


def kubectl(lab, ns, *args):
    subprocess.run([str(tools.kubectl_path()), "--kubeconfig", str(kubeconfig_path()), "--context", lab["context"],
                    "-n", ns, *args], check=True, capture_output=True, text=True, timeout=60)


def test_a_kubectl_write_after_the_deadline_is_found_and_the_controllers_pods_are_not(lab, ns):
    # the Job's pods are made, and its status written, after the deadline: by the controllers
    kubectl(lab, ns, "create", "job", "batch", "--image=bash:5", "--", "sh", "-c", "sleep 1")
    deadline = time.time()
    assert after_deadline.changes(lab["context"], ns, deadline - 10)  # the create, seen as late from 10 s before it
    pods = []
    while not pods and time.time() < deadline + 60:  # until the Job controller has made its pod
        pods = View(lab["context"], ns).list("pod")
        time.sleep(0.5)
    assert pods, "the Job controller made no pod in 60 s"
    time.sleep(1.2)  # past the deadline's second
    assert after_deadline.changes(lab["context"], ns, deadline) == []
    kubectl(lab, ns, "label", "job", "batch", "late=yes")
    found = after_deadline.changes(lab["context"], ns, deadline)
    assert len(found) == 1 and found[0].startswith("job/batch was written by kubectl-label"), found


def test_an_answer_typed_after_the_deadline_does_not_count(lab, tmp_path):
    """A 2-task exam through the commands: one task solved in time; the clock runs out (the recorded
    deadline moved to now); the other task solved after it. The first exam command since grades once:
    the late task scores 0, naming kubectl's write; the next command finds no exam."""
    import json

    from kjlab.exam import session as exam_session
    from kjlab.practice import registry
    from test_exam import TOPICS, WANTED, _kjlab, _learner_types, _seed_drawing

    assert exam_session.running() is None, "an exam is running in this state dir: kjlab exam finish first"
    try:
        _kjlab("exam", "start", "--minutes", "10", "--tasks", "2", "--topics", *TOPICS, "--seed", _seed_drawing(WANTED))
        tasks = [t["task"] for t in exam_session.running()["tasks"]]
        _kjlab("exam", "task", str(tasks.index("deploy-undo") + 1))
        _learner_types("kubectl rollout undo deployment/web", tmp_path)
        _kjlab("exam", "task", str(tasks.index("cronjob-run-now") + 1))
        state = exam_session.running()
        exam_session.save({**state, "deadline": time.time()})  # time is up
        time.sleep(1.2)  # past the deadline's second
        _learner_types("kubectl create job nightly-manual --from=cronjob/nightly", tmp_path)  # the right answer, late
        status = _kjlab("exam", "status")
        again = _kjlab("exam", "status").stdout
        rep = json.loads(_kjlab("exam", "finish", "--json").stdout)  # the last report
    finally:
        if exam_session.running():
            (exam_session.exam_dir() / "current.json").unlink()
    assert "time is up" in status.stderr and "changed after time was up" in status.stdout
    assert "no exam running" in again  # graded once
    rows = {r["task"]: r for r in rep["rows"]}
    assert rows["deploy-undo"]["points"] == registry.get("deploy-undo").minutes
    assert rows["cronjob-run-now"]["points"] == 0
    assert "job/nightly-manual was written by kubectl-create" in rows["cronjob-run-now"]["why"]
