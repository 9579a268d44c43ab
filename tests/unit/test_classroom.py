"""The classroom's pure parts: the class list, the instructor's labels, the report's counting, and
the kwokctl config that puts authentication on every port (the real clusters: tests/classroom/)."""

import pytest
import yaml

from kjlab.classroom import accounts, report
from kjlab.errors import KjlabError


def test_a_bad_line_is_one_message_naming_the_line():
    with pytest.raises(KjlabError) as e:
        accounts.parse_class_list("ada  Ada\n\n# a comment\nbob.smith  Bob\n", "class.txt")
    assert "class.txt, line 4" in e.value.message and "'bob.smith  Bob'" in e.value.message
    with pytest.raises(KjlabError) as e:
        accounts.parse_class_list("ada  Ada\nbob\nada  Ada again\n", "class.txt")
    assert "line 3" in e.value.message and "listed twice" in e.value.message
    with pytest.raises(KjlabError):
        accounts.parse_class_list("# nobody yet\n")


def test_learners_sharing_a_display_name_are_told_apart_by_login():
    learners = accounts.parse_class_list("sam1  Sam\nsam2  Sam\nada  Ada Lovelace\n")
    assert [lr.unix_user for lr in learners] == ["kjlab-sam1", "kjlab-sam2", "kjlab-ada"]
    assert accounts.labels(learners) == {"sam1": "Sam (sam1)", "sam2": "Sam (sam2)", "ada": "Ada Lovelace"}


def test_the_report_counts_learners_not_attempts():
    def v(exercise, passed, summary="", reason=""):
        return {"exercise": exercise, "passed": passed, "solved": True, "summary": summary, "reason": reason}

    wrong = ("exit code 42 did not fail the Job at once", "rule 0 matched exit code 1")
    rep = report.summarise({"learners": {"a": "A", "b": "B", "c": "C"}, "unreadable": [], "rows": {
        "a": [v("failjob-policy", False, *wrong)] * 3 + [v("failjob-policy", True)],
        "b": [v("failjob-policy", False, *wrong)],
        "c": []}})
    assert rep["table"]["a"]["failjob-policy"] == {"tries": 4, "passed": True, "last": ""}
    assert rep["progress"]["failjob-policy"] == 1
    assert rep["common_wrong"]["failjob-policy"] == [{"answer": wrong[0], "learners": 2, "explanation": wrong[1]}]
    text = report.render_text(rep)
    assert "pass (4)" in text and "not yet (1)" in text and "2 x exit code 42" in text


def test_every_port_of_a_kwok_cluster_is_configured_to_require_credentials(tmp_path, monkeypatch):
    from kjlab.cluster import kwok

    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    head = yaml.safe_load(kwok.kwokctl_config(tmp_path / "bin", 1.0).split("---\n")[0])
    patches = {p["name"]: {a["key"]: a["value"] for a in p["extraArgs"]} for p in head["componentsPatches"]}
    etcd = patches["etcd"]
    assert etcd["listen-client-urls"] == f"https://127.0.0.1:{head['options']['etcdPort']}"
    assert etcd["listen-peer-urls"] == f"https://127.0.0.1:{head['options']['etcdPeerPort']}"
    assert etcd["client-cert-auth"] == etcd["peer-client-cert-auth"] == "true"
    assert patches["kube-apiserver"]["etcd-servers"] == etcd["listen-client-urls"]
    assert patches["kube-apiserver"]["anonymous-auth"] == "false"
    for name in ("kube-controller-manager", "kube-scheduler"):
        assert "/metrics" not in patches[name]["authorization-always-allow-paths"]
        assert patches[name]["leader-elect"] == "false"  # the existing patch is kept, merged
    assert patches["kwok-controller"] == {"server-address": "", "node-port": "0"}


def test_a_class_list_that_is_a_device_is_one_line_not_read_forever():
    import time

    from kjlab.classroom import accounts

    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        accounts.read_class_list("/dev/zero")
    assert "is not a regular file" in e.value.message and time.monotonic() - started < 5


def test_a_results_file_a_learner_edited_and_a_report_into_a_missing_directory(tmp_path, capsys):
    import json

    from kjlab.cli import main

    learner = tmp_path / "results" / "kjlab-ada"
    learner.mkdir(parents=True)
    (learner / "results.jsonl").write_text(
        json.dumps({"exercise": "failjob-policy", "passed": False, "summary": None, "reason": None}) + "\n"
        + json.dumps({"exercise": "failjob-policy", "passed": False, "summary": 7}) + "\n")
    assert main(["class", "report", "--results", str(tmp_path / "results")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    html = tmp_path / "missing" / "report.html"
    assert main(["class", "report", "--results", str(tmp_path / "results"), "--html", str(html)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"kjlab: cannot write the report to {html}") and "mkdir -p" in err
