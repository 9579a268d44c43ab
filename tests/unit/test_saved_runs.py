"""Recorded runs are saved compactly (kjlab.runs.saved) and read back exactly as recorded."""

import json
from pathlib import Path

import pytest

from kjlab.runs import saved

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def _row(name, obj, kind="pod"):
    return {"kind": kind, "name": name, "event": "MODIFIED", "object": obj}


def test_a_recording_reads_back_exactly_and_later_objects_are_stored_as_differences():
    pod = {"metadata": {"name": "a", "labels": {"x": "1"}, "resourceVersion": "1"}, "status": {"phase": "Pending"}}
    later = {"metadata": {"name": "a", "labels": {}, "resourceVersion": "2"}, "status": {"phase": "Running", "x": None}}
    gone = {"metadata": {"name": "a", "resourceVersion": "3"}}
    data = {"summary": {"outcome": "Complete"}, "rows": [_row("a", pod), _row("b", pod), _row("a", later),
                                                         _row("a", gone), {"kind": "event", "name": "e", "object": None}]}
    text = saved.dumps(data)
    stored = json.loads(text)["rows"]
    assert stored[0]["object"] == pod and stored[1]["object"] == pod  # each (kind, name) starts whole
    assert list(stored[2]["object"]) == ["$diff"] and "Pending" not in json.dumps(stored[2])
    assert saved.expand(json.loads(text)) == data


def test_every_saved_run_in_tests_data_reads_back_whole():
    files = sorted(RUNS.glob("*.json"))
    assert files
    for path in files:
        data = saved.load(path)
        for rows in ([data] if isinstance(data, list) else data.values()):
            if isinstance(rows, list) and rows and isinstance(rows[0], dict) and "object" in rows[0]:
                assert all(not (isinstance(r["object"], dict) and "$diff" in r["object"]) for r in rows), path


def test_what_would_not_read_back_is_not_written(monkeypatch):
    monkeypatch.setattr(saved, "expand", lambda data: {})
    with pytest.raises(ValueError):
        saved.dumps({"rows": [_row("a", {"x": 1})]})
