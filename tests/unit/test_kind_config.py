import yaml

from kjlab.cluster import kind, nodes


def test_kind_config_has_one_control_plane_and_the_workers():
    config = yaml.safe_load(kind.kind_config(2))
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    roles = [n["role"] for n in config["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]
    assert [n["labels"][nodes.WORKER_LABEL] for n in config["nodes"]] == ["control-plane", "worker", "worker"]


def test_kind_node_image_follows_the_pinned_version(monkeypatch):
    monkeypatch.delenv("KJLAB_KIND_NODE_IMAGE", raising=False)
    from kjlab.cluster import tools

    assert kind.node_image() == f"kindest/node:{tools.kube_version()}"
    monkeypatch.setenv("KJLAB_KIND_NODE_IMAGE", "kindest/node:v1.36.0")
    assert kind.node_image() == "kindest/node:v1.36.0"


def test_every_example_image_is_preloaded_and_pullable_on_kwok():
    from kjlab import examples
    from kjlab.cluster import stages

    for name in examples.names():
        for c in examples.render(name)["spec"]["template"]["spec"]["containers"]:
            if stages.is_pullable(c["image"]):
                assert c["image"] in kind.PRELOAD_IMAGES, (name, c["image"])
    assert all(stages.is_pullable(i) for i in kind.PRELOAD_IMAGES)


def test_kwok_nodes_are_named_as_kind_names_them():
    manifests = nodes.kwok_node_manifests(3)
    names = [m["metadata"]["name"] for m in manifests]
    assert names == ["kjlab-control-plane", "kjlab-worker", "kjlab-worker2", "kjlab-worker3"]
    control_plane = manifests[0]
    assert control_plane["spec"]["taints"][0]["effect"] == "NoSchedule"
    assert all("taints" not in m["spec"] for m in manifests[1:])
