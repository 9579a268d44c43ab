"""kjlab.labs.kubelet_side's readings of a recording (lab 13's "More that only the kubelet decides"),
fed with rows shaped as the recorder writes them; the states follow what a v1.36 kubelet reports."""

from kjlab.labs import kubelet_side
from kjlab.runs.result import Recording


def _pod_row(t, name, waiting=None, running=False, terminated=None, last=None, restarts=0, conditions=(),
             labels=None, status=None):
    state = ({"waiting": {"reason": waiting}} if waiting else {"running": {}} if running
             else {"terminated": terminated} if terminated else {})
    cs = {"name": "main", "state": state, "restartCount": restarts, "lastState": {"terminated": last} if last else {}}
    obj = {"metadata": {"name": name, "labels": labels or {}},
           "status": {"containerStatuses": [cs], "conditions": [{"type": c, "status": "True"} for c in conditions],
                      **(status or {})}}
    return {"t": t, "kind": "pod", "name": name, "object": obj}


def _job_row(t, name, condition):
    return {"t": t, "kind": "job", "name": name,
            "object": {"metadata": {"name": name}, "status": {"conditions": [{"type": condition, "status": "True",
                                                                              "reason": "BackoffLimitExceeded"}]}}}


START_ERROR = {"reason": "StartError", "exitCode": 128, "message": "exec: \"/no/such/program\": not found"}


def test_waiting_reasons_keep_each_change_once_in_order():
    rec = Recording([_pod_row(0, "cannot-start", waiting="ContainerCreating"),
                     _pod_row(1, "cannot-start", waiting="RunContainerError", last=START_ERROR),
                     _pod_row(2, "cannot-start", waiting="RunContainerError", last=START_ERROR),
                     _pod_row(3, "cannot-start", waiting="CrashLoopBackOff", last=START_ERROR),
                     _pod_row(4, "other", waiting="CrashLoopBackOff")])
    assert kubelet_side.waiting_reasons(rec, "cannot-start") == ["ContainerCreating", "RunContainerError", "CrashLoopBackOff"]
    assert kubelet_side.start_error(rec) == START_ERROR


def test_start_error_reads_the_current_terminated_state_too():
    rec = Recording([_pod_row(0, "cannot-start", terminated=START_ERROR)])
    assert kubelet_side.start_error(rec)["exitCode"] == 128
    assert kubelet_side.start_error(Recording([_pod_row(0, "cannot-start", waiting="ContainerCreating")])) is None


def test_sandbox_ready_only_counts_for_a_container_that_never_ran():
    ready = ("PodScheduled", "Initialized", "PodReadyToStartContainers")
    never_ran = Recording([_pod_row(0, "cannot-start", waiting="ContainerCreating"),
                           _pod_row(1, "cannot-start", waiting="RunContainerError", conditions=ready)])
    assert kubelet_side.sandbox_ready_never_ran(never_ran)["t"] == 1
    ran = Recording([_pod_row(0, "cannot-start", running=True, conditions=ready)])
    assert kubelet_side.sandbox_ready_never_ran(ran) is None
    not_ready = Recording([_pod_row(0, "cannot-start", waiting="ContainerCreating", conditions=("PodScheduled",))])
    assert kubelet_side.sandbox_ready_never_ran(not_ready) is None


def test_running_again_needs_a_restart_and_a_running_container():
    assert not kubelet_side.running_again(Recording([_pod_row(0, "crasher", running=True)]))
    assert not kubelet_side.running_again(Recording([_pod_row(0, "crasher", waiting="CrashLoopBackOff", restarts=1)]))
    assert kubelet_side.running_again(Recording([_pod_row(0, "crasher", waiting="CrashLoopBackOff", restarts=1),
                                                 _pod_row(1, "crasher", running=True, restarts=1)]))


