"""The sandbox's escape cases with a checker that is not root (issue 31): run as ``nobody`` with the
system's Python (the sandbox is stdlib-only), the answer runs as that same user -- so only a PID
namespace of its own (inside a user namespace) keeps its processes from outliving the check or from
killing another check's. Root sees every process afterwards and asserts that none of the answer's is left.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

import procs
from kjlab.checks import sandbox

SANDBOX = os.path.abspath(sandbox.__file__)
SYSTEM_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="needs root (to become nobody with setpriv) and the system's python3")

# Runs as nobody. Each case starts a detached sleeper carrying TOKEN-<case> in its command line.
SCRIPT = r'''
import importlib.util, json, os, signal, sys, threading, time
spec = importlib.util.spec_from_file_location("kjlab_sandbox", SANDBOX)
sandbox = importlib.util.module_from_spec(spec)
sys.modules["kjlab_sandbox"] = sandbox
spec.loader.exec_module(sandbox)
FAST = sandbox.Limits(call_seconds=2.0, load_seconds=20.0)
DETACH = """
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv('/bin/sleep', ['sleep', '{token}'])
        os._exit(0)
"""
def code(body, token=""):
    return sandbox.Code("import os, sys, time\ndef step():\n" + DETACH.format(token=token) + body, "step")
def run(body, token, limits=FAST):
    out = sandbox.run(code(body, token), limits=limits, python=sys.executable)
    return {"status": out.status, "explanation": out.explanation(), "pids": out.private_pids, "user": out.user,
            "output": out.output}
results = {}
results["closed"] = run("    os.close(int(sys.argv[3]))\n    time.sleep(60)\n", TOKEN + "1")
results["rearm"] = run("    while True:\n        os.write(int(sys.argv[3]), b'loaded\\n')\n        time.sleep(0.5)\n",
                       TOKEN + "2")
# Ctrl-C: SIGINT to ourselves once the sleeper runs. A shell that starts CI in the background leaves
# SIGINT ignored in every process below it, and Python then installs no KeyboardInterrupt handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
def interrupt():
    time.sleep(3)
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt, daemon=True).start()
try:
    run("    time.sleep(60)\n", TOKEN + "3", sandbox.Limits(call_seconds=30, load_seconds=20))
    results["ctrl-c"] = "not interrupted"
except KeyboardInterrupt:
    results["ctrl-c"] = "interrupted"
SABOTEUR = """    me = os.getuid()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                for pid in filter(str.isdigit, os.listdir('/proc')):
                    try:
                        if int(pid) != os.getpid() and os.stat('/proc/' + pid).st_uid == me:
                            os.kill(int(pid), 9)
                    except OSError:
                        pass
        os._exit(0)
    time.sleep(1)
"""
results["saboteur"] = run(SABOTEUR, TOKEN + "4") if results["closed"]["pids"] else None
results["correct"] = run("    time.sleep(1)\n    print('still here')\n", TOKEN + "5")
print(json.dumps(results))
'''


def test_as_a_non_root_user_nothing_of_an_answer_outlives_its_check(tmp_path):
    token = f"1000.{int(time.time() * 1000) % 10**8:08d}"
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(home, 0o777)
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SYSTEM_PYTHON, "-c",
                            f"open({SANDBOX!r}).read()"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot read {SANDBOX} here: {probe.stderr.strip().splitlines()[-1:]}")
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SYSTEM_PYTHON, "-I", "-"],
        input=f"SANDBOX = {SANDBOX!r}\nTOKEN = {token!r}\n" + SCRIPT, capture_output=True, text=True,
        timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}, cwd=str(home))
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert procs.gone(token), f"left running: {procs.left(token)}"
    assert results["closed"]["status"] == "timeout", results["closed"]
    assert results["closed"]["user"].startswith("uid 65534"), results["closed"]
    assert results["rearm"]["status"] == "timeout", results["rearm"]
    assert results["ctrl-c"] == "interrupted"
    assert results["correct"]["status"] == "returned" and "still here" in results["correct"]["output"], results
    if not results["closed"]["pids"]:
        pytest.skip("this kernel gives a non-root user no PID namespace: the saboteur case was not run "
                    "(the other cases passed with the subreaper alone)")
    assert results["saboteur"]["status"] in ("returned", "died"), results["saboteur"]
