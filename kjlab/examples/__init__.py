"""The documented pod failure policy examples, and the Jobs of the labs on completions, failure and retry, as package data.

Each documented example is the manifest the Kubernetes docs give (``names()`` lists those; they
are kjlab's scenarios). The lab Jobs (``lab_jobs()``) are small Jobs written for one lesson
each, in the simulated kubelet's grammar so they run the same on kind and kwok. ``render`` changes only named parameters:
the Job's name, the `sleep N` of its script (fast runs), and whether the podFailurePolicy is
kept (the "without the policy" comparison drops exactly that field).
"""

from __future__ import annotations

import copy
import re
from importlib import resources

from kjlab import manifests
from kjlab.errors import KjlabError

FILES = {
    "failjob": "failjob.yaml",
    "ignore": "ignore.yaml",
    "config-issue": "config-issue.yaml",
    "failindex": "failindex.yaml",
}
# The Jobs of the labs on completions and parallelism, and on failure and retry.
LAB_FILES = {
    "parallel": "parallel.yaml",
    "indexed": "indexed.yaml",
    "success-policy": "success-policy.yaml",
    "replacement": "replacement.yaml",
    "retry-never": "retry-never.yaml",
    "retry-onfailure": "retry-onfailure.yaml",
    "per-index": "per-index.yaml",
    "backoff-cap": "backoff-cap.yaml",
    "deadline": "deadline.yaml",
    "ttl": "ttl.yaml",
    "suspend": "suspend.yaml",
}

# Sleeps for fast runs (FAST=True in the labs, --fast on the CLI): long enough that a drain
# lands inside the window with time to spare, short enough for CI.
FAST_SLEEP = {"failjob": 5, "ignore": 15}

_SLEEP = re.compile(r"\bsleep (\d+)\b")


def packaged(file: str) -> str:
    """The text of ``file``, a manifest kjlab ships in kjlab/examples, exactly as shipped."""
    return resources.files("kjlab.examples").joinpath(file).read_text()


def objects(file: str) -> list[dict]:
    """Every object of ``file`` in kjlab/examples, in file order, through the one manifest loader
    (kjlab.manifests.load: read and checked as a learner's manifest is)."""
    return manifests.load(packaged(file), file, one=False)


def names() -> list[str]:
    """The documented examples (the scenarios)."""
    return list(FILES)


def lab_jobs() -> list[str]:
    return list(LAB_FILES)


def _file(name: str) -> str:
    known = {**FILES, **LAB_FILES}
    if name not in known:
        raise KjlabError(f"unknown example '{name}' (choose one of: {', '.join(known)})",
                         "kjlab scenario run failjob")
    return known[name]


def source(name: str, fast: bool = False) -> str:
    """The manifest's YAML text, exactly as shipped; with ``fast``, as a fast run applies it: the
    script's `sleep N` replaced by the fast one (``FAST_SLEEP``), and a first comment line saying so."""
    text = packaged(_file(name))
    sleep = FAST_SLEEP.get(name) if fast else None
    if sleep is None:
        return text
    documented = documented_sleep(name)
    note = (f"# FAST run: the script sleeps {sleep} s, not the docs' {documented} s "
            f"(`sleep {documented}` -> `sleep {sleep}`); nothing else differs\n")
    return note + _SLEEP.sub(f"sleep {sleep}", text)


def documented_sleep(name: str) -> int | None:
    """The `sleep N` of the example's script, or None when it has none."""
    m = _SLEEP.search(source(name))
    return int(m.group(1)) if m else None


def render(name: str, policy: bool = True, sleep: int | None = None, job_name: str | None = None) -> dict:
    """The example as a dict, with only the named parameters changed."""
    manifest = objects(_file(name))[0]
    return customise(manifest, policy=policy, sleep=sleep, job_name=job_name)


def customise(manifest: dict, policy: bool = True, sleep: int | None = None, job_name: str | None = None) -> dict:
    """Apply the named parameters to any Job manifest (the CLI's --manifest uses this too)."""
    manifest = copy.deepcopy(manifest)
    if job_name:
        manifest["metadata"]["name"] = job_name
    if not policy:
        manifest["spec"].pop("podFailurePolicy", None)
    if sleep is not None:
        if int(sleep) < 1:
            raise KjlabError(f"sleep must be at least 1 second, got {sleep}", "use sleep=5")
        for container in manifest["spec"]["template"]["spec"]["containers"]:
            for key in ("command", "args"):
                if container.get(key):
                    container[key] = [_SLEEP.sub(f"sleep {int(sleep)}", part) for part in container[key]]
    return manifest
