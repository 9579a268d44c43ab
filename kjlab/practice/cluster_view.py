"""What a task's setup and check see of the cluster: its namespace, objects read by kind and name,
and waits that end when the awaited state comes or when nothing has changed for a while.

A missing object is looked for in every other namespace, so the verdict can say "job/batch is in
namespace default, not in practice-job-completions" instead of a bare "not found".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from kubernetes import client

from kjlab.api import kube, readers
from kjlab.api.watch import follow

# kind -> (api factory, read, list in a namespace, list everywhere)
_KINDS = {
    "job": (kube.batch, "read_namespaced_job", "list_namespaced_job", "list_job_for_all_namespaces"),
    "cronjob": (kube.batch, "read_namespaced_cron_job", "list_namespaced_cron_job", "list_cron_job_for_all_namespaces"),
    "deployment": (kube.apps, "read_namespaced_deployment", "list_namespaced_deployment",
                   "list_deployment_for_all_namespaces"),
    "replicaset": (kube.apps, "read_namespaced_replica_set", "list_namespaced_replica_set", "list_replica_set_for_all_namespaces"),
    "daemonset": (kube.apps, "read_namespaced_daemon_set", "list_namespaced_daemon_set", "list_daemon_set_for_all_namespaces"),
    "pod": (kube.core, "read_namespaced_pod", "list_namespaced_pod", "list_pod_for_all_namespaces"),
    "service": (kube.core, "read_namespaced_service", "list_namespaced_service", "list_service_for_all_namespaces"),
    "endpointslice": (kube.discovery, "read_namespaced_endpoint_slice", "list_namespaced_endpoint_slice",
                      "list_endpoint_slice_for_all_namespaces"),
    "poddisruptionbudget": (lambda c: client.PolicyV1Api(kube.api_client(c)), "read_namespaced_pod_disruption_budget",
                            "list_namespaced_pod_disruption_budget", "list_pod_disruption_budget_for_all_namespaces"),
}


class Missing(Exception):
    """An object the task asks for is not in the task's namespace (the message says where it is, if anywhere)."""


@dataclass
class View:
    context: str
    namespace: str

    def _api(self, kind: str):
        factory, *calls = _KINDS[kind]
        api = factory(self.context)
        return [getattr(api, c) for c in calls]

    def get(self, kind: str, name: str) -> dict | None:
        read, _, _ = self._api(kind)
        try:
            return kube.raw(read, name, self.namespace)
        except client.ApiException as e:
            if e.status == 404:
                return None
            raise

    def list(self, kind: str, label_selector: str | None = None) -> list[dict]:
        _, list_ns, _ = self._api(kind)
        kwargs = {"label_selector": label_selector} if label_selector else {}
        return kube.raw(list_ns, self.namespace, **kwargs)["items"]

    def elsewhere(self, kind: str, name: str) -> list[str]:
        """Namespaces other than the task's that hold a ``kind`` called ``name``."""
        _, _, list_all = self._api(kind)
        items = kube.raw(list_all, field_selector=f"metadata.name={name}")["items"]
        return sorted(readers.meta(o)["namespace"] for o in items if readers.meta(o)["namespace"] != self.namespace)

    def require(self, kind: str, name: str) -> dict:
        obj = self.get(kind, name)
        if obj is not None:
            return obj
        where = self.elsewhere(kind, name)
        if where:
            raise Missing(f"{kind}/{name} is in namespace {', '.join(where)}, not in {self.namespace}: create it in "
                          f"{self.namespace} (the namespace of the context that `eval \"$(kjlab practice env)\"` "
                          f"sets, or -n {self.namespace})")
        raise Missing(f"there is no {kind} called {name} in namespace {self.namespace}"
                      " (if kubectl refused it, its error said why)")

    def node(self, name: str) -> dict:
        return kube.raw(kube.core(self.context).read_node, name)

    def nodes(self) -> list[dict]:
        return kube.raw(kube.core(self.context).list_node)["items"]

    def events(self, involved: str | None = None, uid: str | None = None) -> list[dict]:
        """Events of the namespace about ``involved`` (a name), or about the object with ``uid`` -- the
        uid tells a pod from an earlier one of the same name (pkg/registry/core/event/strategy.go:123)."""
        selector = f"involvedObject.uid={uid}" if uid else f"involvedObject.name={involved}" if involved else None
        kwargs = {"field_selector": selector} if selector else {}
        return kube.raw(kube.core(self.context).list_namespaced_event, self.namespace, **kwargs)["items"]

    def settle(self, kind: str, done: Callable[[list[dict]], bool], what: str, quiet: float = 20,
               cap: float = 120, label_selector: str | None = None, field_selector: str | None = None) -> tuple[bool, list[dict]]:
        """Follow the ``kind`` objects of the namespace until ``done(objects)`` holds -- or until they
        have not changed for ``quiet`` seconds (nothing is happening any more), or ``cap`` seconds in
        all. Returns (done, the objects as last seen). Says what it waits for, once."""
        print(f"check: waiting for {what} (while it changes, at most {cap:.0f} s) ...", flush=True)
        _, list_ns, _ = self._api(kind)
        kwargs = {k: v for k, v in (("label_selector", label_selector), ("field_selector", field_selector)) if v}
        seen: dict[str, dict] = {}
        stop = threading.Event()
        last = [time.monotonic()]
        started = time.monotonic()

        def watchdog():
            while not stop.wait(0.5):
                now = time.monotonic()
                if now - last[0] > quiet or now - started > cap:
                    stop.set()

        threading.Thread(target=watchdog, daemon=True).start()
        ok = False
        try:
            for change in follow(list_ns, self.namespace, stop=stop, what=what, synced=True, **kwargs):
                if change.type == "SYNCED":
                    pass
                elif change.type == "DELETED":
                    seen.pop(readers.uid(change.object), None)
                else:
                    seen[readers.uid(change.object)] = change.object
                last[0] = time.monotonic()
                if change.type == "SYNCED" or not change.listed:
                    if done(list(seen.values())):
                        ok = True
                        break
        finally:
            stop.set()
        return ok, list(seen.values())


def job_ended(jobs: list[dict]) -> bool:
    return any(readers.finished(j) for j in jobs)
