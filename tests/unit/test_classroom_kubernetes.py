"""Issue 29's pure parts: the hub's settings from the chart's values, the preflight's verdicts, the
wait's reading of Deployments and pods, the kjlab-results inbox, and the generated configuration
(class list or OAuth) loading in JupyterHub's own config machinery. The chart itself: helm lint and
template (tests/classroom/test_chart.py); on a cluster: tests/classroom/test_class_up_kwok.py."""

import json
import threading
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from kjlab.classroom import k8s_hub, kube, report, verdict_service
from kjlab.errors import KjlabError


def test_values_read_like_z2jh_and_override_the_defaults_key_by_key():
    values = {"singleuser": {"image": {"name": "reg.example/learner", "tag": "k1"}, "memory": {"limit": "3G"},
                             "storage": {"capacity": "5Gi", "storageClass": "fast"}}}
    s = k8s_hub.spawner_settings(values, "rel")
    assert s["image"] == "reg.example/learner:k1"
    assert (s["mem_limit"], s["mem_guarantee"]) == ("3G", "0.9G")  # the guarantee falls back to the default
    assert s["storage_capacity"] == "5Gi" and s["storage_class"] == "fast"
    assert s["common_labels"]["app.kubernetes.io/instance"] == "rel"  # what the NetworkPolicy selects
    assert s["volume_mounts"] == [{"name": "home", "mountPath": "/home/learner"}]
    assert s["delete_pvc"] is False and s["storage_pvc_ensure"] is True
    assert "storage_class" not in k8s_hub.spawner_settings({"singleuser": {"image": {"tag": "x"}}}, "r")
    with pytest.raises(ValueError):
        k8s_hub.spawner_settings({"singleuser": {"image": {"name": ""}}}, "r")


def test_the_culler_follows_cull_values_and_can_be_turned_off():
    services, roles = k8s_hub.services_and_roles({"cull": {"timeout": 120, "every": 30}}, python="py")
    culler = next(s for s in services if s["name"] == "idle-culler")
    assert culler["command"] == ["py", "-m", "jupyterhub_idle_culler", "--timeout=120", "--cull-every=30"]
    assert "delete:servers" in next(r for r in roles if r["name"] == "idle-culler")["scopes"]
    services, roles = k8s_hub.services_and_roles({"cull": {"enabled": False}})
    assert [s["name"] for s in services] == ["kjlab-results"] and roles == []


def test_the_class_list_logs_in_unless_hub_config_names_another_authenticator():
    s = k8s_hub.settings({}, "r", ["ada", "bob"])
    assert s["Authenticator"]["allowed_users"] == {"ada", "bob"}
    assert s["ClassListAuthenticator"]["user_prefix"] == ""  # no Unix users: the hub user is the login
    oauth = {"hub": {"config": {"JupyterHub": {"authenticator_class": "github"}}}}
    assert "ClassListAuthenticator" not in k8s_hub.settings(oauth, "r", [])
    assert k8s_hub.settings(oauth, "r", [])["ConfigurableHTTPProxy"]["should_start"] is False


def test_a_user_name_is_one_directory_name():
    assert k8s_hub.safe_name("ada") == "ada"
    assert "/" not in k8s_hub.safe_name("../../etc/x") and not k8s_hub.safe_name("../x").startswith(".")
    assert k8s_hub.safe_name("a.b@uni.example") == "a.b@uni.example"


@pytest.mark.parametrize("context,prod", [("kind-kjlab", False), ("prod", True), ("gke_acme_europe_prod-1", True),
                                          ("production-eu", True), ("arn:aws:eks:x:cluster/Prod", True),
                                          ("reproducible-lab", False), ("kwok-kjlab", False)])
def test_a_context_named_like_production_is_refused_without_the_flag(context, prod):
    assert kube.looks_like_production(context) is prod
    if prod:
        with pytest.raises(KjlabError) as e:
            kube.refuse_production(context, allowed=False)
        assert kube.PRODUCTION_FLAG in e.value.fix
        kube.refuse_production(context, allowed=True)


