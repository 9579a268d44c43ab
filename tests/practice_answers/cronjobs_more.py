"""Answers to the cronjobs_more practice tasks that the cluster test types: wrong ones with the phrase their
explanation must contain, and right ones other than the task's two references."""

# task -> [(what the learner typed, a phrase the explanation must contain)]
WRONG = {
    "cronjob-suspend": [
        ("kubectl patch cronjob poller --type=merge -p '{\"spec\":{\"jobTemplate\":{\"spec\":{\"suspend\":true}}}}'",
         "jobTemplate.spec.suspend suspends each Job"),
        ("kubectl get cronjob poller -o yaml > cj.yaml\nkubectl delete cronjob poller --wait=true\n"
         "kubectl create -f cj.yaml --dry-run=client -o yaml | kubectl patch --local -f - --type=merge "
         "-p '{\"metadata\":{\"resourceVersion\":null,\"uid\":null},\"spec\":{\"suspend\":true}}' -o yaml "
         "| kubectl create -f -", "deleted and created again"),
        ("kubectl patch cronjob poller --type=merge -p '{\"spec\":{\"schedule\":\"0 0 31 2 *\"}}'",
         "spec.suspend is False"),
    ],
    "cronjob-timezone": [
        ('kubectl create cronjob berlin-report --image=bash:5 --schedule="30 8 * * 1-5" -- sh -c "sleep 2"',
         "without it the schedule is read in the kube-controller-manager's local time zone"),
        ('kubectl create cronjob berlin-report --image=bash:5 --schedule="30 9 * * *" --dry-run=client -o yaml -- '
         'sh -c "sleep 2" | kubectl patch --local -f - --type=merge -p \'{"spec":{"timeZone":"Europe/Berlin"}}\' '
         '-o yaml | kubectl create -f -', "does not name Monday to Friday"),
        ('kubectl create cronjob berlin-report --image=bash:5 --schedule="30 9 * * 1-5" --dry-run=client -o yaml -- '
         'sh -c "sleep 2" | kubectl patch --local -f - --type=merge -p \'{"spec":{"timeZone":"CET"}}\' '
         '-o yaml | kubectl create -f -', "timeZone is 'CET': the task names the time zone Europe/Berlin"),
    ],
    "cronjob-replace": [
        ('kubectl create cronjob sync --image=bash:5 --schedule="*/2 * * * *" --dry-run=client -o yaml -- sh -c '
         '"sleep 150" | kubectl patch --local -f - --type=merge -p \'{"spec":{"concurrencyPolicy":"Forbid",'
         '"startingDeadlineSeconds":20}}\' -o yaml | kubectl create -f -', "Forbid skips the new run"),
        ('kubectl create cronjob sync --image=bash:5 --schedule="*/2 * * * *" --dry-run=client -o yaml -- sh -c '
         '"sleep 150" | kubectl patch --local -f - --type=merge -p \'{"spec":{"concurrencyPolicy":"Replace"}}\' '
         '-o yaml | kubectl create -f -', "startingDeadlineSeconds is None"),
        ('kubectl create cronjob sync --image=bash:5 --schedule="2 * * * *" --dry-run=client -o yaml -- sh -c '
         '"sleep 150" | kubectl patch --local -f - --type=merge -p \'{"spec":{"concurrencyPolicy":"Replace",'
         '"startingDeadlineSeconds":20}}\' -o yaml | kubectl create -f -', "runs at minute(s) [2]"),
    ],
}

# task -> right answers other than the references, each one a checker used to reject
RIGHT = {
    "cronjob-timezone": [
        'kubectl create cronjob berlin-report --image=bash:5 --schedule="30 9 ? * MON-FRI" --dry-run=client -o yaml '
        '-- sh -c "sleep 2" | kubectl patch --local -f - --type=merge -p \'{"spec":{"timeZone":"Europe/Berlin"}}\' '
        '-o yaml | kubectl create -f -',
    ],
    "cronjob-replace": [
        'kubectl create cronjob sync --image=bash:5 --schedule="0-59/2 * * * *" --dry-run=client -o yaml -- sh -c '
        '"sleep 150" | kubectl patch --local -f - --type=merge -p \'{"spec":{"concurrencyPolicy":"Replace",'
        '"startingDeadlineSeconds":20}}\' -o yaml | kubectl create -f -',
    ],
}
