"""Lab 12's NotReady step says what the pod that stayed noticed, read from the recording: nothing on
kwok (recorded: tests/data/runs/notready-kwok.json), its container restarts where the node's containers
stopped with the node (kind: the kubelet restarts them when the node is back, exit code 255 seen there)."""

import copy
from pathlib import Path

from kjlab.labs import disruptions
from kjlab.runs import saved as saved_runs
from kjlab.runs.result import Recording

RUN = Path(__file__).resolve().parents[1] / "data" / "runs" / "notready-kwok.json"


def recorded() -> list[dict]:
    return saved_runs.load(RUN)["rows"]


def test_on_kwok_the_pod_that_stayed_never_noticed():
    rec = Recording(recorded())
    assert disruptions.disrupted(rec).set_index("pod").loc["short-toleration", "reason"] == "DeletionByTaintManager"
    assert disruptions.restarts(rec, "default-tolerations").empty
    assert "never noticed" in disruptions.what_it_noticed(rec, "default-tolerations")


def test_a_restart_in_place_is_told_with_its_exit_code():
    """The same recording, with the pod's last two objects showing its container restarted twice as
    kind showed it (lastState terminated, exit code 255, reason Unknown: what the container runtime
    reports for a container whose process died with its node; not a code in the kubelet's source)."""
    rows = recorded()
    mine = [r for r in rows if r["kind"] == "pod" and r["name"] == "default-tolerations" and r.get("object")]
    for count, row in zip((1, 2), mine[-2:]):
        row["object"] = obj = copy.deepcopy(row["object"])
        status = obj["status"]["containerStatuses"][0]
        status["restartCount"] = count
        status["lastState"] = {"terminated": {"exitCode": 255, "reason": "Unknown"}}
    rec = Recording(rows)
    done = disruptions.restarts(rec, "default-tolerations")
    assert list(done["restartCount"]) == [1, 2] and list(done["exit code"]) == [255, 255]
    text = disruptions.what_it_noticed(rec, "default-tolerations")
    assert "never noticed" not in text and "2 restart(s)" in text and text.count("exit code 255") == 2
