"""Answers to the disruptions practice tasks that the cluster test types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

from practice_answers.shapes import TOLERATE

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "pdb": [
        ("kubectl create pdb web-pdb --selector=app=webapp --max-unavailable=1", "matches none of web's pods"),
        ("kubectl create pdb web-pdb --selector=app=web --min-available=1", "allows 2 eviction(s)"),
    ],
    "drain": [
        ("kubectl cordon kjlab-worker2", "web pods still run on kjlab-worker2"),
        ("kubectl drain kjlab-worker --ignore-daemonsets --timeout=90s", "kjlab-worker2 is schedulable"),
    ],
    "taint-toleration": [
        ("kubectl run batch-runner --image=bash:5 --restart=Never "
         "--overrides='{\"spec\":{\"nodeSelector\":{\"kubernetes.io/hostname\":\"kjlab-worker\"}}}' -- sleep 3600",
         "no toleration of the pod matches"),
        ("kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"tolerations\":"
         "[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]}}' -- sleep 3600", "nothing in the pod ties it"),
        ("kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"nodeName\":"
         "\"kjlab-worker2\"," + TOLERATE + "}}' --command -- sleep 3600", "its spec.nodeName pins it to kjlab-worker2"),
    ],
    "priority": [
        ("kubectl create priorityclass practice-urgent --value=1000000\nkubectl run urgent --image=bash:5 -- sleep infinity",
         "priorityClassName is None"),
        ("kubectl create priorityclass practice-urgent --value=1000\n"
         "kubectl run urgent --image=bash:5 --overrides='{\"spec\":{\"priorityClassName\":\"practice-urgent\"}}' -- sleep infinity",
         "value is 1000,"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT = {
    "taint-toleration": [
        # node affinity on the node's name (matchFields)
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"affinity\":{\"nodeAffinity\":"
        "{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchFields\":[{\"key\":"
        "\"metadata.name\",\"operator\":\"In\",\"values\":[\"kjlab-worker\"]}]}]}}}," + TOLERATE
        + "}}' --command -- sleep 3600",
        # a label of the learner's on the node, and a nodeSelector for it
        "kubectl label node kjlab-worker dedicated=batch\n"
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"nodeSelector\":"
        "{\"dedicated\":\"batch\"}," + TOLERATE + "}}' --command -- sleep 3600",
        # a first pod placed by the scheduler, deleted, then one of the same name bound by spec.nodeName:
        # the second pod's creator wrote its nodeName (managedFields), whatever the first pod's events say
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{" + TOLERATE
        + "}}' --command -- sleep 3600\n"
        "kubectl wait --for=condition=PodScheduled pod/batch-runner --timeout=60s\n"
        "for i in $(seq 60); do kubectl get events --field-selector reason=Scheduled -o name | grep -q . && break; "
        "sleep 1; done\n"
        "kubectl delete pod batch-runner --grace-period=1 --wait=true\n"
        "kubectl run batch-runner --image=bash:5 --restart=Never --overrides='{\"spec\":{\"nodeName\":"
        "\"kjlab-worker\"," + TOLERATE + "}}' --command -- sleep 3600",
    ],
}
