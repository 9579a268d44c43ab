"""Classroom tests create Unix users (kjlab-* only) and start clusters as them: root only."""

import os

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/classroom/" in str(item.fspath):
            # They start clusters of their own (as other users), never the lab cluster: they run in
            # make test's kwok suite, after the unit tests.
            item.add_marker(pytest.mark.cluster)
            if os.geteuid() != 0:
                item.add_marker(pytest.mark.skip(reason="creates Unix users for learners: needs root"))


@pytest.fixture(scope="session")
def shared_install():
    """The read-only tools and venv every learner runs (made once, reused like the build cache)."""
    from kjlab.classroom import shared

    return {"bin": shared.shared_bin_dir(), "venv": shared.install()}
