"""The fault suite (issue 30): one test module per family of faults -- writes to a cluster kjlab did
not make, tracebacks, hangs, faults not named, bad input silently accepted. bench/faults.py replays
the same cases (tests/faults/cases.py) and prints the table of outcomes.

Tests that inject faults into components (SIGSTOP, SIGKILL) do it on a private kwok cluster in a state directory of their own, never on the session's cluster."""

import os
import shutil
import tempfile

import pytest


@pytest.fixture(scope="module")
def private(lab):
    """A kwok cluster of this module's own, with the default options, so `kjlab up` repairs it in place
    (own state directory and kubeconfig)."""
    from kjlab import cluster

    saved = {k: os.environ.get(k) for k in ("KJLAB_STATE", "KJLAB_KUBECONFIG", "KJLAB_CONTEXT")}
    state = tempfile.mkdtemp(prefix="kjlab-faults-")
    os.environ["KJLAB_STATE"] = state
    os.environ.pop("KJLAB_KUBECONFIG", None)
    os.environ["KJLAB_CONTEXT"] = "kwok-kjlab"
    try:
        cluster.up(engine="kwok", progress=None)
        yield "kwok-kjlab"
    finally:
        cluster.down(engine="kwok", progress=None)
        shutil.rmtree(state, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
