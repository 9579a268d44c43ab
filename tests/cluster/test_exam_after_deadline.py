"""kjlab.exam.after_deadline on the cluster: a kubectl write after the deadline is the learner's, the
Job controller's pods made after it are not (the managedFields the unit tests record, read live)."""

import subprocess
import time

from kjlab.cluster import tools
from kjlab.exam import after_deadline
from kjlab.paths import kubeconfig_path
from kjlab.practice.cluster_view import View


def kubectl(lab, ns, *args):
    subprocess.run([str(tools.kubectl_path()), "--kubeconfig", str(kubeconfig_path()), "--context", lab["context"],
                    "-n", ns, *args], check=True, capture_output=True, text=True, timeout=60)


def test_a_kubectl_write_after_the_deadline_is_found_and_the_controllers_pods_are_not(lab, ns):
    # the Job's pods are made, and its status written, after the deadline: by the controllers
    kubectl(lab, ns, "create", "job", "batch", "--image=bash:5", "--", "sh", "-c", "sleep 1")
    deadline = time.time()
    assert after_deadline.changes(lab["context"], ns, deadline - 10)  # the create, seen as late from 10 s before it
    pods = []
    while not pods and time.time() < deadline + 60:  # until the Job controller has made its pod
        pods = View(lab["context"], ns).list("pod")
        time.sleep(0.5)
    assert pods, "the Job controller made no pod in 60 s"
    time.sleep(1.2)  # past the deadline's second
    assert after_deadline.changes(lab["context"], ns, deadline) == []
    kubectl(lab, ns, "label", "job", "batch", "late=yes")
    found = after_deadline.changes(lab["context"], ns, deadline)
    assert len(found) == 1 and found[0].startswith("job/batch was written by kubectl-label"), found
