"""Lay out the kubernetes-server-linux-amd64.tar.gz that `kind build node-image --type file` reads.

    python3 release_tarball.py OUT.tar.gz VERSION BINDIR CONTROL_PLANE_DIR EXTRA_IMAGES.tar

kind v0.33.0 reads kubernetes/version, kubernetes/server/bin/{kubeadm,kubelet,kubectl} and the four
image archives kubernetes/server/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy}.tar,
which it imports into the node's containerd. Every other image the node needs (etcd, coredns, pause,
kindnetd, local-path-*) kind fetches over the network unless it already counts it as present, and it
counts only the tags of the first image of each archive -- taken from `repositories` when that member
comes first. So kube-proxy.tar here is EXTRA_IMAGES.tar (a `docker save` of kube-proxy and all the
extra images) re-packed with a `repositories` member first that names every image fully qualified
(docker save writes docker.io images as kindest/... or bash). This relies on kind v0.33.0's internals,
which is why kind is pinned. CONTROL_PLANE_DIR holds the three other `docker save` archives.
"""
import gzip
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path


def qualified(name: str) -> str:
    first = name.split("/")[0]
    if "/" not in name:
        return "docker.io/library/" + name
    if "." not in first and ":" not in first and first != "localhost":
        return "docker.io/" + name
    return name


def repack(src: Path, dst: Path) -> list[str]:
    with tarfile.open(src) as saved:
        manifest = json.load(saved.extractfile("manifest.json"))
        repositories: dict[str, dict[str, str]] = {}
        for image in manifest:
            top_layer = image["Layers"][-1].split("/")[0]
            for ref in image.get("RepoTags") or []:
                name, tag = ref.rsplit(":", 1)
                repositories.setdefault(qualified(name), {})[tag] = top_layer
        data = json.dumps(repositories).encode()
        with tarfile.open(dst, "w") as out:
            info = tarfile.TarInfo("repositories")
            info.size, info.mode = len(data), 0o644
            out.addfile(info, io.BytesIO(data))
            for member in saved:
                if member.name != "repositories":
                    out.addfile(member, saved.extractfile(member) if member.isfile() else None)
    return sorted(f"{name}:{tag}" for name, tags in repositories.items() for tag in tags)


def main(out: str, version: str, bindir: str, control_plane: str, extra: str) -> None:
    out_path = Path(out)
    tmp = out_path.with_name(out_path.name + ".tmp")
    root = out_path.parent / "release"
    shutil.rmtree(root, ignore_errors=True)
    bin_dir = root / "kubernetes" / "server" / "bin"
    bin_dir.mkdir(parents=True)
    (root / "kubernetes" / "version").write_text(version + "\n")
    for name in ("kubeadm", "kubelet", "kubectl"):
        shutil.copy2(Path(bindir) / name, bin_dir / name)
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        shutil.move(str(Path(control_plane) / f"{name}.tar"), bin_dir / f"{name}.tar")
    images = repack(Path(extra), bin_dir / "kube-proxy.tar")
    Path(extra).unlink()
    # kind insists on gzip, but reads the archive once, right away: store it uncompressed (level 0)
    with gzip.open(tmp, "wb", compresslevel=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        tar.add(root / "kubernetes", arcname="kubernetes")
    tmp.rename(out_path)
    shutil.rmtree(root)
    print("images carried in kube-proxy.tar: " + " ".join(images))


if __name__ == "__main__":
    main(*sys.argv[1:])
