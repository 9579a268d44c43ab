"""The lab cluster's names, shared by every engine (and nothing else, so any module can import it)."""

ENGINES = ("kind", "kwok")
CLUSTER_NAME = "kjlab"


def context_for(engine: str) -> str:
    """The kubeconfig context each engine's tool writes: kind-kjlab or kwok-kjlab."""
    return f"{engine}-{CLUSTER_NAME}"
