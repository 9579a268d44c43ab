"""Classroom workshops on one server (issue 14): a JupyterHub whose learners are Unix users of
their own, each with a private kwok cluster; the cluster tools shared read-only; each check's
verdict recorded where the instructor can read it; the class report.

Modules: ``accounts`` (class list, Unix users), ``shared`` (the read-only tool directory),
``results`` (verdict records), ``report`` (``kjlab class report``), ``hub`` (``kjlab hub``)."""
