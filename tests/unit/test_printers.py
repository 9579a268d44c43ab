"""kubectl's STATUS column rules, on pods and Jobs shaped as the API serves them."""

import pytest

from kjlab.api.printers import job_status, pod_status


def pod(phase="Running", containers=(), init=(), conditions=(), deleting=False, reason=None, init_specs=None):
    p = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "main"}]},
         "status": {"phase": phase, "containerStatuses": list(containers), "conditions": list(conditions)}}
    if init:
        p["status"]["initContainerStatuses"] = list(init)
        p["spec"]["initContainers"] = init_specs or [{"name": c["name"]} for c in init]
    if deleting:
        p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    if reason:
        p["status"]["reason"] = reason
    return p


def cs(name="main", ready=False, **state):
    return {"name": name, "ready": ready, "state": state, "restartCount": 0}


READY = {"type": "Ready", "status": "True"}
INITIALIZED_FALSE = {"type": "Initialized", "status": "False"}


@pytest.mark.parametrize("obj,expected", [
    (pod("Pending"), "Pending"),
    (pod("Pending", [cs(waiting={"reason": "ContainerCreating"})]), "ContainerCreating"),
    (pod("Pending", [cs(waiting={"reason": "ErrImagePull"})]), "ErrImagePull"),
    (pod("Pending", [cs(waiting={"reason": "ImagePullBackOff"})]), "ImagePullBackOff"),
    (pod("Running", [cs(ready=True, running={})], conditions=[READY]), "Running"),
    (pod("Running", [cs(waiting={"reason": "CrashLoopBackOff"})]), "CrashLoopBackOff"),
    (pod("Succeeded", [cs(terminated={"exitCode": 0, "reason": "Completed"})]), "Completed"),
    (pod("Failed", [cs(terminated={"exitCode": 42, "reason": "Error"})]), "Error"),
    (pod("Failed", [cs(terminated={"exitCode": 137, "reason": "OOMKilled"})]), "OOMKilled"),
    (pod("Failed", [cs(terminated={"exitCode": 137, "reason": "ContainerStatusUnknown"})]), "ContainerStatusUnknown"),
    (pod("Failed", [cs(terminated={"exitCode": 3})]), "ExitCode:3"),
    (pod("Failed", [cs(terminated={"exitCode": 137, "signal": 9})]), "Signal:9"),
    (pod("Failed", reason="Evicted"), "Evicted"),
    (pod("Running", [cs(ready=True, running={})], conditions=[READY], deleting=True), "Terminating"),
    (pod("Failed", [cs(terminated={"exitCode": 137, "reason": "Error"})], deleting=True), "Error"),
    (pod("Running", deleting=True, reason="NodeLost"), "Unknown"),
    # last to first: the first container's reason wins
    (pod("Running", [cs("a", waiting={"reason": "ImagePullBackOff"}), cs("b", ready=True, running={})]), "ImagePullBackOff"),
    # Completed with another container still running
    (pod("Running", [cs("a", ready=True, running={}), cs("b", terminated={"exitCode": 0, "reason": "Completed"})],
         conditions=[READY]), "Running"),
    (pod("Running", [cs("a", ready=True, running={}), cs("b", terminated={"exitCode": 0, "reason": "Completed"})]), "NotReady"),
    # init containers
    (pod("Pending", [cs(waiting={"reason": "PodInitializing"})], init=[cs("i", waiting={"reason": "PodInitializing"})],
         conditions=[INITIALIZED_FALSE]), "Init:0/1"),
    (pod("Pending", init=[cs("i", terminated={"exitCode": 1, "reason": "Error"})], conditions=[INITIALIZED_FALSE]), "Init:Error"),
    (pod("Pending", init=[cs("i", terminated={"exitCode": 2})], conditions=[INITIALIZED_FALSE]), "Init:ExitCode:2"),
    (pod("Pending", init=[cs("i", waiting={"reason": "ImagePullBackOff"})], conditions=[INITIALIZED_FALSE]), "Init:ImagePullBackOff"),
    (pod("Pending", init=[cs("i", terminated={"exitCode": 0, "reason": "Completed"}), cs("j", running={})],
         conditions=[INITIALIZED_FALSE]), "Init:1/2"),
    (pod("Pending", [cs(waiting={"reason": "PodInitializing"})], conditions=[{"type": "PodScheduled", "status": "False",
                                                                             "reason": "SchedulingGated"}]), "PodInitializing"),
    (pod("Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]), "SchedulingGated"),
])
def test_pod_status(obj, expected):
    assert pod_status(obj) == expected


def job(*types, deleting=False):
    j = {"metadata": {"name": "j"}, "status": {"conditions": [{"type": t, "status": "True"} for t in types]}}
    if deleting:
        j["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return j


@pytest.mark.parametrize("obj,expected", [
    (job(), "Running"),
    (job("FailureTarget"), "FailureTarget"),
    (job("FailureTarget", "Failed"), "Failed"),
    (job("SuccessCriteriaMet"), "SuccessCriteriaMet"),
    (job("SuccessCriteriaMet", "Complete"), "Complete"),
    (job("Suspended"), "Suspended"),
    (job("FailureTarget", deleting=True), "Terminating"),
    (job("Failed", deleting=True), "Failed"),
    (job("FailureTarget", "SuccessCriteriaMet"), "FailureTarget"),
])
def test_job_status(obj, expected):
    assert job_status(obj) == expected
