"""Exercise checks on the real cluster: answers written differently from the solution pass, and each
wrong answer gets the explanation that fits it (the test asserts the explanation, not only the failure)."""

import textwrap

import pytest
import yaml

from kjlab import checks as check
from kjlab.actions import ops


def policy(text):
    return textwrap.dedent(text)


def explained(verdict, *phrases):
    text = str(verdict)
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{missing} not in:\n{text}"


def test_placeholder_is_not_solved_yet(lab):
    v = check.run("failjob-policy", None, context=lab["context"], echo=False)
    assert not v.passed and not v.solved and "not solved yet" in v.headline


# --- failjob-policy ---------------------------------------------------------------------------------

def test_failjob_policy_written_differently_passes(lab):
    answer = {"rules": [
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},      # no containerName
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [42]}},     # explicit Count
    ]}
    v = check.run("failjob-policy", answer, context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "matching FailJob rule at index 0", "exit code 1: counted")


def test_failjob_policy_that_fails_on_every_code(lab):
    v = check.run("failjob-policy", policy("""
        rules:
        - action: FailJob
          onExitCodes: {operator: NotIn, values: [0]}
    """), context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "exit code 1 should be counted", "rule 0 (FailJob) matched: container main exited with 1, which is NotIn [0]")


def test_failjob_policy_that_only_counts(lab):
    v = check.run("failjob-policy", policy("""
        rules:
        - action: Count
          onExitCodes: {containerName: main, operator: In, values: [42]}
    """), context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "exit code 42 should fail the Job at once", "rule 0 (Count) matched: container main exited with 42")


def test_failjob_policy_with_exit_code_zero_is_rejected_with_the_apis_words(lab):
    v = check.run("failjob-policy", policy("""
        rules:
        - action: FailJob
          onExitCodes: {operator: In, values: [0, 42]}
    """), context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the API rejected the Job", "must not be 0 for the In operator", "exit code 0 is success")


def test_failjob_policy_that_is_not_yaml(lab):
    v = check.run("failjob-policy", "rules: [action: FailJob", context=lab["context"], echo=False)
    assert not v.passed and "not valid YAML" in str(v)


# --- survive-drain ----------------------------------------------------------------------------------

def test_survive_drain_with_a_misspelt_condition(lab):
    v = check.run("survive-drain", policy("""
        rules:
        - action: Ignore
          onPodConditions:
          - type: Disruption
    """), context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the drain was counted", "rule 0 (Ignore) did not match: the pod has no condition Disruption=True",
              "DisruptionTarget=True")


def test_survive_drain_solution_passes(lab):
    v = check.run("survive-drain", {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]},
                  context=lab["context"], echo=False)
    assert v.passed, v
    explained(v, "status.failed went 0 -> 0")


# --- config-issue-step ------------------------------------------------------------------------------

def test_config_issue_step_without_the_delete(lab):
    def only_patch(ctx, ns, pod):
        ops.patch_pod_condition(ctx, ns, pod, "ConfigIssue", "True", reason="NonExistingImage", echo=False)

    v = check.run("config-issue-step", only_patch, context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "the marked pod never reached phase Failed", "delete the pod after marking it")


def test_config_issue_step_without_the_condition(lab):
    def only_delete(ctx, ns, pod):
        ops.delete_pod(ctx, ns, pod, echo=False)

    v = check.run("config-issue-step", only_delete, context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "no pod got a ConfigIssue condition", "the failure is counted")


def test_config_issue_step_that_raises(lab):
    def broken(ctx, ns, pod):
        raise RuntimeError("forgot to write this")

    v = check.run("config-issue-step", broken, context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "your function raised an error", "RuntimeError: forgot to write this")


def test_config_issue_step_with_the_raw_client_passes(lab):
    import datetime as dt

    from kjlab.api import kube

    def raw(ctx, ns, pod):
        core = kube.core(ctx)
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        core.patch_namespaced_pod_status(pod, ns, {"status": {"conditions": [
            {"type": "ConfigIssue", "status": "True", "reason": "NonExistingImage", "lastTransitionTime": now}]}},
            _content_type="application/strategic-merge-patch+json")
        core.delete_namespaced_pod(pod, ns)

    v = check.run("config-issue-step", raw, context=lab["context"], echo=False)
    assert v.passed, v


# --- fixes ------------------------------------------------------------------------------------------

def test_fix_left_unfixed_shows_the_api_message_and_a_hint(lab):
    v = check.run("fix-restart-policy", check.broken_manifest("fix-restart-policy"), context=lab["context"], echo=False)
    assert not v.passed
    explained(v, 'only "Never" is supported when podFailurePolicy is specified', "restartPolicy: Never")


def test_fix_by_deleting_the_policy_is_not_a_fix(lab):
    doc = yaml.safe_load(check.broken_manifest("fix-container-name"))
    del doc["spec"]["podFailurePolicy"]
    v = check.run("fix-container-name", yaml.safe_dump(doc), context=lab["context"], echo=False)
    assert not v.passed and "no podFailurePolicy any more" in v.headline


def test_rule_order_unfixed_is_explained_by_the_first_match(lab):
    v = check.run("fix-rule-order", check.broken_manifest("fix-rule-order"), context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "rule 0 (Count) matched: container main exited with 42, which is NotIn [0]",
              "the first match wins")


def test_rule_order_fixed_by_dropping_the_count_rule_passes(lab):
    doc = yaml.safe_load(check.broken_manifest("fix-rule-order"))
    doc["spec"]["podFailurePolicy"]["rules"] = doc["spec"]["podFailurePolicy"]["rules"][1:]
    v = check.run("fix-rule-order", yaml.safe_dump(doc), context=lab["context"], echo=False)
    assert v.passed, v


# --- predict ----------------------------------------------------------------------------------------

def test_prediction_with_a_wrong_count(lab):
    guess = {"outcome": "Failed", "reason": "FailedIndexes", "failed": 2, "succeeded": 2, "failedIndexes": "0,1"}
    v = check.run("predict-failindex", guess, context=lab["context"], echo=False)
    assert not v.passed
    explained(v, "failed: you said 2, the cluster says 3  <- differs", "why failed: index 0 exits with 1 twice")
    assert "1 of 5 predictions differ" in v.headline


@pytest.mark.parametrize("answer,message", [
    ("Failed", "the prediction should be a dict"),
    ({"outcome": "Failed"}, "the prediction is missing reason"),
])
def test_prediction_shape(lab, answer, message):
    v = check.run("predict-failindex", answer, context=lab["context"], echo=False)
    assert not v.passed and message in v.headline
