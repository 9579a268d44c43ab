"""Shared fixtures. Cluster tests run against a real lab cluster started once per session.

The engine is a pytest option: ``--engine kwok`` (the default) or ``--engine kind`` (a real kubelet in
Docker). A test runs on the engines its ``engines`` marker names (``pytest.mark.engines("kwok", "kind")``
on a module or a test); without one, a test under tests/kind runs on kind only and every other test on
kwok only. A session collects only the tests for its engine, so the kind suite is a selection of the
same modules (``pytest --engine kind tests/cluster tests/kind``), not a copy of them; each test that
runs on kind also carries the ``kind`` marker, so ``-m "not kind"`` still leaves them out.
"""

import os
from pathlib import Path

import pytest

ENGINES = ("kwok", "kind")
KIND_ONLY = Path(__file__).resolve().parent / "kind"
# The options `kjlab up` gives each engine by default: the tests assume them.
DEFAULTS = {"kwok": {"workers": 2, "time_scale": 1.0, "strict": True},  # strict: issue 10, the default Stage set
            "kind": {"workers": 2}}


def pytest_addoption(parser):
    parser.addoption("--engine", choices=ENGINES, default="kwok",
                     help="the lab cluster's engine the cluster tests run on (default kwok); "
                          "only the tests made for it are collected")


def pytest_configure(config):
    config.addinivalue_line("markers", "engines(*names): the engines a test runs on (default: kwok; kind under tests/kind)")
    config.addinivalue_line("markers", "kind: runs on the kind engine in this session (added by --engine kind)")
    # With $KJLAB_RUNS_DIR set, every scenario run is saved for the engine comparison (tests/runs_hook.py).
    if os.environ.get("KJLAB_RUNS_DIR"):
        import importlib.util

        spec = importlib.util.spec_from_file_location("kjlab_runs_hook", Path(__file__).with_name("runs_hook.py"))
        hook = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(hook)
        hook.install("test")


def engines(item) -> tuple[str, ...]:
    """The engines ``item`` runs on: its closest ``engines`` marker, else where its file sits."""
    marker = item.get_closest_marker("engines")
    if marker is not None:
        return marker.args
    return ("kind",) if KIND_ONLY in Path(str(item.fspath)).resolve().parents else ("kwok",)


def pytest_collection_modifyitems(config, items):
    engine = config.getoption("engine")
    kept, other = [], []
    for item in items:
        (kept if engine in engines(item) else other).append(item)
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = kept
    for item in items:
        if any(f"/{d}/" in str(item.fspath) for d in ("cluster", "notebooks", "browser", "kind")):
            item.add_marker(pytest.mark.cluster)
        if engine == "kind":
            item.add_marker(pytest.mark.kind)
    # The lifecycle tests tear the cluster down: they go after everything that uses it.
    items.sort(key=lambda item: item.get_closest_marker("lifecycle") is not None)


@pytest.fixture(scope="session")
def lab(request):
    """The lab cluster's context on the session's engine: reuses a running lab cluster kjlab created, else
    starts one and removes it after. On kind, without a Docker engine every cluster test is skipped with the reason."""
    from kjlab import cluster

    engine = request.config.getoption("engine")
    context = f"{engine}-kjlab"
    if engine == "kind":
        from kjlab.cluster import engine as engines_

        ready = engines_.kind_readiness()
        if not ready.ok:
            pytest.skip(f"the kind engine cannot run here: {ready.why}")
    started = False
    if cluster.registry.entry(context) is None or not cluster.reachable(context):
        cluster.up(engine=engine)
        started = True
    # tests/suites.sh (make test) starts the clusters before the suites: they count as this run's.
    started = started or engine in os.environ.get("KJLAB_TEST_STARTED", "").split(",")
    options = cluster.registry.entry(context)["options"]
    if options != DEFAULTS[engine]:
        pytest.exit(f"the running {engine} lab cluster has options {options}; the tests need the defaults: "
                    f"kjlab down --engine {engine}, then run the tests again", returncode=2)
    os.environ["KJLAB_CONTEXT"] = context
    if not started:  # a reused cluster may carry a cordon from a lab or an interrupted run
        from kjlab.api import kube, readers
        from kjlab.actions import ops

        for node in kube.raw(kube.core(context).list_node)["items"]:
            if readers.unschedulable(node):
                ops.uncordon(context, readers.name(node), echo=False)
    yield {"context": context, "started": started, "engine": engine}
    if started and os.environ.get("KJLAB_KEEP_CLUSTER") != "1":
        cluster.down(engine=engine)


@pytest.fixture
def ns(lab):
    """A fresh namespace for one test, deleted afterwards."""
    from kjlab.actions import namespaces

    name = namespaces.create(lab["context"], prefix="test")
    yield name
    _delete_and_wait_for_pods(lab["context"], name)


def _delete_and_wait_for_pods(context, name):
    """A pod lingering for its grace period could sit on a node the next test drains: the fixture
    waits until the namespace's pods are gone, so no test sees another's pods."""
    from kjlab.api import kube, readers
    from kjlab.actions import namespaces

    core = kube.core(context)
    for pod in kube.raw(core.list_namespaced_pod, name)["items"]:  # a test that failed early leaves its hold on
        if any(f.startswith("kjlab.io/test-") for f in readers.meta(pod).get("finalizers") or []):
            core.patch_namespaced_pod(readers.name(pod), name, {"metadata": {"finalizers": None}},
                                      _content_type=kube.STRATEGIC_MERGE)
    namespaces.delete_and_clear(context, name)


@pytest.fixture(scope="module")
def practice_namespaces_removed(lab):
    """Remove what practice tasks and exams left on the shared cluster once a module is done: their
    last namespaces stay for the learner to look at, and their pods would sit on the nodes that later
    tests and notebooks drain (lab 12 counted an exam's leftover pod among its evictions)."""
    yield
    from kjlab.actions import namespaces
    from kjlab.api import kube

    for ns in kube.raw(kube.core(lab["context"]).list_namespace)["items"]:
        name = ns["metadata"]["name"]
        if name.startswith("practice-"):
            namespaces.delete_and_clear(lab["context"], name)
