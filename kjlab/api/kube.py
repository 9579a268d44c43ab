"""API clients for a kubeconfig context (the official kubernetes client)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException
from urllib3.util.retry import Retry

from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path, kubeconfig_search_path


def api_client(context: str, patient: bool = True) -> client.ApiClient:
    """An ApiClient for ``context`` from kjlab's kubeconfig, else the learner's; a clear error if
    neither has it.

    ``patient`` (the default, for runs and waits): a refused or reset connection is retried with
    back-off for about a minute, so a run survives its API server being restarted (`kjlab up`
    repairs in place) or a short machine stall. Probes that ask "does it answer?" (status, the
    guard) use ``patient=False`` and get their answer at once."""
    path = kubeconfig_search_path()
    return _cached_client(context, path, _mtimes(path), patient)


def _mtimes(path: str) -> tuple[float, ...]:
    stamps = []
    for part in path.split(os.pathsep):
        try:
            stamps.append(os.path.getmtime(part))
        except OSError:
            stamps.append(0.0)
    return tuple(stamps)


# About a minute of connection retries: 0.5 s, 1 s, 2 s, then every 4 s. `other` covers a TLS
# handshake the server cut off (SSLEOFError): an API server that is restarting can accept the
# connection and drop it before it serves TLS, and urllib3 counts that neither as a connect nor as a
# read error (a loaded run's restart test failed on it with other=0). The request was not sent, so
# the retry is safe; six of them (~15 s) bound what a certificate that really is wrong costs.
PATIENT_RETRIES = Retry(total=None, connect=18, read=3, status=0, other=6, backoff_factor=0.5, backoff_max=4,
                        raise_on_status=False)


def shape_problem(path: str) -> str | None:
    """What makes the file at ``path`` unusable as a kubeconfig (a directory, not YAML, a list,
    no contexts list), or None when it is usable or absent (an absent file is simply empty)."""
    if os.path.isdir(path):
        return "is a directory, not a kubeconfig file"
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as f:
            data = yaml.safe_load(f.read(4 << 20))
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    except yaml.YAMLError as e:
        return f"is not valid YAML ({str(e).splitlines()[0]})"
    if data is None:
        return None
    if not isinstance(data, dict):
        return f"is a YAML {type(data).__name__}, not a kubeconfig (a mapping with clusters, users and contexts)"
    for key in ("clusters", "users", "contexts"):
        if data.get(key) is not None and not isinstance(data.get(key), list):
            return f"has '{key}' that is not a list"
    return None


def _usable(path: str, context: str) -> str:
    """The search path without files of the wrong shape -- unless the context is in none of the rest:
    then one line names each broken file and its fix."""
    parts = path.split(os.pathsep)
    broken = {p: why for p in parts if (why := shape_problem(p))}
    if not broken:
        return path
    good = [p for p in parts if p not in broken]
    if any(has_context(p, context) for p in good):
        return os.pathsep.join(good)
    ours = str(kubeconfig_path())
    fixes = ["kjlab up rebuilds kjlab's own from the cluster's state (the broken file is kept beside it)"
             if p == ours else f"fix or move {p}" for p in broken]
    raise KjlabError("; ".join(f"the kubeconfig {p} {why}" for p, why in broken.items()), "; ".join(fixes))


def has_context(path: str, context: str) -> bool:
    """The file at ``path`` is a kubeconfig (of a usable shape) with ``context`` in it."""
    if shape_problem(path):
        return False
    try:
        with open(path, "rb") as f:
            data = yaml.safe_load(f.read(4 << 20)) or {}
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and any(isinstance(c, dict) and c.get("name") == context
                                          for c in data.get("contexts") or [])


@functools.lru_cache(maxsize=16)
def _cached_client(context: str, path: str, _mtimes: tuple, patient: bool) -> client.ApiClient:
    # Keyed on the files' mtimes: a new cluster (new port, new certificates) gets a new client.
    path = _usable(path, context)
    try:
        configuration = client.Configuration()
        config.load_kube_config(config_file=path, context=context, client_configuration=configuration)
        configuration.retries = PATIENT_RETRIES if patient else Retry(total=0, raise_on_status=False)
        return client.ApiClient(configuration)
    except yaml.YAMLError as e:
        where = " or ".join(p for p in path.split(os.pathsep) if os.path.exists(p))
        raise KjlabError(f"a kubeconfig ({where}) is not valid YAML: {str(e).splitlines()[0]}",
                         "fix or move the broken file; kjlab's own is rewritten by kjlab down && kjlab up") from None
    except (ConfigException, FileNotFoundError) as e:
        raise KjlabError(
            f"no kubeconfig context '{context}' in {' or '.join(path.split(os.pathsep))} ({e})",
            "start the lab cluster with `kjlab up`, or pass the right context",
        ) from None
    except (TypeError, AttributeError, KeyError, ValueError) as e:  # a shape the client does not expect
        raise KjlabError(f"the kubeconfig for context '{context}' ({' or '.join(path.split(os.pathsep))}) is not "
                         f"shaped as kubectl expects ({type(e).__name__}: {e})",
                         "fix or move the file; kjlab up rebuilds kjlab's own from the cluster's state") from None


def core(context: str) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(context))


def batch(context: str) -> client.BatchV1Api:
    return client.BatchV1Api(api_client(context))


def apps(context: str) -> client.AppsV1Api:
    return client.AppsV1Api(api_client(context))


def discovery(context: str) -> client.DiscoveryV1Api:
    return client.DiscoveryV1Api(api_client(context))


def raw(call, *args, **kwargs) -> dict:
    """Call a generated client method (``read_namespaced_job``, ``list_node`` ...) and return the
    API's JSON as a dict -- the one object model downstream of the API (kjlab.readers reads it).

    The generated models would be deserialised and then converted back; asking for the response
    unparsed skips both. Errors raise ApiException, as the typed call does."""
    response = call(*args, _preload_content=False, **kwargs)
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def version(context: str, timeout: float = 5) -> str:
    """The API server's gitVersion, e.g. v1.36.4."""
    return get(context, "/version", timeout)["gitVersion"]


