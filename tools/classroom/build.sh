#!/usr/bin/env bash
# The classroom images (issue 29), built offline like the kind node image: Debian packages, PyPI,
# npm and tools/build.sh's cluster tools; nothing from a container registry.
#
# Usage: tools/classroom/build.sh learner|hub|all|netpol [--print-image] [--force]
#   learner   kjlab.local/learner:<key>: JupyterLab, jupyterhub-singleuser, kjlab, the kwok engine's
#             binaries in /opt/kjlab/bin, the handout (labs/, exercises/); user learner (1000:100)
#   hub       kjlab.local/hub:<key>: JupyterHub, KubeSpawner, OAuthenticator, the idle culler, kjlab,
#             configurable-http-proxy; user hub (1000:100) in /srv/jupyterhub
#   all       both
#   netpol    kjlab.local/netpol:<key>: kube-router's NetworkPolicy firewall (tools/classroom/kube-router.sh)
#             with iptables and ipset, for the kind class cluster on kjlab's offline node image only
#             (kjlab.classroom.kind_class installs it there); not part of `all`, not recorded
#   --print-image  print the name(s) that would be built, build nothing (needs Docker: the key
#             includes the Debian image's, read from it)
#   --force   rebuild every stage even when cached
# Each image built (or found cached) is recorded in <cache>/classroom/built.json under this tree, with
# a digest of every repo file that went in (tools/classroom/built.py): `kjlab class up --kubernetes`
# installs those images -- the ones the nodes were given -- even after the tree changed (it says so).
# Progress lines ("[classroom-build 12s] ...") go to stderr; stdout carries only the image names.
# A failure ends with one line on stderr naming the step, its log and the fix.
#
# Three stages per image, each an image of its own keyed by exactly what goes into it, so a change
# to a lab rebuilds only the last one (seconds), not the Python packages (minutes):
#   os     kjlab.local/classroom-os:<image>-<key>    tools/kind/build.sh's Debian image + Debian's updates
#                                                   + apt packages
#   venv   kjlab.local/classroom-venv:<image>-<key>  /opt/kjlab/venv from the pinned requirements
#                                                   (+ configurable-http-proxy for the hub)
#   final  kjlab.local/<image>:<key>                 kjlab itself, the handout, tools, user, labels
# The final name is tagged only when its build succeeded; a stage image is committed only whole.
#
# Why the venv is made in a `docker run` and committed, not in a Dockerfile RUN: this machine (and
# many a company network) reaches PyPI and npm only through a TLS-inspecting proxy whose CA is in
# the host's bundle, not the image's. A run can mount the host's bundle for the install and leave it
# out of the image; a RUN of Docker 20.10's legacy builder cannot mount anything. The venv is made by
# the image's own python3 (Debian's), so no host interpreter is baked in.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(dirname "$here")"
root="$(dirname "$tools")"
# shellcheck source=../versions.env
source "$tools/versions.env"

usage="usage: tools/classroom/build.sh learner|hub|all|netpol [--print-image] [--force]"
command="${1:-}"
[ $# -gt 0 ] && shift
print=0 force=0
for arg in "$@"; do
  case "$arg" in
    --print-image) print=1 ;;
    --force) force=1 ;;
    *) echo "tools/classroom/build.sh: unknown option $arg; $usage" >&2; exit 2 ;;
  esac
done
case "$command" in
  learner|hub|netpol) images=("$command") ;;
  all) images=(learner hub) ;;
  *) echo "tools/classroom/build.sh: unknown command '${command}'; $usage" >&2; exit 2 ;;
esac

started=$SECONDS
step() { echo "[classroom-build $(( SECONDS - started ))s] $*" >&2; }
die() { echo "tools/classroom/build.sh: $*" >&2; exit 1; }
export DOCKER_BUILDKIT=0   # the legacy builder: Debian's Docker 20.10 has no buildx

