"""Which node image kind would run here, decided once for `kjlab up`'s engine choice and `kjlab doctor`:
the published image when Docker has it, else the offline build when Docker has that, else whether a
pull may be followed by an offline build. (Pulling is not tried: it is slow to fail offline.)"""

from __future__ import annotations

from dataclasses import dataclass

from kjlab.cluster import kind


@dataclass
class NodeImageState:
    source: str                 # "published" | "offline" (in Docker) | "pull-or-build" | "pull-only"
    published: str              # the pinned published image, by digest
    offline: str | None = None  # the offline build's tag
    missing: str = ""           # why no offline build, for "pull-only"


def node_image_state() -> NodeImageState:
    published = kind.published_node_image()
    if kind.image_present(published):
        return NodeImageState("published", published)
    offline = kind.offline_node_image()
    possible, missing = kind.offline_build_possible()
    if offline and kind.image_present(offline):
        return NodeImageState("offline", published, offline)
    return NodeImageState("pull-or-build" if possible else "pull-only", published, offline, missing)
