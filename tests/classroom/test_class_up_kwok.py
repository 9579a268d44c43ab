"""`kjlab class up|down --kubernetes` against the lab's kwok cluster: a real API server accepts
(or refuses) every object of the chart; the pods themselves are simulated (strict kwok runs no
JupyterHub, so the hub never turns Ready here: that is the kind test's job, README of the chart).

What is checked here: each preflight failure is one line before anything is installed (no default
StorageClass -- kwok has none --, a locally built image no node has, a bad class-list line); then,
with a StorageClass, the chart installs; an image no node can pull ends the wait in one line naming
it; down keeps the volumes unless --delete-volumes."""

import base64
import json
import shutil

import pytest

from kjlab.classroom import kube
from kjlab.errors import KjlabError

NS = "test-class-up"
SC, PV = "test-class-up-default", "test-class-up-hub-db"


@pytest.fixture
def cl(lab, tmp_path, monkeypatch):
    # the password sheet of this test only (KJLAB_STATE stays: it holds the lab cluster's kubeconfig)
    monkeypatch.setattr(kube, "class_dir", lambda context, namespace: tmp_path / "class")
    cl = kube.Cluster(lab["context"], NS)
    yield cl
    for args in (("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=60s"),
                 ("delete", "pv", PV, "--ignore-not-found"), ("delete", "storageclass", SC, "--ignore-not-found")):
        cl.kubectl(*args, timeout=90)


def values(tmp_path, hub, learner):
    path = tmp_path / f"values-{hub.replace('/', '_').replace(':', '_')}.yaml"
    h, ht = hub.rsplit(":", 1)
    s, st = learner.rsplit(":", 1)
    path.write_text(json.dumps({"hub": {"image": {"name": h, "tag": ht}},
                                "singleuser": {"image": {"name": s, "tag": st}}}))
    return (path,)


def installed(cl):
    return "kjlab" in cl.helm("list", "-q").split()


def test_class_up_and_down_on_kwok(cl, tmp_path, monkeypatch):
    class_list = tmp_path / "class.txt"
    class_list.write_text("ada  Ada Lovelace\nbob  Bob\n")
    lines = []
    local = values(tmp_path, "kjlab.local/hub:t1", "kjlab.local/learner:t1")

    scs = cl.json("get", "storageclass")["items"]
    assert kube.storage_problem(scs, None), "the lab cluster should have no default StorageClass"
    with pytest.raises(KjlabError) as e:
        kube.up(cl.context, class_list, NS, values_files=local, progress=lines.append)
    assert "no default StorageClass" in e.value.message and "\n" not in e.value.message
    assert not installed(cl)

    bad = tmp_path / "bad.txt"
    bad.write_text("ada  Ada\nb@d  Somebody\n")
    with pytest.raises(KjlabError) as e:
        kube.up(cl.context, bad, NS, values_files=local, progress=lines.append)
    assert "line 2" in e.value.message

    # A default StorageClass without a provisioner, and a volume for the hub's database to bind to.
    manifest = tmp_path / "storage.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": SC, "annotations": {kube.DEFAULT_CLASS: "true"}},
         "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate"},
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": PV},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": SC,
                  "hostPath": {"path": "/tmp/kjlab-test-class-up"}}}]}))
    cl.kubectl("apply", "-f", str(manifest))

    with pytest.raises(KjlabError) as e:  # kwok's nodes hold no kjlab.local image
        kube.up(cl.context, class_list, NS, values_files=local, progress=lines.append)
    assert "kjlab.local/learner:t1 is not on node(s)" in e.value.message and "push it to a registry" in e.value.message
    assert not installed(cl)

    # An image from a registry kwok does not simulate: installed, then the hub's pull fails, in one line.
    monkeypatch.setattr(kube, "STALL_SECONDS", 60)
    with pytest.raises(KjlabError) as e:
        kube.up(cl.context, class_list, NS, values_files=values(tmp_path, "registry.example/hub:t1", "python:3"),
                progress=lines.append)
    assert "cannot get the image registry.example/hub:t1" in e.value.message
    assert "push them to a registry" in e.value.fix
    assert installed(cl)

    # Every object was accepted by the API server; the hub's database is bound; only hashes left this machine.
    for kind, name in (("networkpolicy", "singleuser"), ("role", "hub"), ("rolebinding", "hub"),
                       ("service", "proxy-public"), ("service", "proxy-api"), ("service", "hub")):
        assert cl.json("get", kind, name, "-n", NS)["metadata"]["name"] == name
    assert cl.json("get", "pvc", "hub-db-dir", "-n", NS)["status"]["phase"] == "Bound"
    secret = cl.json("get", "secret", "hub", "-n", NS)["data"]
    hashes = json.loads(base64.b64decode(secret["passwords.json"]))
    sheet = (kube.class_dir(cl.context, NS) / "passwords-to-hand-out.txt").read_text()
    assert sorted(hashes) == ["ada", "bob"] and sheet.count("\n") == 2
    stored = base64.b64decode(secret["values.json"]).decode()
    assert all(line.split("\t")[1] not in stored for line in sheet.splitlines())
    assert any(line.startswith("  waiting for the hub and the proxy:") for line in lines)

    # The class's state gone from this machine: up again keeps the learners' passwords (the cluster's hashes).
    shutil.rmtree(kube.class_dir(cl.context, NS))
    with pytest.raises(KjlabError):
        kube.up(cl.context, class_list, NS, values_files=values(tmp_path, "registry.example/hub:t1", "python:3"),
                progress=lines.append)
    assert any(line.startswith("kept the passwords of 2 learner(s)") for line in lines)
    again = json.loads(base64.b64decode(cl.json("get", "secret", "hub", "-n", NS)["data"]["passwords.json"]))
    assert again == hashes and not (kube.class_dir(cl.context, NS) / "passwords-to-hand-out.txt").exists()

    kube.down(cl.context, NS, progress=lines.append)
    assert not installed(cl)
    assert lines[-1].startswith("kept 0 learner volume(s) and the hub's database")
    assert cl.json("get", "pvc", "hub-db-dir", "-n", NS)["metadata"]["name"] == "hub-db-dir"
    kube.down(cl.context, NS, delete_volumes=True, progress=lines.append)
    assert all(p["metadata"].get("deletionTimestamp") for p in cl.json("get", "pvc", "-n", NS)["items"])
