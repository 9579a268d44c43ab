"""Where kjlab keeps its files: the repo's tools/, the build cache and the state directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# kjlab is installed editable from its repo (the README's set-up does that), so the repo's
# tools/ directory sits next to the package; KJLAB_TOOLS_DIR points elsewhere if needed.
REPO_DIR = PACKAGE_DIR.parent


def tools_dir() -> Path:
    return Path(os.environ.get("KJLAB_TOOLS_DIR", REPO_DIR / "tools"))


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kjlab"
    return Path(os.environ.get("KJLAB_CACHE", default))


def state_dir() -> Path:
    """Per-user state: the record of clusters kjlab created (the safety guard reads it)."""
    default = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "kjlab"
    return Path(os.environ.get("KJLAB_STATE", default))


def kubeconfig_path() -> Path:
    """The kubeconfig kjlab writes its context into: $KUBECONFIG's first entry or ~/.kube/config."""
    env = os.environ.get("KUBECONFIG")
    if env:
        return Path(env.split(os.pathsep)[0])
    return Path.home() / ".kube" / "config"
