"""The cases of issue 10's "Why" list, run on the lab cluster that is up (kwok or kind), one line each.

Usage: .venv/bin/python bench/kubelet_cases.py [--context kind-kjlab] [--only name,name] [--json FILE]

Each case is a pod or a Job as a learner following the public material would write it. The line
printed is what a learner sees: the container's final state (or waiting reason), how long the pod
took, the Job's condition, the restart count, the first log line and any NotSimulated warning.
Run it on kwok and on kind and put the lines side by side: that is the before/after table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from kjlab import cluster
from kjlab.cluster import kubectl, tools

NS = "kubelet-cases"
BASH, PY, PERL = "docker.io/library/bash:5", "docker.io/library/python:3", "docker.io/library/perl:5"


def pod(name, image, command, restart="Never", **extra):
    spec = {"restartPolicy": restart, "terminationGracePeriodSeconds": 30,
            "containers": [{"name": "main", "image": image, "command": command}]}
    spec.update(extra)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def job(name, command, image=BASH, **spec):
    tpl = {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "main", "image": image, "command": command}]}}
    body = {"template": tpl, "backoffLimit": 0}
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS}, "spec": body}


SH = ["bash", "-c"]
CASES = {
    "perl": pod("perl", PERL, ["perl", "-e", "exit 3"]),
    "cat-missing": pod("cat-missing", BASH, SH + ["cat /missing/file"]),
    "false": pod("false", BASH, ["false"]),
    "py-zerodiv": pod("py-zerodiv", PY, ["python3", "-c", "1/0"]),
    "exit-arith": pod("exit-arith", BASH, SH + ["exit $((40+2))"]),
    "exit-var": pod("exit-var", BASH, SH + ["RC=7; exit $RC"]),
    "echo-exit": pod("echo-exit", BASH, SH + ['echo "to fail, run: exit 5"']),
    "sleep-arith": pod("sleep-arith", BASH, SH + ["sleep $((2*3))"]),
    "loop-deadline": job("loop-deadline", SH + ["while true; do date; sleep 10; done"], activeDeadlineSeconds=30),
    "index-modulo": job("index-modulo", ["python3", "-c", "import os, sys\nprint('Hello world')\n"
                                         "if int(os.environ.get('JOB_COMPLETION_INDEX')) % 2 == 0:\n  sys.exit(1)\n"],
                        image=PY, completions=4, parallelism=4, completionMode="Indexed",
                        backoffLimitPerIndex=0, backoffLimit=None),
    "always": pod("always", BASH, SH + ["sleep 1; exit 1"], restart="Always"),
    "delete-waiting": pod("delete-waiting", BASH, SH + ["sleep 1; exit 1"], restart="OnFailure"),
    "sidecar": {**pod("sidecar", BASH, SH + ["sleep 8"]), "spec": {
        "restartPolicy": "Never",
        "initContainers": [{"name": "side", "image": BASH, "command": ["sleep", "infinity"], "restartPolicy": "Always"}],
        "containers": [{"name": "main", "image": BASH, "command": SH + ["sleep 8"]}]}},
    "echo-logs": pod("echo-logs", BASH, SH + ["echo hello; echo world"]),
    "trap-term": pod("trap-term", BASH, SH + ["trap 'exit 3' TERM; sleep 100 & wait"]),
}
# Cases that are deleted once running, and how long to wait before.
DELETE_AFTER = {"delete-waiting": 4, "trap-term": 3}


CONTEXT: list[str] = []  # --context, else the lab context


def kc(*args, timeout=60, check=False, stdin=None):
    argv = kubectl.argv(list(args), CONTEXT[0] if CONTEXT else cluster.lab_context(), str(tools.kubectl_path()))
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=stdin, check=check,
                          env=kubectl.environment())


def get(kind, name):
    r = kc("-n", NS, "get", kind, name, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def container_line(p):
    out = []
    for s in (p.get("status", {}).get("initContainerStatuses") or []) + (p.get("status", {}).get("containerStatuses") or []):
        st = s.get("state", {})
        if "terminated" in st:
            t = st["terminated"]
            out.append(f"{s['name']}:terminated {t.get('reason')}/{t.get('exitCode')}")
        elif "waiting" in st:
            out.append(f"{s['name']}:waiting {st['waiting'].get('reason')}")
        elif "running" in st:
            out.append(f"{s['name']}:running")
        if s.get("restartCount"):
            out[-1] += f" restarts={s['restartCount']}"
    return " ".join(out)


def warnings(name_prefix):
    r = kc("-n", NS, "get", "events", "-o", "json")
    evs = json.loads(r.stdout).get("items", []) if r.returncode == 0 else []
    mine = [e for e in evs if e["involvedObject"]["name"].startswith(name_prefix)]
    ns = sorted({e["reason"] for e in mine if e["reason"] == "NotSimulated"})
    sources = sorted({(e.get("source") or {}).get("component") or e.get("reportingComponent") or "?"
                      for e in mine if e["involvedObject"]["kind"] == "Pod"})
    raw = any("{{" in (e.get("message") or "") for e in mine)
    return ns, sources, raw


def run_case(name, spec, watch_s):
    kc("apply", "-f", "-", stdin=json.dumps(spec), check=True)
    t0 = time.monotonic()
    deleted_at = None
    result = {}
    while time.monotonic() - t0 < watch_s:
        time.sleep(1)
        if spec["kind"] == "Job":
            j = get("job", name)
            conds = [c["type"] + ("=" + c.get("reason", "") if c.get("reason") else "")
                     for c in (j or {}).get("status", {}).get("conditions", []) if c["status"] == "True"]
            if any(c.startswith(("Failed", "Complete")) for c in conds):
                result = {"job": ",".join(conds), "failedIndexes": j["status"].get("failedIndexes", "")}
                break
            continue
        p = get("pod", name)
        if p is None:
            result.setdefault("gone_after_delete_s", round(time.monotonic() - deleted_at, 1) if deleted_at else None)
            break
        phase = p.get("status", {}).get("phase")
        result.update(phase=phase, containers=container_line(p))
        if name in DELETE_AFTER and deleted_at is None and time.monotonic() - t0 >= DELETE_AFTER[name]:
            result["before_delete"] = container_line(p)
            kc("-n", NS, "delete", "pod", name, "--wait=false")
            deleted_at = time.monotonic()
        if name in ("always", "sidecar") and time.monotonic() - t0 >= (25 if name == "always" else 4):
            break
        if phase in ("Succeeded", "Failed") and name not in DELETE_AFTER:
            break
    result["seconds"] = round(time.monotonic() - t0)
    if spec["kind"] == "Pod" and name not in DELETE_AFTER:
        lg = kc("-n", NS, "logs", name, "-c", "main", timeout=20)
        text = (lg.stdout or lg.stderr).strip().splitlines()
        result["logs"] = " | ".join(text[:3])[:110]
    result["NotSimulated"], result["event_sources"], result["raw_template_events"] = warnings(name)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only")
    ap.add_argument("--json")
    ap.add_argument("--context", help="kwok-kjlab or kind-kjlab (default: the lab context)")
    args = ap.parse_args()
    if args.context:
        CONTEXT.append(args.context)
    names = args.only.split(",") if args.only else list(CASES)
    kc("delete", "namespace", NS, "--wait=true", timeout=180)
    kc("create", "namespace", NS, check=True)
    results = {}
    for name in names:
        spec = CASES[name]
        if spec["kind"] == "Job" and spec["spec"].get("backoffLimit") is None:
            del spec["spec"]["backoffLimit"]
        results[name] = run_case(name, spec, watch_s=60)
        print(f"{name:15} {json.dumps(results[name])}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    kc("delete", "namespace", NS, "--wait=false")


if __name__ == "__main__":
    sys.exit(main())
