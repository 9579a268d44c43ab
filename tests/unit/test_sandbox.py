"""kjlab.sandbox without a cluster: the child is a separate process with a time limit, a scrubbed
environment, resource limits, and (as root) a uid of its own with no rights, private /tmp and home, and no network."""

import os
import secrets
import time

import pytest

import procs
from kjlab.checks import sandbox

ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not ROOT, reason="the uid drop, private mounts and network need root")
FAST = sandbox.Limits(call_seconds=2.0, load_seconds=20.0)


def run(fn, *args, limits=FAST, **kw):
    return sandbox.run(sandbox.from_function(fn), args, limits=limits, **kw)


def runners_left(out: sandbox.Outcome) -> list[int]:
    """Processes of this answer still running: as root, any process of the check's own uid (so another
    suite's checks running meanwhile do not count); otherwise any sandboxed runner (its command line)."""
    uid = int(out.user.split("(")[1].rstrip(")")) if out.user.startswith("a uid of its own (") else None
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            owner = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue
        if (owner == uid and argv != [b""]) if uid is not None else (
                any(a.endswith(b"sandbox.py") for a in argv) and b"--run" in argv):
            left.append(int(pid))
    return left


def test_a_function_that_returns_with_its_arguments():
    def step(context, namespace, pod):
        print("got", context, namespace, pod)

    out = run(step, "ctx", "ns", "pod-1")
    assert out.status == "returned" and out.explanation() == "your function returned"
    assert "got ctx ns pod-1" in out.output


def test_an_error_is_one_line_with_the_line_number():
    def step():
        x = 1
        raise RuntimeError(f"forgot this {x}")

    out = run(step)
    assert out.status == "raised"
    assert out.explanation() == "RuntimeError: forgot this 1 (line 3)"


def test_an_infinite_loop_is_stopped_in_time_and_says_so():
    def step():
        while True:
            pass

    started = time.monotonic()
    out = run(step)
    assert out.status == "timeout", out
    assert out.explanation() == "your function did not return within 2 s: the check stopped it"
    assert time.monotonic() - started < 10
    assert not runners_left(out)


def test_a_loop_at_the_top_level_of_a_file_is_stopped_while_loading():
    code = sandbox.Code("while True:\n    pass\n\ndef mark_and_delete(c, n, p):\n    pass\n", "mark_and_delete", "a.py")
    out = sandbox.run(code, ("c", "n", "p"), limits=sandbox.Limits(call_seconds=2, load_seconds=3))
    assert out.status == "load-timeout"
    assert "did not finish loading within 3 s" in out.explanation()


def test_a_file_without_the_function():
    out = sandbox.run(sandbox.Code("x = 1\n", "mark_and_delete", "a.py"), limits=FAST)
    assert out.status == "no-function" and out.explanation() == "a.py defines no function mark_and_delete"


def test_a_fork_bomb_is_contained_and_every_process_is_gone_afterwards():
    def step():
        import os

        while True:
            try:
                if os.fork() == 0:
                    os.setsid()  # try to leave the process group, too
            except OSError:
                pass

    out = run(step)
    assert out.status in ("timeout", "died"), out
    time.sleep(0.2)
    assert not runners_left(out)


def test_the_environment_is_scrubbed(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/agent.sock")
    monkeypatch.setenv("KUBECONFIG", "/somewhere/kubeconfig")

    def step():
        import json
        import os

        print(json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}))

    out = run(step, env={"KUBECONFIG": "{workdir}/kubeconfig"})
    assert out.status == "returned", out
    import json

    seen = json.loads(out.output.strip().splitlines()[-1])
    env, cwd = seen["env"], seen["cwd"]
    assert "AWS_SECRET_ACCESS_KEY" not in env and "SSH_AUTH_SOCK" not in env
    assert env["KUBECONFIG"] == f"{cwd}/kubeconfig" and env["HOME"] == cwd and env["TMPDIR"] == cwd
    assert os.path.basename(cwd).startswith("kjlab-answer-")


def test_memory_is_limited():
    def step():
        block = bytearray(3 << 30)  # 3 GiB, above the 2 GiB address-space limit
        return len(block)

    out = run(step)
    assert out.status == "raised" and out.detail.startswith("MemoryError")


def test_file_size_is_limited():
    def step():
        with open("big", "wb") as f:
            f.write(b"x" * (2 << 20))

    out = run(step)
    assert out.status in ("raised", "died"), out
    assert "File too large" in out.detail or "SIGXFSZ" in out.detail


