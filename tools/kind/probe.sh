#!/usr/bin/env bash
# Smoke test of a kind node image on this host, with a throwaway cluster (never the `kjlab` one):
# 1 control plane + 2 workers Ready, kube-proxy, kindnet, coredns and local-path-provisioner available, a python:3 pod
# resolves and reaches the kubernetes Service, and a pod running docker.io/library/bash:5 ends with exit code 42.
# Then the cluster is deleted (also on failure). Prints one timing line per step.
#
# Usage: tools/kind/probe.sh [IMAGE]   (default: the offline image, tools/kind/build.sh node-image --print-image)
# Environment: KJLAB_PROBE_NAME (default kjlab-probe), KJLAB_PROBE_KEEP=1 keeps the cluster.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${1:-$("$here/build.sh" node-image --print-image)}"
name="${KJLAB_PROBE_NAME:-kjlab-probe}"
[ "$name" != kjlab ] || { echo "tools/kind/probe.sh: the cluster named kjlab belongs to kjlab up; choose another KJLAB_PROBE_NAME" >&2; exit 2; }
kind="$("$here/build.sh" kind)"
kubectl="$(bash "$here/../build.sh" --print-dir)/kubectl"
ctx="kind-$name"
started=$SECONDS
step() { echo "[probe $(( SECONDS - started ))s] $*" >&2; }
die() { echo "tools/kind/probe.sh: $*" >&2; exit 1; }
docker image inspect "$image" >/dev/null 2>&1 || die "image $image is not in Docker; build it first (tools/kind/build.sh node-image)"
"$kind" get clusters 2>/dev/null | grep -qx "$name" && die "a kind cluster named $name exists; delete it ($kind delete cluster --name $name) and run this again"

# What this host lacks decides the patches (the same checks kjlab makes).
config="$(mktemp)"
trap 'rm -f "$config"; [ "${KJLAB_PROBE_KEEP:-0}" = 1 ] || { step "deleting $name"; "$kind" delete cluster --name "$name" >/dev/null 2>&1 || true; }' EXIT
{
  printf '%s\n' "kind: Cluster" "apiVersion: kind.x-k8s.io/v1alpha4" "nodes:" "- role: control-plane" "- role: worker" "- role: worker"
  bounding=$(( 16#$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status) ))
  if ! (( (bounding >> 24) & 1 )); then  # no CAP_SYS_RESOURCE: nothing may lower oom_score_adj
    printf '%s\n' "containerdConfigPatches:" "- |-" '  [plugins."io.containerd.grpc.v1.cri"]' "    restrict_oom_score_adj = true"
  fi
  if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then  # cgroup v1 host
    printf '%s\n' "kubeadmConfigPatches:" "- |" "  kind: KubeletConfiguration" "  failCgroupV1: false"
  fi
} >"$config"

step "kind create cluster --name $name --image $image"
"$kind" create cluster --name "$name" --image "$image" --config "$config" --wait 0s >&2 || die "kind create cluster failed (see above)"
step "cluster created; waiting for 3 nodes Ready"
"$kubectl" --context "$ctx" wait --for=condition=Ready nodes --all --timeout=300s >&2 || die "nodes not Ready within 300 s"
[ "$("$kubectl" --context "$ctx" get nodes --no-headers | wc -l)" = 3 ] || die "expected 3 nodes"
step "3 nodes Ready; waiting for kube-proxy, kindnet, coredns and local-path-provisioner"
for ds in kube-proxy kindnet; do
  "$kubectl" --context "$ctx" -n kube-system rollout status "daemonset/$ds" --timeout=120s >&2 ||
    die "daemonset $ds is not ready within 120 s: $("$kubectl" --context "$ctx" -n kube-system logs "daemonset/$ds" --tail=1 2>&1)"
done
"$kubectl" --context "$ctx" -n kube-system rollout status deployment/coredns --timeout=180s >&2 || die "coredns is not available within 180 s"
"$kubectl" --context "$ctx" -n local-path-storage rollout status deployment/local-path-provisioner --timeout=180s >&2 ||
  die "local-path-provisioner is not available within 180 s"
step "running docker.io/library/bash:5 with exit 42"
"$kubectl" --context "$ctx" run probe-exit --image=docker.io/library/bash:5 --image-pull-policy=IfNotPresent \
  --restart=Never --command -- bash -c "sleep 2 && exit 42" >&2
for _ in $(seq 1 120); do
  code="$("$kubectl" --context "$ctx" get pod probe-exit -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}' 2>/dev/null || true)"
  [ -n "$code" ] && break
  sleep 1
done
[ "${code:-}" = 42 ] || die "pod probe-exit did not end with exit code 42 (got '${code:-none}'): $("$kubectl" --context "$ctx" get pod probe-exit -o wide --no-headers 2>&1)"
step "pod probe-exit ended with exit code 42; checking DNS and the kubernetes Service from a python:3 pod"
"$kubectl" --context "$ctx" run probe-net --image=docker.io/library/python:3 --image-pull-policy=IfNotPresent --restart=Never --command -- \
  python3 -c 'import socket; a = socket.gethostbyname("kubernetes.default.svc.cluster.local"); socket.create_connection((a, 443), 5).close(); print("ok", a)' >&2
phase=""
for _ in $(seq 1 90); do
  phase="$("$kubectl" --context "$ctx" get pod probe-net -o jsonpath='{.status.phase}' 2>/dev/null || true)"
  case "$phase" in Succeeded|Failed) break ;; esac
  sleep 1
done
[ "$phase" = Succeeded ] || die "pod probe-net (DNS + Service) ended '$phase': $("$kubectl" --context "$ctx" logs probe-net 2>&1 | tail -n 1)"
step "DNS and the kubernetes Service answer from a pod ($("$kubectl" --context "$ctx" logs probe-net 2>&1))"
"$kubectl" --context "$ctx" get nodes -o wide >&2
echo "probe passed: $image"
