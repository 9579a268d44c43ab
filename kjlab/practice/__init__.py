"""Hands-on practice: the learner types kubectl in a shell, kjlab checks the cluster and explains.

- ``model``: a :class:`Task` -- statement, time budget, engines, setup, check, reference answers;
- ``registry``: the task bank, one module per topic under ``tasks/`` (discovered, not listed);
- ``cluster_view``: what setup and check read and wait for (objects by kind and name, wrong-namespace
  lookups, waits that end when nothing changes any more);
- ``session``: the current task in the state dir; start/reset a prepared namespace; check;
- ``env``: the shell: `eval "$(kjlab practice env)"`; ``cli``: `kjlab practice ...`.
"""
