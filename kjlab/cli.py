"""The ``kjlab`` command: parse the arguments and dispatch to kjlab.commands.

Only this module and kjlab.errors load for `kjlab --help` or a bad flag; a command imports what
it needs (the kubernetes client, pandas, Jupyter) when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys

from kjlab import interrupts
from kjlab.errors import KjlabError


def _seconds(text: str) -> float:
    """A time limit: a number of seconds above zero (0 or -5 would be ignored, or never end)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a time limit: give a number of seconds above 0, e.g. 600")
    return value


def _namespace(text: str) -> str:
    """A namespace name given on the command line: never empty (it would mean `default`)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name: give the namespace's name, e.g. --namespace my-run")
    return text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kjlab", description="A hands-on lab on Kubernetes Job failure handling.")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="create the lab cluster (or report the running one)")
    up.add_argument("--engine", default="auto", help="auto (kind with Docker, else kwok), kind or kwok")
    up.add_argument("--workers", type=int, default=2, help="worker nodes (default 2)")
    up.add_argument("--time-scale", type=float, default=1.0,
                    help="kwok only: multiply simulated sleeps and grace periods (0.1 = ten times faster)")
    up.add_argument("--strict", action=argparse.BooleanOptionalAction, default=True,
                    help="kwok only (default on): a container whose command the simulated kubelet cannot run "
                         "waits with reason NotSimulated; --no-strict runs it as guessed, with a warning")

    down = sub.add_parser("down", help="remove the lab cluster completely")
    down.add_argument("--engine", choices=["kind", "kwok"], help="only this engine's cluster")
    down.add_argument("--purge", action="store_true",
                      help="kind: also remove the images kjlab added to Docker (node image, lab images); "
                           "by default they stay for the next up")

    st = sub.add_parser("status", help="engine, context, server version, nodes")
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.add_argument("--context", help="a kubeconfig context (default: the lab cluster)")

    sub.add_parser("doctor", help="what is present and missing, with the fix for each")

    kc = sub.add_parser("kubectl", help="run kubectl (built at the cluster's version) against the lab context",
                        add_help=False)
    kc.add_argument("args", nargs=argparse.REMAINDER)

    sc = sub.add_parser("scenario", help="run a documented example (or your own Job) and report the outcome")
    scsub = sc.add_subparsers(dest="scenario_command", required=True)
    scsub.add_parser("list", help="the documented examples")
    run = scsub.add_parser("run", help="run NAME, or --manifest FILE")
    run.add_argument("name", nargs="?", help="failjob, ignore, config-issue or failindex")
    run.add_argument("--manifest", help="a Job manifest of your own instead of a documented example")
    run.add_argument("--no-policy", action="store_true", help="the same Job minus its podFailurePolicy")
    run.add_argument("--fast", action="store_true", help="shorter sleeps in the script (nothing else changes)")
    run.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    run.add_argument("--keep", action="store_true", help="keep the namespace for `kjlab kubectl` afterwards")
    run.add_argument("--namespace", type=_namespace, help="namespace for the run (default: NAME-policy / NAME-nopolicy)")
    run.add_argument("--context", help="kubeconfig context (default: the lab cluster)")
    run.add_argument("--drain-when-running", action="store_true",
                     help="drain the node of the first running pod (like the ignore example)")
    run.add_argument("--patch-condition", metavar="TYPE",
                     help="add condition TYPE=True to the first pod stuck in ImagePullBackOff")
    run.add_argument("--then-delete", action="store_true", help="with --patch-condition: then delete that pod")
    run.add_argument("--timeout", type=_seconds, default=1200, help="give up after this many seconds (default 1200)")

    ctl = sub.add_parser("controller", help="run the config-issue controller until Ctrl-C")
    ctl.add_argument("kind", choices=["config-issue"])
    ctl.add_argument("--namespace", type=_namespace, required=True)
    ctl.add_argument("--context")

    ex = sub.add_parser("exercises", help="generate exercises/ from solutions/")
    exsub = ex.add_subparsers(dest="exercises_command", required=True)
    build = exsub.add_parser("build", help="write exercises/ (a changed exercise notebook is backed up first)")
    build.add_argument("--check", action="store_true", help="write nothing; exit 1 when exercises/ is out of date")

    chk = sub.add_parser("check", help="check an answer on the lab cluster and explain the verdict (exit 0 = pass)")
    chk.add_argument("exercise", nargs="?", help="exercise name (see --list)")
    chk.add_argument("--answer", "--manifest", dest="answer",
                     help="YAML file (policy, manifest or prediction), or a .py file defining mark_and_delete")
    chk.add_argument("--list", action="store_true", help="list the exercises")
    chk.add_argument("--untrusted", action="store_true",
                     help="the .py answer is someone else's: run it anyway (root only; it runs as a uid of its own)")
    chk.add_argument("--context")

    lab = sub.add_parser("lab", help="start the cluster and open JupyterLab on the repo (labs/, exercises/, solutions/)")
    lab.add_argument("--engine", default="auto")
    lab.add_argument("--no-browser", action="store_true")
    # Listed here for --help; main() hands their arguments to kjlab.classroom.cli, which parses them.
    sub.add_parser("hub", help="run the classroom JupyterHub (root): one private cluster per learner", add_help=False)
    sub.add_parser("class", help="the instructor's view: kjlab class report", add_help=False)
    sub.add_parser("practice", help="hands-on tasks: you type kubectl, kjlab checks the cluster and explains",
                   add_help=False)
    sub.add_parser("exam", help="a timed exam of practice tasks, graded all at once", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    from_console = argv is None  # the `kjlab` command itself, not a caller in the same process
    argv = sys.argv[1:] if argv is None else argv
    if not isinstance(sys.stdout, _PipeSafe):
        sys.stdout = _PipeSafe(sys.stdout)
    if argv[:1] in (["hub"], ["class"]):  # issue 14: the classroom commands live in kjlab.classroom
        return importlib.import_module("kjlab.classroom.cli").main(argv)
    if argv[:1] == ["practice"]:  # issue 24: the practice commands live in kjlab.practice
        return importlib.import_module("kjlab.practice.cli").main(argv[1:])
    if argv[:1] == ["exam"]:  # issue 24: the timed exam lives in kjlab.exam
        return importlib.import_module("kjlab.exam.cli").main(argv[1:])
    if argv[:1] == ["kubectl"]:
        # Everything after `kubectl` is kubectl's, flags first included (`kjlab kubectl -n x get pods`).
        args = argparse.Namespace(command="kubectl", args=argv[1:])
    else:
        args = _parser().parse_args(argv)
    # SIGTERM (a closed terminal, `kill`, a CI timeout) unwinds like Ctrl-C, so the same clean-up
    # runs: a drain's cordon is undone, a run's namespace deleted.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # kjlab.commands imports the cluster code and the kubernetes client: only once a command runs.
        commands = importlib.import_module("kjlab.commands")
        code = commands.dispatch(args)
        if from_console and args.command == "up":
            _leave_now(code)
        return code
    except KjlabError as e:
        print(f"kjlab: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(interrupts.message(), file=sys.stderr)
        return 130
    except Exception as e:  # the API's or the connection's own errors: one line, not a traceback
        line = _api_error_line(e)
        if line is None:
            raise
        print(f"kjlab: {line}", file=sys.stderr)
        return 1


def _leave_now(code: int) -> None:
    """End the process without the interpreter's teardown. After `kjlab up` (the kubernetes
    client loaded, ~100,000 objects) the teardown took 0.37 s, median of 5 at load 6-13 (0.14-1.44 s;
    bench/up_profile.py, "status printed" to "command exited"), after the prompt was printed. What
    it would still run by then: logging's flush (done here), closing urllib3's pooled sockets and
    certifi's and multiprocessing's exit functions (no pools, no temporary files), which the
    kernel's own clean-up of an ending process covers; the log endpoint lives in its own session."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class _PipeSafe:
    """stdout that a reader going away (`kjlab up | head`) cannot break: once the pipe is closed,
    the rest of the output goes nowhere and the command carries on -- an `up` half-way must not
    stop (and clean up its cluster) because nobody reads its progress any more."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def _drop(self) -> None:
        # later writes, and the interpreter's own flush at exit, go to /dev/null without an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def _api_error_line(e: Exception) -> str | None:
    """One line for an error from the API server or the connection to it; None for anything else."""
    module = type(e).__module__
    # The client raises ApiException's subclasses too (ForbiddenException, NotFoundException, ...);
    # it is loaded already when it raised one, so this looks it up without importing it.
    exceptions = sys.modules.get("kubernetes.client.exceptions")
    if exceptions is not None and isinstance(e, exceptions.ApiException):
        return f"the API server said: {importlib.import_module('kjlab.actions.ops').api_message(e)}"
    if module.startswith("urllib3") or (isinstance(e, ConnectionError) and not isinstance(e, BrokenPipeError)):
        return (f"the lab cluster's API server does not answer ({type(e).__name__}); "
                "see `kjlab status`, and `kjlab up` to start or repair it")
    return None


if __name__ == "__main__":
    sys.exit(main())
