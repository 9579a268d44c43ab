"""The engine interface, in the style of kind's providers: what `up`, `down`, `status` and the
health check ask of an engine. kind.py and kwok.py each implement it once (``PROVIDER``); the
chooser (engine.py) and ``get`` are the only places that name an engine.
"""

from __future__ import annotations

from typing import Callable, Protocol

from kjlab.cluster import kind, kwok

Progress = Callable[[str], None]


class Provider(Protocol):
    name: str               # "kind" | "kwok": the context is <name>-kjlab
    scales_time: bool       # honours --time-scale (only a simulated kubelet can)
    has_strict_mode: bool   # honours --strict (a simulated kubelet's grammar, issue 10)
    nodes_ready_timeout: float

    def prepare(self, progress: Progress) -> object:
        """The slow steps before create (tools built, node image ready); returns what create needs."""

    def exists(self) -> bool:
        """The engine has a cluster named kjlab, possibly half-created."""

    def leftover_is_ours(self) -> bool:
        """An existing cluster kjlab has no record of is its own (a killed `up`), so it may be removed."""

    def create(self, prepared: object, workers: int, time_scale: float, progress: Progress, context: str,
               strict: bool = True) -> None:
        """Create the cluster with ``workers`` worker nodes; return once the API server answers."""

    def finished_creating(self) -> None:
        """The cluster is recorded as kjlab's: no longer a half-created one."""

    def delete(self, progress: Progress, remove_images: bool = False) -> None:
        """Remove the cluster; ``remove_images`` also what kjlab added to the engine (`down` only)."""

    def components(self) -> dict[str, bool]:
        """Each control-plane process kjlab can see and whether it runs ({} where the engine hides them)."""

    def repair(self, progress: Progress) -> None:
        """Start the components that died; the cluster's state stays."""

    def memory_bytes(self) -> int:
        """Memory the running cluster uses."""

    def own_kubeconfig(self) -> str | None:
        """The cluster's kubeconfig as the engine itself keeps it (None: no cluster, or not readable):
        what `up` writes kjlab's lost or broken kubeconfig back from."""


def get(name: str) -> Provider:
    """The provider of an engine chosen by kjlab.cluster.engine."""
    return PROVIDERS[name]


PROVIDERS: dict[str, Provider] = {"kind": kind.PROVIDER, "kwok": kwok.PROVIDER}
