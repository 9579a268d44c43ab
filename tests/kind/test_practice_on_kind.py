"""The practice tasks that need a real kubelet (probes, hooks, signals, OOM, init containers), on kind:
the same routes as tests/cluster/test_practice_tasks.py -- two references and the wrong answers with
their explanations. Tasks that also run on kwok are tested there only (the checks read the API the
same way on both engines)."""

from __future__ import annotations

import pytest

from kjlab.practice import registry
from practice_answers import cases, try_answer

pytestmark = pytest.mark.usefixtures("practice_namespaces_removed")

KIND_ONLY = [c for c in cases("kind") if not registry.get(c.values[0]).runs_on("kwok")]


@pytest.mark.skipif(not KIND_ONLY, reason="no practice task needs a real kubelet yet")
@pytest.mark.parametrize("task_id,route,phrase", KIND_ONLY or [("none", "", None)])
def test_kind_task(lab, ns, tmp_path, task_id, route, phrase):
    try_answer(lab["context"], "kind", task_id, route, phrase, tmp_path, other_ns=ns)
