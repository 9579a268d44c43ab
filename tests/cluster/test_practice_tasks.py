"""Every practice task on the cluster: its two reference answers (imperative kubectl, and apply -f
of YAML) pass, and at least two wrong answers fail with the explanation asserted. The learner's
commands run in bash with the real kubectl from the tools cache, through the practice kubeconfig
(`kjlab practice env`), exactly as a learner's shell would."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from kjlab.cluster import tools
from kjlab.practice import env as practice_env
from kjlab.practice import registry, session

pytestmark = pytest.mark.usefixtures("practice_namespaces_removed")

JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
{spec}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: bash:5
        command: ["sh", "-c", "{command}"]
"""


def job(name: str, command: str, restart: str = "Never", **spec) -> str:
    """An `apply -f` answer: a Job with the given spec fields."""
    yaml_spec = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in spec.items()) or "  {}"
    body = JOB.format(name=name, spec=yaml_spec, command=command).replace("restartPolicy: Never",
                                                                          f"restartPolicy: {restart}")
    return f"cat > wrong.yaml <<'END'\n{body}\nEND\nkubectl apply -f wrong.yaml"


DEPLOY_API = """cat > d.yaml <<'END'
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api, tier: backend}}
  template:
    metadata: {labels: {app: api, tier: backend}}
    spec: {containers: [{name: api, image: 'bash:5', command: [sleep, infinity]}]}
END
kubectl apply -f d.yaml"""

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "job-completions": [
        ('kubectl create job batch --image=bash:5 -- sh -c "sleep 2"', "completions is 1"),
        (job("batch", "sleep 2", completions=4, parallelism=4), "parallelism is 4"),
        (job("batch", "sleep 2", parallelism=2), "completions is None: the Job must finish after 4 successful pods; "
         "left out while parallelism is set, it stays unset"),
        ('kubectl -n "$OTHER_NS" create job batch --image=bash:5 -- sh -c "sleep 2"', "is in namespace test-"),
    ],
    "job-indexed": [
        (job("shards", "sleep 2", completions=3, parallelism=3), "completionMode is NonIndexed"),
        (job("shards", "sleep 2", completions=2, parallelism=3, completionMode="Indexed"), "completions is 2"),
        (job("shards", "sleep 2", completions=3, parallelism=1, completionMode="Indexed"), "parallelism is 1"),
    ],
    "job-backofflimit": [
        ('kubectl create job flaky --image=bash:5 -- sh -c "sleep 1 && exit 1"', "6 is the default"),
        (job("flaky", "sleep 1 && exit 1", backoffLimit=0), "backoffLimit is 0"),
        (job("flaky", "sleep 1 && exit 1", restart="OnFailure", backoffLimit=1), "restartPolicy is OnFailure"),
    ],
    "job-failure-policy": [
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=6), "without a podFailurePolicy"),
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=6, podFailurePolicy={"rules": [
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1]}}]}),
         "no rule matched, so the failure is counted"),
        # used to pass: the Job did fail at once on 42, but the rule fails it on every non-zero code
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=6, podFailurePolicy={"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "NotIn", "values": [0]}}]}),
         "for exit code 1 in container main, rule 0 (FailJob) matched"),
        # used to pass: the statement says backoffLimit 6
        (job("exit-rules", "sleep 1 && exit 42", backoffLimit=2, podFailurePolicy={"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}}]}),
         "backoffLimit is 2"),
    ],
    "job-deadline": [
        (job("bounded", "sleep 600", ttlSecondsAfterFinished=10), "ttlSecondsAfterFinished counts from"),
        (job("bounded", "sleep 600", activeDeadlineSeconds=60), "activeDeadlineSeconds is 60"),
        (job("bounded", "sleep 600", activeDeadlineSeconds=5), "activeDeadlineSeconds is 5"),  # used to pass
    ],
    "job-suspend": [
        ("kubectl patch job nightly-batch --type=merge -p '{\"spec\":{\"parallelism\":0}}'",
         "parallelism 0 stops new pods"),
        ("kubectl delete pods -l job-name=nightly-batch --wait=false", "is replaced by the Job controller"),
    ],
    "cronjob-schedule": [
        ('kubectl create cronjob backup --image=bash:5 --schedule="*/5 * * * *" -- sh -c "sleep 5"',
         "concurrencyPolicy is Allow"),
        ('kubectl create cronjob backup --image=bash:5 --schedule="5 * * * *" --dry-run=client -o yaml -- sh -c '
         '"sleep 5" | kubectl patch --local -f - --type=merge -p \'{"spec":{"concurrencyPolicy":"Forbid"}}\' -o yaml '
         '| kubectl create -f -', "runs at minute(s) [5]"),
    ],
    "cronjob-run-now": [
        ('kubectl create job nightly-manual --image=bash:5 -- sh -c "sleep 2"', "no owner reference"),
        ("kubectl patch cronjob nightly --type=merge -p '{\"spec\":{\"schedule\":\"* * * * *\"}}'",
         "there is no job called nightly-manual"),
    ],
    "cronjob-history": [
        ("kubectl patch cronjob report --type=merge -p '{\"spec\":{\"successfulJobsHistoryLimit\":1}}'",
         "failedJobsHistoryLimit is 1 (the default"),
        ("kubectl patch cronjob report --type=merge -p "
         "'{\"spec\":{\"successfulJobsHistoryLimit\":0,\"failedJobsHistoryLimit\":0}}'", "successfulJobsHistoryLimit is 0"),
    ],
    "deploy-undo": [
        ("kubectl set image deployment/web web=python:3", "the last working revision ran 'bash:5'"),
        ("kubectl delete pods -l app=web --wait=false", "image is 'bsah:5'"),
    ],
    "deploy-labels": [
        ("kubectl create deployment api --image=bash:5 --replicas=2 -- sleep infinity", "lack {'tier': 'backend'}"),
        (DEPLOY_API, "replicas is 1"),
    ],
    "pdb": [
        ("kubectl create pdb web-pdb --selector=app=webapp --max-unavailable=1", "matches none of web's pods"),
        ("kubectl create pdb web-pdb --selector=app=web --min-available=1", "allows 2 eviction(s)"),
    ],
    "drain": [
        ("kubectl cordon kjlab-worker2", "web pods still run on kjlab-worker2"),
        ("kubectl drain kjlab-worker --ignore-daemonsets --timeout=90s", "kjlab-worker2 is schedulable"),
    ],
    "taint-toleration": [
        ("kubectl run batch-runner --image=bash:5 --restart=Never "
         "--overrides='{\"spec\":{\"nodeSelector\":{\"kubernetes.io/hostname\":\"kjlab-worker\"}}}' -- sleep 3600",
         "no toleration of the pod matches"),
        ("kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"tolerations\":"
         "[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]}}' -- sleep 3600", "nothing in the pod ties it"),
    ],
    "priority": [
        ("kubectl create priorityclass practice-urgent --value=1000000\nkubectl run urgent --image=bash:5 -- sleep infinity",
         "priorityClassName is None"),
        ("kubectl create priorityclass practice-urgent --value=1000\n"
         "kubectl run urgent --image=bash:5 --overrides='{\"spec\":{\"priorityClassName\":\"practice-urgent\"}}' -- sleep infinity",
         "value is 1000,"),
    ],
}


