"""kjlab's own kubeconfig file, mended from an engine's own state.

`kjlab up` writes the lab context into a kubeconfig of kjlab's own (kjlab.paths.kubeconfig_path).
When that file is gone or broken while the cluster still runs, the cluster is not lost: kwokctl
and kind each keep the cluster's credentials themselves, so the context is written back from
there -- a cluster that answers is never deleted for want of a file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml

from kjlab.api import kube

SECTIONS = ("clusters", "users", "contexts")


def has_context(path: Path, context: str) -> bool:
    """``path`` is a usable kubeconfig with ``context`` in it."""
    return kube.has_context(str(path), context)


def set_aside(path: Path) -> Path | None:
    """Move a broken kubeconfig out of the way (kept beside it, never deleted); returns where."""
    if not (path.exists() or path.is_dir()) or not kube.shape_problem(str(path)):
        return None
    aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(aside)
    return aside


def merge(path: Path, engine_config: str, context: str) -> None:
    """Write ``context`` (its cluster and user too) from ``engine_config`` -- a kubeconfig the engine
    printed for the cluster -- into ``path``, renamed to ``context`` and replacing entries of that
    name; every other entry of ``path`` stays as it was. Private (0600), written atomically."""
    source = yaml.safe_load(engine_config) or {}
    ctx = next(iter(source.get("contexts") or []), None)
    if not isinstance(ctx, dict) or not isinstance(ctx.get("context"), dict):
        raise ValueError("the engine's kubeconfig has no context")
    cluster_name, user_name = ctx["context"].get("cluster"), ctx["context"].get("user")
    cluster = next(c for c in source.get("clusters") or [] if c.get("name") == cluster_name)
    user = next(u for u in source.get("users") or [] if u.get("name") == user_name)
    data = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Config")
    entries = {"clusters": {**cluster, "name": context}, "users": {**user, "name": context},
               "contexts": {"name": context, "context": {**ctx["context"], "cluster": context, "user": context}}}
    for section in SECTIONS:
        data[section] = [e for e in data.get(section) or [] if e.get("name") != context] + [entries[section]]
    if not data.get("current-context"):
        data["current-context"] = context
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(yaml.safe_dump(data, sort_keys=False))
    tmp.replace(path)
