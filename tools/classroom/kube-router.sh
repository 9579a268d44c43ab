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

die() { echo "tools/classroom/kube-router.sh: $*" >&2; exit 1; }
started=$SECONDS
step() { echo "[kube-router-build $(( SECONDS - started ))s] $*" >&2; }

: "${KUBE_ROUTER_VERSION:?tools/versions.env pins no KUBE_ROUTER_VERSION}"
module=github.com/cloudnativelabs/kube-router/v2
# shellcheck source=go_tool.sh
source "$here/go_tool.sh"
go_tool_start kube-router "$KUBE_ROUTER_VERSION" "$@"
step "building kube-router $KUBE_ROUTER_VERSION with $goversion ($gowhy); about 4 min on 2 cores when nothing is cached"
# Without the version ldflag kube-router prints an empty version (its Makefile sets it the same way).
GOBIN="$work/bin" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath \
  go install -ldflags "-s -w -X $module/pkg/version.Version=$KUBE_ROUTER_VERSION" \
  "$module/cmd/kube-router@$KUBE_ROUTER_VERSION" >&2 ||
  die "building kube-router $KUBE_ROUTER_VERSION failed (the Go errors above); fix: check that the Go module proxy answers (go env GOPROXY), then run tools/classroom/kube-router.sh again"
got="$("$work/bin/kube-router" --version 2>&1 | head -n 1)"
case "$got" in *"$KUBE_ROUTER_VERSION"*) ;; *) die "the built kube-router reports '$got', not $KUBE_ROUTER_VERSION" ;; esac
go_tool_done
