import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/compare/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)  # needs runs recorded on the clusters (make test)
