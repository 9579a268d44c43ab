# The classroom hub's JupyterHub configuration. Start it with `kjlab hub --class-list FILE`
# (README: "Classroom workshops"), which prepares what this file reads: the state directory
# ($KJLAB_HUB_STATE: class list, password hashes, proxy token, database), the learners' Unix
# accounts and the shared read-only install. The settings themselves are in
# kjlab/classroom/hubconfig.py, where they are commented.
from kjlab.classroom import hubconfig

hubconfig.configure(c)  # noqa: F821 -- `c` is JupyterHub's config object
