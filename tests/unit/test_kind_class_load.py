"""kjlab.classroom.kind_class.load copies an image only into the workers whose Node does not list it
(status.images), instead of every worker every time (kind cannot tell on the offline node image)."""

import subprocess

from kjlab.classroom import kind_class

# A NodeList as the API serves it (shape of core/v1 Node: status.images[].names / sizeBytes), written by
# hand: a kind worker that was given the learner image, one that was not, and the control plane.
NODES = [
    {"metadata": {"name": "kjlab-class-control-plane",
                  "labels": {"node-role.kubernetes.io/control-plane": ""}},
     "status": {"images": [{"names": ["registry.k8s.io/etcd@sha256:" + "1" * 64, "registry.k8s.io/etcd:3.6.4-0"],
                            "sizeBytes": 195976448}]}},
    {"metadata": {"name": "kjlab-class-worker", "labels": {}},
     "status": {"images": [
         {"names": ["import-2026-12-06@sha256:" + "a" * 64, "kjlab.local/learner:0155167717ab"], "sizeBytes": 1460000000},
         {"names": ["docker.io/library/bash:5"], "sizeBytes": 14000000}]}},
    {"metadata": {"name": "kjlab-class-worker2", "labels": {}},
     "status": {"images": [{"names": ["kjlab.local/learner:0ld0ld0ld0ld"], "sizeBytes": 1460000000},
                           {"names": ["kjlab.local/hub:f91e3c022eec"], "sizeBytes": 1130000000}]}},
    {"metadata": {"name": "kjlab-class-worker3", "labels": {}}, "status": {}},  # registered, no images yet
]
WORKERS = ["kjlab-class-worker", "kjlab-class-worker2", "kjlab-class-worker3"]


def test_an_image_is_loaded_only_into_the_workers_whose_node_does_not_list_its_name_and_tag():
    assert kind_class.placement("kjlab.local/learner:0155167717ab", WORKERS, NODES) == (
        ["kjlab-class-worker2", "kjlab-class-worker3"], ["kjlab-class-worker"])  # another tag is another image
    assert kind_class.placement("kjlab.local/hub:f91e3c022eec", WORKERS, NODES) == (
        ["kjlab-class-worker", "kjlab-class-worker3"], ["kjlab-class-worker2"])
    assert kind_class.placement("bash:5", WORKERS, NODES)[1] == ["kjlab-class-worker"]  # as the runtime names it
    assert kind_class.placement("kjlab.local/learner:0155167717ab", WORKERS, None) == (WORKERS, [])
    assert kind_class.placement("kjlab.local/learner:0155167717ab", WORKERS + ["kjlab-class-worker4"], NODES)[0] == [
        "kjlab-class-worker2", "kjlab-class-worker3", "kjlab-class-worker4"]  # not registered yet: loaded


def test_load_runs_kind_only_for_the_workers_lacking_the_image(monkeypatch):
    calls, lines = [], []
    monkeypatch.setattr(kind_class, "nodes", lambda: ["kjlab-class-control-plane", *WORKERS])
    monkeypatch.setattr(kind_class, "node_list", lambda progress=print: NODES)
    monkeypatch.setattr(kind_class, "_kind", lambda: "kind")
    monkeypatch.setattr(kind_class.subprocess, "run",
                        lambda argv, **kw: calls.append(argv) or subprocess.CompletedProcess(argv, 0, "", ""))
    nodes_everywhere = [{**n, "status": {"images": [{"names": ["kjlab.local/hub:f91e3c022eec"]}]}} for n in NODES]
    awaited = []
    monkeypatch.setattr(kind_class, "await_listed", lambda images, workers, progress: awaited.append(images))
    kind_class.load(["kjlab.local/learner:0155167717ab"], lines.append)
    assert awaited == [["kjlab.local/learner:0155167717ab"]]  # loaded: wait for the kubelets to list it
    assert calls == [["kind", "load", "docker-image", "kjlab.local/learner:0155167717ab", "--name", "kjlab-class",
                      "--nodes", "kjlab-class-worker2,kjlab-class-worker3"]]
    assert "kjlab.local/learner:0155167717ab is already on kjlab-class-worker" in lines
    monkeypatch.setattr(kind_class, "node_list", lambda progress=print: nodes_everywhere)
    calls.clear()
    took = kind_class.load(["kjlab.local/hub:f91e3c022eec"], lines.append)
    assert calls == [] and took == {"kjlab.local/hub:f91e3c022eec": 0.0}
    assert len(awaited) == 1  # nothing loaded: nothing to wait for


def test_after_a_load_the_wait_ends_when_every_worker_lists_the_image_or_nobody_lists_more(monkeypatch):
    image = "kjlab.local/learner:0155167717ab"
    listed = {"names": [image]}
    # the kubelets list it one after the other, as their 30 s refreshes come
    lists = iter([NODES, NODES,
                  [NODES[0], NODES[1], {**NODES[2], "status": {"images": [listed]}}, NODES[3]],
                  [NODES[0], NODES[1], {**NODES[2], "status": {"images": [listed]}},
                   {**NODES[3], "status": {"images": [listed]}}]])
    monkeypatch.setattr(kind_class, "node_list", lambda progress=print: next(lists))
    lines = []
    assert kind_class.await_listed([image], WORKERS, lines.append, poll=0)
    assert lines[0].startswith("waiting for the kubelets to list") and "2 image/worker pair(s)" in lines[0]
    assert lines[-1].startswith(f"every worker lists {image}")
    # a worker that never lists it: the wait ends once nothing has changed for `quiet` seconds, said once
    monkeypatch.setattr(kind_class, "node_list", lambda progress=print: NODES)
    lines.clear()
    assert not kind_class.await_listed([image], WORKERS, lines.append, quiet=0.2, poll=0.01)
    assert lines[-1].startswith("not yet listed after a wait: " + image + " on kjlab-class-worker2, kjlab-class-worker3")


def test_nodes_that_cannot_be_listed_mean_loading_everywhere_said_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(kind_class, "kubeconfig", lambda: tmp_path / "absent.kubeconfig")
    lines = []
    assert kind_class.node_list(lines.append) is None
    assert len(lines) == 1 and "loading into every worker" in lines[0]
