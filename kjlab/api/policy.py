"""Reading a podFailurePolicy the way the Job controller does, to *explain* what happened.

Verdicts always come from the cluster; this module only says which rule a recorded failed pod
matches and why, in the words of the rule semantics (kubernetes pkg/controller/job/
pod_failure_policy.go): only pods in phase Failed are evaluated, rules are tried in order and
the first match wins, no match means Count.
"""

from __future__ import annotations

from dataclasses import dataclass

from kjlab.api import readers


@dataclass
class Match:
    index: int | None          # None: no rule matched (the failure is counted)
    action: str                # FailJob | Ignore | Count | FailIndex
    why: str                   # one sentence


def _exit_codes(pod: dict, container_name: str | None) -> list[tuple[str, int]]:
    """(container, exitCode) for every terminated container with a non-zero exit code, regular
    containers first and init containers after them, the order in which the controller looks
    (matchOnExitCodes in pod_failure_policy.go): so the container named is the one it names."""
    statuses = readers.container_statuses(pod) + readers.container_statuses(pod, init=True)
    ended = [(cs.get("name"), (cs.get("state") or {}).get("terminated")) for cs in statuses]
    return [(name, t["exitCode"]) for name, t in ended
            if t and (not container_name or name == container_name) and t.get("exitCode", 0) != 0]


def rule_matches(rule: dict, pod: dict) -> tuple[bool, str]:
    """Whether one rule matches a failed pod (camelCase dicts, as the API serves them), and why."""
    if "onExitCodes" in rule:
        req = rule["onExitCodes"]
        op, values = req.get("operator"), req.get("values") or []
        codes = _exit_codes(pod, req.get("containerName"))
        where = f" in container {req['containerName']}" if req.get("containerName") else ""
        if not codes:
            return False, f"no container{where} terminated with a non-zero exit code"
        if op == "In":
            hit = [c for c in codes if c[1] in values]
            if hit:
                return True, f"container {hit[0][0]} exited with {hit[0][1]}, which is In {values}"
            return False, f"exit code(s) {[c[1] for c in codes]}{where} not In {values}"
        if op == "NotIn":
            hit = [c for c in codes if c[1] not in values]
            if hit:
                return True, f"container {hit[0][0]} exited with {hit[0][1]}, which is NotIn {values}"
            return False, f"exit code(s) {[c[1] for c in codes]}{where} are all in {values}"
        return False, f"unknown operator {op!r}"
    if "onPodConditions" in rule:
        conditions = (pod.get("status") or {}).get("conditions") or []
        for pattern in rule["onPodConditions"] or []:
            want = pattern.get("status", "True")
            for c in conditions:
                if c.get("type") == pattern.get("type") and c.get("status") == want:
                    reason = f" (reason {c['reason']})" if c.get("reason") else ""
                    return True, f"the pod has condition {c['type']}={want}{reason}"
        have = ", ".join(f"{c.get('type')}={c.get('status')}" for c in conditions) or "none"
        wanted = ", ".join(f"{p.get('type')}={p.get('status', 'True')}" for p in rule["onPodConditions"] or [])
        return False, f"the pod has no condition {wanted} (its conditions: {have})"
    return False, "the rule has neither onExitCodes nor onPodConditions"


def first_match(policy: dict | None, pod: dict) -> Match:
    """The rule the Job controller applies to ``pod`` (a failed pod as a camelCase dict)."""
    if (pod.get("status") or {}).get("phase") != "Failed":
        return Match(None, "Count", "the pod is not in phase Failed, so no rule is evaluated yet")
    rules = (policy or {}).get("rules") or []
    misses = []
    for i, rule in enumerate(rules):
        ok, why = rule_matches(rule, pod)
        if ok:
            return Match(i, rule.get("action", "?"), f"rule {i} ({rule.get('action')}) matched: {why}")
        misses.append(f"rule {i} ({rule.get('action')}) did not match: {why}")
    if not rules:
        return Match(None, "Count", "there is no pod failure policy, so every failure is counted")
    return Match(None, "Count", "no rule matched, so the failure is counted (" + "; ".join(misses) + ")")
