"""The few calls a notebook makes: connect to the lab cluster, compare runs, clean up."""

from __future__ import annotations

import threading

from kjlab import kube, readers
from kjlab.errors import KjlabError


def connect(context: str | None = None, engine: str = "auto") -> str:
    """The context to use: ``context`` as given, else the running lab cluster, else a new one.

    Prints one line about the cluster, so the learner sees where the lab runs.
    """
    from kjlab import cluster

    if context is None:
        try:
            context = cluster.lab_context()
        except KjlabError:
            context = None
        if context is None or not cluster._reachable(context):
            context = cluster.up(engine=engine)["context"]
    info = cluster.status(context)
    if not info["running"]:
        raise KjlabError(f"the cluster behind context '{context}' does not answer ({info.get('error')})",
                         "kjlab up (or check the context name)")
    workers = [n["name"] for n in info["nodes"] if n["role"] == "worker"]
    print(f"cluster: {context} ({info['engine']} engine), Kubernetes {info['server_version']}, "
          f"workers: {', '.join(workers)}")
    return context


def compare(*runs):
    """Runs side by side: one row per run (outcome, reason, failed, succeeded, duration, pods)."""
    import pandas as pd

    rows = []
    for r in runs:
        # A run kjlab stopped while the Job still retried has no reason and no end: say so in
        # words rather than leave NaN/None in the table.
        rows.append({
            "run": f"{r.scenario} {'with' if r.policy else 'without'} policy",
            "outcome": r.outcome if r.outcome != "Running" else "still Running (kjlab stopped watching)",
            "reason": r.reason or "-", "failed": r.failed, "succeeded": r.succeeded,
            "duration": f"{r.duration_s:.0f} s" if r.duration_s is not None else "not finished",
            "pods created": r.extras.get("pods_created"),
        })
    return pd.DataFrame(rows).set_index("run")


BACKOFF_BASE_SECONDS = 10   # the Job controller's pod re-creation back-off: 10 s x 2^(n-1) ...
BACKOFF_CAP_SECONDS = 600   # ... capped at 10 min in v1.36 (the docs still say 6 min)


def backoff_waves(result, same_wave_seconds: float = 3.0):
    """The failure waves of a run, from its recorded timeline: when pods failed, how many at once,
    the failures counted so far (n), the back-off the Job controller then applies (10 s x 2^(n-1),
    n = failures since the last success, at most 10 min) and the measured gap to the next wave (the back-off plus
    the time the next pods need to run and fail). Pods failing within ``same_wave_seconds`` of each
    other are one wave: with ``parallelism: 2`` two pods fail together, so n grows by 2 a wave."""
    import pandas as pd

    frame = result.timeline
    fails = frame[(frame["kind"] == "pod") & (frame["phase"] == "Failed")].drop_duplicates("name")
    waves: list[list] = []
    for t in sorted(fails["t"]):
        if waves and t - waves[-1][0] < same_wave_seconds:
            waves[-1][1] += 1
        else:
            waves.append([t, 1])
    rows, n = [], 0
    for i, (t, count) in enumerate(waves):
        n += count
        rows.append({"wave at (s)": round(t), "pods failed": count, "failures so far (n)": n,
                     "back-off (s)": min(BACKOFF_BASE_SECONDS * 2 ** (n - 1), BACKOFF_CAP_SECONDS),
                     "gap to next wave (s)": round(waves[i + 1][0] - t) if i + 1 < len(waves) else None})
    return pd.DataFrame(rows)


def timeline(result, kinds=("pod", "job", "step")):
    """The recorded timeline, trimmed to what a learner reads first."""
    frame = result.timeline
    frame = frame[frame["kind"].isin(kinds)]
    columns = ["t", "kind", "name", "event", "status", "phase", "container", "exit_code", "conditions", "failed",
               "succeeded", "action", "detail"]
    return frame[columns].fillna("").reset_index(drop=True)


def pod_outcomes(result):
    """Each pod's last recorded state: phase, exit code, reason, and the conditions that matter."""
    frame = result.timeline
    pods = frame[frame["kind"] == "pod"].groupby("name").last()
    pods["DisruptionTarget"] = pods["conditions"].fillna("").str.contains("DisruptionTarget=True")
    pods["ConfigIssue"] = pods["conditions"].fillna("").str.contains("ConfigIssue=True")
    return pods[["node", "phase", "container", "exit_code", "DisruptionTarget", "ConfigIssue"]]


