"""The rule matcher that explains verdicts, fed with pods as the API serves them."""

from kjlab.api.policy import first_match

FAILJOB = {"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}}]}
IGNORE = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}


def pod(phase="Failed", code=None, conditions=(), container="main"):
    statuses = []
    if code is not None:
        statuses.append({"name": container, "state": {"terminated": {"exitCode": code, "reason": "Error"}}})
    return {"metadata": {"name": "p"}, "status": {"phase": phase, "containerStatuses": statuses,
                                                   "conditions": [dict(c) for c in conditions]}}


def test_exit_code_in():
    m = first_match(FAILJOB, pod(code=42))
    assert (m.index, m.action) == (0, "FailJob") and "exited with 42, which is In [42]" in m.why


def test_other_codes_are_counted():
    m = first_match(FAILJOB, pod(code=1))
    assert (m.index, m.action) == (None, "Count") and "not In [42]" in m.why


def test_container_name_filters():
    m = first_match(FAILJOB, pod(code=42, container="sidecar"))
    assert m.index is None and "in container main" in m.why


def test_not_in_matches_any_other_nonzero_code():
    policy = {"rules": [{"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [0]}},
                        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    m = first_match(policy, pod(code=42))
    assert (m.index, m.action) == (0, "Count")  # first match wins


def test_pod_condition_with_default_status_true():
    disrupted = pod(code=137, conditions=[{"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}])
    m = first_match(IGNORE, disrupted)
    assert (m.index, m.action) == (0, "Ignore") and "EvictionByEvictionAPI" in m.why


def test_condition_false_does_not_match():
    m = first_match(IGNORE, pod(conditions=[{"type": "DisruptionTarget", "status": "False"}]))
    assert m.index is None and "DisruptionTarget=False" in m.why


def test_only_failed_pods_are_evaluated():
    m = first_match(FAILJOB, pod(phase="Pending"))
    assert m.index is None and "not in phase Failed" in m.why


def test_zero_exit_codes_are_never_looked_at():
    m = first_match({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [1]}}]}, pod(code=0))
    assert m.index is None


def test_no_policy_counts():
    assert first_match(None, pod(code=42)).action == "Count"


def test_regular_containers_are_matched_before_init_containers():
    """A sidecar (restartable init container) killed at the pod's end and a main container that
    failed both match a rule without containerName: the controller names the main container
    (pkg/controller/job/pod_failure_policy.go matchOnExitCodes: regular statuses first)."""
    failed = pod(code=42)
    failed["status"]["initContainerStatuses"] = [
        {"name": "sidecar", "state": {"terminated": {"exitCode": 137, "reason": "Error"}}}]
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [0]}}]}
    m = first_match(policy, failed)
    assert (m.index, m.action) == (0, "FailJob") and "container main exited with 42" in m.why, m.why
    # an init container still matches when no regular container does
    failed["status"]["containerStatuses"] = []
    assert "container sidecar exited with 137" in first_match(policy, failed).why
