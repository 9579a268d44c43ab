"""The two engines side by side: each documented scenario, with and without its policy, recorded
on kwok (simulated kubelet) and on kind (real kubelet), compared field by field.

Usage:
  .venv/bin/python bench/engines.py --runs DIR     compare runs saved by the test suites
                                                   (make test sets KJLAB_RUNS_DIR=artifacts/runs)
  .venv/bin/python bench/engines.py                run every scenario on both lab clusters now
                                                   (kjlab up --engine kwok and --engine kind first),
                                                   the two engines in parallel, then compare
  .venv/bin/python bench/engines.py --clusters 2  time `kjlab up`/`down` and memory on both engines
  options: --only failjob,ignore  --documented (the manifests' own sleeps)  --save DIR
  .venv/bin/python bench/engines.py --kubelet     the simulated kubelet's grammar cases on both clusters now (issue 10)

Compared (everything but time): outcome, reason, message with namespace and pod names masked,
failed / succeeded / failedIndexes / completedIndexes, the order of the Job's conditions, each
pod's STATUS sequence as `kubectl get pods` prints it (kjlab.printers), the pods' exit codes, and the
event reasons of the Job and of its pods. Prints one line per scenario with both durations and
their ratio, then every difference; tests/compare/test_engines.py asserts there is none beyond
KNOWN_DIFFERENCES, each of which names its cause.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections import Counter
from pathlib import Path

SCENARIOS = ("failjob", "ignore", "config-issue", "failindex")
VARIANTS = ("policy", "nopolicy")
ENGINES = ("kwok", "kind")

# Differences that remain between the engines, field -> cause. Only fields listed here may differ;
# each cause is also in the README ("The two engines side by side").
_EVICTED_WITHOUT_POLICY = (
    "without a pod failure policy the Job controller counts a terminating pod as failed at once and removes "
    "its finalizer, so the pod evicted with grace 0 is deleted before a real kubelet (2 s minimum grace) "
    "reports it: it ends 'Terminating' with no exit code; kwok's simulated kubelet writes Failed/137 at once")
_SCRIPT_ENDS_IN_GRACE = (
    "the sibling pod deleted after BackoffLimitExceeded gets its 30 s grace period; bash as PID 1 ignores "
    "SIGTERM, so on a real kubelet its script (sleep 15 with FAST) ends normally inside the grace period: "
    "'Completed', exit 0. kwok's Stages kill a deleted pod at the end of its grace period whatever its script "
    "does: 'Error', 137 (and the Job's Failed condition comes ~15 s later on kwok)")
_RETRY_STOP = (
    "the run without the policy stops once a replacement pod (one created after the deletion) is in "
    "ImagePullBackOff; how far the other pods have got by then (a real kubelet retries the pull, "
    "ErrImagePull again) is timing")
_PULL_SHOWS_CONTAINER_CREATING = (
    "a real kubelet reports the container waiting as 'ContainerCreating' while it tries the pull, before "
    "'ErrImagePull'; kwok's Stages go from 'Pending' straight to 'ErrImagePull'")
KNOWN_DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("config-issue", "policy", "pod_statuses"): _PULL_SHOWS_CONTAINER_CREATING,
    ("config-issue", "nopolicy", "pod_statuses"): _PULL_SHOWS_CONTAINER_CREATING + "; " + _RETRY_STOP,
    ("config-issue", "nopolicy", "pods"): _RETRY_STOP,
    # (scenario, variant, field) -> cause; "*" matches any scenario / variant.
    ("ignore", "nopolicy", "pod_statuses"): _EVICTED_WITHOUT_POLICY + "; " + _SCRIPT_ENDS_IN_GRACE,
    ("ignore", "nopolicy", "exit_codes"): _EVICTED_WITHOUT_POLICY + "; " + _SCRIPT_ENDS_IN_GRACE,
}


_SIBLING_AT_THE_LIMIT = (
    "parallelism 2: when the failure that exceeds backoffLimit is counted, the other active pod (running or "
    "still starting) may not have ended yet. The Job controller deletes it (SuccessfulDelete, "
    "job_controller.go deleteActivePods) and counts it failed at once, so `failed` equals the pod count on "
    "both engines; the kubelet stops it (pod event Killing) and kubectl shows it 'Terminating' until it is "
    "reported Failed ('Error'/42: bash ignores SIGTERM and the script ends inside the 30 s grace; "
    "'ContainerStatusUnknown'/137 if it never started). The Job's Failed condition waits for it. Whether "
    "one is still active then is timing, on either engine")


def _terminating(f: dict) -> list[str]:
    return [s for s in f["pod_statuses"] if "Terminating" in s.split(" > ")]


def _sibling_deleted_at_the_limit(fa: dict, fb: dict) -> bool:
    """Whether two failjob-without-policy runs differ only by the one pod the Job controller deleted
    when the backoff limit was reached: only SuccessfulDelete differs among the Job's events and only
    Killing among the pods', a run with SuccessfulDelete has exactly one pod that went 'Terminating'
    (and a run without it none), the same number of pods ran, the other pods went the same ways (as
    multisets: the run without the deletion has that one more ordinary pod), and the exit codes differ
    by at most the deleted pod's (42 or 137, or none)."""
    if (set(fa["job_event_reasons"]) ^ set(fb["job_event_reasons"])) - {"SuccessfulDelete"}:
        return False
    if (set(fa["pod_event_reasons"]) ^ set(fb["pod_event_reasons"])) - {"Killing"}:
        return False
    deleted = []
    for f in (fa, fb):
        count = len(_terminating(f))
        if count != (1 if "SuccessfulDelete" in f["job_event_reasons"] else 0):
            return False
        if count == 0 and "Killing" in f["pod_event_reasons"] and "Killing" not in (
                set(fa["pod_event_reasons"]) & set(fb["pod_event_reasons"])):
            return False  # Killing only in the run that deleted nothing
        deleted.append(count)
    if len(fa["pod_statuses"]) != len(fb["pod_statuses"]):
        return False
    kept = [Counter(s for s in f["pod_statuses"] if "Terminating" not in s.split(" > ")) for f in (fa, fb)]
    fewer, more = (kept[0], kept[1]) if deleted[0] >= deleted[1] else (kept[1], kept[0])
    if fewer - more or sum((more - fewer).values()) != abs(deleted[0] - deleted[1]):
        return False
    ca, cb = Counter(fa["exit_codes"]), Counter(fb["exit_codes"])
    return all(sum(d.values()) <= 1 and set(d) <= {42, 137} for d in (ca - cb, cb - ca))


