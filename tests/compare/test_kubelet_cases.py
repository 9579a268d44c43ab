"""The simulated kubelet against the real one on the grammar's cases (tests/cluster/kubelet_cases.py):
the fingerprints both suites saved under $KJLAB_RUNS_DIR/kubelet-cases/ must be equal on every
compared field but the listed, explained differences; every other difference is printed."""

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
import kubelet_cases as cases  # noqa: E402


def _load(engine):
    path = Path(os.environ.get("KJLAB_RUNS_DIR", "artifacts/runs")) / "kubelet-cases" / f"{engine}.json"
    if not path.exists():
        pytest.skip(f"no kubelet cases recorded on {engine} ({path})")
    return json.loads(path.read_text())


def test_kwok_matches_kind_on_the_grammar_cases():
    kwok, kind = _load("kwok"), _load("kind")
    assert set(kwok) == set(kind) == set(cases.POD_CASES) | set(cases.JOB_CASES)
    unexplained, printed = cases.differences(kwok, kind)
    print("\nwhat still differs between the simulated and the real kubelet (not asserted):")
    print("\n".join("  " + p for p in printed) or "  nothing")
    assert unexplained == [], "\n".join(unexplained)
