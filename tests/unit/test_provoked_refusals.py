"""Issue 26 (tour, low): lab 14 provokes two API refusals on purpose (completions alone on an
elastic Job, a changed spec.managedBy) and printed each with kjlab's "fix: look at it ..." line,
which reads as an error for the learner to repair. The refusal the lab asks for is printed alone."""

import types

from kjlab.errors import KjlabError
from kjlab.labs import job_controls

IMMUTABLE = 'Job.batch "managed-elsewhere" is invalid: spec.managedBy: Invalid value: "x": field is immutable'
TANDEM = ('Job.batch "elastic" is invalid: spec.completions: Invalid value: 2: can only be modified in tandem '
          'with spec.parallelism')
LAB = types.SimpleNamespace(context="kwok-kjlab", prefix="lab14", engine="kwok")


def refuse(message):
    """ops.patch_job as the API answers it: kjlab's error, with its fix line."""
    def patch_job(*args, **kwargs):
        if "parallelism" in args[-1]["spec"]:
            return {}
        raise KjlabError(f"patching job failed: {message}", "look at it: kjlab kubectl get job x -o yaml")
    return patch_job


def test_the_managed_by_refusal_comes_without_a_fix(monkeypatch, capsys):
    monkeypatch.setattr(job_controls, "run", lambda lab, name, after_apply: "here")
    monkeypatch.setattr(job_controls.kube, "raw", lambda call, *a, **k: {"items": []})
    monkeypatch.setattr(job_controls.kube, "batch", lambda context: types.SimpleNamespace(read_namespaced_job=None))
    monkeypatch.setattr(job_controls.kube, "core", lambda context: types.SimpleNamespace(list_namespaced_pod=None))
    monkeypatch.setattr(job_controls.ops, "patch_job", refuse(IMMUTABLE))
    _, _, _, refusal = job_controls.managed_by(LAB)
    printed = capsys.readouterr().out
    assert "field is immutable" in refusal and "field is immutable" in printed
    assert "fix:" not in printed and "look at it" not in printed + refusal


def test_the_completions_alone_refusal_comes_without_a_fix(monkeypatch, capsys):
    def run(lab, name, after_apply):
        after_apply("kwok-kjlab", "lab14-elastic", "elastic", recorder=None)
        return "result"

    monkeypatch.setattr(job_controls, "run", run)
    monkeypatch.setattr(job_controls.wait, "job", lambda *a, **k: {})
    monkeypatch.setattr(job_controls.kube, "raw", lambda call, *a, **k: {"items": []})
    monkeypatch.setattr(job_controls.kube, "core", lambda context: types.SimpleNamespace(list_namespaced_pod=None))
    monkeypatch.setattr(job_controls.ops, "patch_job", refuse(TANDEM))
    answers, _ = job_controls.elastic(LAB)
    printed = capsys.readouterr().out
    assert "in tandem with spec.parallelism" in answers["completions alone"] and "refused:" in printed
    assert "fix:" not in printed and "look at it" not in printed
