"""The simulated kubelet's events name their pod as a real kubelet's do: ``involvedObject.apiVersion: v1``.

kwok v0.8.0's pod controller records Stage events with an ObjectReference of Kind, Name, Namespace
and UID only (sigs.k8s.io/kwok pkg/kwok/controllers/pod_controller.go, playStage). ``kubectl events
--for pod/X`` selects on ``involvedObject.apiVersion=v1`` as well (k8s.io/kubectl
pkg/cmd/events/events.go), so it showed none of them, the NotSimulated Warning included, while
``kubectl describe`` (which selects without the apiVersion) did. A real kubelet's reference comes from
``ref.GetReference`` and carries ``v1``.

This runs in the log endpoint's process (the one process that stands for the kubelets' server) as a
thread: it watches the events whose pod reference lacks the apiVersion (a field selector with an
empty value) and patches ``v1`` in. A core/v1 Event update may change ``involvedObject``
(pkg/apis/core/validation/events.go ValidateEventUpdate: legacy validation only for v1), and kwok's
recorder later patches only count, timestamps and message by the event's name, so the fix stays.
Standard library only, like the endpoint (kjlab/cluster/kwok/log_endpoint.py).
"""

from __future__ import annotations

import json
import threading
from urllib.parse import quote, urlencode

# The events to fix: a pod's, recorded without an apiVersion (only kwok's are).
SELECTOR = "involvedObject.kind=Pod,involvedObject.apiVersion="
PATCH = json.dumps({"involvedObject": {"apiVersion": "v1"}}).encode()


def fix(api, event: dict) -> None:
    meta = event.get("metadata") or {}
    path = f"/api/v1/namespaces/{quote(meta['namespace'])}/events/{quote(meta['name'])}"
    try:
        api.patch(path, PATCH, "application/merge-patch+json")
    except LookupError:  # gone meanwhile (its namespace deleted): nothing to show any more
        pass


def keep_fixing(api, stop: threading.Event | None = None) -> None:
    """List the events to fix, fix them, then watch for new ones; list again when a watch fails."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            listed = api.get_json(f"/api/v1/events?{urlencode({'fieldSelector': SELECTOR})}")
            for event in listed.get("items") or []:
                fix(api, event)
            rv = (listed.get("metadata") or {}).get("resourceVersion")
            for change in api.watch(f"/api/v1/events?{urlencode({'fieldSelector': SELECTOR})}", rv, 300):
                if change.get("type") in ("ADDED", "MODIFIED"):
                    fix(api, change.get("object") or {})
                if stop.is_set():
                    return
        except Exception:  # the API server restarting, a dropped watch: list again shortly
            stop.wait(1.0)


def start(api) -> threading.Thread:
    thread = threading.Thread(target=keep_fixing, args=(api,), name="kjlab-event-references", daemon=True)
    thread.start()
    return thread
