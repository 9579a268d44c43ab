"""The class report's inbox on Kubernetes: the hub service ``kjlab-results`` (issue 29).

Each learner's verdicts are written on their own PVC (ReadWriteOnce: only their pod's node can
mount it, and only while no other pod holds it), and a culled learner has no server to ask. So the
learner's kjlab also posts each verdict here, with the learner's own JupyterHub API token
($JUPYTERHUB_API_TOKEN, which KubeSpawner gives every server); this service asks the hub whose token
it is (GET /hub/api/user: "all tokens can do this on this endpoint", jupyterhub/apihandlers/users.py
SelfAPIHandler) and appends the line to
/srv/jupyterhub/results/<user>/results.jsonl on the hub's volume. A learner can record verdicts only
as themselves. `kjlab class report --state /srv/jupyterhub` in the hub pod (or
`kjlab class report --kubernetes CONTEXT` from the instructor's machine) reads them as it reads
the single server's results directory.

It also answers a learner's ``GET .../server`` (same token) with what Kubernetes says of their
server's container: how often it was started again and why its last run ended. On cgroup v2 nodes
the kubelet makes an OOM kill end the whole container (kjlab.oom), so after the restart nothing in the
learner's pod can tell why: their pod has no Kubernetes credentials, the hub's service account reads
pods (the chart's Role), and the pod's ``lastState.terminated.reason`` says ``OOMKilled``.

Run by the hub as a managed service: ``python -m kjlab.classroom.verdict_service``."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

from kjlab.checks import verdicts
from kjlab.classroom.k8s_hub import safe_name

# The fields a verdict line has (kjlab.checks.verdicts.record); anything else is dropped.
FIELDS = {"time": str, "learner": str, "exercise": str, "passed": bool, "solved": bool, "summary": str, "reason": str}
MAX_BODY = 16 * 1024
TOKEN_CACHE_SECONDS = 300


def clean(line: object) -> dict | None:
    """The verdict as it is stored, or None when it is not one (wrong types, no exercise)."""
    if not isinstance(line, dict) or not isinstance(line.get("exercise"), str) or not line["exercise"]:
        return None
    out = {}
    for key, kind in FIELDS.items():
        if key in line:
            if not isinstance(line[key], kind):
                return None
            out[key] = line[key][:2000] if kind is str else line[key]
    return out


def store(root: Path, user: str, line: dict) -> Path:
    """Append one verdict for ``user`` (the name the hub vouched for, not the line's own field)."""
    line = {**line, "learner": user}
    directory = root / safe_name(user)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / verdicts.FILE
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")  # one write of one line: concurrent posts do not interleave
    return path


def hub_identity(api_url: str, token: str) -> str | None:
    """The hub user name a token belongs to (None: not a valid token)."""
    request = urllib.request.Request(f"{api_url.rstrip('/')}/user", headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            model = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if model.get("kind", "user") != "user" or not isinstance(model.get("name"), str):
        return None  # a service's token records no verdict
    return model["name"]


SERVER_CONTAINER = "notebook"  # KubeSpawner's name for the learner's server container


def server_pod(pods: list[dict], user: str) -> dict | None:
    """``user``'s default server pod among KubeSpawner's: found by the annotation that names the hub
    user as it is (the label ``hub.jupyter.org/username`` is escaped), not a named server's."""
    for pod in pods:
        notes = (pod.get("metadata") or {}).get("annotations") or {}
        if notes.get("hub.jupyter.org/username") == user and not notes.get("hub.jupyter.org/servername"):
            return pod
    return None


def server_restarts(pod: dict | None) -> dict:
    """What a learner is told of their server's container: the pod, how many times the kubelet
    started it again, and how its previous run ended (reason, exitCode, startedAt, finishedAt; None
    before any restart)."""
    if pod is None:
        return {"pod": None, "restarts": 0, "last": None}
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    status = next((c for c in statuses if c.get("name") == SERVER_CONTAINER), statuses[0] if statuses else {})
    ended = (status.get("lastState") or {}).get("terminated")
    last = {k: ended.get(k) for k in ("reason", "exitCode", "startedAt", "finishedAt")} if ended else None
    return {"pod": pod["metadata"]["name"], "restarts": int(status.get("restartCount") or 0), "last": last}


def handler(root: Path, identify, list_pods=None) -> type[BaseHTTPRequestHandler]:
    """The service's requests: POST .../verdict records one; GET .../server tells of the caller's
    server pod (``list_pods()``: KubeSpawner's pods as API dicts; None where there are none to ask)."""
    cache: dict[str, tuple[str, float]] = {}

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, code: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
            body = (text + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _user(self) -> str | None:
            """The hub user the request's token belongs to; None after replying 401/403."""
            auth = self.headers.get("Authorization", "")
            token = auth.split(" ", 1)[1].strip() if auth.lower().startswith(("token ", "bearer ")) else ""
            if not token:
                self._reply(401, "no token: send Authorization: token $JUPYTERHUB_API_TOKEN")
                return None
            user, seen = cache.get(token, ("", 0.0))
            if not user or time.monotonic() - seen > TOKEN_CACHE_SECONDS:
                user = identify(token)
                if not user:
                    self._reply(403, "the hub does not know this token")
                    return None
                cache[token] = (user, time.monotonic())
            return user

        def do_GET(self):  # noqa: N802 -- http.server's name
            if not self.path.rstrip("/").endswith("/server"):
                return self._reply(200, "kjlab-results: POST a verdict to .../verdict with your JupyterHub API "
                                        "token; GET .../server tells of your server's restarts")
            user = self._user()
            if user is None:
                return None
            if list_pods is None:
                return self._reply(501, "this hub spawns no pods to ask about")
            try:
                answer = server_restarts(server_pod(list_pods(), user))
            except Exception as e:  # the API server's refusal or absence: the learner is told nothing
                sys.stderr.write(f"kjlab-results: reading the learners' pods failed: {e}\n")
                return self._reply(502, "the hub could not read your server's pod (its log says why)")
            return self._reply(200, json.dumps(answer), "application/json")

        def do_POST(self):  # noqa: N802
            if not self.path.rstrip("/").endswith("/verdict"):
                return self._reply(404, "POST to .../verdict")
            length = int(self.headers.get("Content-Length") or 0)
            if not self.headers.get("Authorization"):
                return self._reply(401, "no token: send Authorization: token $JUPYTERHUB_API_TOKEN")
            if length <= 0 or length > MAX_BODY:
                return self._reply(413 if length else 400, "one verdict, as a JSON object of at most 16 KiB")
            try:
                line = clean(json.loads(self.rfile.read(length)))
            except ValueError:
                line = None
            if line is None:
                return self._reply(400, "not a verdict (a JSON object with an exercise name)")
            user = self._user()
            if user is None:
                return None
            store(root, user, line)
            return self._reply(200, f"recorded for {user}")

        def log_message(self, fmt, *args):  # one line per request on stderr, like the hub's log
            sys.stderr.write(f"kjlab-results: {self.address_string()} {fmt % args}\n")

    return Handler


post = verdicts.post  # the learner side


def kubespawner_pods(namespace: str):
    """``list_pods`` for the handler: KubeSpawner's pods in ``namespace``, read with the hub pod's
    service account (or $KUBECONFIG where the hub runs outside the cluster, as in the tests)."""
    from kubernetes import client, config  # only the running service needs it, not the tests' handler

    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()
    else:
        config.load_kube_config()
    core = client.CoreV1Api()

    def list_pods() -> list[dict]:
        response = core.list_namespaced_pod(namespace, label_selector="component=singleuser-server",
                                            _preload_content=False, _request_timeout=10)
        return json.loads(response.data)["items"]

    return list_pods


def main() -> int:
    root = Path(os.environ.get("KJLAB_HUB_DATA_DIR", "/srv/jupyterhub")) / "results"
    root.mkdir(parents=True, exist_ok=True)
    api_url = os.environ["JUPYTERHUB_API_URL"]
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://hub:8181"))
    port = url.port or 8181
    # In the hub pod: every address (the Service `hub` forwards to it); a hub outside a cluster: its own.
    host = url.hostname if url.hostname in ("127.0.0.1", "localhost") else "0.0.0.0"
    namespace, list_pods = os.environ.get("POD_NAMESPACE"), None
    try:
        list_pods = kubespawner_pods(namespace) if namespace else None
    except Exception as e:  # no credentials: verdicts are still recorded, GET .../server answers 501
        print(f"kjlab-results: cannot read the learners' pods ({e})", file=sys.stderr)
    server = ThreadingHTTPServer((host, port), handler(root, lambda token: hub_identity(api_url, token), list_pods))
    print(f"kjlab-results: listening on port {port}, storing verdicts in {root}", file=sys.stderr)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
