"""The cluster tools, built once, shared read-only by every learner.

The build cache lives in the builder's HOME (often root's, which nobody else may enter), so the
hub copies the binaries once to a directory every learner can read and nobody but root can write,
and points each learner's kjlab at it with KJLAB_BIN_DIR."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kjlab.cluster import tools
from kjlab.errors import KjlabError
from kjlab.paths import REPO_DIR

SHARED_ROOT = Path(os.environ.get("KJLAB_SHARED", "/srv/kjlab"))


def shared_bin_dir(progress=print) -> Path:
    """The shared copy of the tool binaries for the pinned versions (made on first use)."""
    source = tools.ensure_built(progress)
    dest = SHARED_ROOT / "tools" / source.parent.name / "bin"  # the cache key names the versions
    if not tools.missing(dest):
        return dest
    progress(f"sharing the cluster tools read-only in {dest}")
    staging = dest.with_name("bin.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in tools.BINARIES:
        shutil.copy2(source / name, staging / name)
        os.chmod(staging / name, 0o555)
    for directory in (SHARED_ROOT, SHARED_ROOT / "tools", staging.parent):
        os.chmod(directory, 0o755)
    os.chmod(staging, 0o555)
    staging.rename(dest)  # all or nothing: a half-copied directory never looks complete
    return dest


# --- The shared install: what every learner runs ------------------------------------------------
# A learner's server, kernel and `kjlab up` run as that learner, so the Python, the venv and the
# kjlab package must be readable by every account. A developer's venv often is not (a pyenv
# interpreter under /root), so the hub keeps its own install beside the tools: a copy of the repo
# and a venv made with the system's Python, root-owned and read-only for learners.
IGNORED = (".git", ".venv", "artifacts", "__pycache__", "*.egg-info", ".pytest_cache", ".ipynb_checkpoints")


def repo_dir() -> Path:
    return SHARED_ROOT / "repo"


def venv_dir() -> Path:
    return SHARED_ROOT / "venv"


def install(python: str = "/usr/bin/python3", progress=print) -> Path:
    """Refresh the shared repo copy, make the shared venv when its dependencies changed; returns
    the venv. Editable install: a refreshed repo copy needs no reinstall."""
    import fcntl

    SHARED_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(SHARED_ROOT, 0o755)
    # A hub and a test (or two hubs) refreshing the copy at once would trip over each other's staging.
    with open(SHARED_ROOT / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _install(python, progress)


def _install(python: str, progress) -> Path:
    import hashlib
    import subprocess

    staging = SHARED_ROOT / "repo.partial"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(REPO_DIR, staging, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    old = SHARED_ROOT / "repo.old"
    shutil.rmtree(old, ignore_errors=True)
    if repo_dir().exists():
        repo_dir().rename(old)
    staging.rename(repo_dir())
    shutil.rmtree(old, ignore_errors=True)
    _readable(repo_dir())

    key = hashlib.sha256((repo_dir() / "pyproject.toml").read_bytes() + python.encode()).hexdigest()[:16]
    marker = venv_dir() / ".kjlab-key"
    if marker.exists() and marker.read_text() == key:
        return venv_dir()
    if not os.access(python, os.X_OK):
        raise KjlabError(f"{python} is missing: the learners' shared venv is made with the system's Python",
                         "apt-get install python3 python3-venv")
    progress(f"making the learners' shared venv {venv_dir()} (once; about a minute)")
    shutil.rmtree(venv_dir(), ignore_errors=True)
    for args in ([python, "-m", "venv", str(venv_dir())],
                 [str(venv_dir() / "bin" / "pip"), "install", "--quiet", "-e", f"{repo_dir()}[lab,hub]"]):
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            raise KjlabError(f"`{' '.join(args)}` failed: {proc.stderr.strip()[-800:]}",
                             "apt-get install python3-venv, and check that pip reaches the package index")
    marker.write_text(key)
    _readable(venv_dir())
    return venv_dir()


def _readable(top: Path) -> None:
    """Everyone may read and enter, only root writes (what `chmod -R a+rX,go-w` does)."""
    for root, dirs, files in os.walk(top):
        os.chmod(root, 0o755)
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                mode = path.stat().st_mode
                os.chmod(path, 0o755 if mode & 0o100 else 0o644)
