"""A hostile or clumsy answer to config-issue-step, on the real cluster: each is stopped or refused,
the verdict says why, and nothing outside the check's own namespace changes.

Each test makes a `victim` namespace with a running pod; the answer knows its name. Afterwards the
namespaces, the victim pod (same uid, not being deleted, no new conditions) and the nodes must be
exactly as before.
"""

import os
import secrets
import textwrap

import pytest
from kubernetes import client

from kjlab import checks as check
from kjlab.api import kube, readers, wait
from kjlab.checks import sandbox
from kjlab.cli import main

ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not ROOT, reason="without root the answer runs as the checker's user and can read "
                                                "its files; kjlab check refuses someone else's .py there instead")


@pytest.fixture
def victim(lab, ns):
    core = kube.core(lab["context"])
    core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name="victim"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="docker.io/library/bash:5",
                                                             command=["bash", "-c", "sleep infinity"])])))
    wait.pod(lab["context"], ns, lambda p: readers.phase(p) == "Running" and readers.is_true(p, "Ready"),
             "the victim pod to run", timeout=30)
    before = world(lab["context"], ns)
    yield {"namespace": ns, "pod": "victim", "context": lab["context"]}
    assert world(lab["context"], ns) == before, "something outside the check's namespace changed"


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(check, "STEP_LIMITS", sandbox.Limits(call_seconds=3.0))


def world(context, victim_ns):
    core = kube.core(context)
    # namespaces being deleted (a previous test's, the check's own) come and go on their own
    active = sorted(readers.name(n) for n in kube.raw(core.list_namespace)["items"]
                    if readers.phase(n) == "Active" and not readers.name(n).startswith("check-config-issue-step"))
    return {
        "namespaces": active,
        "victim": sorted((readers.name(p), readers.uid(p), not readers.deleting(p),
                          tuple(sorted(c["type"] for c in readers.conditions(p))))
                         for p in kube.raw(core.list_namespaced_pod, victim_ns)["items"]),
        "nodes": sorted((readers.name(n), readers.unschedulable(n)) for n in kube.raw(core.list_node)["items"]),
        "service_accounts": sorted(f"{readers.meta(s).get('namespace')}/{readers.name(s)}"
                                   for s in kube.raw(core.list_service_account_for_all_namespaces)["items"]
                                   if readers.meta(s).get("namespace") in active),
    }


def explained(verdict, *phrases):
    text = str(verdict)
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{missing} not in:\n{text}"


def runners_left(verdict):
    """Processes of this check's answer still running. As root each check runs as a uid of its own
    (in the verdict's evidence), so other checks running on the machine meanwhile (another suite's)
    do not count; otherwise every sandbox runner does."""
    user = ((verdict.evidence or {}).get("sandbox") or {}).get("user", "")
    uid = int(user.split("(")[1].rstrip(")")) if user.startswith("a uid of its own (") else None
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            owner = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue
        if uid is not None and owner == uid and argv != [b""]:
            left.append(pid)
        elif uid is None and any(a.endswith(b"sandbox.py") for a in argv) and b"--run" in argv:
            left.append(pid)
    return left


def test_another_namespace_is_out_of_reach(victim):
    victim_ns, victim_pod = victim["namespace"], victim["pod"]

    def mark_and_delete(context, namespace, pod_name):
        from kubernetes import client

        from kjlab.api import kube

        core = kube.core(context)
        tries = {
            "delete the victim pod": lambda: core.delete_namespaced_pod(victim_pod, victim_ns),
            "patch the victim's status": lambda: core.patch_namespaced_pod_status(
                victim_pod, victim_ns, {"status": {"conditions": [{"type": "ConfigIssue", "status": "True"}]}},
                _content_type=kube.STRATEGIC_MERGE),
            "delete the victim namespace": lambda: core.delete_namespace(victim_ns),
            "create a namespace": lambda: core.create_namespace({"metadata": {"name": "pwned"}}),
            "cordon a node": lambda: core.patch_node("kjlab-worker", {"spec": {"unschedulable": True}}),
            "read secrets here": lambda: core.list_namespaced_secret(namespace),
            "make a pod here": lambda: core.create_namespaced_pod(namespace, {
                "metadata": {"name": "x"}, "spec": {"containers": [{"name": "x", "image": "x"}]}}),
        }
        for what, call in tries.items():
            try:
                call()
                print(f"{what}: ALLOWED")
            except client.ApiException as e:
                print(f"{what}: {e.status}")
        core.delete_namespaced_pod(victim_pod, victim_ns)  # the verdict shows this one

    v = check.run("config-issue-step", mark_and_delete, context=victim["context"], echo=False)
    assert not v.passed
    explained(v, "your function raised an error", "Exception: (403)",
              "the API server refused a request (403)", "in the check's namespace")
    output = v.evidence["sandbox"]["output"]
    assert "ALLOWED" not in output, output
    for what in ("delete the victim pod", "patch the victim's status", "delete the victim namespace",
                 "create a namespace", "cordon a node", "read secrets here", "make a pod here"):
        assert f"{what}: 403" in output, output


def test_the_kjlab_ops_guard_lets_the_scoped_context_through_but_rbac_does_not(victim):
    victim_ns, victim_pod = victim["namespace"], victim["pod"]

    def mark_and_delete(context, namespace, pod_name):
        import kjlab

        kjlab.ops.delete_pod(context, victim_ns, victim_pod)

    v = check.run("config-issue-step", mark_and_delete, context=victim["context"], echo=False)
    assert not v.passed
    explained(v, "Exception: (403)", "may only get, list, watch, patch and delete pods")


