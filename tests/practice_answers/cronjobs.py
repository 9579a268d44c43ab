"""Answers to the cronjobs practice tasks that the cluster test types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

from practice_answers.shapes import FORBID

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "cronjob-schedule": [
        ('kubectl create cronjob backup --image=bash:5 --schedule="*/5 * * * *" -- sh -c "sleep 5"',
         "concurrencyPolicy is Allow"),
        ('kubectl create cronjob backup --image=bash:5 --schedule="5 * * * *" --dry-run=client -o yaml -- sh -c '
         '"sleep 5" | kubectl patch --local -f - --type=merge -p \'{"spec":{"concurrencyPolicy":"Forbid"}}\' -o yaml '
         '| kubectl create -f -', "runs at minute(s) [5]"),
    ],
    "cronjob-run-now": [
        ('kubectl create job nightly-manual --image=bash:5 -- sh -c "sleep 2"', "no owner reference"),
        ("kubectl patch cronjob nightly --type=merge -p '{\"spec\":{\"schedule\":\"* * * * *\"}}'",
         "there is no job called nightly-manual"),
    ],
    "cronjob-history": [
        ("kubectl patch cronjob report --type=merge -p '{\"spec\":{\"successfulJobsHistoryLimit\":1}}'",
         "failedJobsHistoryLimit is 1 (the default"),
        ("kubectl patch cronjob report --type=merge -p "
         "'{\"spec\":{\"successfulJobsHistoryLimit\":0,\"failedJobsHistoryLimit\":0}}'", "successfulJobsHistoryLimit is 0"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT = {
    "cronjob-schedule": [
        'kubectl create cronjob backup --image=bash:5 --schedule="*/5 * * * ?" ' + FORBID,
        'kubectl create cronjob backup --image=bash:5 --schedule="*/5 * 1-31 * *" ' + FORBID,
        'kubectl create cronjob backup --image=bash:5 --schedule="*/5 * * * 0-6" ' + FORBID,
    ],
}
