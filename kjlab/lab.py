"""The notebook surface: a ``Lab`` session, so each step of a lab is a line or two.

    lab = kjlab.Lab(CONTEXT, NAMESPACE, fast=FAST)   # connects (starts the lab cluster if needed)
    policy = lab.run("failjob")                      # its own namespace, a live dashboard, kept for kubectl
    nopolicy = lab.run("failjob", policy=False)
    kjlab.show_comparison(policy, nopolicy)
    lab.cleanup()

Everything here is a thin layer over the package (scenarios, ops, wait, check, widgets): the
session only remembers the context, the namespace prefix and the FAST setting, and shows the
dashboard a notebook wants.
"""

from __future__ import annotations

import ctypes
import threading
import time
import types

from IPython.display import display

from kjlab import checks as check, cluster, examples, interrupts, labs, manifests, oom
from kjlab.actions import namespaces, ops
from kjlab.view import progress, tables
from kjlab.runs import scenarios
from kjlab.api import wait, watch
from kjlab.cluster import kubectl as kubectl_command
from kjlab.view.dashboard_model import DashboardModel
from kjlab.errors import KjlabError
from kjlab.paths import state_dir
from kjlab.runs.result import RunResult
from kjlab.widgets import JobDashboard


def connect(context: str | None = None, engine: str = "auto") -> str:
    """The context to use: ``context`` as given, else the running lab cluster, else a new one.

    Prints one line about the cluster, so the learner sees where the lab runs, and before it, once,
    a line when memory ran out since the last look, or when the learner's classroom server was started
    again and why (kjlab.oom: why a kernel died in a classroom pod).
    """
    for said in (oom.since_last_look(state_dir() / "oom-kills.json"),
                 oom.restarts_since_last_look(state_dir() / "server-restarts.json")):
        if said:
            print(said)
    if context is None:
        try:
            context = cluster.lab_context()
        except KjlabError:
            context = None
        if context is None or not cluster.reachable(context):
            context = cluster.up(engine=engine)["context"]
    info = cluster.status(context)
    if not info["running"]:
        raise KjlabError(f"the cluster behind context '{context}' does not answer ({info.get('error')})",
                         "kjlab up (or check the context name)")
    workers = [n["name"] for n in info["nodes"] if n["role"] == "worker"]
    print(f"cluster: {context} ({info['engine']} engine), Kubernetes {info['server_version']}, "
          f"workers: {', '.join(workers)}")
    return context


def cleanup(context: str, prefix: str) -> list[str]:
    """Delete the namespaces a lab made (``<prefix>`` and ``<prefix>-...``) and wait until their
    pods have left the nodes, so the next lab's drain finds them empty; returns the names."""
    gone = [name for name in namespaces.managed(context) if name == prefix or name.startswith(prefix + "-")]
    for name in gone:
        namespaces.delete_and_clear(context, name)
    for undo in labs.CLEANUPS:  # what the labs change besides namespaces (node labels, a NotReady node)
        undo(context, prefix)
    print(f"deleted namespaces: {', '.join(gone) or 'none'}")
    return gone


def kubectl(*args: str, context: str | None = None) -> int:
    """Run kubectl (the cluster's version) on the lab context and print what it prints."""
    code, output = kubectl_command.run(list(args), context or cluster.lab_context())
    print(f"$ kubectl {' '.join(args)}")
    print(output)
    return code


def _dashboard(scenario: str | None, policy: bool, manifest=None, note: str = "") -> JobDashboard:
    """A live dashboard shown in the current cell (it updates from the run's thread through its
    traits; nothing is printed there)."""
    doc = manifests.load(manifest) if manifest is not None else examples.render(scenario) if scenario else None
    job_name = doc["metadata"]["name"] if doc else None
    has_policy = bool(doc and doc["spec"].get("podFailurePolicy"))
    label = (f"{scenario or 'manifest'} {'with' if policy else 'without'} the policy" if has_policy or not policy
             else scenario or "manifest")
    board = JobDashboard(title=f"{job_name} · {label}{note}", job_name=job_name)
    display(board)
    return board