def test_deadline_failed_finds_the_jobs_pod_failed_by_the_kubelet():
    label = {"job-name": "pod-deadline"}
    failed = {"phase": "Failed", "reason": "DeadlineExceeded",
              "message": "Pod was active on the node longer than the specified deadline"}
    rec = Recording([_pod_row(0, "pod-deadline-a", running=True, labels=label),
                     _pod_row(1, "elsewhere", running=True, status=failed),  # not the Job's pod
                     _pod_row(5, "pod-deadline-a", terminated={"exitCode": 137}, labels=label, status=failed),
                     _job_row(20, "pod-deadline", "Failed")])
    assert kubelet_side.deadline_failed(rec)["name"] == "pod-deadline-a"
    row = kubelet_side.outcomes(rec).set_index("object").loc["job/pod-deadline", "what happened"]
    assert "DeadlineExceeded" in row and "pods made: 1" in row and "BackoffLimitExceeded" in row
    assert kubelet_side.deadline_failed(Recording([_pod_row(0, "pod-deadline-a", running=True, labels=label)])) is None


def test_done_waits_for_every_outcome():
    label = {"job-name": "pod-deadline"}
    failed = {"reason": "DeadlineExceeded", "message": "m"}
    rows = [_pod_row(0, "pod-deadline-a", labels=label, status=failed), _job_row(1, "pod-deadline", "Failed"),
            _job_row(2, "with-sidecar", "Complete"), _pod_row(3, "cannot-start", waiting="CrashLoopBackOff", last=START_ERROR),
            _pod_row(4, "crasher", running=True, restarts=1)]
    assert not kubelet_side.done(Recording(rows))  # slow-answer not restarted yet
    assert kubelet_side.done(Recording(rows + [_pod_row(5, "slow-answer", running=True, restarts=1)]))


def test_objects_are_what_the_lab_says():
    by_name = {o["metadata"]["name"]: o for o in kubelet_side.objects()}
    assert by_name["pod-deadline"]["spec"]["template"]["spec"]["activeDeadlineSeconds"] == kubelet_side.DEADLINE_SECONDS
    assert "activeDeadlineSeconds" not in by_name["pod-deadline"]["spec"]  # the pod's deadline, not the Job's
    sidecar = by_name["with-sidecar"]["spec"]["template"]["spec"]["initContainers"][0]
    assert sidecar["restartPolicy"] == "Always"
    probe = by_name["slow-answer"]["spec"]["containers"][0]["livenessProbe"]
    assert "timeoutSeconds" not in probe  # the default (1 s) is the point


def _job_status_row(t, name, **status):
    return {"t": t, "kind": "job", "name": name, "object": {"metadata": {"name": name}, "status": status}}


def test_workers_first_pods_settled_and_outcomes():
    zero, term = {"job-name": "exit0-on-term"}, {"job-name": "exit143-on-term"}
    rows = [_pod_row(0, "exit0-a", running=True, labels=zero), _pod_row(0, "exit143-a", waiting="ContainerCreating", labels=term)]
    assert kubelet_side.first_worker_pods(Recording(rows)) is None  # exit143's pod not running yet
    rows.append(_pod_row(1, "exit143-a", running=True, labels=term))
    assert kubelet_side.first_worker_pods(Recording(rows)) == {"exit0-on-term": "exit0-a", "exit143-on-term": "exit143-a"}
    rows += [_pod_row(5, "exit0-a", terminated={"exitCode": 0}, labels=zero, status={"phase": "Succeeded"}),
             _pod_row(5, "exit143-a", terminated={"exitCode": 143}, labels=term, status={"phase": "Failed"}),
             _job_row(6, "exit0-on-term", "Complete"), _job_status_row(6, "exit143-on-term", failed=1)]
    assert not kubelet_side.workers_settled(Recording(rows))  # no new pod for exit143-on-term yet
    rows.append(_pod_row(16, "exit143-b", running=True, labels=term))
    rec = Recording(rows)
    assert kubelet_side.workers_settled(rec)
    out = kubelet_side.worker_outcomes(rec).set_index("job")
    assert out.loc["exit0-on-term", "first pod's phase"] == "Succeeded" and out.loc["exit0-on-term", "pods made"] == 1
    assert out.loc["exit143-on-term", "first pod's exit code"] == 143 and out.loc["exit143-on-term", "pods made"] == 2
    assert "exited 143 and ended Failed" in kubelet_side.workers_sentence(kubelet_side.worker_outcomes(rec))


