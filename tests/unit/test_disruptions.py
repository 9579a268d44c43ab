"""kjlab.disruptions on a recorded run of lab 12 (tests/data/runs/disruptions.json, recorded on the kwok
engine by tests/data/record_runs.py disruptions): web (3 pods) drained against minAvailable: 2, a
NoExecute taint on a Job's pod and two tolerating pods, a preemption. The expectations are what the
Eviction API, the taint-eviction controller and the scheduler must do with those specs, not numbers
read off the recording."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kjlab.labs import disruptions
from kjlab.runs.result import Recording
from kjlab.runs import saved as saved_runs

RUN = Path(__file__).resolve().parents[1] / "data" / "runs" / "disruptions.json"


@pytest.fixture(scope="module")
def parts():
    return {name: Recording(rows) for name, rows in saved_runs.load(RUN).items()}


def test_every_eviction_is_on_the_timeline_and_the_budget_refused_some(parts):
    answers = disruptions.refusals(parts["budget"])
    accepted = answers[answers["answer"] == "accepted"]
    refused = answers[answers["answer"] == "429 refused"]
    assert len(accepted) == 3 and accepted["pod"].is_unique
    # minAvailable 2 of 3: only the first eviction can go through at once; the others wait for a replacement
    assert len(refused) >= 2 and set(refused["pod"]) <= set(accepted["pod"][1:])
    assert all("violate the pod's disruption budget" in m for m in refused["message"])
    # a pod's refusal comes before its acceptance
    for pod in refused["pod"]:
        assert refused[refused["pod"] == pod]["t"].max() < accepted[accepted["pod"] == pod]["t"].iloc[0]


def test_the_budget_kept_two_pods_ready(parts):
    rec = parts["budget"]
    drain_at = disruptions.first_step(rec, "drain")
    assert disruptions.min_ready_after(rec, "app", "web", drain_at) == 2
    counts = disruptions.ready_over_time(rec, "app", "web")
    assert counts["ready"].max() == 3 and list(counts["ready"])[0] == 0


def test_ready_counting_leaves_out_pods_being_deleted():
    def pod(name, ready, deleting=False, t=0.0):
        meta = {"name": name, "labels": {"app": "web"}, **({"deletionTimestamp": "x"} if deleting else {})}
        obj = {"metadata": meta, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]}}
        return {"kind": "pod", "name": name, "event": "MODIFIED", "t": t, "object": obj}
    rec = Recording([pod("a", True, t=1), pod("b", True, t=2), pod("a", True, deleting=True, t=3), pod("c", False, t=4)])
    assert disruptions.ready_over_time(rec, "app", "web").to_dict("list") == {"t": [1, 2, 3], "ready": [1, 2, 1]}
    assert disruptions.min_ready_after(rec, "app", "web", 2.5) == 1


def test_evicted_pods_carry_the_eviction_api_reason_and_the_ignore_rule_matches(parts):
    table = disruptions.disrupted(parts["budget"])
    evicted = table[table["disruption"].notna()]
    assert len(evicted) == 3 and set(evicted["node"]) == {"kjlab-worker"}
    assert set(evicted["reason"]) == {"EvictionByEvictionAPI"}
    assert all(w.startswith("rule 0 (Ignore) matched") for w in evicted["a Job's podFailurePolicy"])
    replacements = table[table["disruption"].isna()]
    assert len(replacements) == 3 and set(replacements["node"]) == {"kjlab-worker2"}


def test_taint_evicts_by_toleration(parts):
    rec = parts["taint"]
    table = disruptions.disrupted(rec).set_index("pod")
    tainted = disruptions.first_step(rec, "taint")
    job_pods = [p for p in table.index if p.startswith("batch-")]
    first = table.loc[min(job_pods, key=lambda p: table.loc[p, "created"])]
    assert first["reason"] == "DeletionByTaintManager" and first["disruption"] - tainted < 5
    seconds = disruptions.manifest("tolerates-10s")["spec"]["tolerations"][0]["tolerationSeconds"]
    assert seconds <= table.loc["tolerates-10s", "disruption"] - tainted < seconds + 5
    assert pd.isna(table.loc["tolerates-forever", "disruption"])
    # the Job's ignored pod was replaced, and the replacement was not disrupted
    assert len(job_pods) == 2 and table.loc[[p for p in job_pods if p != first.name][0], "phase"] == "Succeeded"


def test_preemption_marks_the_victim(parts):
    table = disruptions.disrupted(parts["preempt"]).set_index("pod")
    assert table.loc["low-priority", "reason"] == "PreemptionByScheduler"
    assert "preempting to accommodate a higher priority pod" in table.loc["low-priority", "message"]
    assert pd.isna(table.loc["high-priority", "disruption"]) and table.loc["high-priority", "phase"] == "Running"
    # the victim was marked before the preemptor ran (it waited for the room)
    assert table.loc["low-priority", "disruption"] < table.loc["low-priority", "gone"]


def test_qos_table_orders_by_what_node_pressure_evicts_first():
    def pod(name, qos, res=None):
        return {"metadata": {"name": name}, "spec": {"containers": [{"resources": res or {}}]},
                "status": {"qosClass": qos}}
    table = disruptions.qos_table([pod("g", "Guaranteed", {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}),
                                   pod("b", "BestEffort"), pod("u", "Burstable", {"requests": {"cpu": "1"}})])
    assert list(table["pod"]) == ["b", "u", "g"]
    assert list(table["evicted under node pressure"]) == [1, 2, 3]


def test_manifests_fast_shortens_only_what_it_says():
    assert disruptions.manifest("short-toleration")["spec"]["tolerations"][0]["tolerationSeconds"] == 60
    assert disruptions.manifest("short-toleration", fast=True)["spec"]["tolerations"][0]["tolerationSeconds"] == 15
    slow, fast = disruptions.manifest("batch"), disruptions.manifest("batch", fast=True)
    assert slow["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "sleep 20 && exit 0"
    assert fast["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "sleep 8 && exit 0"
    assert disruptions.with_cpu_request(slow["spec"]["template"], 1200)["spec"]["containers"][0]["resources"] == \
        {"requests": {"cpu": "1200m"}}