_ENDED_BETWEEN_RELISTS = (
    "the container exits at once (python3 -c sys.exit(N)). A real kubelet writes the pod's status before it "
    "starts the containers (pkg/kubelet/kubelet.go SyncPod) and learns that they run only when it next relists "
    "the runtime: that pod alone right after the sync that started them (PLEGOnDemandRelist, beta and on in "
    "1.36: SyncPod's postSync, pleg/generic.go), otherwise every second (genericPlegRelistPeriod; EventedPLEG "
    "is alpha and off). A container already ended by then is never reported running, and its pod goes from "
    "'ContainerCreating' straight to 'Error' or 'Completed'. kwok's Stages always pass through Running (the "
    "exit Stage acts on Running pods only). Which pods skip it is timing")
_TERMINAL = ("Error", "Completed")


def _skipped_running(kwok: dict, kind: dict) -> bool:
    """Whether the kind run's pods went the kwok run's ways except that some never showed 'Running'
    between 'ContainerCreating' and their end ('Error' or 'Completed'): the multisets of STATUS
    sequences are equal once that one step is taken out of the kwok sequences that kind's lack it
    (kwok's Stages cannot skip it, so a kwok pod without it is not explained)."""
    def skipped(seq: str) -> str | None:
        steps = seq.split(" > ")
        return " > ".join(steps[:-2] + steps[-1:]) if steps[-2:-1] == ["Running"] and steps[-1] in _TERMINAL \
            and steps[-3:-2] == ["ContainerCreating"] else None
    rest = Counter(kwok["pod_statuses"])
    for seq in kind["pod_statuses"]:
        if rest[seq]:
            rest[seq] -= 1
            continue
        # a kind pod kwok has no match for: it must be a kwok pod's sequence with Running skipped
        match = next((k for k, n in rest.items() if n and skipped(k) == seq), None)
        if match is None:
            return False
        rest[match] -= 1
    return not +rest


