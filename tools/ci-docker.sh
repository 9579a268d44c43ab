#!/usr/bin/env bash
# CI only (called by .ci/run as root on the project's VMs): make sure a Docker engine answers.
#   1. Install what is missing of Debian's docker.io (only when no engine answers), debootstrap, jq
#      and gcc (the offline kind build needs them). If `docker info` answers, nothing else is done.
#   2. Fix what this host lacks, and only that: a capability bounding set without CAP_SYS_RESOURCE
#      makes every --privileged container (each kind node) fail in runc, so a runc wrapper that
#      drops the missing capabilities is installed at a permanent path and made Docker's default
#      runtime in /etc/docker/daemon.json, before dockerd starts.
#   3. Raise the inotify limits to kind's recommended values when lower (kube-proxy in a kind node
#      fails with "too many open files" once the host's 128 inotify instances are used up).
#   4. Start dockerd in the background (no systemd here), log to $KJLAB_DOCKERD_LOG, wait until it answers.
# kjlab itself never changes a learner's Docker configuration; only this CI script does.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log="${KJLAB_DOCKERD_LOG:-/var/log/kjlab-dockerd.log}"
wrapper=/usr/local/libexec/kjlab/runc-boundcaps
started=$SECONDS
say() { echo "[ci-docker $(( SECONDS - started ))s] $*"; }
die() { echo "tools/ci-docker.sh: $*" >&2; exit 1; }

answers=0
docker info >/dev/null 2>&1 && answers=1
need=()
[ "$answers" = 1 ] || command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)  # the offline kind node image needs both
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)  # the pause binary, static
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" != 0 ]; then
  die "${need[*]} missing and this is not root; install them (and start Docker) yourself, or run this as root on a CI machine"
fi
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "no Docker engine and no apt-get; install Docker, debootstrap and jq, then run this again"
  say "installing ${need[*]} from Debian"
  apt-get update -qq >/dev/null || die "apt-get update failed; check the machine's package mirror, then run this again"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    die "apt-get install ${need[*]} failed; check the machine's package mirror, then run this again"
fi

# Each kind node runs systemd, containerd and the kubelet, all holding inotify instances of the
# same host user; at the kernel's default 128 a second cluster (or kwok + kind + Jupyter) runs out
# and kube-proxy dies with "too many open files". Raise the limits to what kind's known-issues page
# recommends, when they are lower (these VMs: 128 instances).
raise() { # sysctl key, minimum
  local now; now="$(sysctl -n "$1" 2>/dev/null || echo "")"
  if [ -n "$now" ] && [ "$now" -lt "$2" ]; then
    if [ "$(id -u)" = 0 ] && sysctl -qw "$1=$2" 2>/dev/null; then say "raised $1 from $now to $2"
    else say "warning: $1 is $now (below $2) and cannot be raised here; kind clusters may hit 'too many open files'"; fi
  fi
}
raise fs.inotify.max_user_instances 512
raise fs.inotify.max_user_watches 524288

if [ "$answers" = 1 ]; then
  say "a Docker engine answers; leaving its configuration as it is"
  exit 0
fi

# CAP_SYS_RESOURCE is bit 24 of the bounding set.
bounding=$(( 16#$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status) ))
if (( (bounding >> 24) & 1 )); then
  say "the capability bounding set is complete; Docker keeps its default runtime"
else
  say "this host's capability bounding set lacks CAP_SYS_RESOURCE: registering $wrapper as Docker's default runtime"
  install -D -m 0755 "$here/kind/runc-boundcaps" "$wrapper"
  mkdir -p /etc/docker
  conf=/etc/docker/daemon.json
  [ -s "$conf" ] || echo '{}' >"$conf"
  jq --arg path "$wrapper" '.runtimes["kjlab-runc"] = {path: $path} | ."default-runtime" = "kjlab-runc"' \
    "$conf" >"$conf.tmp" || die "$conf is not valid JSON; fix or remove it, then run this again"
  mv -f "$conf.tmp" "$conf"
fi

if pgrep -x dockerd >/dev/null; then
  die "dockerd runs (pid $(pgrep -xo dockerd)) but does not answer; see its log (e.g. $log), stop it, then run this again"
fi
say "starting dockerd (log: $log)"
mkdir -p "$(dirname "$log")"
setsid nohup dockerd >>"$log" 2>&1 </dev/null &  # its own session: outlives this script and its caller's job control
pid=$!
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    say "dockerd $(docker version -f '{{.Server.Version}}' 2>/dev/null) answers (pid $pid)"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || die "dockerd exited at start; the last lines of $log say why: $(tail -n 3 "$log" | tr '\n' ' ')"
  sleep 1
done
die "dockerd (pid $pid) did not answer within 120 s; see $log"