class Background:
    """A scenario running in a thread, so a notebook can go on while a long run (minutes) proceeds.

    Nothing is printed from the thread (output would land in whichever cell runs then).
    """

    def __init__(self, dashboard: bool = False, **kwargs):
        from kjlab import scenarios

        self.kwargs = kwargs
        self._result = None
        self._error: BaseException | None = None
        board = self._dashboard() if dashboard else None

        def work():
            try:
                self._result = scenarios.run(echo=False, on_start=board.attach if board else None, **kwargs)
            except BaseException as e:  # re-raised in result()
                self._error = e
            finally:
                if board:
                    board.finish()

        self._thread = threading.Thread(target=work, name="kjlab-background-run", daemon=True)
        self._thread.start()

    def _dashboard(self):
        """A live dashboard shown in the cell that started the run (widgets update from the run's
        thread through their traits; nothing is printed there)."""
        from IPython.display import display

        from kjlab import examples
        from kjlab.widgets import JobDashboard

        scenario, policy = self.kwargs.get("scenario"), self.kwargs.get("policy", True)
        job_name = examples.render(scenario)["metadata"]["name"] if scenario else None
        board = JobDashboard(title=f"{job_name} · {scenario} {'with' if policy else 'without'} the policy "
                                   "(running in the background)", job_name=job_name)
        display(board)
        return board

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float | None = None):
        """Wait for the run (printing a line per minute) and return its RunResult."""
        import time

        started = time.monotonic()
        while self._thread.is_alive():
            self._thread.join(60 if timeout is None else min(60, max(0.1, timeout - (time.monotonic() - started))))
            if timeout is not None and time.monotonic() - started >= timeout and self._thread.is_alive():
                raise KjlabError(f"the background run was still going after {timeout:.0f}s", "wait longer: .result()")
            if self._thread.is_alive():
                print(f"still running ({(time.monotonic() - started) / 60:.0f} min so far)...", flush=True)
        if self._error:
            raise self._error
        return self._result

    def __repr__(self) -> str:
        return f"<Background {self.kwargs.get('scenario')} {'done' if self.done else 'running'}>"


def run_in_background(scenario: str, **kwargs) -> Background:
    return Background(scenario=scenario, **kwargs)


def cleanup(context: str, prefix: str) -> list[str]:
    """Delete the namespaces a lab made (``<prefix>-...``) and wait until their pods have left the
    nodes, so the next lab's drain finds them empty; returns the names."""
    from kjlab import namespaces

    gone = []
    selector = f"app.kubernetes.io/managed-by=kjlab,{namespaces.RUN_LABEL}"
    for ns in kube.raw(kube.core(context).list_namespace, label_selector=selector)["items"]:
        name = readers.name(ns)
        if name == prefix or name.startswith(prefix + "-"):
            namespaces.delete_and_clear(context, name)
            gone.append(name)
    print(f"deleted namespaces: {', '.join(gone) or 'none'}")
    return gone


def kubectl(*args: str, context: str | None = None) -> int:
    """Run kubectl (the cluster's version) on the lab context and print what it prints."""
    import subprocess

    from kjlab.cluster import kubectl as kubectl_command
    from kjlab.cluster import lab_context, tools

    argv = kubectl_command.argv(list(args), context or lab_context(), str(tools.kubectl_path()))
    proc = subprocess.run(argv, capture_output=True, text=True, env=kubectl_command.environment())
    print(f"$ kubectl {' '.join(args)}")
    print((proc.stdout + proc.stderr).rstrip())
    return proc.returncode


def pod_indexes(result):
    """Indexed Jobs: each pod's completion index (its batch.kubernetes.io/job-completion-index
    annotation, also the container's JOB_COMPLETION_INDEX), with its last phase and exit code."""
    import pandas as pd

    last = {}
    for row in result.rows:
        if row["kind"] == "pod" and row.get("object"):
            last[row["name"]] = row
    rows = []
    for name, row in last.items():
        annotations = row["object"]["metadata"].get("annotations") or {}
        rows.append({"pod": name, "index": annotations.get("batch.kubernetes.io/job-completion-index"),
                     "phase": row["phase"], "exit_code": row["exit_code"]})
    return pd.DataFrame(rows).set_index("pod").sort_values(["index", "pod"])