# (scenario, variant, field) -> (cause, whether the two fingerprints show that cause). A difference
# listed here is explained only when the recorded runs carry the evidence, so it cannot hide another.
# The functions take the kwok fingerprint first, then kind's.
EVIDENCED_DIFFERENCES: dict[tuple[str, str, str], tuple[str, object]] = {
    **{("failjob", "nopolicy", field): (_SIBLING_AT_THE_LIMIT, _sibling_deleted_at_the_limit)
       for field in ("pod_statuses", "exit_codes", "job_event_reasons", "pod_event_reasons")},
    **{("failindex", variant, "pod_statuses"): (_ENDED_BETWEEN_RELISTS, _skipped_running) for variant in VARIANTS},
}


def _known(scenario: str, variant: str, field: str, fa: dict | None = None, fb: dict | None = None) -> str | None:
    """The cause of a difference in ``field`` between the kwok and kind fingerprints, or None."""
    for (s, v, f), cause in KNOWN_DIFFERENCES.items():
        if s in ("*", scenario) and v in ("*", variant) and f == field:
            return cause
    cause, shows = EVIDENCED_DIFFERENCES.get((scenario, variant, field), (None, None))
    if cause and fa is not None and fb is not None and shows(fa, fb):
        return cause
    return None


def explain(scenario: str, variant: str, kwok: dict, kind: dict) -> list[tuple[str, object, object, str | None]]:
    """Every field in which two recorded runs differ, with its cause (None: unexplained)."""
    fa, fb = fingerprint(kwok), fingerprint(kind)
    return [(k, fa[k], fb[k], _known(scenario, variant, k, fa, fb)) for k in fa if fa[k] != fb[k]]


_POD_REF = re.compile(r"\b(for pod |Pod )([^/\s]+)/(\S+)")


def mask(message: str | None) -> str | None:
    """'Container main for pod ns/job-abc12 failed ...' -> '... for pod <ns>/<pod> failed ...'."""
    if message is None:
        return None
    return _POD_REF.sub(lambda m: f"{m.group(1)}<ns>/<pod>", message)


def _collapse(seq):
    out = []
    for item in seq:
        if item is not None and (not out or out[-1] != item):
            out.append(item)
    return out


def fingerprint(data: dict) -> dict:
    """The engine-independent content of one recorded run (a RunResult.to_dict())."""
    rows = data.get("timeline") or []
    pods: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("kind") == "pod":
            pods.setdefault(r["name"], []).append(r)
    statuses = sorted(" > ".join(_collapse(r.get("status") for r in rs)) for rs in pods.values())
    exit_codes = sorted(
        int(next(r["exit_code"] for r in reversed(rs) if r.get("exit_code") is not None)) for rs in pods.values()
        if any(r.get("exit_code") is not None for r in rs))
    job_events, pod_events = set(), set()
    for r in rows:
        if r.get("kind") == "event" and r.get("reason"):
            (job_events if str(r.get("name", "")).startswith("job/") else pod_events).add(r["reason"])
    status = data.get("job_status") or {}
    return {
        "outcome": data.get("outcome"),
        "reason": data.get("reason"),
        "message": mask(data.get("message")),
        "failed": data.get("failed"),
        "succeeded": data.get("succeeded"),
        "failedIndexes": status.get("failedIndexes"),
        "completedIndexes": status.get("completedIndexes"),
        "conditions": [c["type"] for c in data.get("conditions") or [] if c.get("status") == "True"],
        "pods": len(pods),
        "pod_statuses": statuses,
        "exit_codes": exit_codes,
        "job_event_reasons": sorted(job_events),
        # FailedMount: a real kubelet under load sometimes mounts the service-account token a retry
        # late; it says nothing about the Job and comes and goes between runs, so it is not compared.
        "pod_event_reasons": sorted(pod_events - {"FailedMount"}),
    }


