"""The kwok engine's container-log endpoint: the one kubelet API a simulated node answers.

``kubectl logs`` asks the API server, which asks the pod's node at the address and port in the
Node's status (``InternalDNS`` ``localhost``, ``daemonEndpoints.kubeletEndpoint.Port``, both set
by kjlab's node Stage). This process answers ``GET /containerLogs/<ns>/<pod>/<container>`` for
every node of one cluster. exec, attach, port-forward (so kubectl cp, run -it, debug's fallback) get
one plain-text line saying the simulated kubelet cannot do them (HTTP 400, passed on by the API
server, printed by kubectl after "error:"); nothing else is served (no metrics, no pprof).

Why not kwok's own server (which serves Logs/ClusterLogs files): in v0.8.0 it takes no client
authentication at all, serves plain HTTP on the same port, and serves pprof and the other
debugging handlers beside the logs; a classroom machine runs many learners' clusters, and every
port of a cluster must require that cluster's credentials (kjlab/cluster/kwok/__init__.py).
This endpoint listens on 127.0.0.1 only and takes only TLS connections whose client certificate
is signed by the cluster's own CA (the API server presents one: --kubelet-client-certificate).

What it serves is what the script prints (kjlab/cluster/kwok/container_logs.py), after a first line
saying the kubelet is simulated, cut at the container's run: a running container's output up to
now, a finished one's up to its end; ``follow`` streams the lines as their time comes and ends
when the container does; ``previous`` serves the run before (``lastState.terminated``).

Run by ``kjlab up --engine kwok`` as ``python kjlab/cluster/kwok/log_endpoint.py``
(kjlab/cluster/kwok/__init__.py), a file rather than a module, so that it loads the standard library
only (about 18 MiB resident, 46 MiB with the kubernetes client). That is also why it follows a pod
with a small watch loop of its own instead of kjlab/api/watch.py, which needs the client: the one
watch outside api/watch.py, in a process of its own.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and not __package__:
    # Run as a file by `kjlab up` (kjlab/cluster/kwok/__init__.py): load container_logs and grammar
    # without the __init__ of kjlab, kjlab.cluster and kjlab.cluster.kwok, which import the kubernetes
    # client: 46 MiB resident with it, 18 MiB with the standard library only.
    import types
    from pathlib import Path

    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]  # no shadowing by our files
    for _name, _dir in (("kjlab", _here.parent.parent), ("kjlab.cluster", _here.parent), ("kjlab.cluster.kwok", _here)):
        _pkg = types.ModuleType(_name)
        _pkg.__path__ = [str(_dir)]
        sys.modules[_name] = _pkg

import argparse
import http.client
import http.server
import json
import os
import re
import ssl
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from kjlab.cluster.kwok import container_logs, event_references, grammar

_PATH = re.compile(r"\A/containerLogs/([^/]+)/([^/]+)/([^/]+)\Z")
# The kubelet API's streaming verbs (pkg/kubelet/server/server.go) and what the simulation cannot do.
_NOT_SIMULATED = {
    "exec": "exec into containers", "run": "exec into containers", "attach": "attach to containers",
    "portForward": "forward ports to pods",
}


def _time(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _status(pod: dict, name: str) -> dict:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == name:
            return cs
    return {}


def _spec(pod: dict, name: str) -> dict | None:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if c.get("name") == name:
            return c
    return None


def run_of(pod: dict, name: str, previous: bool) -> dict | str:
    """The run to show: {started, finished or None, exit code or None}, or why there is none in
    the kubelet's words (its validateContainerLogStatus, v1.36)."""
    pod_name = (pod.get("metadata") or {}).get("name")
    cs = _status(pod, name)
    state, last = cs.get("state") or {}, cs.get("lastState") or {}
    if previous:
        chosen = last.get("terminated")
        if not chosen:
            return f'previous terminated container "{name}" in pod "{pod_name}" not found'
    elif state.get("running"):
        return {"started": _time(state["running"].get("startedAt")), "finished": None, "exit": None}
    elif state.get("terminated") or last.get("terminated"):  # or waiting to restart: the last run
        chosen = state.get("terminated") if (state.get("terminated") or {}).get("startedAt") else last.get("terminated")
    elif state.get("waiting"):
        reason = state["waiting"].get("reason")
        why = {"ErrImagePull": "image can't be pulled", "ImagePullBackOff": "trying and failing to pull image"}
        return f'container "{name}" in pod "{pod_name}" is waiting to start: {why.get(reason, reason)}'
    else:
        return f'container "{name}" in pod "{pod_name}" is waiting to start - no logs yet'
    if not chosen or not chosen.get("startedAt"):  # ended without running (e.g. deleted while pending)
        return f'container "{name}" in pod "{pod_name}" is terminated'
    return {"started": _time(chosen["startedAt"]), "finished": _time(chosen.get("finishedAt")),
            "exit": chosen.get("exitCode")}