def get(context: str, path: str, timeout: float = 5) -> dict:
    """GET ``path`` from the API server at once (no retries), as the API's JSON dict.

    For the probes that must answer within seconds (status, health, the guard): the typed calls
    import their response models first (V1Pod, V1Node: over a second on a loaded machine), a plain
    GET imports none. Errors raise ApiException, as the typed calls do."""
    api = api_client(context, patient=False)
    method, url, headers, _body, _post = api.param_serialize(
        method="GET", resource_path=path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
    response = api.call_api(method, url, header_params=headers, _request_timeout=timeout)
    response.read()
    if not 200 <= response.status < 300:
        raise client.ApiException(http_resp=response)
    return json.loads(response.data)


# Patches say their type: the generated client would otherwise pick JSON Patch, which a dict
# body is not. Strategic merge is what kubectl patch uses by default (conditions merge by type).
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


# Where each kind a learner may hand kjlab is created (the two kinds kjlab runs).
_COLLECTIONS = {"Job": "/apis/batch/v1/namespaces/{namespace}/jobs", "Pod": "/api/v1/namespaces/{namespace}/pods",
                "CronJob": "/apis/batch/v1/namespaces/{namespace}/cronjobs",  # the CronJobs lab
                "ReplicaSet": "/apis/apps/v1/namespaces/{namespace}/replicasets",  # the controllers lab
                "Deployment": "/apis/apps/v1/namespaces/{namespace}/deployments",
                "DaemonSet": "/apis/apps/v1/namespaces/{namespace}/daemonsets",
                # the disruptions lab: what a budget and preemption act on
                "PodDisruptionBudget": "/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets",
                "Service": "/api/v1/namespaces/{namespace}/services",  # the probes lab: what a readiness probe gates
                "PriorityClass": "/apis/scheduling.k8s.io/v1/priorityclasses"}  # cluster-scoped


def object_path(kind: str, namespace: str, name: str) -> str:
    """The API path of one object of a kind kjlab creates (read it with ``get``)."""
    return _COLLECTIONS[kind].format(namespace=namespace) + f"/{name}"


def create(context: str, namespace: str, doc: dict, dry_run: bool = False) -> dict:
    """Create ``doc`` (a Job or Pod, as the API's own dict) exactly as written, like `kubectl create`.

    The manifest goes to the API server as data with field validation Strict: a misspelt field
    (``backofLimit``, ``onExitCode``) comes back in the API's own words (`unknown field
    "spec.backofLimit"`), where the client's typed models would raise their own error first.
    Raises ApiException as the typed calls do; returns the created object as a dict."""
    api = api_client(context)
    query = [("fieldValidation", "Strict")] + ([("dryRun", "All")] if dry_run else [])
    method, url, headers, body, _post = api.param_serialize(
        method="POST", resource_path=_COLLECTIONS[doc["kind"]], path_params={"namespace": namespace},
        query_params=query, header_params={"Content-Type": "application/json", "Accept": "application/json"},
        body=doc, auth_settings=["BearerToken"])
    response = api.call_api(method, url, header_params=headers, body=body)
    response.read()
    if not 200 <= response.status < 300:
        raise client.ApiException(http_resp=response)
    return json.loads(response.data)


def now_rfc3339() -> str:
    """Now, as the API writes times (a condition's lastTransitionTime)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
