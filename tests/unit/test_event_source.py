"""Events say who wrote them (issue 10, item 4): kwok v0.8.0 writes pod events as `kwok_controller`
(its EventSource is fixed in its controller; no flag or config sets it), so the dashboard names
that source as the simulated kubelet, and a real kubelet's events as `kubelet`."""

from kjlab.view.dashboard_model import DashboardModel
from kjlab.runs.record import event_row
from kjlab.widgets.dashboard import render_html


def _event(component):
    return {"involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Started", "message": "Container started",
            "type": "Normal", "source": {"component": component}, "metadata": {"resourceVersion": "1"}}


def test_the_dashboard_says_which_events_come_from_the_simulation():
    model = DashboardModel()
    model.feed({**event_row("ADDED", _event("kwok_controller")), "t": 1.0})
    model.feed({**event_row("ADDED", _event("kubelet")), "t": 2.0})
    assert [e["from"] for e in model.events] == ["kwok_controller (simulated kubelet)", "kubelet"]
    page = render_html(model)
    assert "kwok_controller (simulated kubelet)" in page and ">kubelet<" in page


def test_an_event_without_source_uses_its_reporting_component():
    row = event_row("ADDED", {**_event(None), "source": {}, "reportingComponent": "job-controller"})
    assert row["source"] == "job-controller"
