"""The one error type a learner sees: what went wrong, and the command that fixes it."""

from __future__ import annotations


class KjlabError(Exception):
    """An error a learner can cause or fix, shown as one message without a traceback.

    ``fix`` is the command (or action) that resolves it; the CLI and notebooks print both.
    """

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message
