"""A class on Kubernetes as three learners and their instructor meet it (issue 29): the hub
(KubeSpawner) and the proxy from kjlab's chart on a kind cluster of one control plane and three
workers; each learner logs in through the proxy in Chromium, gets a pod of their own with a volume
of their own, runs lab 01 (FAST) on the kwok cluster inside that pod and one exercise check; the
instructor's report shows all three. Then what a class meets on a real cluster: a learner's pod
deleted mid-lab comes back with their notebooks, the hub's pod deleted leaves the learners' servers
running, and one learner cannot reach another's server, cluster or volume."""

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests
from kubernetes.utils import parse_quantity

from kjlab.classroom.client import Learner

from .conftest import ARTIFACTS, say

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.jupyter_page import run_all_cells, wait_for_output  # noqa: E402
from tests.classroom.test_hub_in_browser import CHROMIUM, CHROMIUM_ARGS, RIGHT, WRONG, lab01_notebook  # noqa: E402

ANSWERS = {"ada": RIGHT, "bob": WRONG, "cyd": RIGHT}
NOTEBOOK = "01-class.ipynb"
HOME = "/home/learner"


def _put_notebook(klass, login: str, answer: str) -> None:
    """Into the learner's home on their volume, as the learner (kubectl exec runs as the container's user)."""
    klass.kubectl("exec", "-i", f"jupyter-{login}", "--", "sh", "-c", f"cat > {HOME}/{NOTEBOOK}",
                  input=nbformat.writes(lab01_notebook(answer)))


def _pod(klass, login: str) -> dict:
    found = klass.kubectl("get", "pod", f"jupyter-{login}", "-o", "json", check=False)
    if found.returncode != 0 and "NotFound" in found.stderr:
        # the later tests use the servers the first one started: say so rather than a bare NotFound
        raise AssertionError(f"{login} has no server pod (jupyter-{login}): the first test, which logs the "
                             f"three learners in, did not get that far ({found.stderr.strip()})")
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout)


def test_three_learners_in_chromium_each_run_lab01_on_their_own_cluster_and_the_report_shows_all(klass):
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pages = {}
        try:
            for login, answer in ANSWERS.items():
                context = browser.new_context(viewport={"width": 1400, "height": 1000})  # own cookies
                page = context.new_page()
                started = time.monotonic()
                page.goto(f"{klass.base}/hub/login")
                page.fill("#username_input", login)
                page.fill("#password_input", klass.password(login))
                page.click("#login_submit")
                # KubeSpawner: a volume provisioned, a pod scheduled and started, JupyterLab up
                page.wait_for_url(f"**/user/{login}/lab**", timeout=600_000)
                klass.timings[f"login_to_lab_{login}_s"] = time.monotonic() - started
                say(f"{login}: logged in, their JupyterLab open in {klass.timings[f'login_to_lab_{login}_s']:.0f}s")
                _put_notebook(klass, login, answer)
                page.goto(f"{klass.base}/user/{login}/lab/tree/{NOTEBOOK}")
                page.wait_for_selector(".jp-Notebook", timeout=120_000)
                run_all_cells(page, NOTEBOOK, shot=str(ARTIFACTS / f"{login}-run-all.png"))
                pages[login] = (page, time.monotonic())
            outputs = {}
            for login, (page, started) in pages.items():  # all three run at once; wait for each verdict
                try:
                    outputs[login] = wait_for_output(page, "VERDICT ")
                finally:
                    page.screenshot(path=str(ARTIFACTS / f"{login}.png"))
                klass.timings[f"lab01_{login}_s"] = time.monotonic() - started
        finally:
            browser.close()
    for login, answer in ANSWERS.items():
        out = outputs[login]
        assert "(kwok engine)" in out, out[-2000:]  # each learner's own cluster, inside their pod
        assert f"VERDICT {answer == RIGHT}" in out, out[-2000:]
    # Three pods, three volumes, spread by the scheduler over the workers (not all on one node).
    pods = {login: _pod(klass, login) for login in ANSWERS}
    claims = {login: [v["persistentVolumeClaim"]["claimName"] for v in p["spec"]["volumes"]
                      if "persistentVolumeClaim" in v] for login, p in pods.items()}
    assert claims == {login: [f"claim-{login}"] for login in ANSWERS}, claims
    say("learner pods on nodes: " + ", ".join(f"{k}={p['spec']['nodeName']}" for k, p in pods.items()))

    report = klass.kjlab("class", "report", "--kubernetes", "kind-kjlab-class", "--json")
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    text = report.stdout
    data = json.loads(text[text.index("{"):text.rindex("}") + 1])
    for login, answer in ANSWERS.items():
        assert data["table"][login]["failjob-policy"]["passed"] is (answer == RIGHT), data["table"]
    assert data["progress"]["failjob-policy"] == 2, data["progress"]