cache="${KJLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kjlab}/classroom"
repo="${KJLAB_CLASSROOM_IMAGE_REPO:-kjlab.local}"  # another one: bench/classroom_image.py's throwaway builds
logs="$cache/logs"
image_dir="$root/kjlab/classroom/image"
command -v python3 >/dev/null || die "python3 is missing; install it (apt-get install python3), then run this again"
docker info >/dev/null 2>&1 ||
  die "no Docker engine answers (docker info); start Docker (CI: tools/ci-docker.sh), then run this again"
key() { python3 "$here/cache_key.py" "$root" "$@"; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null; }

# ---- the Debian base: tools/kind/build.sh's root filesystem image -------------------------------
# Its lab image bash:5 is that image plus labels, and names its key (the Debian suite and package
# list); kjlab.local/debian:<that key> is the image itself. Reused, not rebuilt: one Debian layer for
# the kind node's images and these.
debian_image=""
find_debian_image() {
  local lab k
  lab="$(bash "$tools/kind/build.sh" lab-images --print-image)"
  lab="${lab%%$'\n'*}"  # the first one (not `| head`: its early exit would be a SIGPIPE under pipefail)
  if [ "$(label "$lab" io.kjlab.local-build)" != true ]; then
    [ "$print" = 0 ] || die "the Debian image is not built yet; run tools/kind/build.sh lab-images (as root), then this again"
    step "Debian image: tools/kind/build.sh lab-images (log: $logs/debian.log)"
    bash "$tools/kind/build.sh" lab-images >"$logs/debian.log" 2>&1 ||
      die "step 'debian' failed ($(tail -n 1 "$logs/debian.log" | cut -c1-200)); full log: $logs/debian.log; fix: tools/kind/build.sh lab-images needs root and debootstrap; run it alone to see why"
  fi
  k="$(label "$lab" io.kjlab.build-key)"
  debian_image="kjlab.local/debian:$k"
  have_image "$debian_image" ||
    die "step 'debian': $lab names $debian_image, which is gone; run tools/kind/build.sh lab-images --force, then this again"
}

# ---- the cluster tools: tools/build.sh's cache (or KJLAB_BIN_DIR, as kjlab itself reads it) ------
bin_dir=""
find_bin_dir() {
  local b
  if [ -n "${KJLAB_BIN_DIR:-}" ]; then bin_dir="$KJLAB_BIN_DIR"
  else bin_dir="$(bash "$tools/build.sh" --print-dir)"; fi
  [ "$print" = 1 ] && return 0
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl; do
    [ -x "$bin_dir/$b" ] && continue
    [ -z "${KJLAB_BIN_DIR:-}" ] || die "step 'cluster-tools': $bin_dir/$b is missing; unset KJLAB_BIN_DIR or point it at tools/build.sh's bin directory"
    step "cluster tools: tools/build.sh (log: $logs/cluster-tools.log)"
    bash "$tools/build.sh" >"$logs/cluster-tools.log" 2>&1 ||
      die "step 'cluster-tools' failed ($(tail -n 1 "$logs/cluster-tools.log" | cut -c1-200)); full log: $logs/cluster-tools.log; fix: run bash tools/build.sh alone to see why"
    break
  done
}

