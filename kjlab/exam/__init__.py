"""The timed exam (issue 24): tasks drawn from kjlab.practice, graded all at once.

- ``scoring``: pure functions over recorded verdicts -- the seeded draw, points, the per-topic summary;
- ``state``: the exam as a recorded state and the moves on it (switch, time-out, grading), clock passed in;
- ``session``: that state on disk and the cluster side (prepare, rebuild, check); ``report``: table and HTML;
- ``cli``: `kjlab exam start|status|task|finish`.
"""
