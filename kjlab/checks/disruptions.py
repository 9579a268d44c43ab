"""Check of a PodDisruptionBudget that lets a drain finish (kjlab.labs.disruptions).

Notebook: solutions/12-drain-budget.
"""

from __future__ import annotations

import time

from kubernetes import client

from kjlab.actions import namespaces, ops
from kjlab.actions.actor import Actor
from kjlab.api import kube, readers
from kjlab.checks import Verdict, _delete_quietly, _load, _namespace, exercise
from kjlab.errors import KjlabError
from kjlab.labs import disruptions


BUDGET_FLOOR = 2            # ready web pods the service needs
BUDGET_DRAIN_SECONDS = 30   # a drain still refused after this long would never finish


def _budget_from(answer) -> dict:
    doc = _load(answer, "PodDisruptionBudget")
    if doc.get("kind") not in (None, "PodDisruptionBudget"):
        raise KjlabError(f"the answer should be a PodDisruptionBudget (or its spec), not a {doc.get('kind')}",
                         "minAvailable: ...\nselector:\n  matchLabels: ...")
    spec = doc.get("spec", doc) if doc.get("kind") else doc
    if not isinstance(spec, dict):
        raise KjlabError("the budget's spec should be a mapping", "minAvailable: ...\nselector: ...")
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web-budget"}, "spec": spec}


@exercise("drain-budget", f"A budget so that draining kjlab-worker never leaves fewer than {BUDGET_FLOOR} ready "
          "web pods, and the drain still finishes", "a PodDisruptionBudget (YAML: its spec, or the whole object)",
          notebook="12-drain-budget")
def check_drain_budget(context: str, answer) -> Verdict:
    name = "drain-budget"
    budget = _budget_from(answer)
    namespace = _namespace(name)
    print(f"running web (3 pods on kjlab-worker) with your budget in {namespace}, then draining kjlab-worker "
          f"(at most {BUDGET_DRAIN_SECONDS} s) ...", flush=True)
    namespaces.fresh(context, namespace, progress=None)
    session = disruptions.Disruptions(context, namespace, None, echo=False)
    drained, stuck, created = None, None, None
    try:
        session.create(disruptions.manifest("web"))
        try:
            created = session.create(budget)
        except KjlabError as refused:
            session.stop()
            return Verdict(name, False, "the API does not accept this PodDisruptionBudget",
                           [f"the API rejected it: {refused.message}"] + [
                               hint for key, hint in BUDGET_HINTS.items() if key in refused.message])
        # each stage says what it waits for: a drain a budget blocks is half a minute of retries
        print("  waiting for the 3 web pods to be ready ...", flush=True)
        session.wait_ready("app=web", 3)
        status = _budget_status(context, namespace)
        print(f"  your budget allows {status.get('disruptionsAllowed', 0)} disruption(s) now; draining kjlab-worker: "
              "the Eviction API answers 429 to what the budget refuses, and the drain retries every 5 s "
              f"(at most {BUDGET_DRAIN_SECONDS} s) ...", flush=True)
        try:
            drained = session.drain("kjlab-worker", pod_selector="app=web", timeout=BUDGET_DRAIN_SECONDS)
            print(f"  the drain finished after {drained.seconds:.0f} s", flush=True)
        except KjlabError as e:
            stuck = e.message
            print(f"  the drain did not finish: {stuck}", flush=True)
        rec = session.stop()
    finally:
        try:
            ops.uncordon(Actor(context, echo=False), "kjlab-worker")
        finally:
            _delete_quietly(context, namespace)
    fewest = disruptions.min_ready_after(rec, "app", "web", disruptions.first_step(rec, "drain"))
    answers_ = disruptions.refusals(rec)
    refused_n = int((answers_["answer"] != "accepted").sum())
    spec = created["spec"] if created else budget["spec"]
    rule = ", ".join(f"{k}: {spec[k]}" for k in ("minAvailable", "maxUnavailable") if k in spec) or "no minAvailable/maxUnavailable"
    reasons = [f"your budget ({rule}) covered {status.get('expectedPods', 0)} of the 3 web pods and allowed "
               f"{status.get('disruptionsAllowed', 0)} disruption(s) at once before the drain",
               f"the drain got {refused_n} refusal(s) (429) and "
               + (f"finished in {drained.seconds:.0f} s" if drained else f"did not finish: {stuck}"),
               f"the fewest ready web pods during the drain was {fewest}"]
    if not status.get("expectedPods"):
        reasons.append("the budget's selector matches none of the web pods (they are labelled app: web): a budget "
                       "protects only the pods its selector picks, so the drain evicted them all freely")
    elif fewest is not None and fewest < BUDGET_FLOOR:
        reasons.append(f"the budget allowed {status.get('disruptionsAllowed')} pods to be evicted at once, so the "
                       f"drain took web below {BUDGET_FLOOR}: a budget must allow at most 3 - {BUDGET_FLOOR} = 1 "
                       f"disruption (minAvailable: {BUDGET_FLOOR}, or maxUnavailable: 1)")
    if drained is None:
        reasons.append("the budget allowed no disruption at all (every web pod must stay): the Eviction API answers "
                       "429 for ever, so a drain can never finish -- a budget that blocks every eviction blocks node "
                       "maintenance too")
    ok = drained is not None and fewest is not None and fewest >= BUDGET_FLOOR and bool(status.get("expectedPods"))
    return Verdict(name, ok, f"the drain finished and web never went below {BUDGET_FLOOR} ready pods" if ok
                   else "the drain did not go as asked (see why below)", reasons,
                   evidence={"fewest_ready": fewest, "refusals": refused_n, "drained": drained is not None,
                             "budget_status": status})


BUDGET_HINTS = {
    "minAvailable and maxUnavailable cannot be both set": "a budget has minAvailable or maxUnavailable, not both",
    "must be greater than or equal to 0": "minAvailable and maxUnavailable cannot be negative",
    "must not be greater than 100%": "a percentage is at most 100%",
}


def _budget_status(context: str, namespace: str, timeout: float = 20) -> dict:
    """The budget's status once the disruption controller has counted the pods (observedGeneration set)."""
    api = client.PolicyV1Api(kube.api_client(context))
    deadline = time.monotonic() + timeout
    while True:
        pdb = kube.raw(api.read_namespaced_pod_disruption_budget, "web-budget", namespace)
        status = pdb.get("status") or {}
        if status.get("observedGeneration") == readers.meta(pdb).get("generation") and \
                status.get("currentHealthy", 0) >= min(status.get("expectedPods", 0), 3):
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(0.5)