TOLERATE = '"tolerations":[{"key":"dedicated","operator":"Equal","value":"batch","effect":"NoSchedule"}]'
FORBID = ("--dry-run=client -o yaml -- sh -c \"sleep 5\" | kubectl patch --local -f - --type=merge "
          "-p '{\"spec\":{\"concurrencyPolicy\":\"Forbid\"}}' -o yaml | kubectl create -f -")

# task -> right answers other than the references, each one a checker used to reject
RIGHT = {
    "taint-toleration": [
        # node affinity on the node's name (matchFields)
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"affinity\":{\"nodeAffinity\":"
        "{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchFields\":[{\"key\":"
        "\"metadata.name\",\"operator\":\"In\",\"values\":[\"kjlab-worker\"]}]}]}}}," + TOLERATE
        + "}}' --command -- sleep 3600",
        # a label of the learner's on the node, and a nodeSelector for it
        "kubectl label node kjlab-worker dedicated=batch\n"
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"nodeSelector\":"
        "{\"dedicated\":\"batch\"}," + TOLERATE + "}}' --command -- sleep 3600",
        # a first pod placed by the scheduler, deleted, then one of the same name bound by spec.nodeName:
        # the first pod's Scheduled event is not about the second
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{" + TOLERATE
        + "}}' --command -- sleep 3600\n"
        "kubectl wait --for=condition=PodScheduled pod/batch-runner --timeout=60s\n"
        "for i in $(seq 60); do kubectl get events --field-selector reason=Scheduled -o name | grep -q . && break; "
        "sleep 1; done\n"
        "kubectl delete pod batch-runner --grace-period=1 --wait=true\n"
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"nodeName\":"
        "\"kjlab-worker\"," + TOLERATE + "}}' --command -- sleep 3600",
    ],
    "cronjob-schedule": [
        'kubectl create cronjob backup --image=bash:5 --schedule="*/5 * * * ?" ' + FORBID,
        'kubectl create cronjob backup --image=bash:5 --schedule="*/5 * 1-31 * *" ' + FORBID,
        'kubectl create cronjob backup --image=bash:5 --schedule="*/5 * * * 0-6" ' + FORBID,
    ],
}


def _cases():
    for task in registry.all_tasks():
        if not task.runs_on("kwok"):
            continue
        yield pytest.param(task.id, "imperative", None, id=f"{task.id}-imperative")
        yield pytest.param(task.id, "declarative", None, id=f"{task.id}-declarative")
        for i, (_, phrase) in enumerate(WRONG.get(task.id, [])):
            yield pytest.param(task.id, f"wrong{i}", phrase, id=f"{task.id}-wrong{i}")
        for i, _ in enumerate(RIGHT.get(task.id, [])):
            yield pytest.param(task.id, f"right{i}", None, id=f"{task.id}-right{i}")


def test_every_task_has_two_wrong_answers():
    kwok_tasks = [t.id for t in registry.all_tasks() if t.runs_on("kwok")]
    assert len(kwok_tasks) >= 12
    assert [t for t in kwok_tasks if len(WRONG.get(t, [])) < 2] == []


def _learner_types(context, task, commands, tmp_path, other_ns=""):
    """Run ``commands`` in bash as a learner would after `eval "$(kjlab practice env)"`."""
    directory = session.practice_dir()
    kubeconfig = practice_env.write_kubeconfig(directory, context, task.namespace())
    bin_dir = practice_env.kubectl_dir(directory, tools.kubectl_path())
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path),
                   "OTHER_NS": other_ns}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", commands], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("task_id,route,phrase", list(_cases()))
