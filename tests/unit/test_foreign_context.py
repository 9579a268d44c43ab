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


@pytest.mark.parametrize("args", [
    ["check", "crash-loop-code", "--answer", "{dir}/pod.yaml"],
    ["check", "failjob-policy", "--answer", "{dir}/policy.yaml"],
    ["controller", "config-issue", "--namespace", "reports"],
    ["scenario", "run", "failjob", "--fast"],
], ids=["check-pod", "check-policy-dry-run", "controller", "scenario"])
def test_a_command_on_a_foreign_context_is_refused_before_any_write(production, args):
    env, tmp = production
    (tmp / "pod.yaml").write_text(POD)
    (tmp / "policy.yaml").write_text(POLICY)
    argv = [a.replace("{dir}", str(tmp)) for a in args] + ["--context", CONTEXT]
    proc = subprocess.run([sys.executable, "-m", "kjlab.cli", *argv], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"on context '{CONTEXT}': kjlab did not create that cluster" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    writes = [line for line in _Logging.log if not line.startswith("GET ")]
    assert not writes, f"sent to the foreign cluster: {writes}"
    assert not _Logging.log, f"not even a read is needed to refuse: {_Logging.log}"