# A background run's dashboard title says it runs in the background while it does, and how it
# ended once it has (the snapshot left in the notebook is read after the run).
RUNNING_NOTE = " (running in the background)"


def ended_note(error: BaseException | None) -> str:
    """The title note a background run's dashboard keeps once its thread has ended."""
    if error is None:
        return " (ran in the background, finished)"
    if isinstance(error, interrupts.Stopped):
        return " (ran in the background, stopped before it finished)"
    return " (ran in the background, ended with an error)"


# How often a wait on a background run redraws its line (the time and what it waits for move on).
POLL_SECONDS = 5
# How long a newer run waits for a background run it replaces to stop (it is told to stop at once:
# its watches end within watch.STOP_POLL_SECONDS, its recorder within about as long again).
STOP_SECONDS = 30


def _in_kernel() -> bool:
    """In a notebook kernel a display can be updated in place (one line that keeps moving)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class _Line:
    """One status line: redrawn in place in a notebook, printed once per change elsewhere."""

    def __init__(self):
        self._handle = None
        self._last = ""

    def show(self, text: str, changed_part: str) -> None:
        if _in_kernel():
            from IPython.display import DisplayHandle, Pretty

            if self._handle is None:
                self._handle = DisplayHandle()
                self._handle.display(Pretty(text))
            else:
                self._handle.update(Pretty(text))
        elif changed_part != self._last:
            print(text, flush=True)
        self._last = changed_part


class Background:
    """A run going on in a thread, so a notebook can go on while a long run (minutes) proceeds.

    Nothing is printed from the thread (output would land in whichever cell runs then); its
    dashboard, if any, updates in the cell that started it. An interrupted cell leaves it going
    (the interrupt line says so); a newer run in the same namespace stops it and takes over.
    """

    def __init__(self, dashboard: bool = False, **kwargs):
        self.kwargs = kwargs
        self.namespace = kwargs.get("namespace")
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._ended = threading.Event()  # set as the run's thread ends: waited on instead of join (see _wait)
        self._recorder = None
        board = _dashboard(kwargs.get("scenario"), kwargs.get("policy", True), kwargs.get("manifest"),
                           RUNNING_NOTE) if dashboard else None
        self.model = DashboardModel()  # what result() prints while it waits

        def started(recorder):
            self._recorder = recorder
            recorder.subscribe(self.model.feed)
            if board:
                board.attach(recorder)

        def work():
            watch.stop_this_thread_with(self._stop)
            try:
                self._result = scenarios.run(echo=False, on_start=started, **kwargs)
            except BaseException as e:  # re-raised in result()
                self._error = e
            finally:
                try:
                    namespaces.stoppable(threading.current_thread(), None)
                    if self.namespace:  # a stop can land before scenarios.run's own release
                        namespaces.release(self.namespace)
                    if board:
                        board.finish(title=board.title.removesuffix(RUNNING_NOTE) + ended_note(self._error))
                finally:
                    self._ended.set()

        self._thread = threading.Thread(target=work, name="kjlab-background-run", daemon=True)
        namespaces.stoppable(self._thread, self.stop)
        interrupts.background(self._thread, f"the background run of {kwargs.get('scenario')} in namespace "
                                            f"{self.namespace} (its Job goes on; running its cell again stops "
                                            "it and starts afresh; lab.cleanup() deletes it)")
        self._thread.start()
        if self.namespace:  # in cell order, before the thread's own hold (see namespaces.claim_for)
            namespaces.claim_for(self._thread, self.namespace)

    @property
    def done(self) -> bool:
        return self._ended.is_set() or not self._thread.is_alive()

    def _wait(self, timeout: float) -> None:
        """Wait until the run's thread has ended, ``timeout`` s at most. Not ``Thread.join``: a Ctrl-C
        (KeyboardInterrupt) inside ``join(timeout)`` makes Python 3.10-3.12 mark the thread as stopped
        while it runs on (threading.py's ``_wait_for_tstate_lock``: its bpo-45274 handler releases the
        running thread's lock). Then ``is_alive()`` lies: the interrupt line said "nothing of kjlab's was
        left running" and the cell run again took the namespace over without stopping the run."""
        deadline = time.monotonic() + timeout
        while not self.done:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._ended.wait(min(left, 1.0))  # 1 s: a thread that ended without setting it is seen too

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """End the run's thread (its Job stays in its namespace): its watches end at once and
        :class:`interrupts.Stopped` is raised in it; waits until it has ended (``timeout`` at most)."""
        self._stop.set()
        ident = self._thread.ident
        if not self._ended.is_set() and self._thread.is_alive() and ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(interrupts.Stopped))
        self._wait(timeout)

    def elapsed(self) -> float | None:
        """Seconds on the run's own clock (the recording's: the one its tables use)."""
        return self._recorder.elapsed() if self._recorder is not None else None

    def status_line(self) -> str:
        """The Job's counters and what the run waits for now, at the time on the run's clock."""
        now = self.elapsed()
        line = progress.describe(self.model)
        waiting = progress.waiting_for(self.model, now) if now is not None else "starting"
        stamp = f"[{now:4.0f} s] " if now is not None else ""
        return f"{stamp}{line}" + (f"\n{' ' * len(stamp)}{waiting}" if waiting else "")

    def result(self, timeout: float | None = None) -> RunResult:
        """Wait for the run and return its RunResult; meanwhile one line here says the Job's counters
        and what the run waits for, on the run's clock (its dashboard may be far up the notebook)."""
        started = time.monotonic()
        line = _Line()
        while not self.done:
            self._wait(POLL_SECONDS)
            if timeout is not None and time.monotonic() - started >= timeout and not self.done:
                raise KjlabError(f"the background run was still going after {timeout:.0f}s",
                                 "wait longer: .result()")
            if not self.done:
                line.show(self.status_line(), progress.describe(self.model) + progress.waiting_for(
                    self.model, float("inf")))
        if isinstance(self._error, interrupts.Stopped):
            raise KjlabError(f"this background run in namespace {self.namespace} was stopped: a newer run took "
                             "its namespace over", "use the newer run's result (run its cell again for a fresh one)")
        if self._error:
            raise self._error
        if self._result is not None and line._handle is not None:
            line.show(f"[{self._result.duration_s or 0:4.0f} s] {self._result.headline()}", "")
        return self._result

    def __repr__(self) -> str:
        return f"<Background {self.kwargs.get('scenario')} {'done' if self.done else 'running'}>"


