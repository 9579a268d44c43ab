#!/usr/bin/env bash
# `make test`: every test, the two engines in parallel.
#   1. unit tests (no cluster)
#   2. the lab clusters, one after the other (both write the kubeconfig and kjlab's state file):
#      kwok always; kind when it can run here (Docker answers, kind and a node image can be had)
#   3. the kwok suite in three shards (the labs, the browser test, the test that labs never break each
#      other and the fault tests on a second kwok cluster of their own, under artifacts/state-kwok2; the
#      practice tasks on a third, artifacts/state-kwok3; the solutions and exercises after the cluster
#      and classroom tests) and the kind suite: four concurrent pytest processes,
#      each on its own cluster (on one cluster the tests stay serial: a drain evicts every pod on its
#      node). The kwok suite alone took ~54 min serially; most of it is the Job controller's back-off
#      waiting, not CPU, so the shards overlap well on two cores.
#      Beside them, when Docker answers: the classroom images (tests/classroom_image), then the class on
#      Kubernetes on a kind cluster of its own, kjlab-class, one control plane and three workers
#      (tests/classroom_k8s: ~16 min beside the other suites and ~16 GB of disk for the images in the
#      nodes; left out, with the reason, when Docker's disk has less than 20 GB free or KJLAB_CLASS_ON_KIND=0).
#   4. the kind lifecycle tests (down, down --purge), after the class on kind (a purge removes the
#      node image its cluster runs on), then the kwok lifecycle tests (they take the kwok cluster down
#      and up) and the engine comparison,
#      which reads the runs both suites saved in artifacts/runs
#   5. `kjlab down` for the clusters this script started (KJLAB_KEEP_CLUSTER=1 keeps them)
# No long scenario runs twice on one engine: failjob without its policy (~7 min of controller
# back-off) is run by lab 01 on each engine, and the comparison test asserts its outcome.
# Exit status: non-zero when any stage failed. Logs: artifacts/test-<stage>.log
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
KJLAB=.venv/bin/kjlab
mkdir -p artifacts
export KJLAB_RUNS_DIR="$PWD/artifacts/runs"
rm -rf "$KJLAB_RUNS_DIR"
mkdir -p "$KJLAB_RUNS_DIR"
started=$SECONDS
say() { echo "== [$(( (SECONDS - started) / 60 ))m$(( (SECONDS - started) % 60 ))s] $*"; }
failed=()
# The long failjob-without-policy run: covered by labs/01 on each engine (see above).
LONG=test_failjob_without_policy_retries_until_the_backoff_limit

say "unit tests"
$PY -m pytest -q -ra -m "not cluster" --ignore=tests/compare 2>&1 | tee artifacts/test-unit.log
[ "${PIPESTATUS[0]}" = 0 ] || failed+=(unit)

running() { $PY - "$1" <<'PYEOF'
import sys
from kjlab import cluster
context = f"{sys.argv[1]}-kjlab"
sys.exit(0 if cluster.registry.entry(context) and cluster.reachable(context) else 1)
PYEOF
}
ours=()
bring_up() {
  if running "$1"; then say "reusing the running $1 lab cluster"; return 0; fi
  say "kjlab up --engine $1"
  local t=$SECONDS
  if $KJLAB up --engine "$1" 2>&1 | tee "artifacts/test-up-$1.log"; [ "${PIPESTATUS[0]}" = 0 ]; then
    ours+=("$1"); say "$1 cluster up in $(( SECONDS - t ))s"
  else
    failed+=("up-$1"); return 1
  fi
}
kwok_ok=1; kind_ok=1; kwok2_ok=1; kwok3_ok=1
bring_up kwok || kwok_ok=0
# The second kwok cluster: its own state directory (kubeconfig, registry, kwok's workdir), so it is
# the same `kwok-kjlab` context in a kubeconfig of its own; always this run's, always fresh.
KWOK2_STATE="$PWD/artifacts/state-kwok2"
rm -rf "$KWOK2_STATE"
say "kjlab up --engine kwok (second cluster, for the notebooks)"
t2=$SECONDS
if KJLAB_STATE="$KWOK2_STATE" $KJLAB up --engine kwok 2>&1 | tee artifacts/test-up-kwok2.log; [ "${PIPESTATUS[0]}" = 0 ]; then
  say "second kwok cluster up in $(( SECONDS - t2 ))s"
else
  failed+=(up-kwok2); kwok2_ok=0