def test_a_learner_whose_memory_ran_out_is_told_why_by_the_next_lab_cell(klass):
    """A process in ada's pod outgrows the pod's memory limit: the kernel's OOM killer ends it (as it
    would end her notebook's kernel, which JupyterLab reports only as "died"), her server goes on,
    and the first line of her next `kjlab.Lab(...)` (kjlab.lab.connect -> kjlab.oom) says memory ran
    out, with the pod's limit. Run as ada would: her user, her home's state directory."""
    look = ("from kjlab import oom; from kjlab.paths import state_dir; "
            "print(oom.since_last_look(state_dir() / 'oom-kills.json'))")
    # What her next kjlab.Lab() also asks the hub (kjlab-results reads her pod with the hub's service
    # account): her server has not been started again, so there is nothing to say of it.
    ask = ("import json, os; from kjlab import oom; url = os.environ['KJLAB_RESULTS_URL']; "
           "print(json.dumps(oom.ask_hub(url[:-len('verdict')] + 'server', os.environ['JUPYTERHUB_API_TOKEN'], 30)))")
    answer = klass.kubectl("exec", "jupyter-ada", "--", "python3", "-c", ask, timeout=120).stdout.strip()
    say(f"the hub's answer about ada's server: {answer}")
    assert json.loads(answer) == {"pod": "jupyter-ada", "restarts": 0, "last": None}, answer
    group = klass.kubectl("exec", "jupyter-ada", "--", "python3", "-c", "from kjlab import oom; print(oom.read().group_kill)",
                          timeout=120).stdout.strip()
    if group == "True":  # cgroup v2 nodes: a kill ends ada's whole server, and nothing inside can say why (kjlab.oom)
        pytest.skip("the nodes kill a whole container at its memory limit (cgroup v2 memory.oom.group); "
                    "kjlab.oom's line needs one process killed at a time (cgroup v1 or singleProcessOOMKill)")
    first = klass.kubectl("exec", "jupyter-ada", "--", "python3", "-c", look, timeout=120).stdout.strip()
    limit = parse_quantity(_pod(klass, "ada")["spec"]["containers"][0]["resources"]["limits"]["memory"])
    hog = klass.kubectl("exec", "jupyter-ada", "--", "python3", "-c", f"b = bytearray({int(limit * 3 // 2)}); print('survived')",
                        check=False, timeout=300)
    said = klass.kubectl("exec", "jupyter-ada", "--", "python3", "-c", look, timeout=120).stdout.strip()
    say(f"before: {first!r}; the hog of 1.5x the limit exited {hog.returncode}; then: {said!r}")
    assert hog.returncode == 137 and "survived" not in hog.stdout, (hog.returncode, hog.stdout, hog.stderr[-300:])
    assert "ended 1 process(es)" in said and f"{limit / 2**30:.1f} GiB" in said, said
    pod = _pod(klass, "ada")
    assert pod["status"]["phase"] == "Running" and not pod["status"]["containerStatuses"][0].get("lastState", {}).get("terminated"), \
        "ada's server itself was ended: the OOM killer chose it, not the hog"


