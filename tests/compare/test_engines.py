"""The two engines side by side: every documented scenario, with and without its policy, as
recorded on kwok and on kind during this `make test`, compared field by field on everything but
time (bench/engines.py does the comparing and prints the durations).

The runs come from $KJLAB_RUNS_DIR, filled by the kwok and kind suites (tests/runs_hook.py), so no
scenario runs a second time for the comparison. Each run is also checked against what
shared/FIDELITY.md says, on both engines -- so a scenario the suites covered only through a lab
notebook (failjob without its policy, whose back-off takes minutes) is still asserted here.
"""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("kjlab_bench_engines", ROOT / "bench" / "engines.py")
engines = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engines)

PAIRS = [(s, v) for s in engines.SCENARIOS for v in engines.VARIANTS]


@pytest.fixture(scope="module")
def runs():
    runs_dir = os.environ.get("KJLAB_RUNS_DIR")
    if not runs_dir or not Path(runs_dir).is_dir():
        pytest.skip("no recorded runs: `make test` records them (KJLAB_RUNS_DIR) on both engines first")
    return engines.load_runs(Path(runs_dir))


@pytest.mark.parametrize("scenario,variant", PAIRS, ids=[f"{s}-{v}" for s, v in PAIRS])
def test_same_behaviour_on_both_engines(runs, scenario, variant):
    kwok, kind = runs.get(("kwok", scenario, variant)), runs.get(("kind", scenario, variant))
    assert kwok is not None and kind is not None, (
        f"{scenario} {variant} was not recorded on " + " and ".join(e for e, r in (("kwok", kwok), ("kind", kind)) if not r))
    unexplained = [(field, a, b) for field, a, b, cause in engines.explain(scenario, variant, kwok, kind)
                   if cause is None]
    assert not unexplained, "\n".join(f"{f}:\n  kwok: {a}\n  kind: {b}" for f, a, b in unexplained)


EXPECTED = {  # shared/FIDELITY.md, per scenario and variant: fingerprint fields that must hold
    ("failjob", "policy"): {"outcome": "Failed", "reason": "PodFailurePolicy", "failed": 2, "succeeded": 0,
                            "message": "Container main for pod <ns>/<pod> failed with exit code 42 matching FailJob rule at index 0"},
    ("failjob", "nopolicy"): {"outcome": "Failed", "reason": "BackoffLimitExceeded", "succeeded": 0,
                              "message": "Job has reached the specified backoff limit"},
    ("ignore", "policy"): {"outcome": "Complete", "succeeded": 4, "failed": 0},
    ("ignore", "nopolicy"): {"outcome": "Failed", "reason": "BackoffLimitExceeded"},
    ("config-issue", "policy"): {"outcome": "Failed", "reason": "PodFailurePolicy", "failed": 2,
                                 "message": "Pod <ns>/<pod> has condition ConfigIssue matching FailJob rule at index 0"},
    ("config-issue", "nopolicy"): {"outcome": "Running", "failed": 1},
    ("failindex", "policy"): {"outcome": "Failed", "reason": "FailedIndexes", "failed": 3, "failedIndexes": "0,1",
                              "message": "Job has failed indexes"},
    ("failindex", "nopolicy"): {"outcome": "Failed", "reason": "FailedIndexes", "failed": 4},
}


@pytest.mark.parametrize("engine", engines.ENGINES)
@pytest.mark.parametrize("scenario,variant", PAIRS, ids=[f"{s}-{v}" for s, v in PAIRS])
def test_each_run_matches_fidelity(runs, engine, scenario, variant):
    data = runs.get((engine, scenario, variant))
    if data is None:
        pytest.skip(f"{scenario} {variant} not recorded on {engine}")
    fp = engines.fingerprint(data)
    for field, want in EXPECTED[(scenario, variant)].items():
        assert fp[field] == want, (field, fp[field], want)
    if fp["outcome"] in ("Failed", "Complete"):
        first, last = ("FailureTarget", "Failed") if fp["outcome"] == "Failed" else ("SuccessCriteriaMet", "Complete")
        if first in fp["conditions"]:
            assert fp["conditions"].index(first) < fp["conditions"].index(last), fp["conditions"]
    if (scenario, variant) == ("failjob", "nopolicy"):
        assert fp["failed"] > 6 and data["duration_s"] > 120
