"""Every notebook is executed by papermill against the lab cluster; its own check cells assert the outcome."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for folder in ("labs", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb")
                   if ".backup-" not in p.name)
ARTIFACTS = ROOT / "artifacts" / "executed"


def execute(path: Path, context: str, out: Path, namespace: str) -> None:
    """papermill with FAST=True on ``context``; with $KJLAB_RUNS_DIR set, the kernel saves each
    scenario run for the engine comparison (tests/runs_hook.py)."""
    import importlib.util
    import os
    import tempfile

    import papermill

    spec = importlib.util.spec_from_file_location("kjlab_runs_hook_nb", ROOT / "tests" / "runs_hook.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kjlab-ipython-") as ipython_dir:
        extra = hook.kernel_env(ipython_dir, f"{path.parent.name}-{path.stem}")
        saved = {k: os.environ.get(k) for k in extra}
        os.environ.update(extra)
        try:
            papermill.execute_notebook(
                str(path), str(out), cwd=str(path.parent), kernel_name="python3", progress_bar=False,
                parameters={"FAST": True, "NAMESPACE": namespace, "CONTEXT": context},
                execution_timeout=1500,
            )
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_executes(lab, path):
    out = ARTIFACTS / f"{path.parent.name}-{path.name}"
    namespace = f"nb{path.stem[:2]}"
    try:
        execute(path, lab["context"], out, namespace)
    finally:
        # A notebook that fails stops before its cleanup cell; its pods must not outlive it into
        # the next notebook's drain.
        from kjlab import lab as kjlab_lab

        kjlab_lab.cleanup(lab["context"], namespace)
    if path.parent.name == "exercises":
        # As generated (no answers), every check must run and say so, not crash.
        import json

        text = json.dumps(json.loads(out.read_text())["cells"])
        checks = text.count("kjlab.check.run(")
        assert checks and text.count("NOT SOLVED YET") >= checks, f"{path.name}: a check did not report 'not solved yet'"
