"""The timed exam (issue 24, next step): tasks drawn from kjlab.practice, graded at once.

Only the scoring is here so far (``scoring``): pure functions over recorded verdicts, so a report can
be recomputed from a results file and tested without a cluster.
"""
