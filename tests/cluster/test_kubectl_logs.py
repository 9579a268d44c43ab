"""`kubectl logs` on the kwok engine (issue 10, item 3): the real kubectl, through the real API
server, to the cluster's log endpoint (kjlab/cluster/kwok/log_endpoint.py). Pods are created with
kubectl, as a learner would, so nothing of kjlab's own calls is needed for logs to work.

Expected lines are what bash and python print for these scripts (echo joins its words with one
space, a quoted string keeps its spaces, python's stdout to a pipe is written at exit), not what
the simulation printed."""

import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from kjlab.cluster.kwok import container_logs
from kjlab.cluster import kwok, tools
from kjlab.paths import kubeconfig_path



def kubectl(ctx, *args, timeout=60, check=True):
    return subprocess.run([str(tools.kubectl_path()), "--kubeconfig", str(kubeconfig_path()), "--context", ctx, *args],
                          capture_output=True, text=True, timeout=timeout, check=check)


def run_pod(ctx, ns, name, *command, image="docker.io/library/bash:5", restart="Never"):
    kubectl(ctx, "-n", ns, "run", name, f"--image={image}", f"--restart={restart}", "--command", "--", *command)


def wait_for(ctx, ns, name, jsonpath, want, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = kubectl(ctx, "-n", ns, "get", "pod", name, "-o", f"jsonpath={jsonpath}", check=False).stdout
        if got == want:
            return
        time.sleep(0.3)
    raise AssertionError(f"{name}: {jsonpath} never became {want!r} (last {got!r})")


BANNER = container_logs.BANNER.rstrip("\n")


def test_logs_and_follow_return_the_script_output_and_end_with_the_container(lab, ns):
    ctx = lab["context"]
    run_pod(ctx, ns, "talk", "bash", "-c", 'echo one   two; sleep 3; echo "three  spaced"; exit 4')
    wait_for(ctx, ns, "talk", "{.status.phase}", "Running")
    started = time.monotonic()
    follow = kubectl(ctx, "-n", ns, "logs", "-f", "talk", timeout=40)
    followed_for = time.monotonic() - started
    assert follow.stdout.splitlines() == [BANNER, "one two", "three  spaced"], follow
    # It ended when the container did (3 s of sleep), not after a minute of retries.
    assert followed_for < 15, followed_for
    state = json.loads(kubectl(ctx, "-n", ns, "get", "pod", "talk", "-o",
                               "jsonpath={.status.containerStatuses[0].state}").stdout)
    assert state["terminated"]["exitCode"] == 4, state
    assert kubectl(ctx, "-n", ns, "logs", "talk").stdout.splitlines() == [BANNER, "one two", "three  spaced"]
    assert kubectl(ctx, "-n", ns, "logs", "talk", "--tail=1").stdout.splitlines() == [BANNER, "three  spaced"]


def test_a_running_container_shows_only_what_it_printed_so_far(lab, ns):
    ctx = lab["context"]
    run_pod(ctx, ns, "slow", "sh", "-c", "echo first; sleep 30; echo second")
    wait_for(ctx, ns, "slow", "{.status.phase}", "Running")
    assert kubectl(ctx, "-n", ns, "logs", "slow").stdout.splitlines() == [BANNER, "first"]


def test_python_output_appears_when_the_program_exits(lab, ns):
    ctx = lab["context"]
    run_pod(ctx, ns, "py", "python3", "-c", 'import time\nprint("a")\ntime.sleep(4)\nprint("b")',
            image="docker.io/library/python:3")
    wait_for(ctx, ns, "py", "{.status.phase}", "Running")
    assert kubectl(ctx, "-n", ns, "logs", "py").stdout.splitlines() == [BANNER]  # still in python's buffer
    wait_for(ctx, ns, "py", "{.status.phase}", "Succeeded")
    assert kubectl(ctx, "-n", ns, "logs", "py").stdout.splitlines() == [BANNER, "a", "b"]


def test_previous_shows_the_run_before_a_restart(lab, ns):
    ctx = lab["context"]
    run_pod(ctx, ns, "again", "bash", "-c", "echo attempt; exit 1", restart="OnFailure")
    none = kubectl(ctx, "-n", ns, "logs", "again", "--previous", check=False)
    wait_for(ctx, ns, "again", "{.status.containerStatuses[0].restartCount}", "1")
    previous = kubectl(ctx, "-n", ns, "logs", "again", "--previous")
    assert previous.stdout.splitlines() == [BANNER, "attempt"], previous
    # Before the first restart there was no previous run: the kubelet's own words.
    assert none.returncode != 0 and ('previous terminated container "again" in pod "again" not found' in none.stderr
                                     or "waiting to start" in none.stderr), none


def test_a_container_the_simulation_does_not_run_says_so(lab, ns):
    ctx = lab["context"]
    run_pod(ctx, ns, "maths", "sh", "-c", "echo $((40+2))")
    wait_for(ctx, ns, "maths", "{.status.containerStatuses[0].state.waiting.reason}", "NotSimulated")
    out = kubectl(ctx, "-n", ns, "logs", "maths", check=False)
    assert out.returncode != 0
    assert 'container "maths" in pod "maths" is waiting to start: NotSimulated' in out.stderr, out
    assert "no such host" not in out.stderr


def test_the_log_endpoint_refuses_a_client_without_the_clusters_certificate(lab):
    port = int(kwok._log_endpoint_files()[1].read_text())
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            with tls.wrap_socket(raw) as conn:  # TLS 1.3: the refusal comes with the first read
                conn.sendall(b"GET /containerLogs/default/x/x HTTP/1.1\r\nHost: localhost\r\n\r\n")
                conn.recv(100)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:  # no plain HTTP either
        plain.sendall(b"GET /containerLogs/default/x/x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            answer = plain.recv(100)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(b"HTTP/"), answer


def test_a_dead_log_endpoint_is_named_and_restarted_on_its_port(lab, ns):
    from kjlab import cluster

    ctx = lab["context"]
    pid_file, port_file = kwok._log_endpoint_files()
    port = port_file.read_text()
    os.kill(int(pid_file.read_text()), signal.SIGTERM)
    deadline = time.monotonic() + 10
    while kwok.components()[kwok.LOG_ENDPOINT] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not kwok.components()[kwok.LOG_ENDPOINT]
    cluster.up(engine="kwok", progress=None)  # repairs in place
    assert kwok.components()[kwok.LOG_ENDPOINT] and port_file.read_text() == port  # the nodes name that port
    run_pod(ctx, ns, "after", "sh", "-c", "echo back")
    wait_for(ctx, ns, "after", "{.status.phase}", "Succeeded")
    assert kubectl(ctx, "-n", ns, "logs", "after").stdout.splitlines() == [BANNER, "back"]
