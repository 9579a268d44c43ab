"""The classroom chart with the real helm (tools/classroom/helm.sh): lint and template with the
default values and with z2jh-like values; what the rendered objects promise (the hub's Role stays in
its namespace, the NetworkPolicy admits only the hub and the proxy, the values reach the hub).
No cluster: tests/classroom/test_class_up_kwok.py installs it."""

import base64
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from kjlab.classroom import kube

Z2JH = Path(__file__).with_name("data") / "z2jh-like-values.yaml"
TAGS = ["--set", "hub.image.tag=t1", "--set", "singleuser.image.tag=t1"]


@pytest.fixture(scope="module")
def helm():
    return kube.helm_path()


def run(helm, *args):
    return subprocess.run([helm, *args], capture_output=True, text=True)


def render(helm, *args) -> dict[tuple[str, str], dict]:
    proc = run(helm, "template", "kjlab", str(kube.CHART), "--namespace", "class-a", *args)
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def test_helm_lint_passes_with_the_default_and_the_z2jh_like_values(helm):
    for extra in ([], TAGS, ["-f", str(Z2JH)]):
        proc = run(helm, "lint", "--strict", str(kube.CHART), *extra)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_empty_image_tag_fails_the_render_in_one_line_with_the_fix(helm):
    proc = run(helm, "template", "kjlab", str(kube.CHART))
    assert proc.returncode != 0 and "hub.image.tag is empty" in proc.stderr and "--print-image" in proc.stderr


def test_the_default_render_keeps_the_hub_in_its_namespace_and_learners_behind_the_policy(helm):
    objs = render(helm, *TAGS, "--set-string", "hub.classList=ada Ada")
    kinds = {k for k, _ in objs}
    assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds
    rules = objs[("Role", "hub")]["rules"]
    assert {r for rule in rules for r in rule["resources"]} == {"pods", "persistentvolumeclaims", "events"}
    assert {("Service", n) for n in ("hub", "proxy-public", "proxy-api")} <= set(objs)
    assert objs[("Service", "proxy-public")]["spec"]["ports"][0]["port"] == 80
    policy = objs[("NetworkPolicy", "singleuser")]["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "kjlab"
    allowed = {tuple(e["values"]) for e in policy["ingress"][0]["from"][0]["podSelector"]["matchExpressions"]}
    assert ("hub", "proxy") in allowed
    # the pods the policy admits are labelled so, the learners (KubeSpawner's labels) are not
    for name in ("hub", "proxy"):
        labels = objs[("Deployment", name)]["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == name and labels["app.kubernetes.io/instance"] == "kjlab"
    secret = objs[("Secret", "hub")]["data"]
    values = json.loads(base64.b64decode(secret["values.json"]))
    assert values["singleuser"]["memory"]["guarantee"] == "0.9G"
    assert base64.b64decode(secret["class-list.txt"]).decode() == "ada Ada"
    assert objs[("PersistentVolumeClaim", "hub-db-dir")]["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_z2jh_like_values_reach_the_hub_and_the_services(helm):
    objs = render(helm, "-f", str(Z2JH))
    values = json.loads(base64.b64decode(objs[("Secret", "hub")]["data"]["values.json"]))
    assert values["hub"]["config"]["GitHubOAuthenticator"]["allowed_organizations"] == ["example-university"]
    assert values["singleuser"]["storage"]["storageClass"] == "standard-rwo"
    assert objs[("Service", "proxy-public")]["spec"]["type"] == "LoadBalancer"
    assert objs[("PersistentVolumeClaim", "hub-db-dir")]["spec"]["storageClassName"] == "standard-rwo"
    hub = objs[("Deployment", "hub")]["spec"]["template"]["spec"]["containers"][0]
    assert hub["image"] == "registry.example.org/kjlab/hub:2026.12"
    no_policy = render(helm, "-f", str(Z2JH), "--set", "networkPolicy.enabled=false")
    assert ("NetworkPolicy", "singleuser") not in no_policy
