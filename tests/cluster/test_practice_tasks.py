"""Every practice task on the cluster: its two reference answers (imperative kubectl, and apply -f
of YAML) pass, and at least two wrong answers fail with the explanation asserted. The learner's
commands run in bash with the real kubectl from the tools cache, through the practice kubeconfig
(`kjlab practice env`), exactly as a learner's shell would."""

from __future__ import annotations

import os
import subprocess

import pytest

from kjlab.practice import registry, session
from practice_answers import WRONG, cases, try_answer
from practice_answers import learner_types as _learner_types

pytestmark = pytest.mark.usefixtures("practice_namespaces_removed")


def test_every_task_has_two_wrong_answers():
    for engine in ("kwok", "kind"):
        tasks = [t.id for t in registry.all_tasks() if t.runs_on(engine)]
        assert len(tasks) >= 12
        assert [t for t in tasks if len(WRONG.get(t, [])) < 2] == [], engine


@pytest.mark.parametrize("task_id,route,phrase", list(cases("kwok")))
def test_task(lab, ns, tmp_path, task_id, route, phrase):
    try_answer(lab["context"], "kwok", task_id, route, phrase, tmp_path, other_ns=ns)


def test_deleted_namespace_is_named_and_reset_rebuilds_it(lab):
    from kjlab.actions import namespaces

    context = lab["context"]
    task, state = session.start("cronjob-history", context, engine="kwok")
    namespaces.delete(context, state["namespace"])
    verdict = session.check(context, task)
    assert not verdict.passed
    assert f"namespace {state['namespace']} is" in verdict.headline and "kjlab practice reset" in str(verdict)
    session.reset(context)
    verdict = session.check(context, task)  # the prepared CronJob is back: the check reads it again
    assert "CronJob report: successfulJobsHistoryLimit=3" in str(verdict)  # the defaulted CronJob, not "missing"


def test_an_interrupted_check_says_so_in_one_line(lab, tmp_path):
    import signal
    import sys

    context = lab["context"]
    task, _ = session.start("job-deadline", context, engine="kwok")
    (tmp_path / "answer.yaml").write_text(task.declarative)
    assert _learner_types(context, task, "kubectl apply -f answer.yaml", tmp_path).returncode == 0
    # A shell that starts CI in the background leaves SIGINT ignored below it, and Python then installs
    # no KeyboardInterrupt handler: the command gets SIGINT's default back, as a learner's terminal has it.
    proc = subprocess.Popen([sys.executable, "-m", "kjlab.cli", "practice", "check"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "KJLAB_CONTEXT": context},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:  # the check has started waiting for the Job's deadline
        if line.startswith("check: waiting"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.startswith("kjlab: check interrupted") and "Traceback" not in err


def test_taint_task_puts_the_nodes_labels_back(lab, tmp_path):
    """A right answer may label the node: reset, or the next task, must not find the label."""
    from kjlab.api import kube, readers
    from kjlab.practice.tasks import disruptions

    context = lab["context"]
    before = readers.labels(kube.raw(kube.core(context).read_node, "kjlab-worker"))
    task, _ = session.start("taint-toleration", context, engine="kwok")
    try:
        assert _learner_types(context, task, "kubectl label node kjlab-worker dedicated=batch extra=1",
                              tmp_path).returncode == 0
        session.reset(context)  # cleanup, then setup again
        node = kube.raw(kube.core(context).read_node, "kjlab-worker")
        assert {"dedicated", "extra"} & set(readers.labels(node)) == set()
    finally:
        task.cleanup(context)
    node = kube.raw(kube.core(context).read_node, "kjlab-worker")
    assert disruptions.LABELS_BEFORE not in readers.annotations(node)
    assert readers.labels(node) == before and "kubernetes.io/hostname" in before
