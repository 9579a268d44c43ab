"""The kwok engine's binaries: downloaded (release binaries, checksum-verified) or built from the Go module
proxy by tools/build.sh, which picks the route; cached outside the repo."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kjlab.errors import KjlabError
from kjlab.paths import tools_dir

BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok", "kwokctl")
BUILD_COMMAND = "tools/build.sh"


def pinned_versions() -> dict[str, str]:
    """The versions in tools/versions.env (and download.env), e.g. {"KUBERNETES_VERSION": "v1.36.4", ...}."""
    versions = {}
    for name in ("versions.env", "download.env"):
        path = tools_dir() / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
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
    try:
        out = subprocess.run(["bash", str(_build_script()), "--print-dir"], capture_output=True, text=True)
    except OSError as e:
        raise KjlabError(f"cannot run tools/build.sh: {e}", "install bash, then run `make setup`") from None
    if out.returncode != 0:
        raise KjlabError(f"tools/build.sh --print-dir failed: {out.stderr.strip()}", f"bash {BUILD_COMMAND}")
    return Path(out.stdout.strip())


def missing(directory: Path | None = None) -> list[str]:
    """Names of the binaries not yet built (empty when the cache is complete)."""
    directory = directory or bin_dir()
    return [b for b in BINARIES if not os.access(directory / b, os.X_OK)]


def provenance(directory: Path | None = None) -> dict[str, list[str]]:
    """Where each binary came from, from the cache's BUILT file: {"download": [...], "build go1.26.8": [...]}.
    Caches from before issue 28 name only the Go that built everything."""
    directory = directory or bin_dir()
    try:
        lines = (directory.parent / "BUILT").read_text().splitlines()
    except OSError:
        return {}
    fields = dict(line.split("=", 1) for line in lines if "=" in line)
    out: dict[str, list[str]] = {}
    for name in BINARIES:
        source = fields.get(f"source.{name}") or (f"build {fields['go']}" if fields.get("go") not in (None, "none") else "")
        if source:
            out.setdefault(source, []).append(name)
    return out


def describe_provenance(directory: Path | None = None) -> str:
    """'downloaded: kube-apiserver, ...; built with go1.26.6: kwok, kwokctl' (doctor's line)."""
    parts = []
    for source, names in provenance(directory).items():
        label = "downloaded (sha256 verified)" if source == "download" else source.replace("build ", "built with ", 1)
        parts.append(f"{label}: {', '.join(names)}")
    return "; ".join(parts) or "origin not recorded"


def ensure_built(progress=print) -> Path:
    """Get the binaries unless the cache already has them; returns their directory."""
    directory = bin_dir()
    if not missing(directory):
        return directory
    progress("getting the cluster tools (first time only): release binaries when the release host answers "
             "(about 1 min), else built from the Go module proxy (about 12 min on 2 cores); tools/build.sh says which")
    proc = subprocess.run(["bash", str(_build_script())])
    if proc.returncode != 0:
        raise KjlabError("getting the cluster tools failed (its last line above says why)", f"bash {BUILD_COMMAND}")
    return directory


def kubectl_path() -> Path:
    """kubectl for the lab: the one built at the control plane's version (no skew)."""
    path = bin_dir() / "kubectl"
    if not os.access(path, os.X_OK):
        raise KjlabError("kubectl is not in the tools cache yet", f"bash {BUILD_COMMAND}")
    return path
