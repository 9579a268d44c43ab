"""The classroom images (tools/classroom/build.sh), built and run in Docker.

Every test here is marked ``docker`` (and ``cluster``, so the unit run ``-m "not cluster"`` leaves
them out): ``pytest -m docker tests/classroom_image`` runs them. Without a Docker engine they are
skipped with the reason, like the kind suite. The images are built (or found cached: seconds) once
per session; a cold build takes a few minutes.
"""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = REPO / "tools" / "classroom" / "build.sh"
IMAGE_DIR = REPO / "kjlab" / "classroom" / "image"


def pytest_configure(config):
    config.addinivalue_line("markers", "docker: builds and runs the classroom images in Docker; -m docker selects them")


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.docker)
            item.add_marker(pytest.mark.cluster)


def docker_answers() -> str:
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["docker info failed"])[-1]


@pytest.fixture(scope="session")
def images():
    """{"learner": name, "hub": name}: built by tools/classroom/build.sh all (cached when unchanged)."""
    why = docker_answers()
    if why:
        pytest.skip(f"no Docker engine answers: {why}")
    proc = subprocess.run(["bash", str(BUILD), "all"], capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    learner, hub = proc.stdout.split()
    return {"learner": learner, "hub": hub}


@pytest.fixture
def container_name():
    """A name for a test container, removed after the test even if it is still running."""
    names = []

    def make(what: str) -> str:
        prefix = os.environ.get("KJLAB_TEST_CONTAINER_PREFIX", "kjlab-test")
        names.append(f"{prefix}-{what}-{uuid.uuid4().hex[:8]}")
        return names[-1]

    yield make
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def pin(requirements: str, package: str) -> str:
    """The exact version a requirements file (or npm-hub.txt) pins for a package."""
    for line in (IMAGE_DIR / requirements).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        for sep in ("==", "@"):
            name, _, version = line.partition(sep)
            if version and name.strip().lower() == package.lower():
                return version.strip()
    raise AssertionError(f"{requirements} pins no {package}")
