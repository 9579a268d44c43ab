"""Choosing an engine: kind where a Docker engine answers, else kwok (real control plane, simulated nodes)."""

from __future__ import annotations

import shutil
import subprocess

from kjlab.errors import KjlabError

ENGINES = ("kind", "kwok")
CLUSTER_NAME = "kjlab"


def context_for(engine: str) -> str:
    """The kubeconfig context each engine's tool writes: kind-kjlab or kwok-kjlab."""
    return f"{engine}-{CLUSTER_NAME}"


def docker_available(timeout: float = 5.0) -> bool:
    """True when a Docker engine answers (a docker client alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=timeout)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


def choose_engine(requested: str, has_docker: bool) -> str:
    """Resolve ``--engine``: auto -> kind with Docker, else kwok; kind without Docker is an error."""
    if requested == "auto":
        return "kind" if has_docker else "kwok"
    if requested not in ENGINES:
        raise KjlabError(
            f"unknown engine '{requested}' (choose auto, kind or kwok)",
            "kjlab up --engine auto",
        )
    if requested == "kind" and not has_docker:
        raise KjlabError(
            "--engine kind needs a running Docker engine, and none answers here",
            "start Docker, or use the kwok engine: kjlab up --engine kwok",
        )
    return requested
