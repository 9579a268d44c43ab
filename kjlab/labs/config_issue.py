"""A small controller that does the config-issue example's steps 3-4 for you
(``labs/03-config-issue.ipynb``).

The docs say that in production, marking a pod whose image can never be pulled (a custom
``ConfigIssue`` condition) and deleting it "should be automated by a user-provided controller".
This is that controller, for one namespace: it watches the pods, and each pod whose container
waits in ImagePullBackOff gets ``ConfigIssue=True`` (reason ``NonExistingImage``) through the
status subresource and is then deleted, so a Job with a FailJob rule on ConfigIssue fails at once.
It acts only on pods a Job controls, only in a namespace kjlab made (never a system namespace).
"""

from __future__ import annotations

import threading

from kubernetes import client

from kjlab.actions import namespaces, ops
from kjlab.actions.actor import Actor
from kjlab.api import kube, readers, watch
from kjlab.cluster.registry import guard
from kjlab.labs import controller, session


class ConfigIssueController:
    """Start with ``start()`` (returns at once; the work happens in a thread), stop with ``stop()``."""

    def __init__(self, context: str, namespace: str, condition: str = "ConfigIssue",
                 reason: str = "NonExistingImage", waiting_reasons=("ImagePullBackOff",), echo: bool = True,
                 recorder=None, allow_context: str | None = None):
        self.context, self.namespace = context, namespace
        self.condition, self.reason = condition, reason
        self.waiting_reasons = tuple(waiting_reasons)
        self.echo, self.recorder, self.allow_context = echo, recorder, allow_context
        self.handled: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ConfigIssueController {self.namespace} {state}, handled {len(self.handled)} pod(s)>"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "ConfigIssueController":
        """Refuses, before it watches anything, a system namespace (before any request), a cluster
        kjlab did not make, and a namespace kjlab did not make: it deletes pods."""
        action = "run the config-issue controller (it deletes pods)"
        namespaces.refuse_system(self.namespace, action)
        guard(self.context, f"{action} in namespace {self.namespace}", self.allow_context)
        namespaces.require_owned(self.context, self.namespace, action)
        if self.running:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="kjlab-config-issue-controller", daemon=True)
        self._thread.start()
        if self.echo:
            print(f"config-issue controller watching namespace {self.namespace}")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=6)
        if self.echo:
            print(f"config-issue controller stopped (handled {len(self.handled)} pod(s))")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stuck(self, pod: dict) -> bool:
        """A pod this controller acts on: a Job's, not being deleted, not yet marked, waiting on a pull.
        A pod no Job controls is nobody's failure to count: left alone."""
        if (readers.controller_of(pod) or {}).get("kind") != "Job":
            return False
        if readers.deleting(pod) or readers.name(pod) in self.handled:
            return False
        if readers.is_true(pod, self.condition):
            return False
        return readers.waiting_in(pod, self.waiting_reasons)

    def _handle(self, pod: dict) -> None:
        name = readers.name(pod)
        self.handled.append(name)
        try:
            actor = Actor(self.context, self.namespace, self.echo, self.recorder, self.allow_context)
            ops.patch_pod_condition(actor, name, self.condition, "True", reason=self.reason,
                                    message="set by the kjlab config-issue controller")
            ops.delete_pod(actor, name)
        except Exception as e:
            # A pod that vanished meanwhile, or that someone else is deleting (the Job controller
            # stops a failed Job's other pods), is the normal race: its fate is decided. Anything
            # else is noted.
            if self._still_there(name):
                self.errors.append(f"{name}: {e}")

    def _still_there(self, name: str) -> bool:
        try:
            return not readers.deleting(kube.raw(kube.core(self.context).read_namespaced_pod, name, self.namespace))
        except client.ApiException as e:
            return e.status != 404
        except Exception:
            return True

    def _loop(self) -> None:
        # follow() resumes dropped and expired watches itself; what reaches here (the API server
        # gone for a minute, a refused permission) it could not recover from: recorded, not retried
        try:
            for change in watch.follow(kube.core(self.context).list_namespaced_pod, self.namespace, stop=self._stop,
                                       what=f"stuck pods in namespace {self.namespace}"):
                if change.type != "DELETED" and self.stuck(change.object):
                    self._handle(change.object)
        except Exception as e:
            self.errors.append(f"watch: {type(e).__name__}: {e}")


controller("config-issue")(ConfigIssueController)  # `kjlab controller config-issue`


@session("controller")
def _controller(lab, namespace: str, **options) -> ConfigIssueController:
    """The config-issue controller for ``namespace``, started."""
    return ConfigIssueController(lab.context, namespace, **options).start()