def test_debugger_ended_reads_the_ephemeral_container_status():
    pod = _pod_row(0, "steady", running=True)
    pod["object"]["spec"] = {"ephemeralContainers": [{"name": "debugger", "targetContainerName": "main"}]}
    pod["object"]["status"]["ephemeralContainerStatuses"] = [{"name": "debugger", "state": {"running": {}}}]
    assert kubelet_side.debugger_ended(Recording([pod])) is None
    assert kubelet_side.ephemeral_container(pod["object"])[0]["targetContainerName"] == "main"
    pod["object"]["status"]["ephemeralContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 0}}
    assert kubelet_side.debugger_ended(Recording([pod])) == {"exitCode": 0}


def _run_row(t, running_since=None, ended=None, last=None, restarts=0):
    """A ``resets`` row: the current run (running since, or ended (start, finish)) and the last one."""
    state = ({"running": {"startedAt": running_since}} if running_since
             else {"terminated": {"startedAt": ended[0], "finishedAt": ended[1], "exitCode": 1}} if ended
             else {"waiting": {"reason": "CrashLoopBackOff"}})
    cs = {"name": "main", "state": state, "restartCount": restarts,
          "lastState": {"terminated": {"startedAt": last[0], "finishedAt": last[1], "exitCode": 1}} if last else {}}
    return {"t": t, "kind": "pod", "name": "resets", "object": {"metadata": {"name": "resets"},
                                                                 "status": {"containerStatuses": [cs]}}}


def test_restart_delays_are_read_from_the_kubelets_timestamps():
    # as recorded on kind: runs 1-4 crash at once, run 5 works 620 s, run 6 starts at once (the reset)
    rows = [_run_row(0, running_since="2026-12-06T17:00:00Z"),
            _run_row(1, ended=("2026-12-06T17:00:00Z", "2026-12-06T17:00:00Z")),
            _run_row(2, running_since="2026-12-06T17:00:01Z", last=("2026-12-06T17:00:00Z", "2026-12-06T17:00:00Z"), restarts=1),
            _run_row(3, last=("2026-12-06T17:00:01Z", "2026-12-06T17:00:01Z"), restarts=1),
            _run_row(15, running_since="2026-12-06T17:00:14Z", last=("2026-12-06T17:00:01Z", "2026-12-06T17:00:01Z"), restarts=2),
            _run_row(16, last=("2026-12-06T17:00:14Z", "2026-12-06T17:00:14Z"), restarts=2),
            _run_row(39, running_since="2026-12-06T17:00:38Z", last=("2026-12-06T17:00:14Z", "2026-12-06T17:00:14Z"), restarts=3),
            _run_row(40, last=("2026-12-06T17:00:38Z", "2026-12-06T17:00:38Z"), restarts=3),
            _run_row(81, running_since="2026-12-06T17:01:20Z", last=("2026-12-06T17:00:38Z", "2026-12-06T17:00:38Z"), restarts=4)]
    rec = Recording(rows)
    assert not kubelet_side.reset_seen(rec)
    rows += [_run_row(701, last=("2026-12-06T17:01:20Z", "2026-12-06T17:11:40Z"), restarts=4),
             _run_row(702, running_since="2026-12-06T17:11:40Z", last=("2026-12-06T17:01:20Z", "2026-12-06T17:11:40Z"), restarts=5)]
    rec = Recording(rows)
    assert kubelet_side.reset_seen(rec)
    delays = kubelet_side.restart_delays(rec)
    assert delays["ran (s)"].tolist()[:5] == [0, 0, 0, 0, 620]
    assert delays["delay before the next run (s)"].tolist()[:5] == [1, 13, 24, 42, 0]
