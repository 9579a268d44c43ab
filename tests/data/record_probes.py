"""Record lab 13's kubelet behaviour on kind for the unit tests (tests/unit/test_probes_recorded.py):
readiness through a Service's EndpointSlice, hooks with their log stamps, SIGTERM handled vs ignored.

Usage: .venv/bin/python tests/data/record_probes.py   (needs the kind lab cluster: kjlab up --engine kind)
Writes tests/data/runs/probes-kind.json: each session's raw recorder rows (objects included) and the
moment its recording started (the container's log stamps are placed on the axis with it).
"""

from pathlib import Path

from kjlab import cluster
from kjlab.actions import namespaces
from kjlab.labs import probes
from kjlab.runs.result import _iso
from kjlab.runs import saved as saved_runs

OUT = Path(__file__).parent / "runs" / "probes-kind.json"
GRACE = 8


def _session(context, name):
    return probes.PodSession(context, f"rec13-{name}", echo=False)


def _saved(session):
    rec = session.stop()
    namespaces.delete(session.context, session.namespace)
    return {"started_at": _iso(session.recorder.started_at),
            "rows": [{**r, "time": _iso(r["time"])} for r in rec.rows]}


def main():
    context = cluster.lab_context()
    assert cluster.status(context)["engine"] == "kind", "record on the kind engine (a real kubelet)"
    runs = {}
    s = _session(context, "readiness")
    s.create(*probes.readiness_pods(), probes.service("web"))
    s.wait(lambda r: probes.endpoint_ready(r, "web-a") and probes.endpoint_ready(r, "web-b"), "both ready")
    s.exec("web-a", "rm", "/srv/ready")
    s.wait(lambda r: probes.endpoint_ready(r, "web-a") is False, "web-a out")
    s.exec("web-a", "touch", "/srv/ready")
    s.wait(lambda r: probes.endpoint_ready(r, "web-a"), "web-a back")
    runs["readiness"] = _saved(s)

    s = _session(context, "hooks")
    s.create(*probes.hook_pods())
    s.wait(lambda r: probes.first_event(r, "bad-post-start", "FailedPostStartHook"), "the failed postStart")
    s.wait_running("hooks", "bad-pre-stop")
    s.follow_log("hooks")
    s.delete("hooks", "bad-pre-stop")
    s.wait(lambda r: r.gone_at("pod", "hooks") and r.gone_at("pod", "bad-pre-stop"), "both gone")
    runs["hooks"] = _saved(s)

    s = _session(context, "sigterm")
    pods = probes.sigterm_pods(grace=GRACE)
    s.create(*pods)
    s.wait_running(*[p["metadata"]["name"] for p in pods])
    s.delete(*[p["metadata"]["name"] for p in pods])
    s.wait(lambda r: probes.terminations(r)["terminated"].notna().all(), "both ended", timeout=GRACE + 60)
    runs["sigterm"] = _saved(s)
    OUT.write_text(saved_runs.dumps(runs) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
