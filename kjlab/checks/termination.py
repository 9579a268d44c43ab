"""Check of graceful termination: a worker that exits on SIGTERM (kjlab.labs.probes; kind only).

Notebook: solutions/13-exit-on-sigterm.
"""

from __future__ import annotations

import time

from kjlab.api import readers
from kjlab.cluster import provider
from kjlab.checks import Verdict, _delete_quietly, _namespace, exercise
from kjlab.errors import KjlabError
from kjlab.labs import probes


SIGTERM_WITHIN = 5       # seconds from `kubectl delete pod` to the container's exit
SIGTERM_GRACE = 15       # the check pod's terminationGracePeriodSeconds (the learner does not choose it)
SCRIPT_LIMIT = 4000      # characters: a worker script, not a program


def _needs_kind(name: str, context: str) -> Verdict | None:
    """A verdict saying the check needs real containers, on an engine that simulates the kubelet."""
    if provider.for_context(context).real:
        return None
    return Verdict(name, False, "this check needs real containers: it is not run on the kwok engine",
                   ["signals and exit codes come from a real process; the kwok engine simulates the kubelet "
                    "and runs none", "run it on kind: kjlab up --engine kind (then run this cell again)"])


@exercise("exit-on-sigterm", f"Make the worker stop with a non-zero code within {SIGTERM_WITHIN} s of `kubectl delete pod` "
          f"(its grace period is {SIGTERM_GRACE} s)", "the worker's bash script",
          notebook="13-exit-on-sigterm")
def check_exit_on_sigterm(context: str, answer) -> Verdict:
    name = "exit-on-sigterm"
    if not isinstance(answer, str) or len(answer) > SCRIPT_LIMIT:
        raise KjlabError(f"the answer should be a bash script (text, at most {SCRIPT_LIMIT} characters)",
                         "script = \"\"\"\ntrap ... TERM\n...\n\"\"\"")
    refused = _needs_kind(name, context)
    if refused:
        return refused
    namespace = _namespace(name)
    print(f"running your worker in {namespace}, deleting it once it runs (about {SIGTERM_GRACE + 10} s at most)...",
          flush=True)
    session = probes.PodSession(context, namespace, echo=False)
    try:
        session.create(probes.worker_pod("worker", answer, grace=SIGTERM_GRACE))
        session.wait(lambda r: probes.running_at(r, "worker") or r.last_pods().get("worker", {}).get(
            "status", {}).get("phase") in ("Succeeded", "Failed"), "the worker to run", timeout=60, show=())
        time.sleep(2)  # the script has started (and set its traps) before it is stopped
        ended_early = readers.terminated(session.recording.last_pods()["worker"])
        if not ended_early:
            session.delete("worker")
            session.wait(lambda r: probes.terminations(r)["terminated"].notna().all(),
                         "the worker to end", timeout=SIGTERM_GRACE + 30, show=())
        rec = session.stop()
    finally:
        session.recorder.stop()
        _delete_quietly(context, namespace)
    if ended_early:
        code = ended_early.get("exitCode")
        return Verdict(name, False, "the worker ended by itself before it was deleted",
                       [f"the container ended with exit code {code} about 2 s after it started, before kjlab deleted "
                        "the pod: the worker must keep working until it is stopped (a loop), and exit non-zero "
                        "when SIGTERM comes"], evidence={"exit_code": code})
    end = probes.terminations(rec).iloc[0]
    code, seconds = int(end["exit_code"]), float(end["seconds"])
    ok, reasons = sigterm_reasons(code, seconds, end["phase"], answer)
    return Verdict(name, ok, f"the worker stopped with exit code {code} within {SIGTERM_WITHIN} s of the delete" if ok
                   else "the worker did not stop as asked (see why below)", reasons,
                   evidence={"exit_code": code, "seconds": seconds, "phase": end["phase"]})


def sigterm_reasons(code: int, seconds: float, phase, answer: str) -> tuple[bool, list[str]]:
    """Exercise 13's verdict on a deleted worker's end: passed when it exited within SIGTERM_WITHIN s with a
    non-zero code other than 137. Exit 0 fails: a deleted pod whose containers all exit 0 ends Succeeded
    (v1.36 pkg/kubelet/kubelet_pods.go getPhase), so a Job would count the interrupted work as done."""
    reasons = [f"the container ended {seconds:.1f} s after `kubectl delete pod` with exit code {code} "
               f"(grace period {SIGTERM_GRACE} s; the pod ended {phase})"]
    traps = "trap" in answer and ("TERM" in answer or "15" in answer)
    if code == 137:
        reasons.append("it was still running when the grace period ran out, so the kubelet sent SIGKILL (128 + 9 = 137)")
        if traps:
            reasons.append("your script traps TERM, but bash runs a trap only after the command in the foreground "
                           "returns: run long commands in the background and `wait` for them (`sleep 600 & wait $!`)")
        else:
            reasons.append("bash running as PID 1 ignores SIGTERM unless it traps it: add `trap 'exit 143' TERM`")
    elif code == 0:
        reasons.append("exit code 0 makes a deleted pod Succeeded: a Job with a pod failure policy (or "
                       "podReplacementPolicy Failed) counts the interrupted work as a completion and never runs it "
                       "again, and without one it is a race with the Job controller. Exit non-zero (`exit 143`, "
                       "128 + 15, the convention for SIGTERM) so the pod ends Failed")
    elif seconds > SIGTERM_WITHIN:
        reasons.append(f"exit code {code}, but {seconds:.1f} s after the delete, more than {SIGTERM_WITHIN} s: bash runs "
                       "a trap only after the command in the foreground returns; keep foreground commands short or "
                       "`wait` for background ones")
    ok = code not in (0, 137) and seconds <= SIGTERM_WITHIN
    if ok:
        reasons.append(f"the trap ran on SIGTERM and the worker exited {code} (non-zero: the pod ends Failed, the "
                       "interrupted work is not counted as done) well inside the grace period")
    return ok, reasons
