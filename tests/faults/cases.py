"""The cases of issue 30 (and the turn-2 cases it keeps): bad inputs and faults, each run as a
learner would run it -- the `kjlab` command in a process of its own -- and classified:

  clear      one line (and its fix) that says what is wrong, or the right verdict; nothing else happened
  survived   a fault injected into the cluster, and the command still got the right outcome
  traceback  a Python traceback instead of one line
  hang       no answer within the case's limit (the process is killed a while after)
  wrong      it answered, but not what it should (a fault not named, bad input accepted)
  data lost  something kjlab did not make is gone or changed (a namespace, the learner's kubeconfig)
  written to a foreign cluster   a request other than a read reached a cluster kjlab did not make
  escaped    the learner's code left a process running after its check

bench/faults.py replays every case and prints the table; tests/faults/test_*.py replay them family by
family. Cases drive only the command line and `kjlab kubectl`, so the same list measures an older
commit (bench/faults.py --source DIR).

Cases that need the cluster use the lab cluster of $KJLAB_STATE; the ones that inject faults
(SIGSTOP, SIGKILL) stop and kill only that cluster's own components, read from its pid files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

OUTCOMES = ("clear", "survived", "traceback", "hang", "wrong", "data lost", "written to a foreign cluster", "escaped")
FAMILIES = ("foreign", "traceback", "hang", "unnamed", "accepted", "turn2")
FOREIGN = "prod-eu-2"


@dataclass
class Case:
    family: str
    name: str
    argv: list[str]                      # kjlab's arguments; {dir} is the case's scratch directory
    needs: str = "cluster"               # "foreign": the logging fake API server; "none"; "cluster"
    expect: tuple[str, ...] = ()         # the clear answer contains one of these
    limit: float = 60.0                  # longer than this is a hang
    files: dict = field(default_factory=dict)   # name -> text, or a callable(path) that makes it
    before: Callable | None = None       # (harness) -> None: sets up, injects the fault
    after: Callable | None = None        # (harness) -> outcome or None: data lost, escaped, wrong
    cleanup: Callable | None = None      # (harness) -> None: always, after the command
    ok: str = "clear"                    # "survived" for injected faults
    head: bool = False                   # read one line of stdout, then close it (`| head -1`)

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"


# --- the logging fake API server: a "production" cluster ------------------------------------------

class _Logging(BaseHTTPRequestHandler):
    log: list[str] = []

    def _answer(self):
        type(self).log.append(f"{self.command} {self.path}")
        version = self.path.startswith("/version")
        body = json.dumps({"major": "1", "minor": "36", "gitVersion": "v1.36.4"} if version else
                          {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                           "reason": "NotFound", "message": "not here"}).encode()
        self.send_response(200 if version else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *_args):
        pass


class Harness:
    """Runs cases: a scratch directory, a planted learner's kubeconfig (two "production" contexts
    served by the logging fake API server), the command's environment."""

    def __init__(self, source: str | None = None):
        self.source = source           # another checkout's kjlab (PYTHONPATH), for the "before" table
        self.root = Path(tempfile.mkdtemp(prefix="kjlab-faults-"))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Logging)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.kubeconfig = self.root / "home" / ".kube" / "config"  # the learner's, planted
        self.kubeconfig.parent.mkdir(parents=True)
        server = f"http://127.0.0.1:{self.server.server_port}"
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": FOREIGN,
            "clusters": [{"name": n, "cluster": {"server": server}} for n in (FOREIGN, "prod-us-1")],
            "users": [{"name": n, "user": {"token": "prod-secret-token"}} for n in (FOREIGN, "prod-us-1")],
            "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in (FOREIGN, "prod-us-1")]}))
        self.dir = self.root

    def close(self):
        self.server.shutdown()

    def env(self, case: Case) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("KJLAB_CONTEXT", "PYTHONPATH")}
        # the learner's kubeconfig is the planted one (HOME stays: the cluster tools are cached under it)
        env["KUBECONFIG"] = str(self.kubeconfig)
        if self.source:
            env["PYTHONPATH"] = self.source
        if case.needs in ("foreign", "none"):
            env["KJLAB_STATE"] = str(self.dir / "state")  # no lab cluster at all
        return env

    def kjlab(self, *args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kjlab.cli", *args], capture_output=True, text=True,
                              timeout=timeout, env=env or self.env(Case("", "", [])), cwd=self.root)

    def pid(self, component: str) -> int:
        state = Path(os.environ.get("KJLAB_STATE") or Path.home() / ".local/state/kjlab")
        return int((state / "kwok" / "clusters" / "kjlab" / "pids" / f"{component}.pid").read_text())

    def run(self, case: Case) -> tuple[str, float, str]:
        """(outcome, seconds, the last lines of its output)."""
        self.dir = Path(tempfile.mkdtemp(dir=self.root, prefix=re.sub(r"[^A-Za-z0-9]+", "-", case.name)[:20]))
        for name, content in case.files.items():
            path = self.dir / name
            content(path) if callable(content) else path.write_text(content)
        _Logging.log = []
        digest = hashlib.sha256(self.kubeconfig.read_bytes()).hexdigest()
        argv = [a.replace("{dir}", str(self.dir)) for a in case.argv]
        if case.needs == "foreign":
            argv += ["--context", FOREIGN]
        started = time.monotonic()
        out = err = ""
        timed_out = False
        try:
            if case.before:
                case.before(self)
            proc = subprocess.Popen([sys.executable, "-m", "kjlab.cli", *argv], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=self.env(case), start_new_session=True,
                                    cwd=self.root)  # not the repo: `-m` puts the working directory first
            try:
                if case.head:
                    out = proc.stdout.readline()
                    proc.stdout.close()
                    err = proc.communicate(timeout=max(case.limit * 2, case.limit + 30))[1]
                else:
                    out, err = proc.communicate(timeout=max(case.limit * 2, case.limit + 30))
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)  # the case's own process group
                out, err = proc.communicate()
            seconds = time.monotonic() - started
            verdict = case.after(self) if case.after else None
        finally:
            if case.cleanup:
                case.cleanup(self)
        text = (out or "") + (err or "")
        tail = " | ".join(line for line in text.strip().splitlines()[-3:])[:300]
        writes = [line for line in _Logging.log if not line.startswith("GET ")]
        if timed_out or seconds > case.limit:
            return "hang", seconds, tail
        if writes:
            return "written to a foreign cluster", seconds, f"{writes[:3]} {tail}"
        if hashlib.sha256(self.kubeconfig.read_bytes()).hexdigest() != digest:
            return "data lost", seconds, "the learner's kubeconfig changed"
        if verdict:
            return verdict, seconds, tail
        if "Traceback (most recent call last)" in (err or ""):  # kjlab's own; a verdict quotes the learner's on stdout
            return "traceback", seconds, tail
        if case.expect and not any(e in text for e in case.expect):
            return "wrong", seconds, tail
        return case.ok, seconds, tail