def load_runs(runs_dir: Path) -> dict[tuple[str, str, str], dict]:
    """(engine, scenario, variant) -> the recorded run to compare. Both engines' runs come from the
    same producer (the scenario test, else the same lab notebook), so like is compared with like."""
    every: dict[tuple[str, str, str], dict[str, dict]] = {}
    for engine in ENGINES:
        for path in sorted((runs_dir / engine).glob("*.json")):
            base, producer = path.name[:-len(".json")].split(".", 1)
            scenario, variant = base.rsplit("-", 1)
            every.setdefault((engine, scenario, variant), {})[producer] = json.loads(path.read_text())
    found: dict[tuple[str, str, str], dict] = {}
    for scenario in SCENARIOS:
        for variant in VARIANTS:
            mine = {e: every.get((e, scenario, variant), {}) for e in ENGINES}
            common = sorted(set(mine["kwok"]) & set(mine["kind"]), key=lambda p: (p != "test", p != "bench", p))
            for engine in ENGINES:
                if not mine[engine]:
                    continue
                producers = common or sorted(mine[engine], key=lambda p: (p != "test", p != "bench", p))
                found[(engine, scenario, variant)] = mine[engine][producers[0]]
    return found


def pairs(runs: dict) -> list[tuple[str, str, dict | None, dict | None]]:
    return [(s, v, runs.get(("kwok", s, v)), runs.get(("kind", s, v))) for s in SCENARIOS for v in VARIANTS]


def report(runs: dict, out=sys.stdout) -> list[tuple[str, str, str, object, object, str | None]]:
    """Print the table and the differences; returns every difference with its known cause (or None)."""
    found = []
    print(f"{'scenario':<14} {'variant':<9} {'kwok':>8} {'kind':>8} {'kind/kwok':>9}  {'same':<5} outcome", file=out)
    for scenario, variant, kwok, kind in pairs(runs):
        if not kwok or not kind:
            missing = ", ".join(e for e, r in (("kwok", kwok), ("kind", kind)) if not r)
            print(f"{scenario:<14} {variant:<9} {'':>8} {'':>8} {'':>9}  {'-':<5} not recorded on {missing}", file=out)
            continue
        d1, d2 = kwok.get("duration_s"), kind.get("duration_s")
        ratio = f"{d2 / d1:.2f}" if d1 and d2 else "-"
        diffs = explain(scenario, variant, kwok, kind)
        for field, a, b, cause in diffs:
            found.append((scenario, variant, field, a, b, cause))
        same = "yes" if not diffs else ("known" if all(cause for *_, cause in diffs) else "NO")
        fmt = lambda d: f"{d:.1f}s" if d is not None else "-"  # noqa: E731
        print(f"{scenario:<14} {variant:<9} {fmt(d1):>8} {fmt(d2):>8} {ratio:>9}  {same:<5} "
              f"{kind.get('outcome')} ({kind.get('reason')}), recorded by {kind.get('producer', 'bench')}", file=out)
    if found:
        print("\ndifferences (kwok | kind):", file=out)
        for scenario, variant, field, a, b, cause in found:
            print(f"  {scenario} {variant} {field}:\n    kwok: {a}\n    kind: {b}\n    cause: {cause or 'UNEXPLAINED'}",
                  file=out)
    return found


