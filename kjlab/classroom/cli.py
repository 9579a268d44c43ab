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
    rep.add_argument("--kubernetes", metavar="CONTEXT",
                     help="the class's hub on this Kubernetes context (kjlab class up)")
    rep.add_argument("--namespace", default="kjlab-class", help="its namespace (default kjlab-class)")
    up = clssub.add_parser("up", help="install or upgrade the class's hub on a Kubernetes cluster (helm)")
    down = clssub.add_parser("down", help="remove the class's hub from a Kubernetes cluster (volumes kept)")
    for q in (up, down):
        q.add_argument("--kubernetes", metavar="CONTEXT", required=True, help="the kubeconfig context of the cluster")
        q.add_argument("--namespace", default="kjlab-class", help="namespace of the class (default kjlab-class)")
        q.add_argument("--release", default="kjlab", help="helm release name (default kjlab)")
        q.add_argument("--i-know-this-is-production", dest="production_ok", action="store_true",
                       help="allow a context whose name looks like production")
    up.add_argument("--class-list", type=Path, help="one learner a line: `login  Display Name`")
    up.add_argument("--values", type=Path, action="append", default=[],
                    help="a values file for the chart (z2jh-like names; may repeat; wins over kjlab's)")
    down.add_argument("--delete-volumes", action="store_true",
                      help="also delete the learners' volumes and the hub's database")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return exit_code(lambda: _run(args))


def _run(args) -> int:
    # Loaded only when the command runs: `kjlab --help` and the other commands load neither.
    if args.command == "hub":
        hub = importlib.import_module("kjlab.classroom.hub")
        return hub.run(args.class_list, args.ip, args.port, args.state or hub.DEFAULT_STATE)
    if args.class_command == "up":
        importlib.import_module("kjlab.classroom.kube").up(
            args.kubernetes, args.class_list, args.namespace, args.release, tuple(args.values), args.production_ok)
        return 0
    if args.class_command == "down":
        importlib.import_module("kjlab.classroom.kube").down(
            args.kubernetes, args.namespace, args.release, args.delete_volumes, args.production_ok)
        return 0
    return importlib.import_module("kjlab.classroom.report").main(args)
