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


def handler(root: Path, identify) -> type[BaseHTTPRequestHandler]:
    cache: dict[str, tuple[str, float]] = {}

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, code: int, text: str) -> None:
            body = (text + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 -- http.server's name
            self._reply(200, "kjlab-results: POST a verdict to .../verdict with your JupyterHub API token")

        def do_POST(self):  # noqa: N802
            if not self.path.rstrip("/").endswith("/verdict"):
                return self._reply(404, "POST to .../verdict")
            auth = self.headers.get("Authorization", "")
            token = auth.split(" ", 1)[1].strip() if auth.lower().startswith(("token ", "bearer ")) else ""
            length = int(self.headers.get("Content-Length") or 0)
            if not token:
                return self._reply(401, "no token: send Authorization: token $JUPYTERHUB_API_TOKEN")
            if length <= 0 or length > MAX_BODY:
                return self._reply(413 if length else 400, "one verdict, as a JSON object of at most 16 KiB")
            try:
                line = clean(json.loads(self.rfile.read(length)))
            except ValueError:
                line = None
            if line is None:
                return self._reply(400, "not a verdict (a JSON object with an exercise name)")
            user, seen = cache.get(token, ("", 0.0))
            if not user or time.monotonic() - seen > TOKEN_CACHE_SECONDS:
                user = identify(token)
                if not user:
                    return self._reply(403, "the hub does not know this token")
                cache[token] = (user, time.monotonic())
            store(root, user, line)
            return self._reply(200, f"recorded for {user}")

        def log_message(self, fmt, *args):  # one line per request on stderr, like the hub's log
            sys.stderr.write(f"kjlab-results: {self.address_string()} {fmt % args}\n")

    return Handler


post = verdicts.post  # the learner side


def main() -> int:
    root = Path(os.environ.get("KJLAB_HUB_DATA_DIR", "/srv/jupyterhub")) / "results"
    root.mkdir(parents=True, exist_ok=True)
    api_url = os.environ["JUPYTERHUB_API_URL"]
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://hub:8181"))
    port = url.port or 8181
    # In the hub pod: every address (the Service `hub` forwards to it); a hub outside a cluster: its own.
    host = url.hostname if url.hostname in ("127.0.0.1", "localhost") else "0.0.0.0"
    server = ThreadingHTTPServer((host, port), handler(root, lambda token: hub_identity(api_url, token)))
    print(f"kjlab-results: listening on port {port}, storing verdicts in {root}", file=sys.stderr)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
