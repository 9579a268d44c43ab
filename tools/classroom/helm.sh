#!/usr/bin/env bash
# helm, built from the Go module proxy (the classroom chart's installer, issue 29), like kind in
# tools/kind/build.sh: `go install module@version` builds it with exactly the dependency versions of
# helm's own go.mod, each module checked against the Go checksum database. Cached by version and
# platform in ${KJLAB_CACHE:-~/.cache/kjlab}/helm/<key>/bin/helm, so a second run returns at once.
#
# Usage: tools/classroom/helm.sh [--print-path] [--force]
#   (no option)   build unless cached; print the binary's path on stdout (progress on stderr)
#   --print-path  print the path that would be used, build nothing
#   --force       rebuild even when cached
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(dirname "$here")"
# shellcheck source=../versions.env
source "$tools/versions.env"
# shellcheck source=../download.env
source "$tools/download.env"

die() { echo "tools/classroom/helm.sh: $*" >&2; exit 1; }
started=$SECONDS
step() { echo "[helm-build $(( SECONDS - started ))s] $*" >&2; }

: "${HELM_VERSION:?tools/versions.env pins no HELM_VERSION}"
major="${HELM_VERSION%%.*}"   # v3 or v4: the module path's major-version suffix
case "$major" in v3|v4) ;; *) die "HELM_VERSION=$HELM_VERSION: pin a v3.x.y or v4.x.y release" ;; esac
# shellcheck source=go_tool.sh
source "$here/go_tool.sh"
go_tool_start helm "$HELM_VERSION" "$@"
step "building helm $HELM_VERSION with $goversion ($gowhy); about 3 min on 2 cores when nothing is cached"
# Without the version ldflag helm reports its source tree's default, and `helm version` would lie.
GOBIN="$work/bin" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath \
  go install -ldflags "-s -w -X helm.sh/helm/$major/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/$major/cmd/helm@$HELM_VERSION" >&2 ||
  die "building helm $HELM_VERSION failed (the Go errors above); fix: check that the Go module proxy answers (go env GOPROXY), then run tools/classroom/helm.sh again"
got="$("$work/bin/helm" version --template '{{.Version}}')"
[ "$got" = "$HELM_VERSION" ] || die "the built helm reports $got, not $HELM_VERSION"
go_tool_done