# --- the cases --------------------------------------------------------------------------------------

POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: crash}\nspec:\n  restartPolicy: Always\n  containers:\n"
       "  - {name: main, image: bash:5, command: [bash, -c, 'exit 3']}\n")
POLICY = "rules:\n- action: FailJob\n  onExitCodes: {operator: In, values: [42]}\n"
JOB = ("apiVersion: batch/v1\nkind: Job\nmetadata: {name: mine}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n"
       "      restartPolicy: Never\n      containers:\n      - {name: main, image: bash:5, command: [bash, -c, 'exit 1']}\n")
STEP = "def mark_and_delete(context, namespace, pod_name):\n    pass\n"
# the exercises as of issue 30 (a fixed list, so an older commit is measured on the same cases)
CHECKS = {"failjob-policy": "policy.yaml", "survive-drain": "policy.yaml", "config-issue-step": "step.py",
          "fix-restart-policy": "job.yaml", "fix-exit-code-zero": "job.yaml", "fix-container-name": "job.yaml",
          "fix-rule-order": "job.yaml", "predict-failindex": "policy.yaml", "indexed-shards": "policy.yaml",
          "index-budget": "policy.yaml", "give-up-in-time": "policy.yaml", "no-late-runs": "policy.yaml",
          "crash-loop-code": "pod.yaml", "debug-pod-out": "policy.yaml", "drain-budget": "policy.yaml",
          "exit-on-sigterm": "policy.yaml"}
ANSWERS = {"pod.yaml": POD, "policy.yaml": POLICY, "job.yaml": JOB, "step.py": STEP}
REFUSED = (f"on context '{FOREIGN}': kjlab did not create that cluster",)
ONE_LINE = ("kjlab: ", "NOT YET")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _job(spec) -> str:
    doc = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "mine"}}
    if spec is not ...:
        doc["spec"] = spec
    return json.dumps(doc)


