"""Running the cluster's own kubectl on the lab context, as `kjlab kubectl` and notebooks do."""

from __future__ import annotations

import os
import subprocess

from kjlab.cluster import tools
from kjlab.paths import kubeconfig_search_path


def argv(args: list[str], context: str, kubectl: str) -> list[str]:
    """kubectl's argv: the lab context unless the learner names their own."""
    head = [kubectl]
    if not any(a == "--context" or a.startswith("--context=") for a in args):
        head += ["--context", context]
    return head + list(args)


def environment() -> dict[str, str]:
    """The environment kubectl runs in: KUBECONFIG lists kjlab's own kubeconfig, then the
    learner's, so lab contexts and the learner's contexts both resolve (a --kubeconfig flag the
    learner gives still wins, as in kubectl)."""
    return {**os.environ, "KUBECONFIG": kubeconfig_search_path()}


def run(args: list[str], context: str, timeout: float | None = None) -> tuple[int, str]:
    """Run the cluster's kubectl with ``args`` on ``context`` (unless ``args`` name their own) and
    return ``(exit status, what it printed)``, stdout then stderr, trailing blank lines dropped.
    Prints nothing: each caller shows the command the way its lab types it."""
    proc = subprocess.run(argv(list(args), context, str(tools.kubectl_path())), capture_output=True, text=True,
                          env=environment(), timeout=timeout)
    return proc.returncode, (proc.stdout + proc.stderr).rstrip()
