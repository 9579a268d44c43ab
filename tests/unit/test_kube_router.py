"""kjlab/classroom/image/kube-router-start picks the iptables backend the node's kubelet marked, run
here with stand-ins for iptables-*-save, update-alternatives and kube-router on PATH."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "kjlab" / "classroom" / "image" / "kube-router-start"


def run(tmp_path, nft: str, legacy: str):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "calls"
    stubs = {
        "iptables-nft-save": f"cat <<'X'\n{nft}\nX",
        "iptables-legacy-save": f"cat <<'X'\n{legacy}\nX",
        "update-alternatives": f'echo "alternatives $*" >> {log}',
        "kube-router": f'echo "kube-router $*" >> {log}',
    }
    for name, body in stubs.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    proc = subprocess.run(["sh", str(SCRIPT), "--run-firewall=true"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": f"{bin_}:/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return log.read_text().splitlines()


@pytest.mark.parametrize("nft, legacy, mode", [
    ("*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT", "", "nft"),
    ("", "*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT", "legacy"),
    ("*filter\n-A FORWARD -j ACCEPT", "*filter\n-A FORWARD -j ACCEPT\n-A INPUT -j ACCEPT", "legacy"),  # no mark: more rules
    ("", "", "nft"),
])
def test_the_backend_is_the_nodes_and_kube_router_gets_the_arguments(tmp_path, nft, legacy, mode):
    calls = run(tmp_path, nft, legacy)
    assert calls == [f"alternatives --set iptables /usr/sbin/iptables-{mode}",
                     f"alternatives --set ip6tables /usr/sbin/ip6tables-{mode}",
                     "kube-router --run-firewall=true"]


def test_the_manifest_runs_the_firewall_alone_on_the_workers_with_the_image_given():
    """kind_class.enforce_network_policy fills @IMAGE@; kube-router must neither route (the kindnetd
    stand-in does) nor proxy services (kube-proxy does), and runs only where kind_class.load put the image."""
    import yaml

    from kjlab.classroom.kind_class import MANIFEST

    text = MANIFEST.read_text()
    docs = list(yaml.safe_load_all(text.replace("@IMAGE@", "kjlab.local/netpol:abc")))
    (ds,) = [d for d in docs if d["kind"] == "DaemonSet"]
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "kjlab.local/netpol:abc" and container["imagePullPolicy"] == "Never"
    assert {"--run-router=false", "--run-firewall=true", "--run-service-proxy=false"} <= set(container["args"])
    terms = ds["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}]}]
    (role,) = [d for d in docs if d["kind"] == "ClusterRole"]
    assert all(set(rule["verbs"]) == {"get", "list", "watch"} for rule in role["rules"])  # it only reads
