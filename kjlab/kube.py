"""API clients for a kubeconfig context (the official kubernetes client)."""

from __future__ import annotations

import functools
import os

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path


def api_client(context: str) -> client.ApiClient:
    """An ApiClient for ``context`` from the lab's kubeconfig; a clear error if it is not there."""
    return _cached_client(context, str(kubeconfig_path()), _mtime())


def _mtime() -> float:
    try:
        return os.path.getmtime(kubeconfig_path())
    except OSError:
        return 0.0


@functools.lru_cache(maxsize=8)
def _cached_client(context: str, path: str, _mtime: float) -> client.ApiClient:
    # Keyed on the file's mtime: a new cluster (new port, new certificates) gets a new client.
    try:
        return config.new_client_from_config(config_file=path, context=context)
    except (ConfigException, FileNotFoundError) as e:
        raise KjlabError(
            f"no kubeconfig context '{context}' in {path} ({e})",
            "start the lab cluster with `kjlab up`, or pass the right context",
        ) from None


def core(context: str) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(context))


def batch(context: str) -> client.BatchV1Api:
    return client.BatchV1Api(api_client(context))


def version(context: str) -> str:
    """The API server's gitVersion, e.g. v1.36.4."""
    return client.VersionApi(api_client(context)).get_code(_request_timeout=5).git_version


# Patches say their type: the generated client would otherwise pick JSON Patch, which a dict
# body is not. Strategic merge is what kubectl patch uses by default (conditions merge by type).
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
