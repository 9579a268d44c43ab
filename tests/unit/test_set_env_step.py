"""A patch that is what another kubectl command does (`kubectl set env`) is on the timeline under that
command's name, so lab 11's rollout plot labels the line as the learner typed it."""

from types import SimpleNamespace

from kjlab.actions import ops
from kjlab.api import kube


class Steps:
    def __init__(self):
        self.rows = []

    def step(self, action, target, detail, kubectl):
        self.rows.append((action, target, kubectl))


def test_set_env_is_recorded_as_set_env_and_a_plain_patch_as_patch(monkeypatch):
    monkeypatch.setattr(kube, "raw", lambda call, *args, **kwargs: {})
    monkeypatch.setattr(kube, "apps", lambda context: SimpleNamespace(patch_namespaced_deployment=None))
    monkeypatch.setattr(ops, "guard", lambda *args, **kwargs: None)
    steps = Steps()
    shown = ("kubectl set env deployment/api -c main GREETING=bonjour -n ns", "deployment.apps/api env updated")
    ops.patch_deployment("ctx", "ns", "api", {"spec": {}}, echo=False, recorder=steps, shown_as=shown)
    ops.patch_deployment("ctx", "ns", "api", {"spec": {}}, echo=False, recorder=steps)
    assert [(action, target) for action, target, _ in steps.rows] == [("set env", "deployment/api"), ("patch", "deployment/api")]
    assert steps.rows[0][2] == shown[0]