# ---- the recipes (their text is part of each stage's key) ----------------------------------------
# tini reaps what kwokctl's control plane leaves behind (the single-user server is PID 1's child,
# not PID 1) and forwards the stop signal, as z2jh's images do.
os_packages_learner="python3 python3-venv tini"
os_packages_hub="python3 python3-venv tini nodejs npm"   # node from Debian: configurable-http-proxy
# kube-router's policy controller runs iptables(-save/-restore) and ipset; both iptables backends
# come in Debian's package, and kube-router-start picks the one the node's kubelet uses.
os_packages_netpol="iptables ipset"
# The Debian image's sources.list names only the release; a classroom image also takes the security
# and point-release updates, from wherever the host's own apt gets them (apt lists its sources:
# nothing is parsed or written here).
updates_list() {
  command -v apt-get >/dev/null || return 0
  apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null |
    awk -v s="$DEBIAN_SUITE" '($2 == s "-security" || $2 == s "-updates") && $3 == "main" { print "deb " $1 " " $2 " main" }' |
    sort -u
}
updates=""
os_recipe() { # image
  local packages="os_packages_$1"
  printf '%s\n' "FROM $debian_image" "COPY updates.list /etc/apt/sources.list.d/kjlab-updates.list" \
    "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${!packages} && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb"
}
venv_script() { # image: run in the os image with the pins in /run/kjlab-build
  cat <<'EOF'
set -euo pipefail
python3 -m venv /opt/kjlab/venv
pip=/opt/kjlab/venv/bin/pip
$pip install --quiet --no-warn-script-location "$(grep -E '^pip==' /run/kjlab-build/requirements.txt | cut -d' ' -f1)"
$pip install --quiet --no-warn-script-location -r /run/kjlab-build/requirements.txt
EOF
  [ "$1" = hub ] && cat <<'EOF'
npm install --global --prefix /opt/kjlab/node --no-fund --no-audit --no-update-notifier $(grep -Ev '^[[:space:]]*(#|$)' /run/kjlab-build/npm.txt)
rm -rf /root/.npm
EOF
}
# Extra environment variables every image gets.
common_env='ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1'
# (docker commit kept the venv run's mount points, empty: removed here)
install_kjlab='RUN rm -rf /run/kjlab-build /run/kjlab-build-ca.crt /root/.cache && /opt/kjlab/venv/bin/pip install --quiet --no-deps --no-build-isolation --no-index --no-cache-dir /tmp/kjlab-src && rm -rf /tmp/kjlab-src && /opt/kjlab/venv/bin/pip check'
final_recipe() { # image venv_image key
  local labels="LABEL io.kjlab.local-build=true io.kjlab.build-key=$3"
  if [ "$1" = netpol ]; then
    printf '%s\n' "FROM $2" "COPY kube-router kube-router-start /usr/local/bin/" "$labels" \
      "LABEL org.opencontainers.image.description=\"kube-router $KUBE_ROUTER_VERSION, NetworkPolicy firewall only, for kjlab's offline kind class cluster, Debian $DEBIAN_SUITE\"" \
      'ENTRYPOINT ["/usr/local/bin/kube-router-start"]'
  elif [ "$1" = learner ]; then
    # The JupyterLab settings and the terminal extension go into the venv (paths.install_jupyterlab_settings),
    # so the plain jupyterhub-singleuser that KubeSpawner starts has them.
    printf '%s\n' "FROM $2" "COPY src /tmp/kjlab-src" \
      "$install_kjlab && /opt/kjlab/venv/bin/python -c 'from kjlab.paths import install_jupyterlab_settings as i; i()' && useradd --uid 1000 --gid 100 --create-home --home-dir /home/learner --shell /bin/bash learner" \
      "COPY bin /opt/kjlab/bin" "COPY tools /opt/kjlab/tools" "COPY handout /opt/kjlab/handout" \
      "COPY kjlab-learner-start /usr/local/bin/kjlab-learner-start" \
      "$common_env HOME=/home/learner SHELL=/bin/bash KJLAB_BIN_DIR=/opt/kjlab/bin KJLAB_TOOLS_DIR=/opt/kjlab/tools PATH=/opt/kjlab/venv/bin:/opt/kjlab/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      "$labels" "LABEL org.opencontainers.image.description=\"kjlab learner: JupyterLab, jupyterhub-singleuser and a private kwok lab cluster (Kubernetes $KUBERNETES_VERSION), Debian $DEBIAN_SUITE\"" \
      "USER 1000:100" "WORKDIR /home/learner" "EXPOSE 8888" \
      'ENTRYPOINT ["/usr/bin/tini", "-g", "--", "kjlab-learner-start"]' 'CMD ["jupyterhub-singleuser"]'
  else
    printf '%s\n' "FROM $2" "COPY src /tmp/kjlab-src" \
      "$install_kjlab && useradd --uid 1000 --gid 100 --no-create-home --home-dir /srv/jupyterhub --shell /bin/bash hub && mkdir -p /srv/jupyterhub /usr/local/etc/jupyterhub && chown 1000:100 /srv/jupyterhub" \
      "$common_env HOME=/srv/jupyterhub PATH=/opt/kjlab/venv/bin:/opt/kjlab/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      "$labels" "LABEL org.opencontainers.image.description=\"kjlab hub: JupyterHub with KubeSpawner, OAuthenticator, the idle culler and configurable-http-proxy, Debian $DEBIAN_SUITE\"" \
      "USER 1000:100" "WORKDIR /srv/jupyterhub" "EXPOSE 8081" \
      'ENTRYPOINT ["/usr/bin/tini", "-g", "--"]' 'CMD ["jupyterhub", "-f", "/usr/local/etc/jupyterhub/jupyterhub_config.py"]'
  fi
}
# What goes into each final image from the repo (copied exactly as hashed: cache_key.py --list).
src_inputs=(kjlab pyproject.toml README.md)
handout_inputs=(labs exercises)

