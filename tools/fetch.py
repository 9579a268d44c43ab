#!/usr/bin/env python3
"""The download route: the pinned upstream release binaries, each checked against a checksum.

Standard library only (it runs before any venv exists). Called by tools/build.sh and
tools/kind/build.sh; usable on its own:

  tools/fetch.py probe                 exit 0 when the release host answers (3 s connect timeout)
  tools/fetch.py tools DIR             kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
                                       etcd, kwok, kwokctl -> DIR (what it could not get is left out)
  tools/fetch.py kind FILE             kind -> FILE

Where each comes from (the upstream layouts; the hosts can be replaced for a mirror):
  $KJLAB_K8S_RELEASES    (https://dl.k8s.io/release)  /<v>/bin/<os>/<arch>/<name>, checksum <name>.sha256
  $KJLAB_GITHUB_RELEASES (https://github.com)         /<owner>/<repo>/releases/download/<v>/<asset>
      etcd-io/etcd               etcd-<v>-<os>-<arch>.tar.gz (.zip on darwin), checksums in SHA256SUMS
      kubernetes-sigs/kwok       kwok-<os>-<arch>, kwokctl-<os>-<arch>: no checksum file is published
                                 with them that kjlab relies on, so only a sha256 pinned in
                                 tools/download.env (KWOK_SHA256_<name>_<os>_<arch>) lets them in
      kubernetes-sigs/kind       kind-<os>-<arch>, checksum kind-<os>-<arch>.sha256sum

Nothing unverified is kept: each file is written as DIR/.<name>.part, its sha256 compared, then
renamed into place. A failure prints one line per binary ("fetch: <name>: <why>") on stderr.
Exit status: 0 everything, 1 some binaries are missing (the others are in DIR), 2 usage.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import platform
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONNECT_TIMEOUT = float(os.environ.get("KJLAB_FETCH_TIMEOUT", "3"))  # connect / each read, seconds
CHUNK = 1 << 20


class FetchError(Exception):
    def __init__(self, message: str, host_gone: str | None = None):
        super().__init__(message)
        self.host_gone = host_gone  # the host stopped answering: skip what else it serves


GONE: set[str] = set()


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def versions() -> dict[str, str]:
    """tools/versions.env and tools/download.env (the pins), then KJLAB_PINS_FILE if set (a test's)."""
    out = {}
    files = [HERE / "versions.env", HERE / "download.env"]
    if os.environ.get("KJLAB_PINS_FILE"):
        files.append(Path(os.environ["KJLAB_PINS_FILE"]))
    for path in files:
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                out[key] = value
    return out


def target() -> tuple[str, str]:
    """(os, arch) as the release hosts spell them; $KJLAB_FETCH_PLATFORM=os-arch overrides."""
    forced = os.environ.get("KJLAB_FETCH_PLATFORM")
    if forced:
        os_, _, arch = forced.partition("-")
        return os_, arch
    os_ = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system(), platform.system().lower())
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return os_, arch


def k8s_base() -> str:
    return os.environ.get("KJLAB_K8S_RELEASES", "https://dl.k8s.io/release").rstrip("/")


def github_base() -> str:
    return os.environ.get("KJLAB_GITHUB_RELEASES", "https://github.com").rstrip("/")


