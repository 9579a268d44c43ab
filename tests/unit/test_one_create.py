"""One create path: what the labs, the scenarios and the checks create for a learner to see goes
through kjlab.actions.ops.create (the guard, the kubectl line, the recorded step, the API's words);
kube.create itself is called only by ops and for dry runs."""

import re
from pathlib import Path

KJLAB = Path(__file__).resolve().parents[2] / "kjlab"
# Where an object is created by other means on purpose: ops (the path itself), the practice tasks'
# setup (quiet, what the learner starts from), the checks' sandbox account, the engine's own marker.
OTHER_MEANS = ("actions/ops.py", "practice/", "checks/access.py", "cluster/")
CREATES = re.compile(r"kube\.create\((?!.*dry_run=True)|\.create_namespaced_(?!pod_eviction)\w+\(")


def _callers():
    for path in sorted(KJLAB.rglob("*.py")):
        relative = path.relative_to(KJLAB).as_posix()
        if relative.startswith(OTHER_MEANS):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if CREATES.search(line):
                yield f"{relative}:{number}: {line.strip()}"


def test_labs_scenarios_and_checks_create_through_ops_create():
    assert list(_callers()) == []


def test_the_pattern_finds_a_create_that_bypasses_ops():
    assert CREATES.search("kube.core(ctx).create_namespaced_service(ns, doc)")
    assert CREATES.search("created = kube.create(context, namespace, doc)")
    assert not CREATES.search("kube.create(context, namespace, doc, dry_run=True)")
