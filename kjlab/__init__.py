"""kjlab: a hands-on lab on how Kubernetes Jobs handle pod failures, on a real control plane.

Notebooks import this package; the CLI is ``kjlab`` (see ``kjlab --help``).
"""

from kjlab.errors import KjlabError

__version__ = "0.1.0"
__all__ = ["KjlabError", "__version__"]
