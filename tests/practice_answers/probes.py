"""Answers to the kind-only pods tasks of kjlab/practice/tasks/probes.py (probes, init containers,
memory limits) that tests/kind/test_practice_on_kind.py types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

from kjlab.practice.tasks.probes import APP, HUNG_SCRIPT, PREPARE


def _run(name: str, image: str, container: str, labels: str = "", spec: str = "") -> str:
    """kubectl run with the whole container written in --overrides (a JSON merge patch replaces run's list)."""
    return (f"kubectl run {name} --image={image} {labels}--overrides='{{\"spec\":{{{spec}\"containers\":[{{\"name\":"
            f"\"{name}\",\"image\":\"{image}\",{container}}}]}}}}'")


HUNG = f'"command":["sh","-c","{HUNG_SCRIPT}"],'
GRACE = '"terminationGracePeriodSeconds":2,'
SHOP = '"command":["sh","-c","sleep 3600"],'
VOLUME = '"volumeMounts":[{"name":"work","mountPath":"/work"}]'
PREPARE_C = f'{{"name":"prepare","image":"bash:5","command":["sh","-c","{PREPARE}"],{VOLUME}'
APP_C = f'{{"name":"app","image":"bash:5","command":["sh","-c","{APP}"],{VOLUME}}}'
INIT_POD = ("kubectl run app --image=bash:5 --overrides='{\"spec\":{\"volumes\":[{\"name\":\"work\",\"emptyDir\":{}}],"
            "%s}}'")
HOG_REPLACED = "kubectl get pod hog -o yaml | sed 's/100Mi/{memory}/g' | kubectl replace --force -f -"

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "probe-liveness": [
        (_run("hung", "bash:5", HUNG + '"readinessProbe":{"exec":{"command":["cat","/tmp/healthy"]},"periodSeconds":2}',
              spec=GRACE), "has no livenessProbe: a readiness probe takes the pod out"),
        (_run("hung", "bash:5", HUNG + '"livenessProbe":{"exec":{"command":["cat","/tmp/healthy"]}}', spec=GRACE),
         "periodSeconds is 10 (the default)"),
    ],
    "probe-readiness": [
        (_run("shop", "bash:5", SHOP + '"livenessProbe":{"exec":{"command":["cat","/tmp/ready"]},"periodSeconds":2}',
              labels="--labels=app=shop "), "has no readinessProbe: a liveness probe restarts the container"),
        (_run("shop", "bash:5",
              SHOP + '"readinessProbe":{"exec":{"command":["cat","/etc/hostname"]},"periodSeconds":2}',
              labels="--labels=app=shop "), "pod shop is Ready although /tmp/ready does not exist"),
        (_run("shop", "bash:5", SHOP + '"readinessProbe":{"exec":{"command":["cat","/tmp/ready"]},"periodSeconds":2}'),
         "Service shop selects app=shop"),
    ],
    "probe-init": [
        (INIT_POD % f'"containers":[{PREPARE_C}}},{APP_C}]',
         "prepare is not an init container: it is a regular container"),
        (INIT_POD % f'"initContainers":[{PREPARE_C},"restartPolicy":"Always"}}],"containers":[{APP_C}]',
         "prepare has restartPolicy Always: that makes it a sidecar"),
    ],
    "probe-oom": [
        (HOG_REPLACED.format(memory="128Mi"), "the memory limit is 128Mi"),
        # made again as it was (the new pod may not have been killed yet when the check reads it)
        ("kubectl get pod hog -o yaml | kubectl replace --force -f -", "the memory limit is 100Mi"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT: dict[str, list[str]] = {
    # resize in place (the resize subresource): the pod is kept
    "probe-oom": ["kubectl patch pod hog --subresource resize -p '{\"spec\":{\"containers\":[{\"name\":\"hog\","
                  "\"resources\":{\"requests\":{\"memory\":\"256Mi\"},\"limits\":{\"memory\":\"256Mi\"}}}]}}'"],
}