@root_only
def test_as_root_the_code_runs_as_a_uid_of_its_own_and_cannot_write_outside_its_temp_dir():
    outside = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"pwned-{secrets.token_hex(4)}.txt")
    in_tmp = f"/tmp/kjlab-sandbox-test-{secrets.token_hex(4)}"

    def step():
        import os

        print("uid", os.getuid(), "groups", os.getgroups())
        open("inside.txt", "w").write("ok")          # its own temp dir: allowed
        open(in_tmp, "w").write("x")                  # a private /tmp: allowed, gone afterwards
        open(outside, "w").write("x")                 # the machine: refused

    out = run(step)
    uid = int(out.user.split("(")[1].rstrip(")"))
    assert sandbox.CHECK_UIDS[0] <= uid <= sandbox.CHECK_UIDS[1]
    assert f"uid {uid} groups []" in out.output
    # Refused either way: not writable by that uid, or read-only where the repo came back into a private /tmp.
    assert out.status == "raised" and out.detail.startswith(("PermissionError", "OSError: [Errno 30]")), out
    assert not os.path.exists(outside) and not os.path.exists(in_tmp)
    assert out.user.startswith("a uid of its own") and out.private_tmp


@root_only
def test_as_root_the_checkers_home_and_kubeconfig_are_out_of_reach():
    kubeconfig = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")

    def step():
        import os

        print("home:", ",".join(os.listdir(os.path.expanduser("~root"))))
        open(kubeconfig).read()

    out = run(step)
    home = next(line for line in out.output.splitlines() if line.startswith("home:"))
    assert ".kube" not in home and ".ssh" not in home and ".local" not in home, home
    assert out.status == "raised" and out.detail.split(":")[0] in ("PermissionError", "FileNotFoundError"), out


@root_only
def test_as_root_the_network_holds_only_the_given_address():
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    allowed = server.getsockname()[1]
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(4)
    blocked = other.getsockname()[1]

    def step():
        import socket

        for port in (allowed, blocked):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                print(port, "open")
            except OSError as e:
                print(port, type(e).__name__)

    out = run(step, connect=("127.0.0.1", allowed))
    assert f"{allowed} open" in out.output and f"{blocked} ConnectionRefusedError" in out.output, out.output
    assert out.private_network
    server.close()
    other.close()


# --- what goes along with a notebook function -------------------------------------------------

LIMIT = 3


def helper(x):
    return x * LIMIT


def test_modules_values_and_helper_functions_go_along():
    import kjlab.actions.ops as ops  # noqa: F401 -- a module global of the function below

    def step():
        print(helper(2), LIMIT, os.sep, ops.__name__)

    code = sandbox.from_function(step)
    assert "import os" in code.source and "LIMIT = 3" in code.source
    assert "def helper" in code.source  # this test module is not importable in the child: sent by source
    assert "import kjlab.actions.ops as ops" in code.source
    out = sandbox.run(code, limits=FAST)
    assert out.status == "returned" and "6 3 / kjlab.actions.ops" in out.output


def test_an_object_cannot_go_along_and_the_learner_is_told_what_to_do():
    client = object()

    def step():
        return client

    with pytest.raises(sandbox.NotSendable) as e:
        sandbox.from_function(step)
    assert "uses `client` (a object)" in e.value.message and "inside the function" in e.value.fix


def test_a_lambda_is_refused_with_the_fix():
    with pytest.raises(sandbox.NotSendable) as e:
        sandbox.from_function(lambda c, n, p: None)
    assert "lambda" in e.value.message and "def" in e.value.fix


def test_a_function_without_source_is_refused():
    namespace = {}
    exec("def mark_and_delete(c, n, p):\n    pass\n", namespace)
    with pytest.raises(sandbox.NotSendable) as e:
        sandbox.from_function(namespace["mark_and_delete"])
    assert "cannot find the source of mark_and_delete" in e.value.message


# --- nothing outlives its check (issue 31) ------------------------------------------------------
# Each answer below starts a detached sleeper (double fork + setsid, so it is re-parented away from the
# answer) whose command line carries a token of its own: afterwards no process may carry it.

def test_a_detached_process_after_closing_the_result_channel_is_stopped_and_said_so():
    token = procs.token()

    def step():
        import os
        import sys

        os.close(int(sys.argv[3]))  # the check's result channel
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", token])
            os._exit(0)
        import time
        time.sleep(60)

    out = run(step)
    assert out.status == "timeout", out
    assert "did not return within 2 s" in out.explanation()
    assert procs.gone(token), f"left running: {procs.left(token)}"


def test_a_detached_process_is_stopped_when_the_function_ends_without_its_channel():
    token = procs.token()

    def step():
        import os
        import sys

        os.close(int(sys.argv[3]))
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", token])
            os._exit(0)

    out = run(step)
    assert out.status == "died", out
    assert out.explanation().startswith("your function ended its process: exit status"), out.explanation()
    assert procs.gone(token), f"left running: {procs.left(token)}"


def test_writing_loaded_again_does_not_rearm_the_time_limit():
    token = procs.token()

    def step():
        import os
        import sys
        import time

        channel = int(sys.argv[3])
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", token])
            os._exit(0)
        while True:
            os.write(channel, b"loaded\n")
            time.sleep(0.5)

    started = time.monotonic()
    out = run(step)
    assert out.status == "timeout", out
    assert time.monotonic() - started < 15
    assert procs.gone(token), f"left running: {procs.left(token)}"


