"""bench/engines.py explains a difference between the engines only with the evidence for its cause:
the failjob-without-policy sibling the Job controller deletes at the backoff limit (CI, stop 36: kind
had SuccessfulDelete, kwok not). Recorded-run timelines are fed to the pure comparison."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("kjlab_bench_engines_u", ROOT / "bench" / "engines.py")
engines = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engines)


def _pod(name, statuses, code=42):
    rows = [{"kind": "pod", "name": name, "status": s, "exit_code": None} for s in statuses]
    rows[-1]["exit_code"] = code
    return rows


STARTED = ("Scheduled", "Pulled", "Created", "Started")
DELETED = ("BackoffLimitExceeded", "SuccessfulCreate", "SuccessfulDelete")


def _run(pods, job_events=("BackoffLimitExceeded", "SuccessfulCreate"), pod_events=None):
    rows = [r for p in pods for r in p]
    rows += [{"kind": "event", "name": "job/failjob", "reason": r} for r in job_events]
    # the kubelet (and kwok's Stages) say Killing when they stop a container that still runs
    if pod_events is None:
        pod_events = STARTED + (("Killing",) if "SuccessfulDelete" in job_events else ())
    rows += [{"kind": "event", "name": "pod/failjob-x", "reason": r} for r in pod_events]
    return {"outcome": "Failed", "reason": "BackoffLimitExceeded", "failed": 8, "succeeded": 0, "timeline": rows}


NORMAL = ["Pending", "Running", "Error"]


def _waves(last):
    return [_pod(f"p{i}", NORMAL) for i in range(7)] + [last]


def _causes(kwok, kind):
    return {field: cause for field, _, _, cause in engines.explain("failjob", "nopolicy", kwok, kind)}


def test_a_sibling_deleted_at_the_limit_on_one_engine_is_explained():
    kwok = _run(_waves(_pod("p7", NORMAL)))
    kind = _run(_waves(_pod("p7", ["Pending", "Running", "Terminating", "Error"])),
                DELETED)
    causes = _causes(kwok, kind)
    assert set(causes) == {"pod_statuses", "job_event_reasons", "pod_event_reasons"}, causes
    assert all(c == engines._SIBLING_AT_THE_LIMIT for c in causes.values()), causes


def test_a_deleted_sibling_killed_at_the_end_of_its_grace_is_explained_too():
    kwok = _run(_waves(_pod("p7", ["Pending", "Running", "Terminating", "Error"], 137)),
                DELETED)
    kind = _run(_waves(_pod("p7", NORMAL)))
    causes = _causes(kwok, kind)
    assert set(causes) == {"pod_statuses", "exit_codes", "job_event_reasons", "pod_event_reasons"}, causes
    assert None not in causes.values(), causes


def test_a_delete_without_a_terminating_pod_is_not_explained():
    kwok = _run(_waves(_pod("p7", NORMAL)))
    kind = _run(_waves(_pod("p7", NORMAL)), DELETED)
    assert set(_causes(kwok, kind)) == {"job_event_reasons", "pod_event_reasons"}
    assert set(_causes(kwok, kind).values()) == {None}


def test_another_difference_beside_the_delete_is_not_explained():
    kwok = _run(_waves(_pod("p7", NORMAL)))
    kind = _run(_waves(_pod("p7", ["Pending", "Running", "Terminating", "Error"], 1)),
                DELETED)
    assert set(_causes(kwok, kind).values()) == {None}, "exit code 1 is no part of the cause"
    other = _run(_waves(_pod("p7", ["Pending", "Running", "Terminating", "Error"])),
                 DELETED + ("FailedCreate",))
    assert set(_causes(kwok, other).values()) == {None}


def test_the_same_difference_in_another_scenario_is_not_explained():
    kwok = _run(_waves(_pod("p7", NORMAL)))
    kind = _run(_waves(_pod("p7", ["Pending", "Running", "Terminating", "Error"])),
                DELETED)
    explained = engines.explain("failindex", "nopolicy", kwok, kind)
    assert explained and all(cause is None for *_, cause in explained)


def test_a_pod_that_never_started_ends_container_status_unknown_and_is_explained():
    kwok = _run(_waves(_pod("p7", NORMAL)))
    kind = _run(_waves(_pod("p7", ["Pending", "Terminating", "ContainerStatusUnknown"], 137)), DELETED,
                STARTED)  # it never ran: no Killing
    assert None not in _causes(kwok, kind).values(), _causes(kwok, kind)


def test_the_other_pods_are_compared_as_many_as_they_are_not_as_kinds():
    odd = ["Pending", "Running", "OOMKilled"]
    kwok = _run([_pod(f"p{i}", NORMAL if i < 6 else odd) for i in range(7)] + [_pod("p7", NORMAL)])
    kind = _run([_pod(f"p{i}", NORMAL if i < 1 else odd) for i in range(7)]
                + [_pod("p7", ["Pending", "Running", "Terminating", "Error"])], DELETED)
    assert _causes(kwok, kind)["pod_statuses"] is None
    two = _run([_pod(f"p{i}", NORMAL) for i in range(6)] + [_pod(f"p{i}", ["Pending", "Running", "Terminating", "Error"])
                                                          for i in (6, 7)], DELETED)
    assert _causes(kwok, two)["pod_statuses"] is None, "one deleted pod explained, not two"


def test_killing_in_the_run_that_deleted_nothing_is_not_explained():
    kwok = _run(_waves(_pod("p7", NORMAL)), pod_events=STARTED + ("Killing",))
    kind = _run(_waves(_pod("p7", ["Pending", "Running", "Terminating", "Error"])), DELETED, STARTED)
    assert set(_causes(kwok, kind).values()) == {None}


# failindex (CI, stop 37): its containers exit at once, and a real kubelet that relists between the
# start and the end never reports one Running. Kind's sequences as CI recorded them.
RAN = ["Pending", "ContainerCreating", "Running"]


def _failindex(*ends, skipped=()):
    pods = [_pod(f"i{n}", (RAN[:2] if n in skipped else RAN) + [end], 0 if end == "Completed" else 42)
            for n, end in enumerate(ends)]
    return {"outcome": "Failed", "reason": "FailedIndexes", "failed": 3, "succeeded": 2, "timeline": [r for p in pods for r in p]}


def _failindex_causes(kwok, kind, variant="policy"):
    return {field: cause for field, _, _, cause in engines.explain("failindex", variant, kwok, kind)}


ENDS = ("Completed", "Completed", "Error", "Error", "Error")


def test_a_quick_container_never_seen_running_by_the_real_kubelet_is_explained():
    causes = _failindex_causes(_failindex(*ENDS), _failindex(*ENDS, skipped={2}))
    assert causes == {"pod_statuses": engines._ENDED_BETWEEN_RELISTS}, causes
    both = _failindex_causes(_failindex(*ENDS), _failindex(*ENDS, skipped={0, 4}), "nopolicy")
    assert both == {"pod_statuses": engines._ENDED_BETWEEN_RELISTS}, both


def test_running_skipped_on_kwok_or_a_pod_that_ended_otherwise_is_not_explained():
    # kwok's Stages always pass through Running: a kwok pod without it is another cause
    assert _failindex_causes(_failindex(*ENDS, skipped={2}), _failindex(*ENDS)) == {"pod_statuses": None}
    # a kind pod that skipped Running and ended Completed where kwok's matching pod ended Error
    other = _failindex_causes(_failindex(*ENDS), _failindex("Completed", "Completed", "Completed", "Error", "Error", skipped={2}))
    assert other["pod_statuses"] is None, other
    # one pod more on kind: not a skipped step
    more = _failindex_causes(_failindex(*ENDS), _failindex(*ENDS, "Error", skipped={5}))
    assert more["pod_statuses"] is None, more
    # the same skip in another scenario has no evidence function: unexplained
    kwok, kind = _failindex(*ENDS), _failindex(*ENDS, skipped={2})
    assert {c for *_, c in engines.explain("failjob", "policy", kwok, kind)} == {None}