def run_both(only, fast: bool, save: Path) -> dict:
    """Run the scenarios on both lab clusters, the two engines in parallel (one thread each)."""
    from kjlab.runs import scenarios

    runs, errors = {}, []

    def work(engine):
        context = f"{engine}-kjlab"
        for scenario in only:
            for variant in VARIANTS:
                try:
                    r = scenarios.run(scenario, policy=variant == "policy", fast=fast, context=context, echo=False,
                                      namespace=f"bench-{scenario}-{variant}"[:63])
                except Exception as e:  # report and go on with the next scenario
                    errors.append(f"{engine} {scenario} {variant}: {e}")
                    continue
                data = r.to_dict()
                data["job_status"] = r.job_status
                runs[(engine, scenario, variant)] = data
                out = save / engine
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{scenario}-{variant}.bench.json").write_text(json.dumps(data, default=str))
                print(f"  {engine}: {r.headline()}", flush=True)

    threads = [threading.Thread(target=work, args=(e,)) for e in ENGINES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        print("error:", e)
    return runs


def clusters(rounds: int) -> None:
    """`kjlab up` / `kjlab down` times and memory on each engine (each cluster is created here and removed)."""
    import time

    from kjlab import cluster
    from kjlab.cluster import kind, kwok

    for engine in ENGINES:
        if cluster.registry.entry(f"{engine}-kjlab"):
            print(f"{engine}: a lab cluster is running; not timing it (kjlab down --engine {engine} first)")
            continue
        for i in range(rounds):
            t = time.monotonic()
            cluster.up(engine=engine, progress=None)
            up_s = time.monotonic() - t
            time.sleep(10)  # let the controllers settle before reading memory
            mem = (kind.memory_bytes() if engine == "kind" else kwok.memory_bytes()) / 2**20
            t = time.monotonic()
            cluster.down(engine=engine, progress=None)
            print(f"{engine} round {i + 1}: up {up_s:.1f} s, memory {mem:.0f} MiB, down {time.monotonic() - t:.1f} s",
                  flush=True)


def kubelet_cases() -> int:
    """Issue 10: the grammar's pod and Job cases on kwok and on kind at the same time, compared
    (everything but time); prints each engine's duration and what differs."""
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cluster"))
    import kubelet_cases as cases

    from kjlab.actions import namespaces

    seen, took = {}, {}

    def one(engine):
        context = f"{engine}-kjlab"
        ns = namespaces.create(context, prefix="bench")
        start = time.monotonic()
        try:
            seen[engine] = cases.run(context, ns)
        finally:
            took[engine] = time.monotonic() - start
            namespaces.delete(context, ns)

    threads = [threading.Thread(target=one, args=(e,)) for e in ENGINES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(" ".join(f"{e}: {took.get(e, 0):.0f} s" for e in ENGINES))
    unexplained, printed = cases.differences(seen.get("kwok", {}), seen.get("kind", {}))
    for line in unexplained:
        print("DIFFERS  " + line)
    for line in printed:
        print("differs  " + line)
    return 1 if unexplained else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=Path, help="compare the runs saved in this directory")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--documented", action="store_true")
    parser.add_argument("--save", type=Path, default=Path("artifacts/runs-bench"))
    parser.add_argument("--clusters", type=int, metavar="ROUNDS", help="time up/down and memory on both engines")
    parser.add_argument("--kubelet", action="store_true",
                        help="run the simulated kubelet's grammar cases (tests/cluster/kubelet_cases.py) on both")
    args = parser.parse_args()
    if args.kubelet:
        return kubelet_cases()
    if args.clusters:
        clusters(args.clusters)
        return 0
    if args.runs:
        runs = load_runs(args.runs)
    else:
        runs = run_both(args.only.split(","), fast=not args.documented, save=args.save)
    found = report(runs)
    return 1 if any(cause is None for *_, cause in found) else 0


if __name__ == "__main__":
    sys.exit(main())