def _results(summary) -> Callable:
    def make(path: Path) -> None:
        (path / "alice").mkdir(parents=True)
        (path / "alice" / "results.jsonl").write_text(json.dumps(
            {"time": "2026-12-06T09:00:00Z", "learner": "alice", "exercise": "failjob-policy", "passed": False,
             "solved": True, "summary": summary, "reason": "edited"}) + "\n")
    return make


def _stop(component: str) -> tuple[Callable, Callable]:
    held = {}

    def before(h: Harness) -> None:
        held["pid"] = h.pid(component)
        os.kill(held["pid"], signal.SIGSTOP)

    def cleanup(h: Harness) -> None:
        if "pid" in held:
            os.kill(held.pop("pid"), signal.SIGCONT)
            time.sleep(2)  # the API server reconnects to etcd, the controllers to it
    return before, cleanup


def _kill(component: str) -> Callable:
    def before(h: Harness) -> None:
        os.kill(h.pid(component), signal.SIGKILL)
        time.sleep(1)
    return before


def _repair(h: Harness) -> None:
    h.kjlab("up", "--engine", "kwok", timeout=180)


def _repair_with_this_tree(h: Harness) -> None:
    """This checkout's `kjlab up`, also when measuring an older one: it hands a killed
    kwok-controller's nodes over at once, so the next cases do not wait out its leases (200 s)."""
    env = h.env(Case("", "", []))
    env.pop("PYTHONPATH", None)
    subprocess.run([sys.executable, "-m", "kjlab.cli", "up", "--engine", "kwok"], capture_output=True, text=True,
                   timeout=180, env=env, cwd=Path(__file__).resolve().parents[2])