tree_inputs=()
keys() { # image: sets os_image, venv_image, final_image and tree_inputs (the repo files that go in)
  local image=$1 k requirements=("kjlab/classroom/image/requirements-$1.txt")
  [ "$image" = hub ] && requirements+=(kjlab/classroom/image/npm-hub.txt)
  k="$(key --extra "$(os_recipe "$image")" --extra "$updates")" || die "cannot compute the os stage's key"
  os_image="$repo/classroom-os:$image-$k"
  if [ "$image" = netpol ]; then  # no venv: a Go binary on the Debian packages
    venv_image="$os_image"
    tree_inputs=(tools/classroom/build.sh tools/classroom/cache_key.py tools/classroom/kube-router.sh tools/classroom/go_tool.sh
                 kjlab/classroom/image/kube-router-start)
    k="$(key "${tree_inputs[@]}" --extra "$os_image" --extra "kube-router $KUBE_ROUTER_VERSION" \
      --extra "$(final_recipe "$image" "$os_image" -)")" || die "cannot compute the $image image's key"
    final_image="$repo/$image:$k"
    return 0
  fi
  k="$(key "${requirements[@]}" --extra "$os_image" --extra "$(venv_script "$image")")" || die "cannot compute the venv stage's key"
  venv_image="$repo/classroom-venv:$image-$k"
  local inputs=("${src_inputs[@]}" tools/classroom/build.sh tools/classroom/cache_key.py)
  [ "$image" = learner ] && inputs+=("${handout_inputs[@]}" tools/versions.env tools/download.env)
  local tools_key=none  # the cluster tools' cache directory is named by their versions and go.sum
  [ "$image" = learner ] && tools_key="$(basename "$(dirname "$bin_dir")")"
  tree_inputs=("${inputs[@]}")  # the requirements files are under kjlab/
  k="$(key "${inputs[@]}" --extra "$venv_image" --extra "$tools_key" \
    --extra "$(final_recipe "$image" "$venv_image" -)")" || die "cannot compute the $image image's key"
  final_image="$repo/$image:$k"
}

# ---- building --------------------------------------------------------------------------------------
work="" container=""
cleanup() {
  [ -z "$container" ] || docker rm -f "$container" >/dev/null 2>&1 || true
  [ -z "$work" ] || rm -rf "$work"
}
image_build() { # tag: the Dockerfile on stdin, the context in $work/ctx
  local dockerfile
  dockerfile="$(cat)"
  printf '%s\n' "$dockerfile" >"$work/ctx/Dockerfile"
  # --force: Docker's layer cache would hand back the old apt-get layer for the same RUN line
  docker build --rm --force-rm $([ "$force" = 1 ] && echo --no-cache) -t "$1" "$work/ctx"
}
logged() { # name fix command...: output to logs/name.log; on failure one line and stop
  local name=$1 fix=$2 t0=$SECONDS; shift 2
  "$@" >"$logs/$name.log" 2>&1 ||
    die "step '$name' failed after $(( SECONDS - t0 ))s ($(grep -v '^[[:space:]]*$' "$logs/$name.log" | tail -n 1 | cut -c1-200)); full log: $logs/$name.log; fix: $fix"
}
fresh_ctx() { rm -rf "$work/ctx" && mkdir -p "$work/ctx"; }
copy_inputs() { # dest inputs...: the files cache_key.py hashes, hard-linked when it can
  local dest=$1 f; shift
  mkdir -p "$dest"
  key --list "$@" | while read -r f; do
    mkdir -p "$dest/$(dirname "$f")"
    ln "$root/$f" "$dest/$f" 2>/dev/null || cp -p "$root/$f" "$dest/$f"
  done
}