@root_only
def test_the_checkers_kubeconfig_is_out_of_reach(victim):
    kubeconfig = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    checker_context = victim["context"]

    def mark_and_delete(context, namespace, pod_name):
        import os

        from kjlab.api import kube

        print("KUBECONFIG is", os.environ.get("KUBECONFIG"))
        try:
            kube.core(checker_context).list_namespace()
            print("checker context: ALLOWED")
        except Exception as e:
            print("checker context:", type(e).__name__)
        open(kubeconfig).read()

    v = check.run("config-issue-step", mark_and_delete, context=victim["context"], echo=False)
    assert not v.passed
    output = v.evidence["sandbox"]["output"]
    assert "checker context: KjlabError" in output and "ALLOWED" not in output, output
    assert kubeconfig not in output.split("KUBECONFIG is", 1)[1].splitlines()[0]
    explained(v, "your function raised an error")
    assert any(e in str(v) for e in ("PermissionError", "FileNotFoundError")), v


@root_only
def test_a_file_outside_the_temp_dir_cannot_be_written(victim):
    outside = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"pwned-{secrets.token_hex(3)}.txt")
    in_tmp = f"/tmp/pwned-{secrets.token_hex(3)}.txt"

    def mark_and_delete(context, namespace, pod_name):
        open("mine.txt", "w").write("my own temp dir: fine")
        open(in_tmp, "w").write("a private /tmp: fine, and gone afterwards")
        open(outside, "w").write("pwned")

    v = check.run("config-issue-step", mark_and_delete, context=victim["context"], echo=False)
    assert not v.passed
    explained(v, "your function raised an error", "runs as a uid of its own (", "in a temp directory of its own")
    # Refused either way: not writable by the check's uid, or read-only where the repo came back into a private /tmp.
    assert "PermissionError" in str(v) or "Read-only file system" in str(v), str(v)
    assert not os.path.exists(outside) and not os.path.exists(in_tmp)


def test_an_infinite_loop_is_stopped(victim, quick):
    def mark_and_delete(context, namespace, pod_name):
        while True:
            pass

    v = check.run("config-issue-step", mark_and_delete, context=victim["context"], echo=False)
    assert not v.passed
    assert v.headline == "your function did not return within 3 s: the check stopped it"
    explained(v, "every process it started were stopped")
    assert not runners_left(v)


def test_a_fork_bomb_is_stopped(victim, quick):
    def mark_and_delete(context, namespace, pod_name):
        import os

        while True:
            try:
                if os.fork() == 0:
                    os.setsid()
            except OSError:
                pass

    v = check.run("config-issue-step", mark_and_delete, context=victim["context"], echo=False)
    assert not v.passed
    assert v.headline in ("your function did not return within 3 s: the check stopped it",) or "ended its process" in v.headline, v
    assert not runners_left(v)


def test_the_token_dies_with_the_check(lab):
    """The solution passes in the sandbox; the token it was given can do nothing once the check is
    done (its RoleBinding is gone: 403 at once), and is refused outright (401) once the API server's
    token cache (10 s) lets go of its deleted ServiceAccount."""
    import time


    def mark_and_delete(context, namespace, pod_name):
        import kjlab

        print("TOKEN", open("kubeconfig").read().split("token: ")[1].split()[0])
        kjlab.ops.patch_pod_condition(context, namespace, pod_name, "ConfigIssue", "True", reason="NonExistingImage")
        kjlab.ops.delete_pod(context, namespace, pod_name)

    v = check.run("config-issue-step", mark_and_delete, context=lab["context"], echo=False)
    assert v.passed, v
    sandboxed = v.evidence["sandbox"]
    assert sandboxed["status"] == "returned" and "kubectl delete pod" in sandboxed["output"]
    if ROOT:
        assert sandboxed["user"].startswith("a uid of its own") and sandboxed["private_tmp"] and sandboxed["private_network"]
    token = sandboxed["output"].split("TOKEN ", 1)[1].split()[0]
    conf = kube.api_client(lab["context"]).configuration
    api = client.Configuration()
    api.host, api.ssl_ca_cert, api.api_key = conf.host, conf.ssl_ca_cert, {"authorization": f"Bearer {token}"}
    core = client.CoreV1Api(client.ApiClient(api))
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and 401 not in seen:
        with pytest.raises(client.ApiException) as e:
            core.list_namespaced_pod(v.evidence["namespace"])
        seen.append(e.value.status)
        time.sleep(1)
    assert set(seen) <= {403, 401} and seen[-1] == 401, seen


def test_the_cli_runs_your_own_py_file_in_the_sandbox(lab, tmp_path, capsys):
    f = tmp_path / "answer.py"
    f.write_text(textwrap.dedent("""\
        import kjlab

        def mark_and_delete(context, namespace, pod_name):
            kjlab.ops.patch_pod_condition(context, namespace, pod_name, "ConfigIssue", "True", reason="NonExistingImage")
            kjlab.ops.delete_pod(context, namespace, pod_name)
        """))
    os.chmod(f, 0o644)
    assert main(["check", "config-issue-step", "--answer", str(f), "--context", lab["context"]]) == 0
    assert "PASS · config-issue-step" in capsys.readouterr().out
