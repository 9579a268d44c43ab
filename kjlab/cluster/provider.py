"""The engine interface, in the style of kind's providers: what `up`, `down`, `status` and the
health check ask of an engine, and ``Kubelet``, what a lab asks of a cluster's kubelets. kind/ and
kwok/ each implement them once (``PROVIDER``, ``kubelet.KUBELET``); the chooser (engine.py), ``get``
``kubelet`` and ``engine_of`` are the only places that name an engine.
"""

from __future__ import annotations

from typing import Callable, Protocol

from kjlab.cluster import kind, kwok, names, registry
from kjlab.cluster.kind import kubelet as kind_kubelet
from kjlab.cluster.kwok import kubelet as kwok_kubelet
from kjlab.errors import KjlabError

Progress = Callable[[str], None]


class Provider(Protocol):
    name: str               # "kind" | "kwok": the context is <name>-kjlab
    scales_time: bool       # honours --time-scale (only a simulated kubelet can)
    has_strict_mode: bool   # honours --strict (a simulated kubelet's grammar)
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
        """Remove the cluster; ``remove_images`` also what kjlab added to the engine (`down --purge`)."""

    def purge(self, progress: Progress) -> None:
        """With no cluster left: remove what kjlab added to the engine (`down --purge` after a `down`)."""

    def components(self) -> dict[str, bool]:
        """Each control-plane process kjlab can see and whether it runs ({} where the engine hides them)."""

    def repair(self, progress: Progress) -> None:
        """Start the components that died; the cluster's state stays."""

    def stopped(self) -> dict[str, int]:
        """Components whose process is stopped (SIGSTOP, a debugger), with their pids ({} where hidden)."""

    def stale_node_leases(self, context: str) -> list[tuple[str, str]]:
        """(node, holder) of node leases a dead instance of the node agent still holds: no pod runs there."""

    def release_node_leases(self, context: str, progress: Progress) -> list[str]:
        """Hand those nodes to the running node agent at once; the nodes released."""

    def memory_bytes(self) -> int:
        """Memory the running cluster uses."""

    def own_kubeconfig(self) -> str | None:
        """The cluster's kubeconfig as the engine itself keeps it (None: no cluster, or not readable):
        what `up` writes kjlab's lost or broken kubeconfig back from."""


def get(name: str) -> Provider:
    """The provider of an engine chosen by kjlab.cluster.engine."""
    return PROVIDERS[name]


PROVIDERS: dict[str, Provider] = {"kind": kind.PROVIDER, "kwok": kwok.PROVIDER}


class Kubelet(Protocol):
    real: bool              # runs containers: probes, lifecycle hooks, signals, any program's output
    memory_source: str      # what `kjlab status` measures as the cluster's memory
    down_step: str          # the recording's step name for a node taken away

    def take_away(self, context: str, node: str, echo: bool = True) -> tuple[str, str]:
        """Make ``node`` NotReady as a kubelet going away does; (what happened, the command a person runs)."""

    def back_command(self, node: str) -> str:
        """The command a person runs to undo ``take_away``, or ''."""

    def bring_back(self, context: str, node: str) -> None:
        """Undo ``take_away``: the node reports Ready again."""

    def taken_away(self, context: str, nodes: list[str]) -> list[str]:
        """Which of ``nodes`` are still taken away (an interrupted lab left them so)."""


class _OtherKubelet:
    """The kubelets of a cluster kjlab did not create (a classroom context): real, and not kjlab's to stop."""
    real = True
    memory_source = ""
    down_step = "node down"

    def take_away(self, context: str, node: str, echo: bool = True) -> tuple[str, str]:
        raise KjlabError(f"kjlab makes a node NotReady only on a cluster it created, not on context {context}",
                         "kjlab up (kind or kwok), then run the cell again")

    def back_command(self, node: str) -> str:
        return ""

    def bring_back(self, context: str, node: str) -> None:
        self.take_away(context, node)

    def taken_away(self, context: str, nodes: list[str]) -> list[str]:
        return []


KUBELETS: dict[str, Kubelet] = {"kind": kind_kubelet.KUBELET, "kwok": kwok_kubelet.KUBELET}


def kubelet(engine: str | None) -> Kubelet:
    """The kubelets of a cluster run by ``engine`` (``kjlab.cluster.status(context)["engine"]``)."""
    return KUBELETS.get(engine or "", _OtherKubelet())


def engine_of(context: str) -> str | None:
    """The engine that runs ``context``'s cluster: the one kjlab recorded when it made it, else the engine
    whose tool names its context so (kwok-kjlab without a record is still kwokctl's), else None
    (a classroom's cluster: its kubelets are real)."""
    recorded = (registry.entry(context) or {}).get("engine")
    if recorded in PROVIDERS:
        return recorded
    return next((e for e in names.ENGINES if context == names.context_for(e)), None)


def for_context(context: str) -> Kubelet:
    """The kubelets of ``context``'s cluster, as ``kubelet(engine_of(context))``: how code outside
    cluster/ asks what a context's nodes can do (``.real``: run a container) without naming an engine."""
    return kubelet(engine_of(context))


def image_load_hint(context: str) -> str:
    """How a person puts an image built here ("{image}") on every node of ``context``'s cluster, which
    kjlab need not have made (a classroom's): kind's own command where kind named the context."""
    if context.startswith("kind-"):  # kind writes the context kind-<cluster>
        return "kind load docker-image {image} --name <your kind cluster>"
    return "load it onto every node (kind load docker-image {image}), or build it where the nodes run"