fi
# A third kwok cluster for the practice tasks (40 tasks, ~180 answers typed and checked: ~20 min, mostly
# the Job controller's back-off and waits, little CPU), so neither of the other shards grows by that much.
KWOK3_STATE="$PWD/artifacts/state-kwok3"
rm -rf "$KWOK3_STATE"
say "kjlab up --engine kwok (third cluster, for the practice tasks)"
t3=$SECONDS
if KJLAB_STATE="$KWOK3_STATE" $KJLAB up --engine kwok 2>&1 | tee artifacts/test-up-kwok3.log; [ "${PIPESTATUS[0]}" = 0 ]; then
  say "third kwok cluster up in $(( SECONDS - t3 ))s"
else
  failed+=(up-kwok3); kwok3_ok=0
fi
kind_why="$($PY -c 'from kjlab.cluster import engine; r = engine.kind_readiness(); print("yes" if r.ok else r.why)')"
if [ "$kind_why" = yes ]; then
  bring_up kind || kind_ok=0
else
  kind_ok=0; say "the kind suite is skipped: $kind_why"
fi

class_on_kind_why() { # empty when the class on kind runs; else why not, in one phrase
  local free root
  case "${KJLAB_CLASS_ON_KIND:-}" in
    0) echo "KJLAB_CLASS_ON_KIND=0"; return ;;
    1) return ;;
  esac
  # Docker's data directory, measured here: a remote engine (DOCKER_HOST) is not measured (it runs)
  root="$(docker info -f '{{.DockerRootDir}}' 2>/dev/null || true)"
  [ -n "$root" ] && [ -z "${DOCKER_HOST:-}" ] || return 0
  free="$(df -Pk "$root" 2>/dev/null | awk 'NR == 2 { print int($4 / 1048576) }')"
  if [ -n "$free" ] && [ "$free" -lt 20 ]; then
    echo "Docker's disk ($root) has ${free} GiB free, the class on kind needs about 16 (KJLAB_CLASS_ON_KIND=1 runs it anyway)"
  fi
}
suite() { # name, pytest args...
  local name=$1; shift
  local t=$SECONDS
  $PY -m pytest -q -ra --durations=15 "$@" 2>&1 | tee "artifacts/test-$name.log" | sed -u "s/^/[$name] /"
  local rc=${PIPESTATUS[0]}
  echo "[$name] finished in $(( SECONDS - t ))s with exit status $rc" | tee -a "artifacts/test-$name.log"
  return "$rc"
}
# The clusters started here count as the test run's own: the fixtures take them down at the end of
# each suite, and the lifecycle tests may tear them down (a cluster that was already running is reused
# and left running).
export KJLAB_TEST_STARTED="$(IFS=,; echo "${ours[*]:-}")"
pids=() names=()
if [ $kwok_ok = 1 ]; then
  say "kwok suite: cluster, classroom and fault tests (background)"
  # The solutions and exercises run here, after the rest; without the second cluster the labs too.
  # The practice tasks and the fault tests (~8 and ~6 min) run on the second cluster: this shard was
  # the longer one (46 min against 31 in a run at load 12).
  shard1=(tests/cluster tests/classroom tests/notebooks/test_labs.py::test_notebook_executes
          --ignore=tests/cluster/test_practice_tasks.py)
  folders=solutions,exercises
  [ $kwok2_ok = 1 ] || { shard1=(tests/cluster tests/classroom tests/faults tests/notebooks tests/browser); folders=labs,solutions,exercises; }
  [ $kwok2_ok = 1 ] || [ $kwok3_ok = 0 ] || shard1+=(--ignore=tests/cluster/test_practice_tasks.py)
  KJLAB_NOTEBOOK_FOLDERS=$folders suite kwok -m "cluster and not kind and not lifecycle" "${shard1[@]}" \
    --deselect "tests/cluster/test_scenarios.py::$LONG" &
  pids+=($!); names+=(kwok)
fi
if [ $kwok2_ok = 1 ]; then
  say "kwok suite: the labs, the browser test, the practice tasks and the fault tests, on the second kwok cluster (background)"
  practice=(); [ $kwok3_ok = 1 ] || practice=(tests/cluster/test_practice_tasks.py)
  KJLAB_STATE="$KWOK2_STATE" KJLAB_TEST_STARTED=kwok KJLAB_NOTEBOOK_FOLDERS=labs suite kwok-notebooks \
    -m "cluster and not kind and not lifecycle" tests/notebooks tests/browser "${practice[@]}" tests/faults &
  pids+=($!); names+=(kwok-notebooks)
