"""JupyterHub on Kubernetes for a class (issue 29): what the chart's jupyterhub_config.py sets.

The chart (kjlab/classroom/chart) mounts its values as JSON in the Secret ``hub``
(/usr/local/etc/jupyterhub/secret/values.json, beside class-list.txt and passwords.json), the way
z2jh mounts its values and its config reads them. The values read like z2jh's
(``singleuser.image``, ``singleuser.memory.guarantee``, ``singleuser.storage.capacity``,
``cull.timeout``, ``hub.config``), so an instructor who knows z2jh reads them at a glance.

The settings are built by pure functions (values -> {ConfigClass: {trait: value}}) that the unit
tests check; ``configure(c)`` only reads the files and applies them, ``hub.config`` last so an
instructor's own settings win (as in z2jh). Each learner gets one pod (KubeSpawner), a PVC of their
own at /home/learner (kept when their pod stops or is culled), and their own kwok cluster inside
that pod. The proxy runs in a pod of its own, so a restarted hub finds every route and server."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from kjlab import paths
from kjlab.classroom import accounts

SECRET_DIR = Path(os.environ.get("KJLAB_HUB_SECRET_DIR", "/usr/local/etc/jupyterhub/secret"))
DATA_DIR = Path(os.environ.get("KJLAB_HUB_DATA_DIR", "/srv/jupyterhub"))  # the hub-db PVC
HOME = "/home/learner"  # the learner image's HOME, where the learner's PVC is mounted
# The kjlab-results service (kjlab/classroom/verdict_service.py) in the hub pod, behind the Service
# `hub` (a hub run outside a cluster, as tests/classroom/test_k8s_hub_kwok.py does, names its own).
RESULTS_HOST = os.environ.get("KJLAB_RESULTS_HOST", "hub")
RESULTS_PORT = int(os.environ.get("KJLAB_RESULTS_PORT", "8181"))
# Defaults that values.yaml also states (a value left out of an instructor's own values file
# falls back to these, not to nothing).
DEFAULTS = {
    "singleuser": {
        "image": {"name": "kjlab.local/learner", "tag": "", "pullPolicy": "IfNotPresent"},
        # Measured on the single server (README, Classroom workshops): about 0.55 GiB for the kwok
        # cluster plus 0.3 GiB for JupyterLab and a kernel while a lab runs; the limit leaves room
        # for a second kernel before the learner's pod is OOM-killed.
        "memory": {"guarantee": "0.9G", "limit": "2G"},
        "cpu": {"guarantee": 0.1, "limit": 1.0},
        "storage": {"capacity": "1Gi", "storageClass": None},
        "startTimeout": 300,
        "defaultUrl": "/lab/tree/labs/01-failjob.ipynb",
    },
    "cull": {"enabled": True, "timeout": 3600, "every": 600},
    "hub": {"config": {}},
}


def merged(defaults: dict, values: dict) -> dict:
    """``values`` over ``defaults``, dictionaries merged key by key (what helm does with -f)."""
    out = dict(defaults)
    for key, value in (values or {}).items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def image(ref: dict) -> str:
    name, tag = ref.get("name") or "", str(ref.get("tag") or "")
    if not name:
        raise ValueError("singleuser.image.name is empty: set it to the learner image (tools/classroom/build.sh)")
    return f"{name}:{tag}" if tag else name


def safe_name(user: str) -> str:
    """A hub user name as one directory name (OAuth names may hold '/', '..' or spaces)."""
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]", "_", user).lstrip(".")
    return cleaned or "_"


def spawner_settings(values: dict, release: str, namespace: str = "default") -> dict:
    """KubeSpawner's traits for the learners' pods, from the values."""
    su = merged(DEFAULTS, values)["singleuser"]
    storage = su["storage"]
    return {
        # The release's namespace (the chart passes POD_NAMESPACE): KubeSpawner alone would take
        # "default" when the hub runs outside a pod.
        "namespace": namespace,
        "image": image(su["image"]),
        "image_pull_policy": su["image"]["pullPolicy"],
        # The learner image's entrypoint copies missing handout files into HOME, then runs its
        # arguments: KubeSpawner appends --ip/--port to this command.
        "cmd": ["kjlab-learner-start", "jupyterhub-singleuser"],
        "uid": 1000, "gid": 100, "fs_gid": 100,  # the learner image's user; the PVC is group-writable
        "mem_guarantee": su["memory"]["guarantee"], "mem_limit": su["memory"]["limit"],
        "cpu_guarantee": float(su["cpu"]["guarantee"]), "cpu_limit": float(su["cpu"]["limit"]),
        # One PVC per learner (z2jh's singleuser.storage type "dynamic"); delete_pvc False: a learner
        # removed from the hub keeps their notebooks until `kjlab class down --delete-volumes`.
        "storage_pvc_ensure": True, "pvc_name_template": "claim-{username}",
        "storage_capacity": storage["capacity"], "storage_access_modes": ["ReadWriteOnce"],
        **({"storage_class": storage["storageClass"]} if storage.get("storageClass") else {}),
        "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-{username}"}}],
        "volume_mounts": [{"name": "home", "mountPath": HOME}],
        "delete_pvc": False,
        # No Kubernetes credentials in a learner's pod: their kjlab talks to their own kwok cluster only.
        "automount_service_account_token": False,
        # The release's label on every learner pod: the chart's NetworkPolicy selects them by it.
        "common_labels": {"app.kubernetes.io/name": "jupyterhub", "app.kubernetes.io/managed-by": "kubespawner",
                          "app.kubernetes.io/instance": release, "app": "jupyterhub", "heritage": "jupyterhub"},
        "start_timeout": int(su["startTimeout"]), "http_timeout": 120,
        "default_url": su["defaultUrl"],
        "notebook_dir": HOME,
    }


def spawner_environment(hub_service: str = RESULTS_HOST) -> dict:
    """What kjlab in the learner's pod reads: where to post each verdict (the learner's own copy
    stays on their PVC under $HOME, where kjlab writes it by default)."""
    return {"KJLAB_RESULTS_URL": f"http://{hub_service}:{RESULTS_PORT}/services/kjlab-results/verdict"}


# What kjlab-results needs of the hub's environment to read the learners' pods (a managed service
# inherits almost nothing): the namespace, and the API server (in the pod) or a kubeconfig (outside).
SERVICE_KEEPS = ("POD_NAMESPACE", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG")


def services_and_roles(values: dict, python: str = sys.executable,
                       environ: dict | None = None) -> tuple[list[dict], list[dict]]:
    """The hub's services: the idle culler (stops a server idle for cull.timeout seconds; its PVC
    and so its notebooks stay) and kjlab-results (receives each learner's check verdicts and tells a
    learner why their server was started again)."""
    cull = merged(DEFAULTS, values)["cull"]
    environ = os.environ if environ is None else environ
    services = [{"name": "kjlab-results", "url": f"http://{RESULTS_HOST}:{RESULTS_PORT}",
                 "command": [python, "-m", "kjlab.classroom.verdict_service"],
                 "environment": {"KJLAB_HUB_DATA_DIR": str(DATA_DIR),
                                 **{k: environ[k] for k in SERVICE_KEEPS if environ.get(k)}}}]
    roles: list[dict] = []  # kjlab-results asks the hub who a learner's token belongs to: no scope needed
    if cull["enabled"]:
        services.append({"name": "idle-culler", "command": [
            python, "-m", "jupyterhub_idle_culler", f"--timeout={int(cull['timeout'])}",
            f"--cull-every={int(cull['every'])}"]})
        roles.append({"name": "idle-culler", "services": ["idle-culler"],
                      "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]})
    return services, roles


def uses_class_list(values: dict) -> bool:
    """The class list's passwords log learners in unless hub.config names another authenticator."""
    auth = (merged(DEFAULTS, values)["hub"]["config"].get("JupyterHub") or {}).get("authenticator_class")
    return auth in (None, "", "kjlab-class-list")


