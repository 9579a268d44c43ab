#!/usr/bin/env bash
# One step of `make setup`/`make lab`, with progress: what it does, a line every 30 s while it runs
# (pip prints nothing for minutes), and how long it took or that it failed.
# Usage: tools/step.sh "LABEL" COMMAND [ARGS...]
set -uo pipefail
label=$1; shift
t0=$SECONDS
echo "==> $label"
( while sleep 30; do echo "    ... $label: still running ($(( SECONDS - t0 ))s)"; done ) &
ticker=$!
"$@"; rc=$?
kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null
if [ "$rc" = 0 ]; then echo "<== $label: done in $(( SECONDS - t0 ))s"
else echo "<== $label: FAILED after $(( SECONDS - t0 ))s (exit $rc; the lines above say why)" >&2; fi
exit "$rc"