class Lab:
    """One notebook's session with the lab cluster.

    ``context``: None for the lab cluster (started if needed), or a kubeconfig context.
    ``namespace``: the prefix of every namespace the notebook uses (``<prefix>-policy``,
    ``<prefix>-nopolicy``, ``<prefix>-<name>``), so ``cleanup()`` removes exactly what it made.
    ``fast``: shorter sleeps in the examples' scripts (nothing else changes).
    ``dashboard``: show a live dashboard for every run (left as a snapshot when it ends).
    """

    def __init__(self, context: str | None = None, namespace: str = "lab", fast: bool = False,
                 engine: str = "auto", dashboard: bool = True):
        namespaces.check_name(namespace)
        tables.show_in_full()  # a lab's tables are read cell by cell: none cut at 50 characters
        self.context = connect(context, engine)
        # kind (a real kubelet) or kwok (simulated): steps that need real containers (logs) check it
        self.engine = cluster.status(self.context).get("engine")
        self.prefix = namespace
        self.fast = fast
        self.dashboard = dashboard

    def __repr__(self) -> str:
        return f"<Lab {self.context} namespaces {self.prefix}-*{' fast' if self.fast else ''}>"

    def namespace(self, name: str | None = None) -> str:
        """``<prefix>-<name>`` (or the prefix itself), freshly created: an earlier run's namespace of
        that name is deleted first, so a cell can run again; one kjlab did not make is refused."""
        return scenarios.fresh_namespace(self.context, f"{self.prefix}-{name}" if name else self.prefix)

    def _run_namespace(self, policy: bool, namespace: str | None) -> str:
        return namespace or f"{self.prefix}-{'policy' if policy else 'nopolicy'}"

    def run(self, scenario: str | None = None, policy: bool = True, namespace: str | None = None,
            **options) -> RunResult:
        """Run a documented example (or ``manifest=``) in ``<prefix>-policy`` / ``<prefix>-nopolicy``
        and return its RunResult; the namespace is kept for `kubectl` until ``cleanup()``.
        ``options`` go to kjlab.scenarios.run (drain_when_running, patch_condition, timeout ...)."""
        board = _dashboard(scenario, policy, options.get("manifest")) if self.dashboard else None
        try:
            return scenarios.run(scenario, policy=policy, fast=self.fast, context=self.context,
                                 namespace=self._run_namespace(policy, namespace), keep=True,
                                 on_start=board.attach if board else None, **options)
        finally:
            if board:
                board.finish()

    def start(self, scenario: str, policy: bool = True, namespace: str | None = None, **options) -> Background:
        """Like ``run``, in the background: returns at once; ``.result()`` waits for the RunResult."""
        return Background(dashboard=self.dashboard, scenario=scenario, policy=policy, fast=self.fast,
                          context=self.context, namespace=self._run_namespace(policy, namespace), keep=True,
                          **options)

    # -- single steps, for labs that build a run by hand --
    def apply(self, manifest, namespace: str) -> dict:
        """Create a Job or Pod (YAML text, a dict or a file), like `kubectl create -f`."""
        return ops.apply(self.context, namespace, manifest)

    def wait_for_pod(self, namespace: str, name: str, predicate, what: str, timeout: float = 60) -> dict:
        """Watch the pod until ``predicate(pod)`` holds (pod: the API's dict, read with kjlab.readers).
        Says what it waits for first, and how long it took."""
        return self._waiting(what, timeout, lambda: wait.pod(self.context, namespace, predicate, what,
                                                             timeout=timeout, name=name))

    def wait_for_job(self, namespace: str, name: str, predicate, what: str, timeout: float = 120) -> dict:
        """Watch the Job until ``predicate(job)`` holds."""
        return self._waiting(what, timeout, lambda: wait.job(self.context, namespace, name, predicate, what,
                                                             timeout=timeout))

    @staticmethod
    def _waiting(what: str, timeout: float, until):
        with wait.announced(what, timeout):
            return until()

    def check(self, exercise: str, answer) -> check.Verdict:
        """Check an exercise answer on this cluster; prints and returns the Verdict."""
        return check.run(exercise, answer, context=self.context)

    def kubectl(self, *args: str) -> None:
        """Run kubectl on this cluster and print what it prints (its exit status is shown only when
        it is not 0, so a notebook cell shows kubectl's output and nothing else)."""
        code = kubectl(*args, context=self.context)
        if code:
            print(f"(kubectl exited with {code})")

    def cleanup(self) -> list[str]:
        """Delete every namespace this notebook made (``<prefix>`` and ``<prefix>-*``)."""
        return cleanup(self.context, self.prefix)

    def __getattr__(self, name: str):
        """A lab's own session, registered in its module (kjlab.labs: ``lab.cron(...)``,
        ``lab.disruptions(...)``, ``lab.pods(...)`` ...), bound to this Lab."""
        factory = labs.SESSIONS.get(name)
        if factory is None:
            raise AttributeError(f"'Lab' object has no attribute {name!r}")
        return types.MethodType(factory, self)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(labs.SESSIONS))