def test_task(lab, ns, tmp_path, task_id, route, phrase):
    context = lab["context"]
    task = registry.get(task_id)
    session.start(task.id, context, engine="kwok")
    try:
        if route == "imperative":
            commands = task.imperative
        elif route == "declarative":
            if task.declarative_is_yaml:
                (tmp_path / "answer.yaml").write_text(task.declarative)
                commands = "kubectl apply -f answer.yaml"
            else:
                commands = task.declarative
        elif route.startswith("right"):
            commands = RIGHT[task_id][int(route[5:])]
        else:
            commands = WRONG[task_id][int(route[5:])][0]
        typed = _learner_types(context, task, commands, tmp_path, other_ns=ns)
        assert typed.returncode == 0, typed.stderr
        started = time.monotonic()
        verdict = session.check(context, task)
        _record_time(task_id, route, time.monotonic() - started, verdict.passed)
        text = str(verdict)
        if phrase is None:
            assert verdict.passed, text
        else:
            assert not verdict.passed, text
            assert phrase in text, text
    finally:
        if task.cleanup:
            task.cleanup(context)


def _record_time(task_id, route, seconds, passed):
    path = os.environ.get("KJLAB_PRACTICE_TIMINGS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"task": task_id, "route": route, "seconds": round(seconds, 2), "passed": passed}) + "\n")


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