def _log_in(klass, login: str, why: str, within: float = 300) -> Learner:
    """``login`` logged in through the proxy, as their browser would keep trying: again every 5 s while
    the proxy answers 503 (``why``) or the port-forward is down (kubectl port-forward ends when a
    forwarded connection fails: it is started again), for ``within`` seconds at most."""
    learner = Learner(klass.base, login, klass.password(login))
    started = time.monotonic()
    while True:
        klass.forwarding()
        try:
            learner.log_in(timeout=600)
            return learner
        except (requests.HTTPError, requests.ConnectionError) as e:
            status = getattr(e.response, "status_code", None)
            assert status in (503, None) and time.monotonic() - started < within, e
            say(f"{login}: {status or type(e).__name__} {time.monotonic() - started:.0f}s {why}; logging in again in 5 s")
            time.sleep(5)


def test_a_learner_pod_deleted_mid_lab_comes_back_with_their_notebooks(klass):
    before = _pod(klass, "bob")
    assert klass.kubectl("exec", "jupyter-bob", "--", "test", "-s", f"{HOME}/{NOTEBOOK}", check=False).returncode == 0, \
        "bob's notebook is not in his home: the first test did not run"
    klass.kubectl("delete", "pod", "jupyter-bob", "--wait=true", timeout=300)
    started = time.monotonic()
    # Until the hub notices the pod is gone (KubeSpawner's poll), the proxy still routes /user/bob/ to
    # it and answers 503, as bob's browser would show him; then logging in starts his server again.
    learner = _log_in(klass, "bob", "after the delete (the hub has not noticed yet)")  # a new pod, the same claim
    klass.timings["respawn_s"] = time.monotonic() - started
    after = _pod(klass, "bob")
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    names = {item["name"] for item in learner.api("GET", "contents")["content"]}
    assert NOTEBOOK in names and "labs" in names, names
    saved = learner.api("GET", f"contents/{NOTEBOOK}")["content"]
    assert any("VERDICT" in "".join(c["source"]) for c in saved["cells"]), "bob's notebook came back changed"


def test_the_hub_pod_deleted_leaves_the_learners_servers_running(klass):
    ada = _pod(klass, "ada")
    hub = klass.json("get", "pods", "-l", "app.kubernetes.io/component=hub")["items"]
    assert len(hub) == 1
    klass.kubectl("delete", "pod", hub[0]["metadata"]["name"], "--wait=true", timeout=300)
    klass.kubectl("rollout", "status", "deployment/hub", "--timeout=600s", timeout=660)
    after = _pod(klass, "ada")
    assert after["metadata"]["uid"] == ada["metadata"]["uid"], "ada's server was restarted with the hub"
    learner = _log_in(klass, "ada", "after the hub came back")  # the new hub finds her running server: no new pod
    assert _pod(klass, "ada")["metadata"]["uid"] == ada["metadata"]["uid"]
    assert learner.run("print(1 + 1)")["stdout"].strip() == "2"


def _from_ada(klass, code: str) -> str:
    return klass.kubectl("exec", "jupyter-ada", "--", "python3", "-c", code, check=False, timeout=120).stdout.strip()


