"""The kind engine's kubelets are real: each node is a Docker container running one. Taking a
node's kubelet away stops that container: no kubelet, no heartbeat; after the node lifecycle
controller's grace period the node is ``Ready=Unknown`` and tainted ``node.kubernetes.io/unreachable``.
"""

from __future__ import annotations

import subprocess

from kjlab.errors import KjlabError


def _docker(verb: str, node: str) -> None:
    proc = subprocess.run(["docker", verb, node], capture_output=True, text=True)
    print(f"$ docker {verb} {node}\n{(proc.stdout + proc.stderr).strip()}")
    if proc.returncode:
        raise KjlabError(f"docker {verb} {node} failed", "is Docker running? docker ps")


class KindKubelet:
    real = True                                   # runs containers: probes, hooks, signals, any program
    memory_source = "node containers, docker stats"
    down_step = "node down"                       # the recording's step name

    def take_away(self, context: str, node: str, echo: bool = True) -> tuple[str, str]:
        """Stop the node's kubelet; (what happened, the command a person would run)."""
        _docker("stop", node)
        return "the node's container stopped: no kubelet", f"docker stop {node}"

    def back_command(self, node: str) -> str:
        return f"docker start {node}"

    def bring_back(self, context: str, node: str) -> None:
        """Start the node's kubelet again."""
        _docker("start", node)

    def taken_away(self, context: str, nodes: list[str]) -> list[str]:
        """The ``nodes`` whose container is stopped (an interrupted lab left them so)."""
        stopped = []
        for node in nodes:
            try:
                proc = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", node],
                                      capture_output=True, text=True, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                continue  # no Docker to ask: nothing kjlab can start either
            if proc.returncode == 0 and proc.stdout.strip() == "false":
                stopped.append(node)
        return stopped


KUBELET = KindKubelet()