# The host's CA bundle and index settings, for the install only (see the header): read from the
# host's pip and npm configuration, never written here.
host_ca() {
  local f
  for f in "${PIP_CERT:-}" "$(python3 -m pip config get global.cert 2>/dev/null || true)" \
           "$( { command -v npm >/dev/null && npm config get cafile; } 2>/dev/null || true)" \
           "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}"; do
    [ -n "$f" ] && [ "$f" != null ] && [ "$f" != undefined ] && [ -f "$f" ] && { echo "$f"; return; }
  done
}
registry_env() {
  local v name
  for name in index-url extra-index-url trusted-host; do
    v="$(python3 -m pip config get "global.$name" 2>/dev/null || true)"
    [ -n "$v" ] && echo "PIP_$(echo "$name" | tr a-z- A-Z_)=$v"
  done
  env | grep -E '^PIP_(INDEX_URL|EXTRA_INDEX_URL|TRUSTED_HOST)=' || true
  if command -v npm >/dev/null; then
    v="$(npm config get registry 2>/dev/null || true)"
    [ -n "$v" ] && echo "npm_config_registry=$v"
  fi
}

build_os() { # image
  if [ "$force" = 0 ] && have_image "$os_image"; then step "$1 os stage: cached ($os_image)"; return 0; fi
  local packages="os_packages_$1"
  step "$1 os stage: apt-get install ${!packages} from the Debian image's mirror (log: $logs/$1-os.log)"
  fresh_ctx
  printf '%s\n' "$updates" >"$work/ctx/updates.list"
  [ -n "$updates" ] || step "$1 os stage: the host's apt names no $DEBIAN_SUITE-security or -updates source; the release's packages only"
  { os_recipe "$1"; echo "LABEL io.kjlab.local-build=true io.kjlab.build-key=${os_image##*:}"; } |
    logged "$1-os" "check that a container reaches the Debian mirror in the image's /etc/apt/sources.list (docker run --rm $debian_image apt-get update)" \
      image_build "$os_image"
}

build_venv() { # image
  if [ "$force" = 0 ] && have_image "$venv_image"; then step "$1 venv stage: cached ($venv_image)"; return 0; fi
  local ca args=() line t0=$SECONDS
  step "$1 venv stage: /opt/kjlab/venv from kjlab/classroom/image/requirements-$1.txt (log: $logs/$1-venv.log)"
  rm -rf "$work/pins" && mkdir -p "$work/pins" "$cache/pip"
  cp "$image_dir/requirements-$1.txt" "$work/pins/requirements.txt"
  [ "$1" = hub ] && cp "$image_dir/npm-hub.txt" "$work/pins/npm.txt"
  ca="$(host_ca)"
  if [ -n "$ca" ]; then
    args+=(-v "$ca:/run/kjlab-build-ca.crt:ro" -e PIP_CERT=/run/kjlab-build-ca.crt
           -e npm_config_cafile=/run/kjlab-build-ca.crt -e NODE_EXTRA_CA_CERTS=/run/kjlab-build-ca.crt)
  fi
  while read -r line; do [ -n "$line" ] && args+=(-e "$line"); done < <(registry_env)
  container="kjlab-classroom-build-$1-$$"
  docker rm -f "$container" >/dev/null 2>&1 || true
  # the pip cache (downloads and built wheels) is the host's, so a --force or a new pin is quick
  logged "$1-venv" "check that a container reaches the package index (the host's pip and npm settings are passed in), then run this again" \
    docker run --name "$container" -v "$work/pins:/run/kjlab-build:ro" -v "$cache/pip:/root/.cache/pip" "${args[@]}" \
      "$os_image" bash -c "$(venv_script "$1")"
  logged "$1-venv-commit" "check Docker's disk space (docker system df), then run this again" \
    docker commit --change "LABEL io.kjlab.local-build=true io.kjlab.build-key=${venv_image##*:}" "$container" "$venv_image"
  docker rm -f "$container" >/dev/null 2>&1 || true
  container=""
  step "$1 venv stage: built in $(( SECONDS - t0 ))s"
}