def test_a_learner_cannot_reach_another_learners_server_cluster_or_volume(klass):
    cyd = _pod(klass, "cyd")
    ip = cyd["status"]["podIP"]
    # cyd's lab cluster: its API server's port, from the kubeconfig kjlab wrote in her home
    server = klass.kubectl("exec", "jupyter-cyd", "--", "python3", "-c",
                           "import yaml; from kjlab.paths import kubeconfig_path; "
                           "print(yaml.safe_load(open(kubeconfig_path()))['clusters'][0]['cluster']['server'])",
                           check=False).stdout.strip()
    assert server.startswith("https://127.0.0.1:"), f"cyd's kwok cluster: {server!r}"
    port = int(server.rsplit(":", 1)[1])
    probe = f"""
import json, socket, urllib.request, urllib.error
out = {{}}
def connect(port):
    try:
        socket.create_connection(({ip!r}, port), timeout=5).close(); return "open"
    except OSError as e:
        return type(e).__name__
out["api_server"] = connect({port})
try:
    r = urllib.request.urlopen("http://{ip}:8888/user/cyd/api/contents", timeout=5)
    out["jupyter"] = r.status
except urllib.error.HTTPError as e:
    out["jupyter"] = e.code
except OSError as e:
    out["jupyter"] = type(e).__name__
import os
out["token"] = os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token")
print(json.dumps(out))
"""
    seen = json.loads(_from_ada(klass, probe).splitlines()[-1])
    say(f"from ada's pod to cyd's ({ip}): {seen}")
    # cyd's kwok API server listens on 127.0.0.1 inside her pod: nothing outside it can connect
    assert seen["api_server"] != "open", seen
    # cyd's server answers nobody without her hub token (a redirect to log in, or a refusal; never her files)
    assert seen["jupyter"] != 200, seen
    # no Kubernetes credentials in a learner's pod: nothing to list or mount another's volume with
    assert seen["token"] is False, seen
    ada = _pod(klass, "ada")
    assert ada["spec"].get("automountServiceAccountToken") is False
    mounted = [v["persistentVolumeClaim"]["claimName"] for v in ada["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert mounted == ["claim-ada"], mounted
    # the NetworkPolicy that admits only the hub and the proxy selects every learner pod
    policy = klass.json("get", "networkpolicy", "singleuser")
    labels = ada["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in policy["spec"]["podSelector"]["matchLabels"].items()), (policy, labels)


def test_network_policy_is_enforced_where_the_cluster_network_enforces_it(klass):
    """The policy itself: ada's pod cannot even open a connection to cyd's server port, while the hub
    and the proxy reach it (the logins of the first test went through them). kjlab's offline kind node
    image routes pods with a stand-in for kindnetd that enforces no NetworkPolicy (tools/kind/kindnetd),
    so the fixture runs kube-router's firewall there (kind_class.enforce_network_policy); the published
    node image's kindnetd enforces it where the kernel has nft_queue. A network that enforces none is
    said and skipped."""
    ip = _pod(klass, "cyd")["status"]["podIP"]
    connect = (f"import socket\ntry:\n socket.create_connection(({ip!r}, 8888), timeout=5).close(); "
               f"print('open')\nexcept OSError as e:\n print(type(e).__name__)")
    seen = _from_ada(klass, connect)
    # the control: the hub, which the policy admits, opens the same port in the same moment
    from_hub = klass.kubectl("exec", "deploy/hub", "--", "python3", "-c", connect, check=False, timeout=120).stdout.strip()
    say(f"to cyd's server ({ip}:8888): from ada's pod {seen}, from the hub {from_hub}")
    assert from_hub == "open", f"the hub cannot reach cyd's server: {from_hub!r}"
    image = klass.json("get", "nodes")["items"][0]["status"]["nodeInfo"]["osImage"]
    if seen == "open":
        assert "network_policy_s" not in klass.timings, \
            "kube-router's firewall runs on the workers (the fixture installed it), yet ada's pod reached cyd's server"
        kindnetd = klass.kubectl("get", "ds", "kindnet", "-n", "kube-system", "-o",
                                 "jsonpath={.spec.template.spec.containers[0].image}", check=False).stdout
        pytest.skip(f"this cluster's network does not enforce NetworkPolicy (kindnet image {kindnetd}, nodes {image}); "
                    "the policy is installed and selects every learner pod (previous test)")
    assert seen in ("timeout", "TimeoutError", "ConnectionRefusedError"), seen

