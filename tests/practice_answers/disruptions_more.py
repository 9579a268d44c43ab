"""Answers to the disruptions_more practice tasks that the cluster test types: wrong ones with the phrase
their explanation must contain, and right ones other than the task's two references."""

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "pdb-blocks-eviction": [
        ("kubectl create pdb api-pdb --selector=app=api --max-unavailable=1", "the eviction was accepted"),
        ("kubectl create pdb api-pdb --selector=app=web --max-unavailable=0", "matches none of api's pods"),
        ("kubectl create pdb api-pdb --selector=app=api --min-available=1", "allows 1 disruption(s)"),
    ],
    "uncordon": [
        ("kubectl uncordon kjlab-worker", "kjlab-worker2 is still cordoned"),
        # the taint only mirrors spec.unschedulable
        ("kubectl taint node kjlab-worker2 node.kubernetes.io/unschedulable:NoSchedule-",
         "spec.unschedulable is true"),
        ("kubectl uncordon kjlab-worker2\nkubectl cordon kjlab-worker", "kjlab-worker is cordoned now"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT = {
    "pdb-blocks-eviction": ["kubectl create pdb api-pdb --selector=app=api --min-available=2"],
    "uncordon": ["kubectl patch node kjlab-worker2 --type=json "
                 "-p '[{\"op\":\"remove\",\"path\":\"/spec/unschedulable\"}]'"],
}
