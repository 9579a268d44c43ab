"""The documented pod failure policy examples, as package data.

Each manifest is the one the Kubernetes docs give. ``render`` changes only named parameters:
the Job's name, the `sleep N` of its script (fast runs), and whether the podFailurePolicy is
kept (the "without the policy" comparison drops exactly that field).
"""

from __future__ import annotations

import copy
import re
from importlib import resources

import yaml

from kjlab.errors import KjlabError

FILES = {
    "failjob": "failjob.yaml",
    "ignore": "ignore.yaml",
    "config-issue": "config-issue.yaml",
    "failindex": "failindex.yaml",
}

# Sleeps for fast runs (FAST=True in the labs, --fast on the CLI): long enough that a drain
# lands inside the window with time to spare, short enough for CI.
FAST_SLEEP = {"failjob": 5, "ignore": 15}

_SLEEP = re.compile(r"\bsleep (\d+)\b")


def names() -> list[str]:
    return list(FILES)


def source(name: str) -> str:
    """The manifest's YAML text, exactly as shipped."""
    if name not in FILES:
        raise KjlabError(f"unknown example '{name}' (choose one of: {', '.join(FILES)})",
                         "kjlab scenario run failjob")
    return resources.files("kjlab.examples").joinpath(FILES[name]).read_text()


def documented_sleep(name: str) -> int | None:
    """The `sleep N` of the example's script, or None when it has none."""
    m = _SLEEP.search(source(name))
    return int(m.group(1)) if m else None


def render(name: str, policy: bool = True, sleep: int | None = None, job_name: str | None = None) -> dict:
    """The example as a dict, with only the named parameters changed."""
    manifest = yaml.safe_load(source(name))
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
