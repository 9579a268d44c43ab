"""Issue 25: what the simulated kubelet (kwok) does that a learner looks at with kubectl -- the same
as a real v1.36 kubelet, or visibly not simulated. The real kubectl binary, through the real API
server; kwok only (on kind these are the real kubelet's answers, tests/compare lists what still
needs a kind run)."""

import time

from test_kubectl_logs import kubectl, run_pod, wait_for


def _until(what, predicate, timeout=30):
    """Poll `predicate` (a cheap kubectl read) until it returns a truthy value: bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}")
        time.sleep(0.3)


def test_kubectl_events_for_a_pod_shows_the_simulated_kubelets_events(lab, ns):
    """`kubectl events --for pod/X` selects involvedObject.apiVersion=v1 (kubectl
    pkg/cmd/events/events.go): the kubelet's events, the NotSimulated Warning included, must carry it."""
    ctx = lab["context"]
    run_pod(ctx, ns, "outside", "perl", "-e", "exit 3")
    run_pod(ctx, ns, "inside", "sleep", "600")
    shown = _until("the NotSimulated Warning in `kubectl events --for pod/outside`",
                   lambda: "NotSimulated" in (out := kubectl(ctx, "-n", ns, "events", "--for", "pod/outside").stdout) and out)
    assert "Warning" in shown and "--engine kind" in shown, shown
    started = _until("the Started event in `kubectl events --for pod/inside`",
                     lambda: "Started" in (out := kubectl(ctx, "-n", ns, "events", "--for", "pod/inside").stdout) and out)
    assert "Pulled" in started and "Created" in started, started
    # and every event of the namespace names its pod with the apiVersion a real kubelet sets
    refs = kubectl(ctx, "-n", ns, "get", "events", "-o",
                   "jsonpath={range .items[*]}{.involvedObject.kind}/{.involvedObject.apiVersion}{'\\n'}{end}").stdout
    assert refs.split() and set(refs.split()) == {"Pod/v1"}, refs
