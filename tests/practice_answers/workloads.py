"""Answers to the workloads practice tasks that the cluster test types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

DAEMONSET = """cat > ds.yaml <<'END'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: log-agent}
spec:
  selector: {matchLabels: {app: log-agent}}
  template:
    metadata: {labels: {app: log-agent}}
    spec:%s
      containers: [{name: log-agent, image: 'bash:5', command: [sleep, infinity]}]
END
kubectl apply -f ds.yaml"""

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "deploy-rolling": [
        ("kubectl patch deployment web -p '{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":1}}}}'",
         "maxUnavailable is 25%, which resolves to 1 of 4 pods"),
        ("kubectl patch deployment web --type=merge -p '{\"spec\":{\"strategy\":{\"type\":\"Recreate\","
         "\"rollingUpdate\":null}}}'", "Recreate deletes every old pod"),
        ("kubectl patch deployment web -p '{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"50%\","
         "\"maxUnavailable\":0}}}}'", "maxSurge is 50%, which resolves to 2"),
    ],
    "deploy-scale": [
        ("kubectl scale replicaset -l app=web --replicas=5\nsleep 2", "scaling its ReplicaSet does not last"),
        ("kubectl scale deployment web --replicas=4", "replicas is 4"),
    ],
    "daemonset-everywhere": [
        (DAEMONSET % "", "no pod on kjlab-control-plane"),
        ("kubectl create deployment log-agent --image=bash:5 --replicas=3 -- sleep infinity",
         "there is no daemonset called log-agent"),
        (DAEMONSET % "\n      tolerations: [{key: node-role.kubernetes.io/master, operator: Exists}]",
         "does not tolerate its taint node-role.kubernetes.io/control-plane:NoSchedule"),
    ],
    "rs-orphan": [
        ("kubectl delete replicaset legacy", "deleting the ReplicaSet the default way"),
        ("kubectl scale replicaset legacy --replicas=0", "ReplicaSet legacy still exists (replicas 0)"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT = {
    "deploy-rolling": [
        # percentages that resolve to 1 extra and 0 unavailable of 4 pods
        "kubectl patch deployment web -p '{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"25%\","
        "\"maxUnavailable\":\"20%\"}}}}'",
    ],
    "daemonset-everywhere": [
        DAEMONSET % "\n      tolerations: [{operator: Exists}]",
    ],
    "deploy-scale": [
        "kubectl patch deployment web --type=merge -p '{\"spec\":{\"replicas\":5}}'",
    ],
}
