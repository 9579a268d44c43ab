"""Shared fixtures. Cluster tests run against a real kwok-engine cluster started once per session."""

import os

import pytest


def pytest_configure(config):
    # With $KJLAB_RUNS_DIR set, every scenario run is saved for the engine comparison (tests/runs_hook.py).
    if os.environ.get("KJLAB_RUNS_DIR"):
        import importlib.util
        from pathlib import Path

        spec = importlib.util.spec_from_file_location("kjlab_runs_hook", Path(__file__).with_name("runs_hook.py"))
        hook = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(hook)
        hook.install("test")


def pytest_collection_modifyitems(items):
    for item in items:
        if any(f"/{d}/" in str(item.fspath) for d in ("cluster", "notebooks", "browser")):
            item.add_marker(pytest.mark.cluster)
    # The lifecycle tests tear the cluster down: they go after everything that uses it.
    items.sort(key=lambda item: item.get_closest_marker("lifecycle") is not None)


@pytest.fixture(scope="session")
def lab():
    """The lab cluster's context: reuses a running kwok lab cluster, else starts one and removes it after."""
    from kjlab import cluster

    context = "kwok-kjlab"
    started = False
    if cluster.registry.entry(context) is None or not cluster.reachable(context):
        cluster.up(engine="kwok")
        started = True
    # tests/suites.sh (make test) starts the clusters before the suites: they count as this run's.
    started = started or "kwok" in os.environ.get("KJLAB_TEST_STARTED", "").split(",")
    options = cluster.registry.entry(context)["options"]
    if options != {"workers": 2, "time_scale": 1.0, "strict": True}:  # strict: issue 10, the default Stage set
        pytest.exit(f"the running lab cluster has options {options}; the tests need the defaults: "
                    "kjlab down, then run the tests again", returncode=2)
    os.environ["KJLAB_CONTEXT"] = context
    if not started:  # a reused cluster may carry a cordon from a lab or an interrupted run
        from kjlab.api import kube, readers
        from kjlab.actions import ops

        for node in kube.raw(kube.core(context).list_node)["items"]:
            if readers.unschedulable(node):
                ops.uncordon(context, readers.name(node), echo=False)
    yield {"context": context, "started": started}
    if started and os.environ.get("KJLAB_KEEP_CLUSTER") != "1":
        cluster.down(engine="kwok")


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
