"""Saves every scenario run's summary while the tests run, so the engine comparison
(tests/compare/test_engines.py, bench/engines.py) reads runs the suites made anyway instead of
running each long scenario again.

Active only when $KJLAB_RUNS_DIR is set (the Makefile's `test` target sets it). Each run becomes
``$KJLAB_RUNS_DIR/<engine>/<scenario>-<policy|nopolicy>.<producer>.json``; the engine comes from
the context (kind-kjlab -> kind), the producer is "test" in pytest or the notebook's name in a
papermill kernel (tests/notebooks installs this file as an IPython startup file there).
This file is also exec'd on its own, so it imports only the standard library at the top.
"""

import functools
import json
import os
import pathlib
import re


def _engine(context):
    m = re.match(r"^(kind|kwok)-", context or "")
    return m.group(1) if m else (context or "unknown")


def install(producer):
    runs_dir = os.environ.get("KJLAB_RUNS_DIR")
    if not runs_dir:
        return False
    import kjlab
    from kjlab.runs import scenarios

    original = getattr(scenarios.run, "__wrapped__", scenarios.run)

    @functools.wraps(original)
    def run(*args, **kwargs):
        result = original(*args, **kwargs)
        try:
            from kjlab.cluster import lab_context

            if kwargs.get("manifest") is None and result.scenario in ("failjob", "ignore", "config-issue", "failindex"):
                engine = _engine(kwargs.get("context") or lab_context())
                out = pathlib.Path(runs_dir) / engine
                out.mkdir(parents=True, exist_ok=True)
                variant = "policy" if result.policy else "nopolicy"
                data = result.to_dict()
                data["fast"] = bool(kwargs.get("fast"))
                data["producer"] = producer
                data["job_status"] = result.job_status
                (out / f"{result.scenario}-{variant}.{producer}.json").write_text(json.dumps(data, default=str))
        except Exception as e:  # recording must never fail a run
            print(f"kjlab runs_hook: could not save the run: {e}")
        return result

    scenarios.run = run
    kjlab.run = run
    return True


def kernel_env(tmp_dir, producer):
    """Environment changes that make a papermill kernel install this hook at start (IPython startup
    file); {} when recording is off."""
    if not os.environ.get("KJLAB_RUNS_DIR"):
        return {}
    startup = pathlib.Path(tmp_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-kjlab-runs.py").write_text(pathlib.Path(__file__).read_text())
    return {"IPYTHONDIR": str(tmp_dir), "KJLAB_RUNS_PRODUCER": producer}


if __name__ == "__main__" and os.environ.get("KJLAB_RUNS_PRODUCER"):
    # As an IPython startup file in a papermill kernel.
    install(os.environ["KJLAB_RUNS_PRODUCER"])
