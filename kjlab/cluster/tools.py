"""The kwok engine's binaries: built from the Go module proxy by tools/build.sh, cached outside the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from kjlab.errors import KjlabError
from kjlab.paths import tools_dir

BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok", "kwokctl")
BUILD_COMMAND = "tools/build.sh"


def pinned_versions() -> dict[str, str]:
    """The versions in tools/versions.env, e.g. {"KUBERNETES_VERSION": "v1.36.4", ...}."""
    versions = {}
    for line in (tools_dir() / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            versions[key] = value
    return versions


def kube_version() -> str:
    return pinned_versions()["KUBERNETES_VERSION"]


def _build_script() -> Path:
    script = tools_dir() / "build.sh"
    if not script.exists():
        raise KjlabError(
            f"the tool build script {script} is missing: kjlab must be installed from its repository",
            "git clone the kjlab repository and run `make setup` in it",
        )
    return script


def bin_dir() -> Path:
    """The cache directory that holds (or will hold) the binaries for the pinned versions."""
    if os.environ.get("KJLAB_BIN_DIR"):
        return Path(os.environ["KJLAB_BIN_DIR"])
    if shutil.which("go") is None:
        raise KjlabError(
            "Go is not installed, and the kwok engine's binaries are built with it",
            "install Go >= 1.26 (e.g. `apt-get install golang-go`), then run `tools/build.sh`",
        )
    out = subprocess.run(["bash", str(_build_script()), "--print-dir"], capture_output=True, text=True)
    if out.returncode != 0:
        raise KjlabError(f"tools/build.sh --print-dir failed: {out.stderr.strip()}", f"bash {BUILD_COMMAND}")
    return Path(out.stdout.strip())


def missing(directory: Path | None = None) -> list[str]:
    """Names of the binaries not yet built (empty when the cache is complete)."""
    directory = directory or bin_dir()
    return [b for b in BINARIES if not os.access(directory / b, os.X_OK)]


def ensure_built(progress=print) -> Path:
    """Build the binaries unless the cache already has them; returns their directory."""
    directory = bin_dir()
    if not missing(directory):
        return directory
    progress("building the cluster tools from the Go module proxy (first time only; 10-25 min on 2 cores)")
    proc = subprocess.run(["bash", str(_build_script())])
    if proc.returncode != 0:
        raise KjlabError("building the cluster tools failed (the Go output above says why)", f"bash {BUILD_COMMAND}")
    return directory


def kubectl_path() -> Path:
    """kubectl for the lab: the one built at the control plane's version (no skew)."""
    path = bin_dir() / "kubectl"
    if not os.access(path, os.X_OK):
        raise KjlabError("kubectl has not been built yet", f"bash {BUILD_COMMAND}")
    return path
