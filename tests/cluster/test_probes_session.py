"""kjlab.labs.probes.PodSession's plumbing against the real control plane (kwok): Services' EndpointSlices
are recorded as the EndpointSlice controller writes them, deletions are timed from the recording.
(The probes themselves need a real kubelet: tests/kind and lab 13 on kind.)"""

from kjlab.errors import KjlabError
from kjlab.labs import probes


def test_session_records_endpoint_slices_and_a_deletion(lab, ns):
    session = probes.PodSession(lab["context"], ns, echo=False)
    try:
        pods = probes.readiness_pods()
        for pod in pods:  # no probe: the simulated kubelet marks the pods ready
            pod["spec"]["containers"][0].pop("readinessProbe")
            pod["spec"]["containers"][0]["command"] = ["sleep", "600"]
        session.create(*pods, probes.service("web"))
        try:
            session.wait(lambda r: probes.endpoint_ready(r, "web-a") and probes.endpoint_ready(r, "web-b"),
                         "both pods ready in the EndpointSlice", timeout=60)
        except KjlabError as e:  # once in a whole run (a busy machine): say what was recorded
            rec = session.recorder.recording()
            ready = {name: [c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]
                     for name, pod in rec.last_pods().items()}
            slices = [(r["t"], r["event"], r.get("resource_version"), r.get("detail")) for r in rec.of("endpointslice")]
            raise AssertionError(f"{e.message}\npods' Ready conditions: {ready}\nEndpointSlice rows: {slices[-10:]}") from e
        session.delete("web-a")
        session.wait(lambda r: probes.terminations(r)["terminated"].notna().all(), "web-a to end", timeout=60)
        rec = session.stop()
    finally:
        session.recorder.stop()  # the ns fixture deletes the namespace
    slices = probes.endpoints(rec, "web")
    assert set(slices["pod"]) == {"web-a", "web-b"}
    # the controller marks a deleted pod's endpoint terminating (only a deleted pod is: no time filter; the
    # delete step is recorded once the API call has returned, and at load 28 the slice's change was
    # recorded first)
    assert slices[slices["pod"] == "web-a"]["terminating"].any(), slices
    assert not slices[slices["pod"] == "web-b"]["terminating"].any(), slices
    end = probes.terminations(rec).set_index("pod").loc["web-a"]
    assert end["deleted"] < end["terminated"] and end["exit_code"] is not None and end["grace"] == probes.PROBE_GRACE_SECONDS