fi
if [ $kwok3_ok = 1 ]; then
  say "kwok suite: the practice tasks, on the third kwok cluster (background)"
  KJLAB_STATE="$KWOK3_STATE" KJLAB_TEST_STARTED=kwok suite kwok-practice \
    -m "cluster and not kind and not lifecycle" tests/cluster/test_practice_tasks.py &
  pids+=($!); names+=(kwok-practice)
fi
if [ $kind_ok = 1 ]; then
  say "kind suite (background)"
  # The same modules as the kwok suite where a test is marked for both engines (conftest: --engine).
  # Its lifecycle tests (down, down --purge) wait for the class lane below: a purge removes every
  # image kjlab built here, and the class cluster runs on the same node image (the purge test failed
  # in a run where both overlapped).
  suite kind --engine kind tests/cluster tests/kind --deselect "tests/cluster/test_scenarios.py::$LONG" \
    --ignore=tests/kind/test_kind_lifecycle.py &
  pids+=($!); names+=(kind)
fi
if [ "$kind_why" = yes ]; then  # Docker answers and the offline Debian image can be had, as for kind
  # One lane: the images (tools/classroom/build.sh all: cached, else ~5 min), then the class on a kind
  # cluster of its own (kjlab-class: one control plane, three workers) built from them.
  say "classroom images suite, then the class on a multi-node kind cluster (background)"
  # The class stage needs ~16 GB of disk for the images in three nodes (learner 1.46 GB and hub
  # 1.13 GB in each) and took 16 min beside the other suites at load ~20. KJLAB_CLASS_ON_KIND=0
  # leaves it out; =1 runs it whatever the disk.
  class_why="$(class_on_kind_why)"
  { suite images -m docker tests/classroom_image; images_rc=$?
    class_rc=0
    if [ -n "$class_why" ]; then echo "[class-on-kind] left out: $class_why"
    else suite class-on-kind -m classk8s tests/classroom_k8s; class_rc=$?; fi
    [ "$images_rc" = 0 ] && [ "$class_rc" = 0 ]; } &
  pids+=($!); names+=(images/class-on-kind)
fi
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
if [ $kind_ok = 1 ]; then
  say "kind lifecycle tests (down, down --purge), after the class on kind"
  suite kind-lifecycle --engine kind tests/kind/test_kind_lifecycle.py || failed+=(kind-lifecycle)
fi

say "lifecycle tests and the engine comparison"
suite final tests/cluster/test_lifecycle.py tests/compare || failed+=(final)
$PY bench/engines.py --runs "$KJLAB_RUNS_DIR" 2>&1 | tee artifacts/engines.txt || true

if [ "${KJLAB_KEEP_CLUSTER:-0}" != 1 ]; then
  for engine in "${ours[@]}"; do say "kjlab down --engine $engine"; $KJLAB down --engine "$engine" || failed+=("down-$engine"); done
fi
# Always this run's own (the suite's fixture normally took it down already; down is idempotent).
if [ $kwok2_ok = 1 ]; then
  say "kjlab down --engine kwok (second cluster)"
  KJLAB_STATE="$KWOK2_STATE" $KJLAB down --engine kwok || failed+=(down-kwok2)
fi
if [ $kwok3_ok = 1 ]; then
  say "kjlab down --engine kwok (third cluster)"
  KJLAB_STATE="$KWOK3_STATE" $KJLAB down --engine kwok || failed+=(down-kwok3)
fi
say "done"
# One closing line over every stage, in pytest's words (each stage's own line is in its log).
$PY - artifacts/test-unit.log artifacts/test-kwok.log artifacts/test-kwok-notebooks.log artifacts/test-kwok-practice.log artifacts/test-kind.log artifacts/test-kind-lifecycle.log artifacts/test-images.log artifacts/test-class-on-kind.log artifacts/test-final.log <<'PYEOF'
import re, sys
totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    closing = [l for l in lines if re.search(r"\d+ (passed|failed|error|skipped|deselected)", l) and " in " in l]
    for count, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", closing[-1] if closing else ""):
        totals["error" if word.startswith("error") else word] += int(count)
print(f"all stages: {totals['passed']} passed, {totals['failed'] + totals['error']} failed, {totals['skipped']} skipped")
PYEOF
# The failed tests by name, last: a CI page often shows only the end of the output.
if [ ${#failed[@]} -gt 0 ]; then
  grep -hE '^(FAILED|ERROR) ' artifacts/test-*.log | cut -c1-240 | sed 's/^/  /' || true
  echo "FAILED: ${failed[*]} (logs in artifacts/test-*.log)"; exit 1
fi
echo "all test stages passed"
