"""Shapes the answers share: a Job for `kubectl apply -f` with given spec fields, a Deployment, and
pieces of kubectl lines."""

from __future__ import annotations

import json

JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
{spec}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: bash:5
        command: ["sh", "-c", "{command}"]
"""


def job(name: str, command: str, restart: str = "Never", **spec) -> str:
    """An `apply -f` answer: a Job with the given spec fields."""
    yaml_spec = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in spec.items()) or "  {}"
    body = JOB.format(name=name, spec=yaml_spec, command=command).replace("restartPolicy: Never",
                                                                          f"restartPolicy: {restart}")
    return f"cat > wrong.yaml <<'END'\n{body}\nEND\nkubectl apply -f wrong.yaml"


DEPLOY_API = """cat > d.yaml <<'END'
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api, tier: backend}}
  template:
    metadata: {labels: {app: api, tier: backend}}
    spec: {containers: [{name: api, image: 'bash:5', command: [sleep, infinity]}]}
END
kubectl apply -f d.yaml"""


TOLERATE = '"tolerations":[{"key":"dedicated","operator":"Equal","value":"batch","effect":"NoSchedule"}]'
FORBID = ("--dry-run=client -o yaml -- sh -c \"sleep 5\" | kubectl patch --local -f - --type=merge "
          "-p '{\"spec\":{\"concurrencyPolicy\":\"Forbid\"}}' -o yaml | kubectl create -f -")
