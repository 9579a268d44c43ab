"""The probes lab's pods moved from Python to kjlab/examples/probes.yaml: the objects must be the ones
the Python built. ``_Frozen`` is a verbatim copy of that Python (kjlab/labs/probes.py before the move),
so the expected objects are computed here, not read from the file under test."""

import copy

import pytest

from kjlab import examples
from kjlab.labs import probes


class _Frozen:
    IMAGE = "docker.io/library/python:3"
    PORT = 8080
    PROBE_GRACE_SECONDS = 2
    GATE = "example.com/load-balancer-ready"

    @classmethod
    def _pod(cls, name, script, grace=PROBE_GRACE_SECONDS, labels=None, restart_policy="Always", **container):
        spec = {"restartPolicy": restart_policy,
                "containers": [{"name": "main", "image": cls.IMAGE, "command": ["bash", "-c", script], **container}]}
        if grace is not None:
            spec["terminationGracePeriodSeconds"] = grace
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}}, "spec": spec}

    WEB_SERVER = f"""\
import os, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", {PORT}))
s.listen(16)
print("serving /srv on port {PORT}", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.settimeout(2)
        line = c.recv(4096).split(b"\\r\\n", 1)[0].decode(errors="replace")
        parts = line.split()
        found = len(parts) > 1 and os.path.isfile("/srv/" + os.path.basename(parts[1]))
        status = "200 OK" if found else "404 Not Found"
        c.sendall(("HTTP/1.0 " + status + "\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n").encode())
        print(line, status, flush=True)
    except OSError:
        pass
    finally:
        c.close()
"""

    @staticmethod
    def _serve(files):
        return f'mkdir -p /srv && cd /srv && touch {files} && exec python3 -c "$WEB_SERVER"'

    @classmethod
    def _web_env(cls):
        return [{"name": "WEB_SERVER", "value": cls.WEB_SERVER}]

    @classmethod
    def _http(cls, path):
        return {"httpGet": {"path": path, "port": cls.PORT}}

    @classmethod
    def liveness_pods(cls, fail_after=8):
        PORT, _pod, _serve, _web_env, _http = cls.PORT, cls._pod, cls._serve, cls._web_env, cls._http
        every = {"periodSeconds": 2, "failureThreshold": 2, "timeoutSeconds": 1}
        tcp = (f"exec python3 -c \"import socket, time; s = socket.socket(); s.bind(('', {PORT})); s.listen(); "
               f"print('listening on {PORT}', flush=True); time.sleep({fail_after}); s.close(); "
               f"print('closed the socket, still running', flush=True); time.sleep(10**6)\"")
        exec_ = (f"touch /tmp/healthy; echo healthy; sleep {fail_after}; rm /tmp/healthy; echo 'removed /tmp/healthy'; "
                 "sleep 100000")
        return [
            _pod("live-http", _serve("healthz"), env=_web_env(), livenessProbe={**_http("/healthz"), **every}),
            _pod("live-tcp", tcp, livenessProbe={"tcpSocket": {"port": PORT}, **every}),
            _pod("live-exec", exec_, livenessProbe={"exec": {"command": ["cat", "/tmp/healthy"]}, **every}),
        ]

    @classmethod
    def readiness_pods(cls, names=("web-a", "web-b")):
        probe = {**cls._http("/ready"), "periodSeconds": 1, "failureThreshold": 1, "successThreshold": 1}
        return [cls._pod(n, cls._serve("ready"), env=cls._web_env(), labels={"app": "web"},
                         readinessProbe=copy.deepcopy(probe)) for n in names]

    @classmethod
    def service(cls, name="web", selector=None):
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {"selector": selector or {"app": name}, "ports": [{"port": 80, "targetPort": cls.PORT}]}}

    @classmethod
    def slow_start_pods(cls, start_seconds=15):
        script = f"echo 'loading ...'; sleep {start_seconds}; echo 'serving'; " + cls._serve("healthz")
        liveness = {**cls._http("/healthz"), "periodSeconds": 2, "failureThreshold": 3}
        startup = {**cls._http("/healthz"), "periodSeconds": 2, "failureThreshold": 15}
        return [cls._pod("slow-liveness-only", script, env=cls._web_env(), livenessProbe=copy.deepcopy(liveness)),
                cls._pod("slow-with-startup", script, env=cls._web_env(), livenessProbe=copy.deepcopy(liveness),
                         startupProbe=startup)]

    @classmethod
    def gated_pod(cls):
        pod = cls._pod("gated", cls._serve("ready"), env=cls._web_env(),
                       readinessProbe={**cls._http("/ready"), "periodSeconds": 1})
        pod["spec"]["readinessGates"] = [{"conditionType": cls.GATE}]
        return pod

    @staticmethod
    def _stamp(who):
        return f'echo "{who} at $(date +%s.%N)" > /proc/1/fd/1'

    @classmethod
    def hook_pods(cls, post_start_seconds=2, pre_stop_seconds=3):
        _stamp, _pod = cls._stamp, cls._pod
        main = (_stamp("main started") + "; trap '" + _stamp("main got SIGTERM").replace("'", "") +
                "; exit 143' TERM; while true; do sleep 1 & wait $!; done")
        ok = _pod("hooks", main, grace=10, lifecycle={
            "postStart": {"exec": {"command": ["bash", "-c", f"{_stamp('postStart began')}; sleep {post_start_seconds}; "
                                                             f"{_stamp('postStart ended')}"]}},
            "preStop": {"exec": {"command": ["bash", "-c", f"{_stamp('preStop began')}; sleep {pre_stop_seconds}; "
                                                           f"{_stamp('preStop ended')}"]}}})
        fail = {"exec": {"command": ["bash", "-c", "echo 'the hook fails'; exit 1"]}}
        loop = "trap 'exit 143' TERM; while true; do sleep 1 & wait $!; done"
        return [ok, _pod("bad-post-start", loop, grace=2, restart_policy="Never", lifecycle={"postStart": fail}),
                _pod("bad-pre-stop", loop, grace=10, lifecycle={"preStop": fail})]

    @classmethod
    def worker_pod(cls, name, script, grace):
        return cls._pod(name, script, grace=grace, restart_policy="Never")

    @classmethod
    def sigterm_pods(cls, grace=10):
        handles = ("trap 'echo \"SIGTERM: saving work, exiting 143\"; exit 143' TERM; echo working; "
                   "while true; do sleep 1 & wait $!; done")
        ignores = "echo 'working (no trap)'; while true; do sleep 1; done"
        return [cls.worker_pod("handles-term", handles, grace), cls.worker_pod("ignores-term", ignores, grace)]