def settings(values: dict, release: str, logins: list[str], python: str = sys.executable,
             namespace: str = "default") -> dict:
    """Everything the hub sets, as {ConfigClass: {trait: value}} (hub.config applied last, by configure)."""
    services, roles = services_and_roles(values, python)
    out = {
        "JupyterHub": {
            "hub_bind_url": "http://0.0.0.0:8081",
            "hub_connect_url": "http://hub:8081",
            "db_url": f"sqlite:///{DATA_DIR / 'jupyterhub.sqlite'}",
            "cookie_secret_file": str(DATA_DIR / "jupyterhub_cookie_secret"),
            # The proxy is its own pod (the `proxy` Deployment): a restarted hub keeps the learners'
            # routes and finds their servers, which keep running meanwhile.
            "cleanup_servers": False,
            "spawner_class": "kubespawner.KubeSpawner",
            "services": services, "load_roles": roles,
        },
        "ConfigurableHTTPProxy": {"should_start": False, "api_url": "http://proxy-api:8001"},
        "KubeSpawner": spawner_settings(values, release, namespace),
    }
    if uses_class_list(values):
        out["JupyterHub"]["authenticator_class"] = "kjlab.classroom.hub_auth.ClassListAuthenticator"
        out["ClassListAuthenticator"] = {"state_dir": str(SECRET_DIR), "user_prefix": ""}
        out["Authenticator"] = {"allowed_users": set(logins)}
    return out


def learner_args() -> list[str]:
    """JupyterLab's options in the learner's pod: no news prompt, no update check, kjlab's settings and
    terminal. The paths are the hub image's kjlab; the learner image installs kjlab at the same path
    (/opt/kjlab/venv, the same Debian Python), so they hold there too."""
    return ["--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *paths.jupyterlab_args()]


def apply(c, config: dict) -> None:
    """Set {ConfigClass: {trait: value}} on JupyterHub's config object."""
    for cls, traits in config.items():
        for trait, value in traits.items():
            setattr(c[cls], trait, value)


def configure(c) -> None:
    """The chart's jupyterhub_config.py: read the mounted values, set everything."""
    values = json.loads((SECRET_DIR / "values.json").read_text())
    logins: list[str] = []
    class_list = SECRET_DIR / "class-list.txt"
    if uses_class_list(values):
        learners = accounts.read_class_list(class_list)
        logins = [lr.login for lr in learners]
        # `kjlab class report --state /srv/jupyterhub` in the hub pod names each learner from it.
        (DATA_DIR / "class-list.txt").write_text(class_list.read_text())
    apply(c, settings(values, os.environ.get("KJLAB_RELEASE", "kjlab"), logins,
                      namespace=os.environ.get("POD_NAMESPACE", "default")))
    c.KubeSpawner.environment = {**spawner_environment(), "KJLAB_LEARNER": lambda spawner: spawner.user.name}
    c.KubeSpawner.args = learner_args()
    for cls, traits in (values.get("hub", {}).get("config") or {}).items():
        if cls == "JupyterHub" and traits.get("authenticator_class") == "kjlab-class-list":
            traits = {k: v for k, v in traits.items() if k != "authenticator_class"}
        c[cls].update(traits)
