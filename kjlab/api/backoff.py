"""The Job controller's back-off before it creates a pod again after failures, as v1.36 has it:
10 s x 2^(n-1), n = the failures since the last success, at most 10 minutes
(DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff in pkg/controller/job/job_controller.go,
applied in backoff_utils.go; the docs still say 6 minutes)."""

from __future__ import annotations

BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 600


def formula_seconds(failures: int) -> int:
    """10 s x 2^(n-1) without the cap (0 for no failure)."""
    return BACKOFF_BASE_SECONDS * 2 ** (failures - 1) if failures > 0 else 0


def seconds(failures: int) -> int:
    """The back-off after ``failures`` failures since the last success, capped."""
    return min(formula_seconds(min(failures, 32)), BACKOFF_CAP_SECONDS)