def _without_empty_labels(docs):
    """The Python wrote ``labels: {}`` on unlabelled pods; the file leaves the field out. The API server
    keeps no empty labels (ObjectMeta.Labels is ``json:"labels,omitempty"``, k8s.io/apimachinery
    v0.36.4, the v1.36.4 release's, pkg/apis/meta/v1/types.go:243), so the pod created is the same: the one difference allowed."""
    docs = copy.deepcopy(docs)
    for doc in docs:
        if doc["metadata"].get("labels") == {}:
            del doc["metadata"]["labels"]
    return docs


CALLS = [
    ("liveness_pods", (), {}), ("liveness_pods", (), {"fail_after": 15}), ("liveness_pods", (5,), {}),
    ("readiness_pods", (), {}), ("readiness_pods", (("web-c",),), {}),
    ("service", ("web",), {}), ("service", ("shop", {"tier": "front"}), {}),
    ("slow_start_pods", (), {}), ("slow_start_pods", (), {"start_seconds": 20}),
    ("gated_pod", (), {}),
    ("hook_pods", (), {}), ("hook_pods", (4, 7), {}),
    ("worker_pod", ("worker", "trap 'exit 143' TERM\nwhile true; do sleep 1; done", 12), {}),
    ("sigterm_pods", (), {}), ("sigterm_pods", (), {"grace": 7}),
]


@pytest.mark.parametrize("function, args, keywords", CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_the_file_gives_the_objects_the_python_built(function, args, keywords):
    def as_list(x):
        return x if isinstance(x, list) else [x]

    expected = _without_empty_labels(as_list(getattr(_Frozen, function)(*args, **keywords)))
    assert as_list(getattr(probes, function)(*args, **keywords)) == expected


def test_the_file_holds_exactly_the_lab_s_objects_and_the_module_s_constants_match_it():
    built = (_Frozen.liveness_pods() + _Frozen.readiness_pods() + [_Frozen.service()] + _Frozen.slow_start_pods()
             + [_Frozen.gated_pod()] + _Frozen.hook_pods() + _Frozen.sigterm_pods())
    assert examples.objects(probes.FILE) == _without_empty_labels(built)
    assert (probes.IMAGE, probes.PORT, probes.PROBE_GRACE_SECONDS, probes.GATE) == \
        (_Frozen.IMAGE, _Frozen.PORT, _Frozen.PROBE_GRACE_SECONDS, _Frozen.GATE)
    assert probes.WEB_SERVER == _Frozen.WEB_SERVER


def test_a_caller_may_change_what_it_is_given():
    probes.gated_pod()["spec"]["containers"][0]["image"] = "changed"
    assert probes.gated_pod()["spec"]["containers"][0]["image"] == probes.IMAGE