def _stall(component: str, namespace: str, for_s: float) -> tuple[Callable, Callable]:
    """Stop ``component`` for ``for_s`` seconds once the run's Job exists in ``namespace`` (mid-run,
    whatever the command's start-up took); the cleanup waits for the component to be resumed."""
    held = {}

    def stall(pid: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            listed = subprocess.run([sys.executable, "-m", "kjlab.cli", "kubectl", "get", "jobs", "-n", namespace,
                                     "-o", "name"], capture_output=True, text=True, timeout=30, env=held["env"],
                                    cwd=held["cwd"])
            if listed.stdout.strip():
                break
            time.sleep(0.5)
        else:
            return  # the run never created its Job: nothing to stall (the case reads as wrong)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(for_s)
        finally:
            os.kill(pid, signal.SIGCONT)

    def before(h: Harness) -> None:
        held["env"], held["cwd"] = h.env(Case("", "", [])), h.root
        held["thread"] = threading.Thread(target=stall, args=(h.pid(component),), daemon=True)
        held["thread"].start()

    def cleanup(h: Harness) -> None:
        if "thread" in held:
            held.pop("thread").join()  # the component runs again before the next case
        h.kjlab("kubectl", "delete", "namespace", namespace, "--wait=false")
    return before, cleanup


def _pod_runs_at_once(h: Harness) -> str | None:
    """After the repair: a new pod reaches Running within 15 s (not after the dead instance's leases expire)."""
    ns = f"faults-{os.getpid()}-{int(time.time())}"
    h.kjlab("kubectl", "create", "namespace", ns)
    try:
        h.kjlab("kubectl", "run", "probe", "-n", ns, "--image=bash:5", "--restart=Never", "--", "sleep", "60")
        try:
            waited = h.kjlab("kubectl", "wait", "-n", ns, "pod/probe", "--for=jsonpath={.status.phase}=Running",
                             "--timeout=15s", timeout=40)
        except subprocess.TimeoutExpired:
            return "wrong"
        return None if waited.returncode == 0 else "wrong"
    finally:
        h.kjlab("kubectl", "delete", "namespace", ns, "--wait=false")


def _users_namespace(name: str) -> tuple[Callable, Callable, Callable]:
    def before(h: Harness) -> None:
        h.kjlab("kubectl", "create", "namespace", name)
        h.kjlab("kubectl", "create", "configmap", "precious", "-n", name, "--from-literal=keep=me")

    def after(h: Harness) -> str | None:
        got = h.kjlab("kubectl", "get", "configmap", "precious", "-n", name, "-o", "jsonpath={.data.keep}")
        return None if got.stdout == "me" else "data lost"

    def cleanup(h: Harness) -> None:
        h.kjlab("kubectl", "delete", "namespace", name, "--wait=false")
    return before, after, cleanup


def _system_namespace_kept(h: Harness) -> str | None:
    got = h.kjlab("kubectl", "get", "configmap", "kjlab-cluster", "-n", "kube-system", "-o", "name")
    return None if got.returncode == 0 else "data lost"


MARK = "kjlab-faults-escape-471129"


def _no_process_left(h: Harness) -> str | None:
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if MARK.encode() in (entry / "cmdline").read_bytes():
                    left.append(int(entry.name))
            except OSError:
                continue
    for pid in left:  # the case's own leftover
        os.kill(pid, signal.SIGKILL)
    return "escaped" if left else None


def _step(body: str) -> str:
    return "def mark_and_delete(context, namespace, pod_name):\n" + "".join(f"    {line}\n" for line in body.splitlines())


def cases() -> list[Case]:
    found: list[Case] = []
    add = found.append
    # 1. writes to a cluster kjlab did not make (every check, every scenario variant, the controller)
    for name, answer in CHECKS.items():
        add(Case("foreign", f"check {name}", ["check", name, "--answer", "{dir}/" + answer], needs="foreign",
                 expect=REFUSED, limit=30, files={answer: ANSWERS[answer]}))
    for label, argv in (("scenario failjob", ["scenario", "run", "failjob", "--fast"]),
                        ("scenario --manifest", ["scenario", "run", "--manifest", "{dir}/job.yaml"]),
                        ("scenario --drain-when-running", ["scenario", "run", "ignore", "--fast", "--drain-when-running"]),
                        ("scenario --patch-condition", ["scenario", "run", "config-issue", "--fast", "--patch-condition",
                                                        "ConfigIssue", "--then-delete"]),
                        ("controller", ["controller", "config-issue", "--namespace", "reports"])):
        add(Case("foreign", label, argv, needs="foreign", expect=REFUSED, limit=30, files={"job.yaml": JOB}))
    # 2. tracebacks instead of one line
    deep = "[" * 5000 + "]" * 5000
    add(Case("traceback", "answer: YAML 5000 levels deep", ["check", "failjob-policy", "--answer", "{dir}/a.yaml"],
             expect=ONE_LINE, files={"a.yaml": "rules: " + deep}))
    add(Case("traceback", "manifest: YAML 5000 levels deep", ["scenario", "run", "--manifest", "{dir}/j.yaml"],
             expect=ONE_LINE, files={"j.yaml": "spec: " + deep}))
    for label, text in (("Job without spec", _job(...)), ("Job with spec: null", _job(None)),
                        ("metadata a string", json.dumps({"apiVersion": "batch/v1", "kind": "Job", "metadata": "x",
                                                          "spec": {}})),
                        ("a ConfigMap", json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}))):
        add(Case("traceback", f"manifest: {label}", ["scenario", "run", "--manifest", "{dir}/j.yaml"],
                 expect=("kjlab: ",), files={"j.yaml": text}))
    add(Case("traceback", "a .py answer to a YAML exercise", ["check", "failjob-policy", "--answer", "{dir}/a.py"],
             expect=("kjlab: ", "not Python code"), files={"a.py": STEP}))
    add(Case("traceback", "answer: a misspelt field", ["check", "failjob-policy", "--answer", "{dir}/a.yaml"],
             expect=('unknown field "spec.podFailurePolicy.rules[0].onExitCode"',),
             files={"a.yaml": "rules:\n- action: FailJob\n  onExitCode: {operator: In, values: [42]}\n"}))
    add(Case("traceback", "answer: a string for a number", ["check", "give-up-in-time", "--answer", "{dir}/a.yaml"],
             expect=("cannot unmarshal string into Go struct field JobSpec.spec.activeDeadlineSeconds",),
             files={"a.yaml": "activeDeadlineSeconds: fifteen\n"}))
    add(Case("traceback", "answer: a string for an exit code", ["check", "fix-rule-order", "--answer", "{dir}/a.yaml"],
             expect=("cannot unmarshal string",),
             files={"a.yaml": JOB.replace("backoffLimit: 0", "backoffLimit: none") + "  podFailurePolicy:\n    rules:\n"
                    "    - action: FailJob\n      onExitCodes: {operator: In, values: [\"42\"]}\n"}))
    add(Case("traceback", "class report --html into a missing directory",
             ["class", "report", "--results", "{dir}/results", "--html", "{dir}/no/such/dir/report.html"],
             needs="none", expect=("kjlab: ",), files={"results": _results("edited")}))
    add(Case("traceback", "class report over an edited results file (summary: null)",
             ["class", "report", "--results", "{dir}/results"], needs="none", expect=("alice",),
             files={"results": _results(None)}))
    add(Case("traceback", "class report --json | head -1", ["class", "report", "--results", "{dir}/results", "--json"],
             needs="none", head=True, files={"results": _results("edited")}))
    add(Case("traceback", "hub --class-list /dev/zero", ["hub", "--class-list", "/dev/zero", "--state", "{dir}/hub"],
             needs="none", expect=("kjlab: ",), limit=20))
    # 3. hangs
    add(Case("hang", "--answer /dev/zero", ["check", "failjob-policy", "--answer", "/dev/zero"], expect=("kjlab: ",),
             limit=10))
    add(Case("hang", "--answer a FIFO", ["check", "failjob-policy", "--answer", "{dir}/fifo"], expect=("kjlab: ",),
             limit=10, files={"fifo": _fifo}))
    before, cleanup = _stop("etcd")
    add(Case("hang", "status while etcd is stopped", ["status"], expect=("etcd",), limit=5, before=before,
             cleanup=cleanup))
    add(Case("hang", "--patch-condition with no stuck pod, --timeout 20",
             ["scenario", "run", "--manifest", "{dir}/job.yaml", "--patch-condition", "ConfigIssue", "--timeout", "20"],
             limit=40, files={"job.yaml": JOB.replace("exit 1", "sleep 300")}))
    # 4. faults not named (and faults survived)
    for component in ("kube-apiserver", "kube-controller-manager", "kwok-controller"):
        before, cleanup = _stop(component)
        add(Case("unnamed", f"status while {component} is stopped", ["status"], expect=(component,), limit=5,
                 before=before, cleanup=cleanup))
    add(Case("unnamed", "status with kube-controller-manager dead", ["status"],
             expect=("not running: kube-controller-manager",), limit=5, before=_kill("kube-controller-manager"),
             cleanup=_repair))
    add(Case("unnamed", "kill -9 kwok-controller, then up: new pods run at once", ["up", "--engine", "kwok"],
             limit=60, before=_kill("kwok-controller"), after=_pod_runs_at_once, cleanup=_repair_with_this_tree,
             ok="survived"))
    for component in ("kube-apiserver", "etcd"):
        namespace = f"faults-stall-{component}"
        before, cleanup = _stall(component, namespace, 20)
        add(Case("unnamed", f"a 20 s {component} stall mid-run", ["scenario", "run", "failjob", "--fast",
                                                                  "--namespace", namespace],
                 expect=("PodFailurePolicy",), limit=240, before=before, cleanup=cleanup, ok="survived"))
    # 5. silently accepted
    for label, argv in (("--namespace ''", ["scenario", "run", "failjob", "--fast", "--namespace", ""]),
                        ("--timeout 0", ["scenario", "run", "failjob", "--fast", "--timeout", "0"]),
                        ("--timeout -5", ["scenario", "run", "failjob", "--fast", "--timeout", "-5"])):
        add(Case("accepted", label, argv, needs="none", expect=("error: argument",), limit=10))
    # 6. the turn-2 cases: data kept, code contained
    before, after, cleanup = _users_namespace("faults-users-own")
    add(Case("turn2", "a run in a namespace kjlab did not make", ["scenario", "run", "failjob", "--fast", "--namespace",
                                                                   "faults-users-own"],
             limit=120, before=before, after=after, cleanup=cleanup))
    add(Case("turn2", "a run in kube-system", ["scenario", "run", "failjob", "--fast", "--namespace", "kube-system"],
             expect=("kjlab: ",), limit=60, after=_system_namespace_kept))
    add(Case("turn2", "the learner's kubeconfig byte for byte (a check on the lab cluster)",
             ["check", "failjob-policy", "--answer", "{dir}/p.yaml"], limit=240, expect=("PASS", "NOT YET"),
             files={"p.yaml": POLICY}))
    for label, body in (("sys.exit(0)", "import sys\nsys.exit(0)"),
                        ("a forever loop", "while True:\n    pass"),
                        ("a 3 GiB allocation", "x = bytearray(3 << 30)"),
                        ("5 MiB of output", "print('x' * (5 << 20))"),
                        ("a fork bomb", "import os\nwhile True:\n    os.fork()"),
                        ("a detached child", f"import subprocess\nsubprocess.Popen(['setsid', 'sh', '-c', 'sleep 300 # {MARK}'])")):
        add(Case("turn2", f"sandbox: {label}", ["check", "config-issue-step", "--answer", "{dir}/step.py"],
                 expect=("NOT YET",), limit=150, files={"step.py": _step(body)}, after=_no_process_left))
    return found
