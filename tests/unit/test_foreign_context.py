"""Nothing is written to a cluster kjlab did not make (issues 30 and 31): a command aimed at a learner's
"production" context is refused before it sends anything but reads. A local fake API server logs every
request it gets; the kubeconfig's context points at it with a bearer token."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CONTEXT = "prod-eu-2"


class _Logging(BaseHTTPRequestHandler):
    log: list[str] = []

    def _answer(self):
        type(self).log.append(f"{self.command} {self.path}")
        body = json.dumps({"major": "1", "minor": "36", "gitVersion": "v1.36.4"} if self.path.startswith("/version")
                          else {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                                "reason": "NotFound", "message": "not here"}).encode()
        self.send_response(200 if self.path.startswith("/version") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *_args):
        pass


@pytest.fixture
def production(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Logging)
    _Logging.log = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
        "clusters": [{"name": CONTEXT, "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": CONTEXT, "user": {"token": "prod-secret-token"}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}]}))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig),
           "KJLAB_STATE": str(tmp_path / "state"), "LANG": "C.UTF-8"}
    yield env, tmp_path
    server.shutdown()


POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: crash}\nspec:\n  restartPolicy: Always\n  containers:\n" \
      "  - {name: main, image: bash:5, command: [bash, -c, 'exit 3']}\n"
POLICY = "rules:\n- action: FailJob\n  onExitCodes: {operator: In, values: [42]}\n"
JOB = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: mine}\nspec:\n  template:\n    spec:\n" \
      "      restartPolicy: Never\n      containers:\n      - {name: main, image: bash:5, command: [bash, -c, 'exit 1']}\n"
STEP = "def mark_and_delete(context, namespace, pod_name):\n    pass\n"


def _answer_file(name: str) -> str:
    """An answer each exercise reads (the guard comes before its content matters)."""
    from kjlab import check

    answer = check.EXERCISES[name].answer
    return ("step.py" if "function" in answer else "pod.yaml" if "Pod manifest" in answer
            else "job.yaml" if "Job manifest" in answer else "policy.yaml")


def _exercises() -> list[str]:
    from kjlab import check

    return list(check.EXERCISES)


def _run(env, tmp, args):
    for name, text in (("pod.yaml", POD), ("policy.yaml", POLICY), ("job.yaml", JOB), ("step.py", STEP)):
        (tmp / name).write_text(text)
    argv = [a.replace("{dir}", str(tmp)) for a in args] + ["--context", CONTEXT]
    return subprocess.run([sys.executable, "-m", "kjlab.cli", *argv], capture_output=True, text=True, env=env,
                          timeout=120)


def _refused_before_any_request(proc):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"on context '{CONTEXT}': kjlab did not create that cluster" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    writes = [line for line in _Logging.log if not line.startswith("GET ")]
    assert not writes, f"sent to the foreign cluster: {writes}"
    assert not _Logging.log, f"not even a read is needed to refuse: {_Logging.log}"


@pytest.mark.parametrize("args", [
    ["check", "crash-loop-code", "--answer", "{dir}/pod.yaml"],
    ["check", "failjob-policy", "--answer", "{dir}/policy.yaml"],
    ["controller", "config-issue", "--namespace", "reports"],
    ["scenario", "run", "failjob", "--fast"],
    ["scenario", "run", "--manifest", "{dir}/job.yaml"],
    ["scenario", "run", "ignore", "--fast", "--drain-when-running"],
    ["scenario", "run", "config-issue", "--fast", "--patch-condition", "ConfigIssue", "--then-delete"],
    ["scenario", "run", "failjob", "--fast", "--keep", "--namespace", "reports"],
], ids=["check-pod", "check-policy-dry-run", "controller", "scenario", "scenario-manifest", "scenario-drain",
        "scenario-patch-condition", "scenario-own-namespace"])
def test_a_command_on_a_foreign_context_is_refused_before_any_write(production, args):
    env, tmp = production
    _refused_before_any_request(_run(env, tmp, args))


@pytest.mark.parametrize("name", _exercises())
def test_every_check_on_a_foreign_context_is_refused_before_any_request(production, name):
    """Every registered check, the sandboxed code answer and the server-side dry runs included: the
    guard in checks.run comes before the check creates its namespace or dry-runs the answer."""
    env, tmp = production
    _refused_before_any_request(_run(env, tmp, ["check", name, "--answer", "{dir}/" + _answer_file(name)]))


def test_status_on_a_foreign_context_only_reads(production):
    """`kjlab status --context` is the one command that talks to a foreign cluster: it only reads
    (the server's version, then its nodes): nothing it needs is written."""
    env, tmp = production
    _run(env, tmp, ["status"])
    assert _Logging.log, "status asked the cluster nothing"
    writes = [line for line in _Logging.log if not line.startswith("GET ")]
    assert not writes, f"status wrote to the foreign cluster: {writes}"
