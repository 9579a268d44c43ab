"""The config-issue controller (labs/03) against the real Job controller."""

from kjlab import examples
from kjlab.api import kube, readers, wait
from kjlab.actions import ops
from kjlab.labs.config_issue import ConfigIssueController


def test_the_controller_marks_and_deletes_stuck_pods_so_the_job_fails_on_the_condition(lab, ns):
    ctx = lab["context"]
    with ConfigIssueController(ctx, ns, echo=False) as controller:
        ops.apply(ctx, ns, examples.render("config-issue"), echo=False)
        job = wait.job(ctx, ns, "job-pod-failure-policy-config-issue", lambda j: readers.is_true(j, "Failed"),
                       "the Job to fail", timeout=120)
    assert not controller.running and controller.errors == []
    failed = readers.true_condition(job, "Failed")
    assert failed["reason"] == "PodFailurePolicy"
    # Both pods get stuck and are handled; whichever failure the Job controller counts first
    # decides (under load that need not be the first one handled).
    assert failed["message"] in {f"Pod {ns}/{pod} has condition ConfigIssue matching FailJob rule at index 0"
                                 for pod in controller.handled}, (failed["message"], controller.handled)


def test_what_the_controller_cannot_recover_from_is_recorded_not_swallowed(lab, ns):
    # A pod that vanished before the patch is the normal race and no error; a patch the API
    # server refuses on a pod that exists is one, and must reach .errors.
    ctx = lab["context"]
    controller = ConfigIssueController(ctx, ns, echo=False)
    job = [{"kind": "Job", "name": "j", "uid": "u", "apiVersion": "batch/v1", "controller": True}]
    pod = {"metadata": {"name": "ghost", "namespace": ns, "ownerReferences": job},
           "status": {"containerStatuses": [{"name": "main", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}
    assert controller.stuck(pod)
    controller._handle(pod)  # no such pod: it vanished, which is fine
    assert controller.handled == ["ghost"] and controller.errors == []
    kube.core(ctx).create_namespaced_pod(ns, {"metadata": {"name": "real"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "main", "image": "non-existing-repo/x:1"}]}})
    controller.condition = "not a valid condition type!"  # the API server refuses the patch
    controller._handle({**pod, "metadata": {"name": "real", "namespace": ns, "ownerReferences": job}})
    assert len(controller.errors) == 1 and controller.errors[0].startswith("real: "), controller.errors