build_final() { # image
  local t0=$SECONDS
  fresh_ctx
  if [ "$1" = netpol ]; then
    local kube_router
    kube_router="$(logged kube-router "run tools/classroom/kube-router.sh alone to see why" bash "$here/kube-router.sh" && tail -n 1 "$logs/kube-router.log")"
    cp -p "$kube_router" "$image_dir/kube-router-start" "$work/ctx/"
  else
    copy_inputs "$work/ctx/src" "${src_inputs[@]}"
  fi
  if [ "$1" = learner ]; then
    mkdir -p "$work/ctx/bin" "$work/ctx/tools" "$work/ctx/handout"
    for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl; do
      ln "$bin_dir/$b" "$work/ctx/bin/$b" 2>/dev/null || cp -p "$bin_dir/$b" "$work/ctx/bin/$b"
    done
    cp "$tools/versions.env" "$tools/download.env" "$work/ctx/tools/"
    copy_inputs "$work/ctx/handout-src" "${handout_inputs[@]}"
    mv "$work/ctx/handout-src"/* "$work/ctx/handout/" && rmdir "$work/ctx/handout-src"
    cp "$image_dir/kjlab-learner-start" "$work/ctx/"
  fi
  case "$1" in
    learner) step "$1 image: kjlab, the cluster tools, the handout on $venv_image (log: $logs/$1.log)" ;;
    netpol) step "$1 image: kube-router $KUBE_ROUTER_VERSION on $venv_image (log: $logs/$1.log)" ;;
    *) step "$1 image: kjlab on $venv_image (log: $logs/$1.log)" ;;
  esac
  final_recipe "$1" "$venv_image" "${final_image##*:}" |
    logged "$1" "see the log; a failed pip check means a pin in kjlab/classroom/image/requirements-$1.txt misses a dependency" \
      image_build "$final_image"
  step "$1 image: $final_image built in $(( SECONDS - t0 ))s ($(docker image inspect -f '{{.Size}}' "$final_image" | awk '{printf "%.2f GB", $1/1e9}'))"
}

find_debian_image
find_bin_dir
updates="$(updates_list)"
if [ "$print" = 1 ]; then
  for image in "${images[@]}"; do keys "$image"; echo "$final_image"; done
  exit 0
fi

mkdir -p "$logs"
# one build at a time per cache (two builds would race on the stage tags)
if command -v flock >/dev/null; then
  exec 9>"$cache/.lock"
  if ! flock -n 9; then step "waiting for another tools/classroom/build.sh using $cache"; flock 9; fi
fi
trap cleanup EXIT
trap 'exit 130' INT TERM
work="$(mktemp -d "$cache/.work.XXXXXX")"
for image in "${images[@]}"; do
  keys "$image"
  if [ "$force" = 0 ] && have_image "$final_image" && [ "$(label "$final_image" io.kjlab.build-key)" = "${final_image##*:}" ]; then
    step "$image image: cached ($final_image)"
  else
    build_os "$image"
    [ "$image" = netpol ] || build_venv "$image"
    build_final "$image"
  fi
  [ "$image" = netpol ] && { echo "$final_image"; continue; }  # class up installs learner and hub only
  python3 "$here/built.py" record "$cache/built.json" "$root" "$image" "$final_image" "${tree_inputs[@]}" ||
    die "could not record $final_image in $cache/built.json (kjlab class up reads it); check that directory is writable, then run this again"
  echo "$final_image"
done
