"""Labs 00-04, 06-09 and 13 under papermill on the kind engine (CONTEXT=kind-kjlab); their own check cells
assert the outcomes, now against a real kubelet."""

from pathlib import Path

import pytest

from kind_reuse import load

ROOT = Path(__file__).resolve().parents[2]
LABS = sorted(p for pattern in ("0[0-46-9]-*.ipynb",  # 05 is the quiz: no cluster; 09 (CronJobs) included
                                  "13-*.ipynb")        # probes, hooks, SIGTERM: a real kubelet (skipped on kwok)
              for p in (ROOT / "labs").glob(pattern))
ARTIFACTS = ROOT / "artifacts" / "executed-kind"
_labs = load("notebooks/test_labs.py")


@pytest.mark.parametrize("path", LABS, ids=lambda p: f"labs/{p.name}")
def test_lab_executes_on_kind(lab, path):
    namespace = f"kind{path.stem[:2]}"
    try:
        _labs.execute(path, lab["context"], ARTIFACTS / path.name, namespace)
    finally:
        from kjlab import lab as kjlab_lab

        kjlab_lab.cleanup(lab["context"], namespace)