def _open(url: str):
    if _host(url) in GONE:
        raise FetchError(f"{url}: skipped, {_host(url)} failed a moment ago")
    req = urllib.request.Request(url, headers={"User-Agent": "kjlab-tools-fetch"})
    try:
        return urllib.request.urlopen(req, timeout=CONNECT_TIMEOUT)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            raise FetchError(f"{url} answers 404: not published for this version/OS/architecture") from None
        raise FetchError(f"{url} answers HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        GONE.add(_host(url))
        raise FetchError(f"{url}: {reason}", _host(url)) from None


def get_text(url: str) -> str:
    with _open(url) as resp:
        return resp.read(1 << 20).decode("utf-8", "replace")


def download(url: str, dest: Path, say=None) -> tuple[str, int]:
    """Stream url into dest; (sha256 hex, bytes), with a progress line every 10 s for slow links.
    Raises FetchError; dest may then be partial (the caller removes it)."""
    digest = hashlib.sha256()
    got = 0
    shown = time.monotonic()
    with _open(url) as resp:
        expected = resp.headers.get("Content-Length")
        with open(dest, "wb") as out:
            while True:
                try:
                    chunk = resp.read(CHUNK)
                except (OSError, ValueError, http.client.HTTPException) as e:
                    GONE.add(_host(url))
                    raise FetchError(f"{url}: the connection broke after {got} bytes ({type(e).__name__})",
                                     _host(url)) from None
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                got += len(chunk)
                if say and time.monotonic() - shown > 10:
                    shown = time.monotonic()
                    say(f"{url.rsplit('/', 1)[-1]}: {got / 1e6:.0f} of {int(expected or 0) / 1e6:.0f} MB so far")
    if expected is not None and got != int(expected):
        raise FetchError(f"{url}: truncated download, {got} of {expected} bytes")
    return digest.hexdigest(), got


def _sum_from(text: str, name: str | None = None) -> str:
    """The sha256 in a checksum file: a bare hex line (name None), or the `<hex>  <name>` line."""
    for line in text.splitlines():
        parts = line.split()
        if not parts or len(parts[0]) != 64 or any(c not in "0123456789abcdef" for c in parts[0].lower()):
            continue
        if name is None or (len(parts) >= 2 and parts[-1].lstrip("*") == name):
            return parts[0].lower()
    raise FetchError(f"no sha256 for {name or 'the file'} in its checksum file")


def fetch_verified(url: str, want: str, dest: Path, say) -> Path:
    """url -> dest, only if its sha256 is want. No partial or unverified file is left at dest."""
    part = dest.with_name(f".{dest.name}.part")
    t0 = time.monotonic()
    try:
        got, size = download(url, part, say)
        if got != want:
            raise FetchError(f"checksum mismatch for {url}: sha256 {got[:16]}…, published {want[:16]}…; "
                             "refused (a corrupted or tampered file)")
        part.rename(dest)
    finally:
        if part.exists():
            part.unlink()
    say(f"{dest.name}: {size / 1e6:.1f} MB in {time.monotonic() - t0:.1f}s, sha256 verified")
    return dest


def _install(src: Path, dest: Path) -> None:
    src.chmod(0o755)
    src.rename(dest)


def fetch_k8s(name: str, v: dict, os_: str, arch: str, bindir: Path, say) -> None:
    url = f"{k8s_base()}/{v['KUBERNETES_VERSION']}/bin/{os_}/{arch}/{name}"
    want = _sum_from(get_text(url + ".sha256"))
    tmp = bindir / f".{name}.verified"
    fetch_verified(url, want, tmp, lambda m: say(m.replace(tmp.name, name, 1)))
    _install(tmp, bindir / name)


def fetch_etcd(v: dict, os_: str, arch: str, bindir: Path, say) -> None:
    ev = v["ETCD_VERSION"]
    ext = "zip" if os_ == "darwin" else "tar.gz"
    asset = f"etcd-{ev}-{os_}-{arch}.{ext}"
    base = f"{github_base()}/etcd-io/etcd/releases/download/{ev}"
    want = _sum_from(get_text(f"{base}/SHA256SUMS"), asset)
    archive = fetch_verified(f"{base}/{asset}", want, bindir / f".{asset}",
                             lambda m: say(m.replace(f".{asset}", f"etcd ({asset})", 1)))
    member = f"etcd-{ev}-{os_}-{arch}/etcd"
    try:
        if ext == "zip":
            with zipfile.ZipFile(archive) as z:
                data = z.read(member)
        else:
            with tarfile.open(archive) as t:
                f = t.extractfile(member)
                if f is None:
                    raise KeyError(member)
                data = f.read()
    except (KeyError, tarfile.TarError, zipfile.BadZipFile, OSError) as e:
        raise FetchError(f"{asset} has no {member} ({e})") from None
    finally:
        archive.unlink()
    tmp = bindir / ".etcd.verified"
    tmp.write_bytes(data)
    _install(tmp, bindir / "etcd")


def fetch_kwok(name: str, v: dict, os_: str, arch: str, bindir: Path, say) -> None:
    kv = v["KWOK_VERSION"]
    pin = v.get(f"KWOK_SHA256_{name}_{os_}_{arch}")
    if not pin:
        raise FetchError(f"no sha256 pinned for {name} {kv} {os_}/{arch} (KWOK_SHA256_{name}_{os_}_{arch} in "
                         "tools/download.env) and kwok publishes none: not downloaded unverified")
    url = f"{github_base()}/kubernetes-sigs/kwok/releases/download/{kv}/{name}-{os_}-{arch}"
    tmp = bindir / f".{name}.verified"
    fetch_verified(url, pin.lower(), tmp, lambda m: say(m.replace(tmp.name, name, 1)))
    _install(tmp, bindir / name)


def fetch_kind(v: dict, os_: str, arch: str, dest: Path, say) -> None:
    kv = v["KIND_VERSION"]
    asset = f"kind-{os_}-{arch}"
    base = f"{github_base()}/kubernetes-sigs/kind/releases/download/{kv}"
    want = _sum_from(get_text(f"{base}/{asset}.sha256sum"), asset)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.verified")
    fetch_verified(f"{base}/{asset}", want, tmp, lambda m: say(m.replace(tmp.name, "kind", 1)))
    _install(tmp, dest)


TOOLS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok", "kwokctl")


def fetch_tools(bindir: Path, v: dict, say, warn) -> list[str]:
    """Every binary it can get into bindir; the names it could not get."""
    os_, arch = target()
    bindir.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in TOOLS:
        try:
            if name == "etcd":
                fetch_etcd(v, os_, arch, bindir, say)
            elif name.startswith("kwok"):
                fetch_kwok(name, v, os_, arch, bindir, say)
            else:
                fetch_k8s(name, v, os_, arch, bindir, say)
        except FetchError as e:
            warn(f"{name}: {e}")
            missing.append(name)
    for leftover in bindir.glob(".*"):  # nothing but verified, final names stays
        leftover.unlink()
    return missing


def probe() -> tuple[bool, str]:
    """Does the release host answer? One small request, bounded as a whole (name lookup included, which
    urllib's timeout does not cover): an unreachable host costs a few seconds at most."""
    v = versions()
    os_, arch = target()
    url = f"{k8s_base()}/{v['KUBERNETES_VERSION']}/bin/{os_}/{arch}/kubectl.sha256"
    result: list[tuple[bool, str]] = []

    def ask():
        try:
            get_text(url)
            result.append((True, f"{k8s_base()} answers"))
        except FetchError as e:
            result.append((False, str(e)))
        except Exception as e:  # noqa: BLE001 - any failure means: not this route
            result.append((False, f"{url}: {e}"))

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(CONNECT_TIMEOUT + 2)
    return result[0] if result else (False, f"{url}: no answer within {CONNECT_TIMEOUT + 2:.0f}s")


def main(argv: list[str]) -> int:
    def say(m):
        print(f"fetch: {m}", file=sys.stderr, flush=True)

    warn = say
    if len(argv) < 1 or argv[0] not in ("probe", "tools", "kind") or (argv[0] != "probe" and len(argv) != 2):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    if argv[0] == "probe":
        ok, why = probe()
        print(why)
        return 0 if ok else 1
    v = versions()
    try:
        if argv[0] == "tools":
            return 1 if fetch_tools(Path(argv[1]), v, say, warn) else 0
        fetch_kind(v, *target(), Path(argv[1]), say)
        return 0
    except FetchError as e:
        warn(f"kind: {e}")
        return 1
    except OSError as e:  # e.g. the directory is not writable
        warn(f"cannot write {argv[1]}: {e.strerror or e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