def test_ctrl_c_during_a_check_stops_every_process_of_the_answer(tmp_path):
    import signal
    import subprocess
    import sys

    token = procs.token()
    script = tmp_path / "check.py"
    procs.caller_script(script, token, "try:\n"
                                       "    sandbox.run(code, limits=sandbox.Limits(call_seconds=30, load_seconds=20))\n"
                                       "except KeyboardInterrupt:\n"
                                       "    print('interrupted', flush=True)\n")
    # A shell that starts CI in the background leaves SIGINT ignored in every process below it, and
    # Python then installs no KeyboardInterrupt handler: the caller gets SIGINT's default back, as a
    # learner's kernel has it.
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert procs.started(token), "the answer's sleeper never started"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert "interrupted" in out
    assert procs.gone(token), f"left running: {procs.left(token)}"


def _saboteur():
    """Leaves behind a process that kills every other process of its own user, forever."""
    import os
    import signal

    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            me = os.getuid()
            while True:
                for pid in filter(str.isdigit, os.listdir("/proc")):
                    try:
                        if int(pid) != os.getpid() and os.stat(f"/proc/{pid}").st_uid == me:
                            os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
        os._exit(0)


def _isolated() -> bool:
    """The answer runs in a PID namespace of its own (its processes cannot see or signal others)."""
    out = run(lambda_free_probe)
    return out.returned and out.private_pids


def lambda_free_probe():
    return None


def test_a_saboteur_left_by_one_check_cannot_kill_the_next_one():
    if not _isolated():
        pytest.skip("no PID namespace here: a saboteur would kill this test's own processes")
    out = run(_saboteur)
    assert out.status in ("returned", "died"), out

    def correct():
        import time

        time.sleep(1)
        print("still here")

    out = run(correct)
    assert out.status == "returned" and "still here" in out.output, out


def test_a_saboteur_running_beside_a_check_cannot_kill_it():
    import threading

    if not _isolated():
        pytest.skip("no PID namespace here: a saboteur would kill this test's own processes")

    def sabotage_and_wait():
        import time

        _saboteur()
        time.sleep(1.5)

    def correct():
        import time

        time.sleep(2)
        print("still here")

    beside = threading.Thread(target=run, args=(sabotage_and_wait,),
                              kwargs={"limits": sandbox.Limits(call_seconds=6.0, load_seconds=20.0)})
    beside.start()
    out = run(correct, limits=sandbox.Limits(call_seconds=6.0, load_seconds=20.0))
    beside.join()
    assert out.status == "returned" and "still here" in out.output, out


@root_only
def test_a_check_cannot_reach_another_checks_files_through_proc():
    import threading

    secret = secrets.token_hex(8)

    def victim():
        import time

        open("secret.txt", "w").write(secret)
        time.sleep(4)
        print("intact" if open("secret.txt").read() == secret else "changed")

    def attacker():
        import os
        import time

        found = []
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    path = f"/proc/{pid}/cwd/secret.txt"
                    found.append(open(path).read())
                    open(path, "w").write("overwritten")
                except OSError:
                    pass
            time.sleep(0.2)
        print("found:", sorted(set(found)))

    limits = sandbox.Limits(call_seconds=8.0, load_seconds=20.0)
    result = {}
    beside = threading.Thread(target=lambda: result.update(v=run(victim, limits=limits)))
    beside.start()
    time.sleep(0.5)
    attack = run(attacker, limits=limits)
    beside.join()
    assert attack.returned and secret not in attack.output, attack.output
    assert result["v"].returned and "intact" in result["v"].output, result["v"]
    assert result["v"].user != attack.user  # each check its own uid


def test_a_killed_caller_takes_the_answer_with_it(tmp_path):
    import signal
    import subprocess
    import sys

    token = procs.token()
    script = tmp_path / "check.py"
    procs.caller_script(script, token, "sandbox.run(code, limits=sandbox.Limits(call_seconds=30, load_seconds=20))\n")
    proc = subprocess.Popen([sys.executable, str(script)])
    assert procs.started(token), "the answer's sleeper never started"
    proc.send_signal(signal.SIGKILL)  # a notebook kernel restarted: no clean-up of its own
    proc.wait()
    assert procs.gone(token), f"left running: {procs.left(token)}"


def test_signals_the_answer_sends_to_process_1_do_not_end_the_check_early():
    def step():
        import os
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                os.kill(1, sig)
            except OSError:
                pass
        print("after")

    out = run(step)
    if not out.private_pids:
        pytest.skip("no PID namespace here: process 1 is the machine's init")
    assert out.status == "returned" and "after" in out.output and "Traceback" not in out.output, out
