"""The one error type a learner sees: what went wrong, and the command that fixes it."""

from __future__ import annotations

import sys
from typing import Callable


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

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: a notebook shows the same one
        # message and fix as the CLI, however deep in kjlab the error was raised.
        lines = [f"\x1b[31mkjlab: {self.message}\x1b[0m"]
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return lines


def exit_code(run: Callable[[], int], stopped: str = "kjlab: stopped") -> int:
    """Run a subcommand's body the way every `kjlab` subcommand ends: a KjlabError as one line
    (status 1), Ctrl-C as ``stopped`` (status 130), never a traceback."""
    try:
        return run()
    except KjlabError as e:
        print(f"kjlab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(stopped, file=sys.stderr)
        return 130
