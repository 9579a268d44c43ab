"""One test per family of issue 30's faults: each replays its family's cases (tests/faults/cases.py)
and expects every one clear (or survived, for a fault injected into the cluster). bench/faults.py
prints the same cases as a table."""

import pytest

import cases as fault_cases


def _replay(family: str) -> None:
    harness = fault_cases.Harness()
    try:
        results = [(case.id, *harness.run(case)) for case in fault_cases.cases() if case.family == family]
    finally:
        harness.close()
    assert results, f"no cases in family {family}"
    bad = [f"{case}: {outcome} after {seconds:.1f} s ({tail})" for case, outcome, seconds, tail in results
           if outcome not in ("clear", "survived")]
    assert not bad, "\n".join(bad)


def test_nothing_is_written_to_a_cluster_kjlab_did_not_make():
    """Every check, scenario variant and the controller, aimed at a "production" context: refused
    before any request (the logging fake API server gets nothing)."""
    _replay("foreign")


def test_bad_input_is_refused_at_once():
    """--namespace '', --timeout 0 and -5: refused by the argument parser, in one line."""
    _replay("accepted")


@pytest.mark.cluster
def test_every_bad_input_gets_one_line_not_a_traceback(lab):
    _replay("traceback")


@pytest.mark.cluster
def test_nothing_hangs(private):
    """Special files as answers, status while etcd is stopped, a step that waits for a pod that never
    comes: each answers within its limit (stopping etcd on the module's private cluster)."""
    _replay("hang")


@pytest.mark.cluster
def test_every_fault_is_named_or_survived(private):
    """Stopped and dead components named by status within 5 s; a killed kwok-controller repaired with
    its nodes schedulable at once; 20 s stalls of the API server and etcd mid-run survived."""
    _replay("unnamed")


@pytest.mark.cluster
def test_the_turn_2_cases_stay_fixed(lab):
    """A namespace kjlab did not make and kube-system kept, the learner's kubeconfig byte for byte,
    and the sandbox: exit, loops, allocation, output, fork bomb, a detached child -- all NOT YET, none left."""
    _replay("turn2")
