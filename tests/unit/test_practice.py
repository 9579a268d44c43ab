"""kjlab.practice without a cluster: the task model and registry, the pure readers the checks use
(cron minutes, toleration matching), the practice kubeconfig and shell lines, the CLI's errors."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from kjlab.cli import main
from kjlab.practice import env, registry, session
from kjlab.practice.model import Task
from kjlab.practice.tasks import cronjobs, disruptions


def _task(**kw):
    base = dict(id="t", topic="pods", title="T", statement="in {ns}", minutes=1, check=lambda v: None, hint="h",
                imperative="kubectl get pods", declarative="apiVersion: v1")
    return Task(**{**base, **kw})


def test_a_kind_only_task_says_why_and_is_left_out_on_kwok():
    t = _task(engines=("kind",), kind_only_reason="an init container needs a real kubelet")
    assert not t.runs_on("kwok") and t.runs_on("kind")
    with pytest.raises(ValueError, match="kind_only_reason"):
        _task(engines=("kind",))
    with pytest.raises(ValueError, match="engines=\\('kind',\\)"):
        _task(kind_only_reason="needs a kubelet")


def test_statement_names_the_tasks_namespace():
    assert _task(id="job-x").text() == "in practice-job-x"


def test_the_bank_has_at_least_12_kwok_tasks_over_four_topics():
    on_kwok, left_out = registry.for_engine("kwok")
    assert len(on_kwok) >= 12
    assert {t.topic for t in on_kwok} >= {"jobs", "cronjobs", "deployments", "disruptions"}
    assert all(t.kind_only_reason for t in left_out)
    # every task cites the source its explanations rest on, and its statement names its namespace
    assert [t.id for t in registry.all_tasks() if not t.sources or "{ns}" not in t.statement] == []


def test_topics_come_in_curriculum_order():
    topics = list(dict.fromkeys(t.topic for t in registry.all_tasks()))
    assert topics.index("jobs") < topics.index("cronjobs") < topics.index("disruptions")


def test_unknown_task_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    assert main(["practice", "start", "no-such-task"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kjlab: no practice task 'no-such-task'") and "kjlab practice list" in err


def test_check_before_start_says_how_to_start(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    assert main(["practice", "check"]) == 1
    assert "no practice task started" in capsys.readouterr().err


def test_solution_prints_both_routes(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    session._save({"task": "job-deadline", "namespace": "practice-job-deadline"})
    assert main(["practice", "solution"]) == 0
    out = capsys.readouterr().out
    assert "# imperative" in out and "kubectl create job bounded" in out
    assert "activeDeadlineSeconds: 10" in out


@pytest.mark.parametrize("schedule,every5", [
    ("*/5 * * * *", True), ("0-59/5 * * * *", True), ("0,5,10,15,20,25,30,35,40,45,50,55 * * * *", True),
    ("5 * * * *", False), ("*/5 * * * 1", False), ("*/10 * * * *", False), ("bad", False), ("*/0 * * * *", False),
    # the same times written otherwise (robfig/cron: ? is *, names, a day-of-month or -week that names every day)
    ("*/5 * * * ?", True), ("*/5 * * * 0-6", True), ("*/5 * 1-31 * *", True), ("*/5 * * JAN-DEC SUN-SAT", True),
    ("*/5 * 1-31 * 1", True),    # neither day field a star: either matching is enough, and every day of month does
    ("*/5 * 1-30 * *", False), ("*/5 * * * 1-5", False), ("*/5 0-22 * * *", False), ("*/5 * * * 7", False),
])
def test_every_five_minutes(schedule, every5):
    assert cronjobs.every_five_minutes(schedule) is every5


def test_describe_schedule_names_the_minutes():
    assert "minute(s) [5] every hour" in cronjobs.describe_schedule("5 * * * *")


@pytest.mark.parametrize("toleration,ok", [
    ({"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}, True),
    ({"key": "dedicated", "value": "batch"}, True),                       # empty effect: any effect
    ({"key": "dedicated", "operator": "Exists"}, True),
    ({"operator": "Exists"}, True),                                       # empty key with Exists: every taint
    ({"key": "dedicated", "value": "other", "effect": "NoSchedule"}, False),
    ({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, False),
    ({"key": "other", "operator": "Exists"}, False),
])
def test_toleration_matching(toleration, ok):
    assert disruptions.tolerates(toleration, disruptions.TAINT) is ok


def _node(name, **labels):
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}}}


NODES = [_node("kjlab-control-plane"), _node("kjlab-worker", dedicated="batch"), _node("kjlab-worker2")]


def _affinity(*terms):
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": list(terms)}}}}


# a pod as the API server returns it: the creator's managedFields entry lists the fields it wrote
def _pod(spec, written=None):
    fields = {"f:spec": {f"f:{k}": {} for k in (written if written is not None else spec)}}
    return {"metadata": {"managedFields": [{"manager": "kubectl-run", "operation": "Update",
                                            "fieldsType": "FieldsV1", "fieldsV1": fields}]}, "spec": spec}


@pytest.mark.parametrize("spec,written,allowed", [
    ({"nodeSelector": {"kubernetes.io/hostname": "kjlab-worker"}}, None, ["kjlab-worker"]),
    ({"nodeSelector": {"dedicated": "batch"}}, None, ["kjlab-worker"]),
    (_affinity({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["kjlab-worker"]}]}), None,
     ["kjlab-worker"]),
    (_affinity({"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn",
                                      "values": ["kjlab-worker2"]}]}), None, ["kjlab-control-plane", "kjlab-worker"]),
    (_affinity({}), None, []),                                            # an empty term matches no node
    ({"nodeName": "kjlab-worker"}, None, ["kjlab-worker"]),               # set by the learner
    ({"nodeName": "kjlab-worker", "tolerations": []}, ["tolerations"],    # bound by the scheduler
     ["kjlab-control-plane", "kjlab-worker", "kjlab-worker2"]),
])
def test_allowed_nodes(spec, written, allowed):
    assert disruptions.allowed_nodes(_pod(spec, written), NODES) == allowed


def test_node_name_written_reads_the_writers_fields_not_the_spec():
    bound = _pod({"nodeName": "kjlab-worker"}, written=[])
    assert disruptions.node_name_written(_pod({"nodeName": "kjlab-worker"}))
    assert not disruptions.node_name_written(bound)
    assert not disruptions.node_name_written({"spec": {"nodeName": "kjlab-worker"}})  # no managedFields at all


def test_failure_policy_problems():
    from kjlab.practice.tasks.jobs import policy_problems

    def spec(operator, values, backoff=6, container="main"):
        return {"backoffLimit": backoff, "template": {"spec": {"containers": [{"name": container}]}},
                "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {
                    "containerName": "main", "operator": operator, "values": values}}]}}

    assert policy_problems(spec("In", [42])) == []
    assert "exit code 1" in " ".join(policy_problems(spec("NotIn", [0])))
    assert "backoffLimit is 2" in " ".join(policy_problems(spec("In", [42], backoff=2)))
    assert "not main" in " ".join(policy_problems(spec("In", [42], container="job")))


def _lab_kubeconfig(tmp_path, monkeypatch):
    path = tmp_path / "lab-kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "kwok-kjlab",
        "clusters": [{"name": "kwok-kjlab", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "kwok-kjlab", "user": {"token": "t"}}],
        "contexts": [{"name": "kwok-kjlab", "context": {"cluster": "kwok-kjlab", "user": "kwok-kjlab"}}]}))
    monkeypatch.setenv("KJLAB_KUBECONFIG", str(path))
    return path


def test_practice_kubeconfig_is_a_copy_in_the_tasks_namespace(tmp_path, monkeypatch):
    lab = _lab_kubeconfig(tmp_path, monkeypatch)
    before = lab.read_text()
    path = env.write_kubeconfig(tmp_path / "practice", "kwok-kjlab", "practice-pdb")
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "practice"
    assert doc["contexts"][0]["context"]["namespace"] == "practice-pdb"
    assert doc["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:1"
    assert path.stat().st_mode & 0o077 == 0
    assert lab.read_text() == before  # kjlab's own kubeconfig is not rewritten


def test_shell_lines_work_in_bash(tmp_path, monkeypatch):
    _lab_kubeconfig(tmp_path, monkeypatch)
    kubeconfig = env.write_kubeconfig(tmp_path / "p", "kwok-kjlab", "practice-x")
    fake = tmp_path / "real-kubectl"
    fake.write_text("#!/bin/sh\n[ \"$1\" = completion ] && echo '__start_kubectl() { :; }' && exit 0\necho kubectl \"$@\"\n")
    fake.chmod(0o755)
    bin_dir = env.kubectl_dir(tmp_path / "p", fake)
    lines = env.shell_lines(kubeconfig, bin_dir, "bash")
    out = subprocess.run(["bash", "-i", "-c", lines + "\necho \"$KUBECONFIG\"; k get pods"], capture_output=True,
                         text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.stdout.splitlines()[-2:] == [str(kubeconfig), "kubectl get pods"], out.stderr
    assert sorted(p.name for p in bin_dir.iterdir()) == ["kubectl"]


def test_env_without_a_lab_context_says_kjlab_up(tmp_path, monkeypatch):
    _lab_kubeconfig(tmp_path, monkeypatch)
    from kjlab.errors import KjlabError
    with pytest.raises(KjlabError, match="no context kind-kjlab"):
        env.write_kubeconfig(tmp_path / "p", "kind-kjlab", "ns")


def test_readme_lists_every_task_as_registered():
    import re
    from kjlab.paths import REPO_DIR

    text = (REPO_DIR / "README.md").read_text()
    section = text.split("## Practise with kubectl", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \| (\d+) \| (.+?) \| (.+?) \|$", section, re.M)
    assert [(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows] == [
        (t.id, t.topic, t.minutes, t.title, ", ".join(t.engines)) for t in registry.all_tasks()]


@pytest.mark.parametrize("elapsed,text", [(0, "00:00 of 04:00"), (192.7, "03:12 of 04:00"),
                                          (260, "04:20 of 04:00 (over by 00:20)")])
def test_clock_text(elapsed, text):
    from kjlab.practice.widget import clock_text
    assert clock_text(elapsed, 4) == text


def test_the_check_button_shows_the_verdict():
    from kjlab.checks import Verdict
    from kjlab.practice.widget import PracticePanel

    task = registry.get("pdb")
    seen = []

    def fake_check(context, t):
        seen.append((context, t.id))
        return Verdict("practice:pdb", False, "not yet", ["the budget counts 0 pods <not web's>"])

    p = PracticePanel(task, {"started": 100.0}, "kwok-kjlab", check=fake_check, now=lambda: 130.0)
    assert p.clock.value == "00:30 of 03:00"
    assert "practice-pdb" in p.statement.value
    p.check_button.click()
    assert seen == [("kwok-kjlab", "pdb")]
    assert "NOT YET" in p.verdict.value and "&lt;not web&#x27;s&gt;" in p.verdict.value
    assert not p.check_button.disabled


def test_the_panel_shows_code_spans_as_code_not_backticks():
    from kjlab.practice import widget

    task = registry.get("job-completions")
    panel = widget.PracticePanel(task, {"started": 0.0}, "kwok-kjlab", check=lambda *a, **k: None, now=lambda: 1.0)
    assert "<code>batch</code>" in panel.statement.value and "`" not in panel.statement.value
