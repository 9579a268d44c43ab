#!/usr/bin/env bash
# Builds the kwok engine's binaries from the Go module proxy into a cache outside the repo:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (tools/kubernetes)
#   etcd                                                              (tools/etcd)
#   kwok, kwokctl                                                     (tools/kwok)
# The cache directory is keyed by the pinned versions and the wrapper modules' go.sum, so a
# second run finds everything and returns in well under a second.
#
# Usage: tools/build.sh [--print-dir] [--force]
#   --print-dir  print the bin directory that would be used, build nothing
#   --force      rebuild even when the cache is complete
# Environment: KJLAB_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/kjlab)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

print_dir=0 force=0
for arg in "$@"; do
  case "$arg" in
    --print-dir) print_dir=1 ;;
    --force) force=1 ;;
    *) echo "tools/build.sh: unknown option $arg (use --print-dir or --force)" >&2; exit 2 ;;
  esac
done

die() { echo "tools/build.sh: $*" >&2; exit 1; }

# A wrapper go.mod that drifted from versions.env would build something other than what is
# pinned; stop instead of guessing which one is meant.
check_pin() { # file module version
  grep -Eq "^(require )?[[:space:]]*$2 $3( |$)" "$here/$1" ||
    die "$1 does not require $2 $3 as tools/versions.env pins; update one of them"
}
check_pin kubernetes/go.mod k8s.io/kubernetes "$KUBERNETES_VERSION"
check_pin etcd/go.mod go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
check_pin kwok/go.mod sigs.k8s.io/kwok "$KWOK_VERSION"

command -v go >/dev/null || die "Go is not installed; install Go >= 1.26 (e.g. apt-get install golang-go, or your distribution's package), then run this again"

export GOTOOLCHAIN=local   # never download a toolchain
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -trimpath"

goversion="$(go env GOVERSION)"
platform="$(go env GOOS)-$(go env GOARCH)"
sums="$(cat "$here"/kubernetes/go.sum "$here"/etcd/go.sum "$here"/kwok/go.sum | sha256sum | cut -c1-12)"
cache="${KJLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kjlab}"
key="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${goversion}_${platform}_${sums}"
bindir="$cache/tools/$key/bin"

if [ "$print_dir" = 1 ]; then echo "$bindir"; exit 0; fi

binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)
complete() { for b in "${binaries[@]}"; do [ -x "$bindir/$b" ] || return 1; done; [ -f "$bindir/../BUILT" ]; }
if [ "$force" = 0 ] && complete; then
  echo "cluster tools: cached in $bindir"
  exit 0
fi

mkdir -p "$cache/tools"
work="$(mktemp -d "$cache/tools/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"

started=$SECONDS
step() { echo "[$(( SECONDS - started ))s] $*"; }

# Version ldflags: without them the binaries report v0.0.0-master, and kwokctl and the
# learner's kubectl would see a version skew that is not there.
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
kld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kld="$kld -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kld="$kld -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

step "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $KUBERNETES_VERSION (the long step: 10-25 min on 2 cores when nothing is cached)"
(cd "$here/kubernetes" && go build -ldflags "$kld" -o "$work/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl) ||
  die "building Kubernetes $KUBERNETES_VERSION failed (see the Go errors above); run tools/build.sh again once fixed"

step "building etcd $ETCD_VERSION"
(cd "$here/etcd" && go build -ldflags "-s -w" -o "$work/bin/etcd" ./cmd/etcd) ||
  die "building etcd $ETCD_VERSION failed (see the Go errors above)"

step "building kwok and kwokctl $KWOK_VERSION"
kwld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}"
(cd "$here/kwok" && go build -ldflags "$kwld" -o "$work/bin/" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl) ||
  die "building kwok $KWOK_VERSION failed (see the Go errors above)"

"$work/bin/kubectl" version --client 2>/dev/null | grep -q "$KUBERNETES_VERSION" ||
  die "kubectl does not report $KUBERNETES_VERSION: the version ldflags did not apply"

mkdir -p "$(dirname "$bindir")"
rm -rf "$bindir"
mv "$work/bin" "$bindir"
cat > "$bindir/../BUILT" <<EOF
kubernetes=$KUBERNETES_VERSION
etcd=$ETCD_VERSION
kwok=$KWOK_VERSION
go=$goversion
seconds=$(( SECONDS - started ))
EOF
step "cluster tools built in $bindir"
