#!/usr/bin/env python3
"""A local mirror of the release hosts, for tests and bench/ (never for learners).

Lays out binaries the way dl.k8s.io and GitHub releases do (see tools/fetch.py), with the checksum
files upstream publishes, and serves the tree on 127.0.0.1. kwok publishes no checksum file, so
make_mirror returns the pins (KWOK_SHA256_...) to hand to tools/fetch.py as KJLAB_PINS_FILE.

  python3 tools/mirror.py BIN_DIR ROOT   lay out BIN_DIR's binaries under ROOT and serve them;
                                         prints the two KJLAB_*_RELEASES settings, serves until killed
"""

from __future__ import annotations

import hashlib
import http.server
import io
import sys
import tarfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fetch import versions  # noqa: E402

K8S_TOOLS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
KWOK_TOOLS = ("kwok", "kwokctl")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_mirror(root: Path, binaries: dict[str, bytes], os_="linux", arch="amd64", kind: bytes | None = None) -> Path:
    """The release hosts' layouts under root; returns the kwok pins file (beside root)."""
    v = versions()
    kv, ev, kwv = v["KUBERNETES_VERSION"], v["ETCD_VERSION"], v["KWOK_VERSION"]
    k8s = root / "release" / kv / "bin" / os_ / arch
    k8s.mkdir(parents=True)
    for name in K8S_TOOLS:
        (k8s / name).write_bytes(binaries[name])
        (k8s / f"{name}.sha256").write_text(_sha(binaries[name]))
    etcd = root / "etcd-io/etcd/releases/download" / ev
    etcd.mkdir(parents=True)
    asset = f"etcd-{ev}-{os_}-{arch}.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as t:
        info = tarfile.TarInfo(f"etcd-{ev}-{os_}-{arch}/etcd")
        info.size, info.mode = len(binaries["etcd"]), 0o755
        t.addfile(info, io.BytesIO(binaries["etcd"]))
    (etcd / asset).write_bytes(buf.getvalue())
    (etcd / "SHA256SUMS").write_text(f"{_sha(b'other')}  etcd-{ev}-darwin-arm64.zip\n{_sha(buf.getvalue())}  {asset}\n")
    kwok = root / "kubernetes-sigs/kwok/releases/download" / kwv
    kwok.mkdir(parents=True)
    pins = []
    for name in KWOK_TOOLS:
        (kwok / f"{name}-{os_}-{arch}").write_bytes(binaries[name])
        pins.append(f"KWOK_SHA256_{name}_{os_}_{arch}={_sha(binaries[name])}")
    if kind is not None:
        kd = root / "kubernetes-sigs/kind/releases/download" / v["KIND_VERSION"]
        kd.mkdir(parents=True)
        (kd / f"kind-{os_}-{arch}").write_bytes(kind)
        (kd / f"kind-{os_}-{arch}.sha256sum").write_text(f"{_sha(kind)}  kind-{os_}-{arch}\n")
    pins_file = root.parent / "pins.env"
    pins_file.write_text("\n".join(pins) + "\n")
    return pins_file


class Mirror:
    """A static file server on 127.0.0.1. break_at: path -> bytes after which the mirror goes away."""

    def __init__(self, root: Path):
        self.root, self.break_at, self.requests = root, {}, []
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(root), **kw)

            def log_message(self, *a):
                pass

            def do_GET(self):
                mirror.requests.append(self.path)
                cut = mirror.break_at.get(self.path)
                if cut is None:
                    return super().do_GET()
                data = (root / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:cut])
                self.wfile.flush()
                self.close_connection = True
                threading.Thread(target=mirror.go_away, daemon=True).start()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def env(self) -> dict[str, str]:
        return {"KJLAB_K8S_RELEASES": f"{self.url}/release", "KJLAB_GITHUB_RELEASES": self.url}

    def go_away(self):
        self.server.shutdown()
        self.server.server_close()  # from now on: connection refused

    def close(self):
        self.go_away()


def from_bin_dir(bindir: Path, root: Path) -> Path:
    names = (*K8S_TOOLS, "etcd", *KWOK_TOOLS)
    return make_mirror(root, {n: (bindir / n).read_bytes() for n in names})


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    pins = from_bin_dir(Path(sys.argv[1]), Path(sys.argv[2]))
    m = Mirror(Path(sys.argv[2]))
    for k, val in m.env().items():
        print(f"{k}={val}")
    print(f"KJLAB_PINS_FILE={pins}", flush=True)
    threading.Event().wait()
