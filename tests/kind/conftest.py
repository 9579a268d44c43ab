"""The kind suite: the same tests against a real kubelet (context kind-kjlab).

Every test under tests/kind is marked ``kind`` (and ``cluster``): ``pytest -m kind`` runs only
them, ``pytest -m "not kind"`` everything else. The ``lab`` fixture here overrides the kwok one
for these tests; ``ns`` (tests/conftest.py) then gives each test its own namespace on kind.
Without a Docker engine the whole suite is skipped with the reason.
"""

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CONTEXT = "kind-kjlab"


def pytest_configure(config):
    config.addinivalue_line("markers", "kind: runs on the kind engine (real kubelet in Docker); -m kind selects them")


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.kind)
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def lab():
    """The kind lab cluster's context: reuses a running one kjlab created, else starts one and removes it after."""
    from kjlab import cluster
    from kjlab.cluster import engine

    ready = engine.kind_readiness()
    if not ready.ok:
        pytest.skip(f"the kind engine cannot run here: {ready.why}")
    started = False
    if cluster.registry.entry(CONTEXT) is None or not cluster.reachable(CONTEXT):
        cluster.up(engine="kind")
        started = True
    # tests/suites.sh (make test) starts the clusters before the suites: they count as this run's.
    started = started or "kind" in os.environ.get("KJLAB_TEST_STARTED", "").split(",")
    options = cluster.registry.entry(CONTEXT)["options"]
    if options != {"workers": 2}:
        pytest.exit(f"the running kind lab cluster has options {options}; the tests need the defaults: "
                    "kjlab down --engine kind, then run the tests again", returncode=2)
    os.environ["KJLAB_CONTEXT"] = CONTEXT
    if not started:
        from kjlab.api import kube, readers
        from kjlab.actions import ops

        for node in kube.raw(kube.core(CONTEXT).list_node)["items"]:
            if readers.unschedulable(node):
                ops.uncordon(CONTEXT, readers.name(node), echo=False)
    yield {"context": CONTEXT, "started": started, "engine": "kind"}
    if started and os.environ.get("KJLAB_KEEP_CLUSTER") != "1":
        cluster.down(engine="kind")