def _sc(name, default=False):
    return {"metadata": {"name": name, "annotations": {kube.DEFAULT_CLASS: "true"} if default else {}}}


def test_storage_preflight_names_the_fix():
    assert kube.storage_problem([_sc("standard", True)], None) is None
    one = kube.storage_problem([_sc("standard")], None)
    assert "no default StorageClass" in one and "kubectl annotate storageclass standard" in one
    assert "install a provisioner" in kube.storage_problem([], None)
    assert kube.storage_problem([_sc("fast")], "fast") is None
    assert "(it has: fast)" in kube.storage_problem([_sc("fast")], "slow")


def _node(name, images, labels=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "status": {"images": [{"names": images}]}}


def test_a_local_image_must_be_on_every_worker_and_a_registry_image_is_left_to_the_pull():
    nodes = [_node("cp", [], {"node-role.kubernetes.io/control-plane": ""}),
             _node("w1", ["kjlab.local/learner:k1"]), _node("w2", ["docker.io/library/python:3"])]
    problem = kube.image_problem("kjlab.local/learner:k1", nodes, "learner", "kind load docker-image {image}")
    assert "node(s) w2," in problem and "kind load docker-image kjlab.local/learner:k1" in problem
    assert "singleuser.image" in problem
    assert kube.image_problem("python:3", nodes, "learner", "") is None
    assert kube.image_problem("reg.example/learner:k1", nodes, "learner", "") is None
    nodes[2]["status"]["images"][0]["names"].append("kjlab.local/learner:k1")
    assert kube.image_problem("kjlab.local/learner:k1", nodes, "learner", "") is None
    assert kube.normalised("python:3") == "docker.io/library/python:3"
    assert kube.normalised("jupyterhub/k8s-hub:4") == "docker.io/jupyterhub/k8s-hub:4"


def test_class_values_carry_the_images_and_the_instructors_values_win():
    ours = kube.class_values("ada Ada\n", {"ada": {"salt": "00", "hash": "11"}},
                             {"hub": "kjlab.local/hub:abc", "singleuser": "localhost:5000/learner:def"})
    assert ours["hub"]["image"] == {"name": "kjlab.local/hub", "tag": "abc"}
    assert ours["singleuser"]["image"] == {"name": "localhost:5000/learner", "tag": "def"}
    final = kube.merged(ours, {"singleuser": {"image": {"tag": "mine"}}})
    assert final["singleuser"]["image"] == {"name": "localhost:5000/learner", "tag": "mine"}
    assert final["hub"]["classList"] == "ada Ada\n"


