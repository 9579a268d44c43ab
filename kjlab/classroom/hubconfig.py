"""What hub/jupyterhub_config.py sets: read by JupyterHub, from the environment `kjlab hub` gives it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kjlab import paths
from kjlab.classroom import accounts, auth, shared

# What each learner gets in their HOME (their own copies: edits and saved notebooks are theirs and
# survive hub restarts; solutions/ stays with the instructor).
HANDED_OUT = ("labs", "exercises")
# Not "kjlab": a directory of that name in the kernel's working directory would shadow the package.
WORK_DIR = "workshop"


def results_root(state: Path) -> Path:
    return state / "results"


def learner_results(state: Path, unix_user: str) -> Path:
    return results_root(state) / unix_user


def prepare_learner(state: Path, unix_user: str) -> None:
    """Before a learner's server starts (as root): their copy of the labs, once, and their results
    directory -- theirs to write, the instructor's (root's) to read, no other learner's to list."""
    import pwd

    entry = pwd.getpwnam(unix_user)
    work = Path(entry.pw_dir) / WORK_DIR
    for name in HANDED_OUT:
        target = work / name
        if not target.exists():  # never overwrite a learner's work (hub restarts, re-spawns)
            shutil.copytree(shared.repo_dir() / name, target)
    for root, dirs, files in os.walk(work):
        for path in [root, *(os.path.join(root, f) for f in files)]:
            os.lchown(path, entry.pw_uid, entry.pw_gid)
    top = results_root(state)
    top.mkdir(parents=True, exist_ok=True)
    os.chmod(top, 0o711)  # enter, not list: a learner can reach only the directory they own
    mine = learner_results(state, unix_user)
    mine.mkdir(exist_ok=True)
    os.chown(mine, entry.pw_uid, entry.pw_gid)
    os.chmod(mine, 0o700)


def configure(c) -> None:
    state = Path(os.environ["KJLAB_HUB_STATE"])
    learners = accounts.read_class_list(state / "class-list.txt")
    venv = shared.venv_dir()

    c.JupyterHub.ip = os.environ.get("KJLAB_HUB_IP", "127.0.0.1")
    c.JupyterHub.port = int(os.environ.get("KJLAB_HUB_PORT", "8000"))
    c.JupyterHub.hub_ip = "127.0.0.1"
    # The hub's API and the proxy's API next to the public port (not JupyterHub's fixed 8081/8001),
    # so two hubs (a test beside a class) never collide.
    c.JupyterHub.hub_port = c.JupyterHub.port + 1
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{c.JupyterHub.port + 2}"
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    # A restarted hub finds its learners' servers (and so their clusters and kernels) still running.
    c.JupyterHub.cleanup_servers = False
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.ConfigurableHTTPProxy.command = [os.environ.get("KJLAB_HUB_PROXY", "configurable-http-proxy")]
    c.ConfigurableHTTPProxy.auth_token = (state / "proxy-token").read_text().strip()

    c.JupyterHub.authenticator_class = auth.authenticator_class()
    c.ClassListAuthenticator.state_dir = str(state)
    c.Authenticator.allowed_users = {learner.unix_user for learner in learners}

    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [str(venv / "bin" / "jupyterhub-singleuser")]
    c.Spawner.notebook_dir = f"~/{WORK_DIR}"
    c.Spawner.default_url = "/lab/tree/labs/01-failjob.ipynb"
    # No "get notified about Jupyter news?" prompt and no update check for every learner.
    c.Spawner.args = ["--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                      *paths.jupyterlab_args()]
    c.Spawner.start_timeout = 120  # many learners starting at once on a small machine
    c.Spawner.http_timeout = 120
    c.Spawner.environment = {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        # The cluster tools, built once and shared read-only; each learner's state stays in their HOME.
        "KJLAB_BIN_DIR": os.environ["KJLAB_HUB_BIN"],
        "KJLAB_RESULTS_DIR": lambda spawner: str(learner_results(state, spawner.user.name)),
        "KJLAB_LEARNER": lambda spawner: spawner.user.name.removeprefix(accounts.PREFIX),
    }
    c.Spawner.pre_spawn_hook = lambda spawner: prepare_learner(state, spawner.user.name)
