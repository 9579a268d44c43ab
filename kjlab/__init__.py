"""kjlab: a hands-on lab on how Kubernetes Jobs handle pod failures, on a real control plane.

Notebooks import this package; the CLI is ``kjlab`` (see ``kjlab --help``).
"""

from kjlab import check, cluster, examples, exercises, ops, quiz, scenarios, wait
from kjlab.controller import ConfigIssueController
from kjlab.errors import KjlabError
from kjlab.lab import backoff_waves, cleanup, compare, connect, kubectl, pod_indexes, pod_outcomes, run_in_background, timeline
from kjlab.scenarios import run
from kjlab.widgets import show_comparison, show_timeline

from kjlab.interrupts import install_in_ipython as _install_in_ipython

__version__ = "0.1.0"
_install_in_ipython()
__all__ = [
    "ConfigIssueController", "KjlabError", "backoff_waves", "check", "cleanup", "cluster", "exercises", "quiz", "wait", "compare", "connect", "examples", "kubectl", "ops", "pod_indexes", "pod_outcomes",
    "run", "run_in_background", "scenarios", "show_comparison", "show_timeline", "timeline", "__version__",
]
