"""The ``kjlab`` command: up | down | status | doctor | kubectl | lab."""

from __future__ import annotations

import argparse
import json
import os
import sys

from kjlab.errors import KjlabError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kjlab", description="A hands-on lab on Kubernetes Job failure handling.")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="create the lab cluster (or report the running one)")
    up.add_argument("--engine", default="auto", help="auto (kind with Docker, else kwok), kind or kwok")
    up.add_argument("--workers", type=int, default=2, help="worker nodes (default 2)")
    up.add_argument("--time-scale", type=float, default=1.0,
                    help="kwok only: multiply simulated sleeps and grace periods (0.1 = ten times faster)")

    down = sub.add_parser("down", help="remove the lab cluster completely")
    down.add_argument("--engine", choices=["kind", "kwok"], help="only this engine's cluster")

    st = sub.add_parser("status", help="engine, context, server version, nodes")
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.add_argument("--context", help="a kubeconfig context (default: the lab cluster)")

    sub.add_parser("doctor", help="what is present and missing, with the fix for each")

    kc = sub.add_parser("kubectl", help="run kubectl (built at the cluster's version) against the lab context",
                        add_help=False)
    kc.add_argument("args", nargs=argparse.REMAINDER)

    lab = sub.add_parser("lab", help="start the cluster and open JupyterLab on labs/")
    lab.add_argument("--engine", default="auto")
    lab.add_argument("--no-browser", action="store_true")
    return p


def _print_status(info: dict) -> None:
    print(f"engine:   {info['engine']}")
    print(f"context:  {info['context']}")
    if not info["running"]:
        print(f"server:   not answering ({info.get('error', 'unknown error')})")
        return
    print(f"server:   {info['server_version']}")
    if info.get("memory_mib") is not None:
        print(f"memory:   {info['memory_mib']} MiB (control plane + kwok)")
    print("nodes:")
    for n in info["nodes"]:
        state = "Ready" if n["ready"] else "NotReady"
        if not n["schedulable"]:
            state += ",SchedulingDisabled"
        print(f"  {n['name']:<24} {state:<28} {n['role']:<14} {n['version']}")


def kubectl_argv(args: list[str], context: str, kubectl: str, kubeconfig: str) -> list[str]:
    """kubectl's argv: the lab context and kubeconfig unless the learner names their own."""
    argv = [kubectl]
    if not any(a == "--kubeconfig" or a.startswith("--kubeconfig=") for a in args):
        argv += ["--kubeconfig", kubeconfig]
    if not any(a == "--context" or a.startswith("--context=") for a in args):
        argv += ["--context", context]
    return argv + args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kubectl"]:
        # Everything after `kubectl` is kubectl's, flags first included (`kjlab kubectl -n x get pods`).
        args = argparse.Namespace(command="kubectl", args=argv[1:])
    else:
        args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KjlabError as e:
        print(f"kjlab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kjlab: interrupted", file=sys.stderr)
        return 130


def _dispatch(args) -> int:
    from kjlab import cluster

    if args.command == "up":
        info = cluster.up(engine=args.engine, workers=args.workers, time_scale=args.time_scale)
        _print_status(info)
        return 0
    if args.command == "down":
        cluster.down(engine=args.engine)
        return 0
    if args.command == "status":
        info = cluster.status(args.context)
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            _print_status(info)
        return 0 if info["running"] else 1
    if args.command == "doctor":
        from kjlab.cluster import doctor

        checks = doctor.run_checks()
        print(doctor.format_checks(checks))
        return 0 if all(c.ok for c in checks if c.required) else 1
    if args.command == "kubectl":
        from kjlab.cluster import tools
        from kjlab.paths import kubeconfig_path

        argv = kubectl_argv(args.args, cluster.lab_context(), str(tools.kubectl_path()), str(kubeconfig_path()))
        os.execv(argv[0], argv)
    if args.command == "lab":
        from kjlab.paths import REPO_DIR

        cluster.up(engine=args.engine)
        argv = [sys.executable, "-m", "jupyter", "lab", str(REPO_DIR / "labs")]
        if args.no_browser:
            argv.append("--no-browser")
        os.execv(argv[0], argv)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
