"""Answers to the deployments practice tasks that the cluster test types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

from practice_answers.shapes import DEPLOY_API

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "deploy-undo": [
        ("kubectl set image deployment/web web=python:3", "the last working revision ran 'bash:5'"),
        ("kubectl delete pods -l app=web --wait=false", "image is 'bsah:5'"),
    ],
    "deploy-labels": [
        ("kubectl create deployment api --image=bash:5 --replicas=2 -- sleep infinity", "lack {'tier': 'backend'}"),
        (DEPLOY_API, "replicas is 1"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT: dict[str, list[str]] = {}
