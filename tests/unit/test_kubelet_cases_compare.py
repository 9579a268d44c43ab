"""The kwok-vs-kind comparison of the grammar cases (tests/cluster/kubelet_cases.py): a compared
field that differs fails unless its cause is listed; other fields are only reported."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
import kubelet_cases as cases  # noqa: E402


def test_an_unexplained_compared_difference_is_reported_as_such():
    kind = {"false": {"final": "main:terminated Error 1", "states": ["a", "b"]}}
    kwok = {"false": {"final": "main:terminated Completed 0", "states": ["b"]}}
    unexplained, printed = cases.differences(kwok, kind)
    assert unexplained == ["false.final: kind='main:terminated Error 1' kwok='main:terminated Completed 0'"]
    assert printed == ["false.states: kind=['a', 'b'] kwok=['b']"]


def test_a_listed_difference_carries_its_cause_and_does_not_fail():
    kind = {"always-restarts": {"final": "main:running"}}
    kwok = {"always-restarts": {"final": "main:waiting CrashLoopBackOff"}}
    unexplained, printed = cases.differences(kwok, kind)
    assert unexplained == [] and len(printed) == 1
    assert cases.DIFFERENCES[("always-restarts", "final")] in printed[0]


def test_every_case_is_inside_the_grammar():
    # The comparison is about what the simulation claims to run: no case may be NotSimulated.
    from kjlab.cluster.kwok import grammar

    indexed = {"metadata": {"annotations": {"batch.kubernetes.io/job-completion-index": "0"}}}
    for name, (spec, _) in cases.POD_CASES.items():
        assert grammar.not_simulated({"spec": spec}) == [], name
    for name, spec in cases.JOB_CASES.items():
        pod = {**indexed, "spec": spec["template"]["spec"]} if spec.get("completionMode") == "Indexed" \
            else {"spec": spec["template"]["spec"]}
        assert grammar.not_simulated(pod) == [], name
