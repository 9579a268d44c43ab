"""Answers to the pods practice tasks (kjlab/practice/tasks/pods.py and probes.py) that the cluster
tests type: wrong ones with the phrase their explanation must contain, and right ones other than the
task's two references."""

CRASH_REPORT = ('code=$(kubectl get pod billing -o jsonpath=\'{{.status.containerStatuses[0].{code}}}\')\n'
                'line=$(kubectl logs billing --previous | {line})\n'
                'kubectl create configmap crash-report --from-literal=exitCode="$code" --from-literal=lastLine="$line"')


def _run(name: str, container_extra: str, run_flags: str = "") -> str:
    """kubectl run with the whole container in --overrides (a JSON merge patch: its container list
    replaces run's, so the container is written in full)."""
    return (f"kubectl run {name} --image=bash:5 {run_flags}--overrides='{{\"spec\":{{\"containers\":[{{\"name\":"
            f"\"{name}\",\"image\":\"bash:5\",\"command\":[\"sleep\",\"infinity\"],{container_extra}}}]}}}}'")


ENV_LOG_LEVEL = '{"name":"LOG_LEVEL","valueFrom":{"configMapKeyRef":{"name":"app-config","key":"LOG_LEVEL"}}}'

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "pod-restart-policy": [
        ('kubectl run retry --image=bash:5 --command -- sh -c "sleep 2 && exit 1"',
         "restartPolicy is Always (the default"),
        ('kubectl run retry --image=bash:5 --restart=Never --command -- sh -c "sleep 2 && exit 1"',
         "restartPolicy is Never: a container that has run is never started again"),
        # the pod's policy right, but the container's own (ContainerRestartRules) overrides it
        ('kubectl run retry --image=bash:5 --restart=OnFailure --overrides=\'{"spec":{"containers":[{"name":"retry",'
         '"image":"bash:5","restartPolicy":"Always","command":["sh","-c","sleep 2 && exit 1"]}]}}\'',
         "container retry's restartPolicy is Always (it overrides the pod's"),
    ],
    "pod-crash-report": [
        (CRASH_REPORT.format(code="restartCount", line="tail -n 1"), "the container's last run ended with exit code"),
        (CRASH_REPORT.format(code="lastState.terminated.exitCode", line="grep connecting"),
         "the last line the container printed before it ended was 'fatal: password authentication failed"),
    ],
    "pod-qos-guaranteed": [
        (_run("db", '"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}'), "has no cpu limit"),
        (_run("db", '"resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"200m","memory":"64Mi"}}'),
         "cpu limit 200m differs from its request 100m"),
        ("kubectl run db --image=bash:5 --command -- sleep infinity", "QoS class BestEffort (no requests or limits"),
    ],
    "pod-env-config": [
        ("kubectl run app --image=bash:5 --env=LOG_LEVEL=debug --env=DB_PASSWORD=s3cr3t-for-practice "
         "--command -- sleep infinity", "LOG_LEVEL is written into the pod as the literal 'debug'"),
        (_run("app", '"env":[' + ENV_LOG_LEVEL + ',{"name":"DB_PASSWORD","valueFrom":{"configMapKeyRef":'
              '{"name":"app-config","key":"password"}}}]'),
         "DB_PASSWORD comes from configMap app-config, key password; the task says secret db-credentials"),
        (_run("app", '"env":[' + ENV_LOG_LEVEL + '],'
              '"envFrom":[{"prefix":"DB_","secretRef":{"name":"db-credentials"}}]'),
         "the container has no variable DB_PASSWORD (envFrom makes one variable per key"),
    ],
    "pod-labels": [
        ("kubectl label pods --all env=production tier=frontend --overwrite\n"
         "kubectl annotate pods -l app=web owner=team-checkout", "pod db-1 now has labels"),
        ("kubectl label pods -l app=web env=production tier=frontend owner=team-checkout --overwrite",
         "owner is a label on it"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT: dict[str, list[str]] = {
    # a limit alone: the API server sets the request to it
    "pod-qos-guaranteed": [_run("db", '"resources":{"limits":{"cpu":"100m","memory":"64Mi"}}')],
    # every key of the ConfigMap as a variable, LOG_LEVEL among them
    "pod-env-config": [_run("app", '"envFrom":[{"configMapRef":{"name":"app-config"}}],"env":[{"name":"DB_PASSWORD",'
                                   '"valueFrom":{"secretKeyRef":{"name":"db-credentials","key":"password"}}}]')],
}

WRONG["pod-config-error"] = [
    # a ConfigMap named after the key: the pod still reads key colour of web-config
    ("kubectl create configmap colour --from-literal=colour=blue", "which holds only color"),
    # the pod made again with the key that exists: works, but the task says not to change the pod
    ("kubectl get pod web -o yaml | sed 's/key: colour/key: color/' | kubectl replace --force -f -",
     "pod web is not the one the task prepared"),
    ("kubectl patch configmap web-config --type=merge -p '{\"data\":{\"colour\":\"red\"}}'", "is 'red'; the task says blue"),
]

WRONG["pod-pending"] = [
    # made again as it was: the same request, still no node
    ("kubectl get pod report -o yaml | kubectl replace --force -f -", "requests cpu 64: the task allows at most 200m"),
    ("kubectl get pod report -o yaml | sed 's/cpu: \"64\"/cpu: 500m/' | kubectl replace --force -f -",
     "requests cpu 500m: the task allows at most 200m"),
]
# the pod Never, its container OnFailure: the container's own policy wins (ContainerRestartRules, beta and
# on in v1.36); kwok does not run it, and the verdict passes saying so
RIGHT["pod-restart-policy"] = [
    "kubectl run retry --image=bash:5 --restart=Never --overrides='{\"spec\":{\"containers\":[{\"name\":\"retry\","
    "\"image\":\"bash:5\",\"restartPolicy\":\"OnFailure\",\"command\":[\"sh\",\"-c\",\"sleep 2 && exit 1\"]}]}}'",
]

RIGHT["pod-pending"] = [
    # the requests changed in place through the resize subresource (in-place resize, GA in 1.35)
    "kubectl patch pod report --subresource resize -p '{\"spec\":{\"containers\":[{\"name\":\"report\","
    "\"resources\":{\"requests\":{\"cpu\":\"200m\"}}}]}}'",
    # a limit of 200m, without a request: the request is set to it
    "kubectl delete pod report\n"
    "kubectl run report --image=bash:5 --overrides='{\"spec\":{\"containers\":[{\"name\":\"report\",\"image\":\"bash:5\","
    "\"command\":[\"sleep\",\"infinity\"],\"resources\":{\"limits\":{\"cpu\":\"200m\",\"memory\":\"64Mi\"}}}]}}'",
]