def _pod(reason=None, ready=False, message="", labels=None, deleting=False):
    cs = {"name": "hub", "image": "kjlab.local/hub:k", "ready": ready,
          "state": {"waiting": {"reason": reason, "message": message}} if reason else {"running": {}}}
    meta = {"name": "hub-1", "labels": labels or {"pod-template-hash": "new"}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": "Pending", "containerStatuses": [cs]}}


def test_the_wait_reads_pull_failures_and_crashes_as_problems_and_the_rest_as_progress():
    state, problem = kube.pod_state(_pod("ImagePullBackOff", message="Back-off pulling image"))
    assert state == "ImagePullBackOff" and "kjlab.local/hub:k" in problem
    assert kube.pod_state(_pod("CrashLoopBackOff"))[1] is not None
    assert kube.pod_state(_pod("ContainerCreating")) == ("ContainerCreating", None)
    assert kube.pod_state(_pod(ready=True)) == ("Ready", None)
    dep = {"metadata": {"name": "hub", "generation": 2, "annotations": {kube.REVISION: "2"}}, "spec": {"replicas": 1},
           "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1}}
    assert kube.deployment_state(dep) == (True, "1/1 ready")
    dep["status"]["observedGeneration"] = 1  # the controller has not seen the upgrade yet
    assert kube.deployment_state(dep)[0] is False
    rss = [{"metadata": {"labels": {"pod-template-hash": h}, "annotations": {kube.REVISION: r},
                         "ownerReferences": [{"name": "hub"}]}} for h, r in (("old", "1"), ("new", "2"))]
    old, new = _pod("ImagePullBackOff", labels={"pod-template-hash": "old"}), _pod("ContainerCreating")
    assert kube.current_pods([old, new, _pod(deleting=True)], rss, [dep]) == [new]


def test_one_reading_gives_the_line_and_the_problem_together():
    """The line shows the failed pull that the wait then fails on: a loaded CI run read the pull error
    on its first reading, and the instructor (and the class-up test) saw no line at all."""
    def dep(name, ready):
        return {"metadata": {"name": name, "generation": 1}, "spec": {"replicas": 1},
                "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": ready}}

    hub = _pod("ErrImagePull", labels={"app.kubernetes.io/component": "hub"})
    proxy = _pod("ContainerCreating", labels={"app.kubernetes.io/component": "proxy"})
    line, ready, found = kube.rollout_line({"hub": dep("hub", 0), "proxy": dep("proxy", 0)}, [hub, proxy])
    assert line == "hub 0/1 ready (ErrImagePull); proxy 0/1 ready (ContainerCreating)"
    assert not ready and found[0] is hub and found[1].startswith("hub pod hub-1: the node cannot get the image")
    line, ready, found = kube.rollout_line({"hub": dep("hub", 1), "proxy": dep("proxy", 1)}, [])
    assert (line, ready, found) == ("hub 1/1 ready; proxy 1/1 ready", True, None)
    assert kube.rollout_line({}, [])[0] == "hub not created; proxy not created"


def test_a_verdict_is_cleaned_and_stored_under_the_name_the_hub_vouched_for(tmp_path):
    assert verdict_service.clean({"exercise": "ex1", "passed": "yes"}) is None
    assert verdict_service.clean({"passed": True}) is None
    line = verdict_service.clean({"exercise": "ex1", "passed": False, "learner": "mallory", "extra": 1})
    assert line == {"exercise": "ex1", "passed": False, "learner": "mallory"}
    path = verdict_service.store(tmp_path, "ada", line)
    assert path == tmp_path / "ada" / "results.jsonl"
    assert json.loads(path.read_text())["learner"] == "ada"  # not the line's own claim


def test_the_inbox_records_a_learners_post_and_refuses_an_unknown_token(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from kjlab.checks import verdicts

    known = {"tok-ada": "ada"}
    server = ThreadingHTTPServer(("127.0.0.1", 0), verdict_service.handler(tmp_path, known.get))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/services/kjlab-results/verdict"
    try:
        assert verdict_service.post({"exercise": "ex1", "passed": True}, url, "tok-ada") is None
        assert "403" in verdict_service.post({"exercise": "ex1", "passed": True}, url, "forged")
        assert "400" in verdict_service.post({"passed": True}, url, "tok-ada")
        with urllib.request.urlopen(url) as r:
            assert r.status == 200
        # what a check in ada's pod does: her own copy under HOME, and one to the hub
        monkeypatch.setenv("KJLAB_RESULTS_DIR", str(tmp_path / "pvc"))
        monkeypatch.setenv("KJLAB_RESULTS_URL", url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-ada")
        verdicts.record(SimpleNamespace(exercise="ex2", passed=False, headline="too few retries", reasons=["r"]))
    finally:
        server.shutdown()
        server.server_close()
    rows = [json.loads(x) for x in (tmp_path / "ada" / "results.jsonl").read_text().splitlines()]
    assert [(r["learner"], r["exercise"], r["passed"]) for r in rows] == [("ada", "ex1", True), ("ada", "ex2", False)]
    assert rows[1]["summary"] == "too few retries"
    assert verdicts.read(tmp_path / "pvc" / verdicts.FILE)[0]["exercise"] == "ex2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ada", "pvc"]


def _load_config(tmp_path, monkeypatch, values, class_list="ada  Ada\nbob\n"):
    """What the chart's jupyterhub_config.py produces, loaded as JupyterHub loads it."""
    pytest.importorskip("kubespawner")
    pytest.importorskip("oauthenticator")
    from jupyterhub.app import JupyterHub

    secret, data = tmp_path / "secret", tmp_path / "srv"
    secret.mkdir()
    data.mkdir()
    (secret / "values.json").write_text(json.dumps(values))
    (secret / "class-list.txt").write_text(class_list)
    (secret / "passwords.json").write_text("{}")
    monkeypatch.setattr(k8s_hub, "SECRET_DIR", secret)
    monkeypatch.setattr(k8s_hub, "DATA_DIR", data)
    config = tmp_path / "jupyterhub_config.py"
    config.write_text("from kjlab.classroom import k8s_hub\nk8s_hub.configure(c)\n")
    app = JupyterHub()
    app.load_config_file(str(config))
    return app, data


def test_the_class_list_config_loads_in_jupyterhubs_config_machinery(tmp_path, monkeypatch):
    app, data = _load_config(tmp_path, monkeypatch, {"singleuser": {"image": {"tag": "k1"}}})
    from kubespawner import KubeSpawner

    assert app.config.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert (data / "class-list.txt").read_text().startswith("ada")  # for kjlab class report in the hub pod
    # every setting names a configurable trait KubeSpawner has, and its value passes that trait's
    # validation (a misspelt name or a wrong type fails here, as it would when the hub starts)
    traits = KubeSpawner.class_traits(config=True)
    assert set(app.config.KubeSpawner) <= set(traits), set(app.config.KubeSpawner) - set(traits)
    from traitlets import HasTraits

    holder = HasTraits()  # not a KubeSpawner: its constructor loads a kube config
    checked = {name: traits[name]._validate(holder, value) for name, value in app.config.KubeSpawner.items()
               if not callable(value)}
    assert checked["image"] == "kjlab.local/learner:k1" and checked["fs_gid"] == 100
    assert checked["mem_guarantee"] == int(0.9 * 1024**3)
    from traitlets.utils.importstring import import_item

    auth_cls = import_item(app.config.JupyterHub.authenticator_class)
    auth = auth_cls(config=app.config)
    assert auth.user_prefix == "" and auth.allowed_users == {"ada", "bob"}


def test_a_generic_oauth_config_from_hub_config_loads_and_replaces_the_class_list(tmp_path, monkeypatch):
    values = {"singleuser": {"image": {"tag": "k1"}},
              "hub": {"config": {
                  "JupyterHub": {"authenticator_class": "generic-oauth"},
                  "GenericOAuthenticator": {
                      "client_id": "kjlab-class", "client_secret": "s3cret",
                      "oauth_callback_url": "https://class.example/hub/oauth_callback",
                      "authorize_url": "https://id.example/auth", "token_url": "https://id.example/token",
                      "userdata_url": "https://id.example/userinfo", "username_claim": "preferred_username",
                      "scope": ["openid", "profile"], "manage_groups": True, "allowed_groups": ["course-42"],
                      "auth_state_groups_key": "oauth_user.groups",
                      "admin_users": ["teacher"]}}}}
    app, _ = _load_config(tmp_path, monkeypatch, values)
    assert app.config.JupyterHub.authenticator_class == "generic-oauth"
    from jupyterhub.app import JupyterHub
    from oauthenticator.generic import GenericOAuthenticator

    # JupyterHub resolves the entry-point name (the names `jupyterhub --help-all` lists)
    hub = JupyterHub(config=app.config)
    assert hub.authenticator_class is GenericOAuthenticator
    auth = GenericOAuthenticator(config=app.config)
    assert (auth.client_id, auth.username_claim) == ("kjlab-class", "preferred_username")
    assert auth.allowed_groups == {"course-42"} and auth.scope == ["openid", "profile"]
    assert "allowed_users" not in app.config.Authenticator  # the class list's logins do not apply


def test_the_z2jh_like_values_github_login_loads(tmp_path, monkeypatch):
    z2jh = yaml.safe_load((Path(__file__).parents[1] / "classroom" / "data" / "z2jh-like-values.yaml").read_text())
    app, _ = _load_config(tmp_path, monkeypatch, z2jh)
    from jupyterhub.app import JupyterHub
    from oauthenticator.github import GitHubOAuthenticator

    assert JupyterHub(config=app.config).authenticator_class is GitHubOAuthenticator
    auth = GitHubOAuthenticator(config=app.config)
    assert auth.allowed_organizations == {"example-university"}
    assert app.config.KubeSpawner.image == "registry.example.org/kjlab/learner:2026.12"
    assert app.config.KubeSpawner.storage_class == "standard-rwo"


def test_every_login_example_in_the_charts_readme_loads(tmp_path, monkeypatch):
    import re

    from jupyterhub.app import JupyterHub

    text = (Path(__file__).parents[2] / "kjlab" / "classroom" / "chart" / "README.md").read_text()
    examples = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "authenticator_class" in b]
    assert len(examples) == 3
    for i, example in enumerate(examples):
        case = tmp_path / str(i)
        case.mkdir()
        app, _ = _load_config(case, monkeypatch, {**example, "singleuser": {"image": {"tag": "k1"}}})
        cls = JupyterHub(config=app.config).authenticator_class
        section = example["hub"]["config"][cls.__name__]
        assert set(section) <= set(cls.class_traits(config=True)), set(section) - set(cls.class_traits(config=True))
        auth = cls(config=app.config)  # a bad combination (allowed_groups without manage_groups) raises
        assert auth.client_id == "<id>" and cls.__name__ != "ClassListAuthenticator"


def test_the_report_on_kubernetes_is_computed_in_the_hub_pod_and_printed_here(monkeypatch, capsys):
    from kjlab.classroom import cli

    rep = report.summarise({"learners": {"ada": "Ada"}, "unreadable": [],
                                     "rows": {"ada": [{"exercise": "ex1", "passed": True}]}})
    calls = []

    def fake_kubectl(self, *args, timeout=60):
        calls.append((self.context, args))
        return "Defaulted container \"hub\"\n" + json.dumps(rep)

    monkeypatch.setattr(kube.Cluster, "kubectl", fake_kubectl)
    assert cli.main(["class", "report", "--kubernetes", "kind-kjlab"]) == 0
    context, args = calls[0]
    assert context == "kind-kjlab" and args[:5] == ("exec", "-n", "kjlab-class", "deploy/hub", "-c")
    assert args[-6:] == ("kjlab", "class", "report", "--state", "/srv/jupyterhub", "--json")
    out = capsys.readouterr().out
    assert "Ada" in out and "pass (1)" in out


def test_helm_is_cached_by_its_pinned_version(tmp_path):
    import subprocess

    from kjlab.cluster import tools

    script = Path(__file__).parents[2] / "tools" / "classroom" / "helm.sh"
    version = tools.pinned_versions()["HELM_VERSION"]
    out = subprocess.run(["bash", str(script), "--print-path"], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "KJLAB_CACHE": str(tmp_path)}).stdout.strip()
    assert out.startswith(f"{tmp_path}/helm/helm-{version}_") and out.endswith("/bin/helm")
    assert version.startswith(("v3.", "v4."))
    wrong = subprocess.run(["bash", str(script), "--bogus"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "unknown option --bogus" in wrong.stderr
