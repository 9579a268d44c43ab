"""`kjlab hub ...` and `kjlab class report ...` (dispatched from kjlab.cli)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from kjlab.errors import exit_code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kjlab")
    sub = p.add_subparsers(dest="command", required=True)
    hub = sub.add_parser("hub", help="run the classroom JupyterHub (root): one private cluster per learner")
    hub.add_argument("--class-list", required=True, type=Path, help="one learner a line: `login  Display Name`")
    hub.add_argument("--ip", default="127.0.0.1", help="address the hub listens on (default 127.0.0.1)")
    hub.add_argument("--port", type=int, default=8000)
    hub.add_argument("--state", type=Path, help="the hub's state directory (default /var/lib/kjlab-hub)")
    cls = sub.add_parser("class", help="the instructor's view of a class")
    clssub = cls.add_subparsers(dest="class_command", required=True)
    rep = clssub.add_parser("report", help="learner x exercise table, progress chart, common wrong answers")
    rep.add_argument("--state", type=Path, help="the hub's state directory (default /var/lib/kjlab-hub)")
    rep.add_argument("--results", type=Path, help="a results directory (one subdirectory per learner) instead")
    rep.add_argument("--html", type=Path, help="also write the report as an HTML page with the chart")
    rep.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return exit_code(lambda: _run(args))


def _run(args) -> int:
    # Loaded only when the command runs: `kjlab --help` and the other commands load neither.
    if args.command == "hub":
        hub = importlib.import_module("kjlab.classroom.hub")
        return hub.run(args.class_list, args.ip, args.port, args.state or hub.DEFAULT_STATE)
    return importlib.import_module("kjlab.classroom.report").main(args)