def written(container: dict, run: dict, scale: float, now: datetime) -> list[tuple[datetime, bytes]]:
    """The output of `run` written by `now` (all of it once a script ran to its end), each chunk
    with the time it was written."""
    start, finished = run["started"], run["finished"]
    killed = run["exit"] in (137, 143)
    forever = bool(re.search(grammar.FOREVER, grammar.script(container)))
    if finished is None:
        exited_after, cut = None, (now - start).total_seconds()
    elif killed or forever:  # ended from outside: what it wrote until then
        exited_after, cut = (finished - start).total_seconds(), (finished - start).total_seconds()
    else:  # it ran its script to the end (the API keeps whole seconds: do not cut on them)
        exited_after, cut = (finished - start).total_seconds(), float("inf")
    out = []
    for t, data in container_logs.output(container, scale, start, exited_after=exited_after, killed=killed):
        if t > cut:
            break
        out.append((start + timedelta(seconds=t), data))
    return out


def available(container: dict, run: dict, scale: float, now: datetime) -> bytes:
    """The output of `run` written by `now`, as bytes."""
    return b"".join(data for _, data in written(container, run, scale, now))


def _stamp(at: datetime) -> bytes:
    """The kubelet's --timestamps prefix: RFC 3339 with nanoseconds, UTC (time.RFC3339Nano)."""
    at = at.astimezone(timezone.utc)
    fraction = f"{at.microsecond * 1000:09d}".rstrip("0")  # Go drops trailing zeros, and the dot with them
    return (at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z ").encode()


def render(chunks: list[tuple[datetime, bytes]], timestamps: bool, since: datetime | None) -> bytes:
    """Lines written at or after `since`, each prefixed with its time when `timestamps` (what
    `kubectl logs --timestamps --since/--since-time` ask the kubelet for: its ReadLogs)."""
    lines: list[tuple[datetime, bytes]] = []
    for at, data in chunks:
        for piece in data.splitlines(keepends=True):
            if lines and not lines[-1][1].endswith(b"\n"):  # the rest of a line begun by `echo -n`
                lines[-1] = (lines[-1][0], lines[-1][1] + piece)
            else:
                lines.append((at, piece))
    return b"".join((_stamp(at) if timestamps else b"") + line
                    for at, line in lines if since is None or at >= since)


def _tail(data: bytes, lines: int | None, limit: int | None) -> bytes:
    if lines is not None:
        data = b"".join(data.splitlines(keepends=True)[-lines:]) if lines > 0 else b""
    if limit is not None:
        data = data[:limit]
    return data


def _since(query: dict, now: datetime) -> datetime | None:
    """The first time to show, from sinceSeconds or sinceTime (kubectl --since / --since-time)."""
    if query.get("sinceSeconds"):
        if not query["sinceSeconds"].isdigit():
            raise ValueError(f"sinceSeconds={query['sinceSeconds']!r}")
        return now - timedelta(seconds=int(query["sinceSeconds"]))
    if query.get("sinceTime"):
        try:
            return _time(query["sinceTime"])
        except ValueError:
            raise ValueError(f"sinceTime={query['sinceTime']!r}") from None
    return None


class Api:
    """The two calls the endpoint makes to the API server (read a pod, watch one), with the
    cluster's own client certificate, in the standard library: the kubernetes client would
    triple this process's memory."""

    def __init__(self, server: str, ca: str, cert: str, key: str):
        url = urlsplit(server)
        self.host, self.port = url.hostname, url.port or 443
        self.tls = ssl.create_default_context(cafile=ca)
        self.tls.load_cert_chain(cert, key)

    def _get(self, path: str, timeout: float):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.tls, timeout=timeout)
        conn.request("GET", path, headers={"Accept": "application/json"})
        return conn, conn.getresponse()

    def get_json(self, path: str) -> dict:
        conn, resp = self._get(path, 10)
        try:
            body = resp.read()
            if resp.status != 200:
                raise LookupError(f"HTTP {resp.status}")
            return json.loads(body)
        finally:
            conn.close()

    def read_pod(self, namespace: str, name: str) -> dict:
        return self.get_json(f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(name)}")

    def patch(self, path: str, body: bytes, content_type: str) -> None:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.tls, timeout=10)
        try:
            conn.request("PATCH", path, body=body, headers={"Content-Type": content_type, "Accept": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise LookupError(f"HTTP {resp.status}")
        finally:
            conn.close()

    def watch(self, path: str, resource_version: str | None, timeout_seconds: int):
        """The watch events ({"type", "object"}) of a list path (with its query) until the server ends the watch."""
        query = {"watch": "1", "timeoutSeconds": str(timeout_seconds),
                 **({"resourceVersion": resource_version} if resource_version else {})}
        conn, resp = self._get(f"{path}{'&' if '?' in path else '?'}{urlencode(query)}", timeout_seconds + 10)
        try:
            if resp.status != 200:
                raise LookupError(f"HTTP {resp.status}")
            for line in resp:
                if line.strip():
                    event = json.loads(line)
                    if event.get("type") == "ERROR":  # e.g. 410 Gone: list again
                        raise LookupError(str(event.get("object")))
                    yield event
        finally:
            conn.close()

    def watch_pod(self, namespace: str, name: str, resource_version: str | None, timeout_seconds: int):
        """The pod's watch events ({"type", "object"}) until the server ends the watch."""
        path = f"/api/v1/namespaces/{quote(namespace)}/pods?{urlencode({'fieldSelector': f'metadata.name={name}'})}"
        return self.watch(path, resource_version, timeout_seconds)


class PodCache:
    """One pod's latest state, fed by a watch while a `logs -f` stream is open."""

    def __init__(self, api: Api, namespace: str, name: str, pod: dict):
        self.pod, self.gone = pod, False
        self.changed = threading.Condition()
        self._stop = threading.Event()
        self._args = (api, namespace, name, pod["metadata"].get("resourceVersion"))
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        api, namespace, name, rv = self._args
        while not self._stop.is_set():
            try:
                for event in api.watch_pod(namespace, name, rv, timeout_seconds=30):
                    obj = event["object"]
                    rv = (obj.get("metadata") or {}).get("resourceVersion", rv)
                    with self.changed:
                        if event["type"] == "DELETED":
                            self.gone = True
                        else:
                            self.pod = obj
                        self.changed.notify_all()
                    if self._stop.is_set() or self.gone:
                        return
            except Exception:  # a dropped watch: list again, as any watcher does
                try:
                    fresh = api.read_pod(namespace, name)
                    rv = fresh["metadata"]["resourceVersion"]
                    with self.changed:
                        self.pod = fresh
                        self.changed.notify_all()
                except Exception:
                    with self.changed:
                        self.gone = True
                        self.changed.notify_all()
                    return

    def stop(self) -> None:
        self._stop.set()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # a class's learners' notebooks may ask at once

    def finish_request(self, request, client_address):
        # The TLS handshake in the connection's own thread: a client that connects and says
        # nothing blocks nobody else.
        try:
            request.settimeout(10)
            request.do_handshake()
            request.settimeout(None)
        except (ssl.SSLError, OSError):
            request.close()
            return
        super().finish_request(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kjlab-simulated-kubelet"
    # Whatever the standard library answers itself (a method it has no handler for, a malformed
    # request) is one plain line too, never its HTML page: the API server passes the body on.
    error_message_format = "the simulated kubelet (kwok): %(code)d %(message)s\n"
    error_content_type = "text/plain; charset=utf-8"
    api: Api | None = None
    scale = 1.0

    def log_message(self, format, *args):  # noqa: A002 -- the stdlib's name
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))

    def _error(self, code: int, message: str) -> None:
        body = message.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def _not_simulated(self) -> bool:
        """exec, attach, port-forward (and kubectl cp, which execs tar; kubectl run -it, which
        attaches) need a container: one line saying so, with the status the API server passes on
        (kubectl prints the line after "error: ")."""
        verb = urlsplit(self.path).path.lstrip("/").split("/", 1)[0]
        if verb not in _NOT_SIMULATED:
            return False
        self._error(400, f"the simulated kubelet (kwok) cannot {_NOT_SIMULATED[verb]}; use kjlab up --engine kind")
        self.close_connection = True
        return True

    def do_POST(self):  # noqa: N802 -- the stdlib's name; SPDY upgrades (exec, attach, port-forward) are POSTs
        if not self._not_simulated():
            self._error(405, "the simulated kubelet (kwok) answers only GET /containerLogs/...")
            self.close_connection = True

    def do_GET(self):  # noqa: N802 -- the stdlib's name
        if self._not_simulated():  # websocket upgrades are GETs
            return
        url = urlsplit(self.path)
        m = _PATH.match(url.path)
        if not m:
            return self._error(404, "404 page not found: only container logs are simulated on kwok")
        namespace, name, container_name = m.groups()
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        follow = query.get("follow") == "true"
        previous = query.get("previous") == "true"
        tail = int(query["tailLines"]) if query.get("tailLines", "").lstrip("-").isdigit() else None
        limit = int(query["limitBytes"]) if query.get("limitBytes", "").isdigit() else None
        timestamps = query.get("timestamps") == "true"
        try:
            since = _since(query, datetime.now(timezone.utc))
        except ValueError as e:
            return self._error(400, f"the simulated kubelet (kwok) cannot read {e}")
        try:
            pod = self.api.read_pod(namespace, name)
        except Exception as e:
            return self._error(404, f'pods "{name}" not found ({e.__class__.__name__})')
        container = _spec(pod, container_name)
        if container is None and any(c.get("name") == container_name
                                     for c in (pod.get("spec") or {}).get("ephemeralContainers") or []):
            return self._error(400, "the simulated kubelet (kwok) cannot run ephemeral (debug) containers; "
                                    "use kjlab up --engine kind")
        if container is None:
            return self._error(400, f'container {container_name} is not valid for pod {name}')
        run = run_of(pod, container_name, previous)
        indexed = "batch.kubernetes.io/job-completion-index" in ((pod.get("metadata") or {}).get("annotations") or {})
        if isinstance(run, str) and grammar.refused(container, indexed):  # the token, where a learner looks
            return self._error(400, f"{run}: the simulated kubelet (kwok) does not run it, its grammar refuses "
                                    f"{grammar.refused(container, indexed)}; use kjlab up --engine kind")
        if isinstance(run, str):
            return self._error(400, run)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        options = (timestamps, since)
        try:
            # the banner says the kubelet is simulated whatever the options (--since never hides it)
            now = datetime.now(timezone.utc)
            self._chunk(render([(run["started"] or now, container_logs.BANNER.encode())], timestamps, None))
            if not follow or run["finished"] is not None:
                self._chunk(_tail(render(written(container, run, self.scale, now), *options), tail, limit))
            else:
                self._follow(pod, container, container_name, run, tail, limit, options)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        self.close_connection = True

    def _follow(self, pod: dict, container: dict, container_name: str, run: dict, tail, limit, options) -> None:
        """Stream the run's output as it comes; end when the run ends (or the pod is gone)."""
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        cache = PodCache(self.api, namespace, name, pod)
        sent = None
        try:
            while True:
                with cache.changed:
                    current, gone = cache.pod, cache.gone
                now = datetime.now(timezone.utc)
                latest = run_of(current, container_name, False)
                same = isinstance(latest, dict) and latest["started"] == run["started"]
                ended = gone or not same or latest["finished"] is not None
                if ended and same:
                    run = latest
                elif ended:  # restarted: the run we followed is now the last state
                    last = run_of(current, container_name, True)
                    run = last if isinstance(last, dict) and last["started"] == run["started"] \
                        else {**run, "finished": now, "exit": 137}
                data = render(written(container, run, self.scale, now), *options)
                if sent is None:  # the first answer honours tail/limit, as the kubelet's does
                    first = _tail(data, tail, limit)
                    self._chunk(first)
                    sent = len(data)
                elif len(data) > sent:
                    self._chunk(data[sent:])
                    sent = len(data)
                if ended or (limit is not None):
                    return
                with cache.changed:
                    cache.changed.wait(timeout=0.5)
        finally:
            cache.stop()


def serve(server_url: str, ca: str, cert: str, key: str, scale: float, port_file: str, port: int = 0) -> None:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    tls.verify_mode = ssl.CERT_REQUIRED  # only holders of this cluster's credentials
    tls.load_verify_locations(ca)
    Handler.api, Handler.scale = Api(server_url, ca, cert, key), scale
    event_references.start(Handler.api)  # the simulated kubelet's events, as `kubectl events --for` selects them
    try:
        server = _Server(("127.0.0.1", port), Handler)
    except OSError:  # the old port is taken: a new one (the nodes still name the old one: kjlab down && kjlab up)
        server = _Server(("127.0.0.1", 0), Handler)
    server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    port = server.server_address[1]
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, port_file)  # the port appears whole: kjlab up reads it
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="log_endpoint.py", description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="the API server's URL (https://127.0.0.1:PORT)")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=0, help="the port to ask for first (0: any)")
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args(argv)
    serve(args.server, args.ca, args.cert, args.key, args.time_scale, args.port_file, args.port)


if __name__ == "__main__":
    main()
