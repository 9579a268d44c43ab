#!/usr/bin/env bash
# kube-router, built from the Go module proxy, for ONE job: enforcing NetworkPolicy on the kind class
# cluster made from kjlab's offline node image (kjlab.classroom.kind_class), whose kindnetd is a
# stand-in that routes pods and enforces no policy (tools/kind/kindnetd). kindnetd's own policy
# engine (kube-network-policies) queues packets through nftables' nft_queue, which some kernels lack
# (this VM's: CONFIG_NFT_QUEUE is not set); kube-router's policy controller needs only iptables and
# ipset, as k3s embeds it. It runs with --run-router=false --run-service-proxy=false: the
# firewall alone (the proxy module's advisory GHSA-phqm-jgc3-qf8g does not apply to it). An
# instructor's own cluster brings its own NetworkPolicy engine (Calico, Cilium, kindnetd, a cloud's):
# this is for the test cluster on one machine only.
#
# Like tools/classroom/helm.sh: `go install module@version` with the module's own go.mod, each module
# checked against the Go checksum database; cached by version and platform in
# ${KJLAB_CACHE:-~/.cache/kjlab}/kube-router/<key>/bin/kube-router.
#
# Usage: tools/classroom/kube-router.sh [--print-path] [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(dirname "$here")"
# shellcheck source=../versions.env
source "$tools/versions.env"
# shellcheck source=../download.env
source "$tools/download.env"

print_path=0 force=0
for arg in "$@"; do
  case "$arg" in
    --print-path) print_path=1 ;;
    --force) force=1 ;;
    *) echo "tools/classroom/kube-router.sh: unknown option $arg (use --print-path or --force)" >&2; exit 2 ;;
  esac
done
die() { echo "tools/classroom/kube-router.sh: $*" >&2; exit 1; }
started=$SECONDS
step() { echo "[kube-router-build $(( SECONDS - started ))s] $*" >&2; }

: "${KUBE_ROUTER_VERSION:?tools/versions.env pins no KUBE_ROUTER_VERSION}"
module=github.com/cloudnativelabs/kube-router/v2
cache="${KJLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kjlab}"
dir="$cache/kube-router/kube-router-${KUBE_ROUTER_VERSION}_linux-amd64"
bin="$dir/bin/kube-router"

if [ "$print_path" = 1 ]; then echo "$bin"; exit 0; fi
if [ "$force" = 0 ] && [ -f "$dir/BUILT" ] && [ -x "$bin" ]; then
  step "kube-router $KUBE_ROUTER_VERSION: cached in $dir"
  echo "$bin"; exit 0
fi
[ "$(uname -m)" = x86_64 ] || die "only linux/amd64 is built here (the kind nodes' platform on this route)"

mkdir -p "$cache/kube-router" 2>/dev/null && [ -w "$cache/kube-router" ] ||
  die "the cache directory $cache/kube-router is not writable; fix its permissions or set KJLAB_CACHE to a writable directory"
# shellcheck source=../go.sh
source "$tools/go.sh"
use_go || die "$go_problem"
step "building kube-router $KUBE_ROUTER_VERSION with $goversion ($gowhy); about 4 min on 2 cores when nothing is cached"
work="$(mktemp -d "$cache/kube-router/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Without the version ldflag kube-router prints an empty version (its Makefile sets it the same way).
GOBIN="$work/bin" GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOFLAGS=-trimpath \
  go install -ldflags "-s -w -X $module/pkg/version.Version=$KUBE_ROUTER_VERSION" \
  "$module/cmd/kube-router@$KUBE_ROUTER_VERSION" >&2 ||
  die "building kube-router $KUBE_ROUTER_VERSION failed (the Go errors above); fix: check that the Go module proxy answers (go env GOPROXY), then run tools/classroom/kube-router.sh again"
got="$("$work/bin/kube-router" --version 2>&1 | head -n 1)"
case "$got" in *"$KUBE_ROUTER_VERSION"*) ;; *) die "the built kube-router reports '$got', not $KUBE_ROUTER_VERSION" ;; esac
{ echo "kube-router=$KUBE_ROUTER_VERSION"; echo "go=$goversion"; echo "seconds=$(( SECONDS - started ))"; } >"$work/BUILT"
rm -rf "$dir" && mv "$work" "$dir"
trap - EXIT
step "kube-router $KUBE_ROUTER_VERSION built in $(( SECONDS - started ))s: $bin"
echo "$bin"
