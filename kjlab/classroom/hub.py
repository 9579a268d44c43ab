"""`kjlab hub --class-list FILE`: one command from a clone to a running classroom hub.

It checks what it can before anything starts (root, the class list), shares the cluster tools
and an install read-only under /srv/kjlab, installs the proxy from npm when it is missing,
creates each learner's Unix account and password, and then runs JupyterHub in the foreground
with the repo's hub/jupyterhub_config.py. Running it again (after Ctrl-C, a crash, a reboot)
keeps every learner's account, password, files, results and running server."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from kjlab.classroom import accounts, auth, shared
from kjlab.errors import KjlabError

DEFAULT_STATE = Path(os.environ.get("KJLAB_HUB_STATE", "/var/lib/kjlab-hub"))


def find_proxy(progress=print) -> str:
    """configurable-http-proxy: on PATH, else installed once from npm under the shared root."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    local = shared.SHARED_ROOT / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return str(local)
    if shutil.which("npm") is None:
        raise KjlabError("JupyterHub's proxy (configurable-http-proxy) is missing and npm is not installed",
                         "apt-get install npm (then run kjlab hub again), or npm install -g configurable-http-proxy")
    progress("installing configurable-http-proxy from npm (once)")
    proc = subprocess.run(["npm", "install", "--silent", "--prefix", str(local.parents[2]), "configurable-http-proxy@5"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not local.exists():
        raise KjlabError(f"npm could not install configurable-http-proxy: {proc.stderr.strip()[-500:]}",
                         "npm install -g configurable-http-proxy, then kjlab hub again")
    return str(local)


def prepare(class_list: Path, state: Path = DEFAULT_STATE, progress=print) -> dict:
    """Everything but starting JupyterHub; returns what the hub process needs."""
    if os.geteuid() != 0:
        raise KjlabError("kjlab hub runs each learner as a Unix user of their own, which needs root",
                         "sudo .venv/bin/kjlab hub --class-list FILE")
    learners = accounts.read_class_list(class_list)  # a bad line stops here, before any change
    state = state.resolve()
    closed = [str(p) for p in state.parents if p.exists() and not os.stat(p).st_mode & 0o001]
    if closed:  # learners write their results below the state directory
        raise KjlabError(f"the hub's state directory {state} is inside {closed[0]}, which other users cannot enter, "
                         "so learners could not record their results",
                         "use the default (/var/lib/kjlab-hub) or a --state directory under a path everyone can enter")
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o711)  # the results directories below it are reached by their learners
    shutil.copyfile(class_list, state / "class-list.txt")
    os.chmod(state / "class-list.txt", 0o600)
    token = state / "proxy-token"
    if not token.exists():  # the same token across restarts, so a restarted hub finds its proxy
        auth._write_private(token, secrets.token_hex(32))
    bindir = shared.shared_bin_dir(progress)
    venv = shared.install(progress=progress)
    proxy = find_proxy(progress)
    for learner in learners:
        accounts.ensure_user(learner.unix_user)
    new = auth.ensure_passwords(learners, state)
    if new:
        progress(f"new passwords for {len(new)} learner(s) are in {state / 'passwords-to-hand-out.txt'} "
                 "(root only; hand each learner their line)")
    dupes = {d for d in (lr.display for lr in learners) if [x.display for x in learners].count(d) > 1}
    if dupes:
        progress(f"note: display name(s) shared by several learners: {', '.join(sorted(dupes))} -- the class "
                 "report shows their logins beside them")
    return {"state": state, "venv": venv, "bin": bindir, "proxy": proxy, "learners": learners}


def command(prep: dict, ip: str = "127.0.0.1", port: int = 8000) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.update({"KJLAB_HUB_STATE": str(prep["state"]), "KJLAB_HUB_IP": ip, "KJLAB_HUB_PORT": str(port),
                "KJLAB_HUB_BIN": str(prep["bin"]), "KJLAB_HUB_PROXY": prep["proxy"],
                "KJLAB_SHARED": str(shared.SHARED_ROOT),
                # the proxy is a node program: node on PATH, wherever the hub is started from
                "PATH": f"{prep['venv'] / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"})
    config = shared.repo_dir() / "hub" / "jupyterhub_config.py"
    return [str(prep["venv"] / "bin" / "jupyterhub"), "-f", str(config)], env


def run(class_list: Path, ip: str, port: int, state: Path = DEFAULT_STATE) -> int:
    started = time.monotonic()
    prep = prepare(class_list, state)
    args, env = command(prep, ip, port)
    print(f"kjlab hub: {len(prep['learners'])} learners; JupyterHub on http://{ip}:{port}/ "
          f"(prepared in {time.monotonic() - started:.1f}s; Ctrl-C stops the hub, learners' servers keep running)")
    print("  per learner: about 0.55 GiB for the cluster plus 0.3 GiB for JupyterLab and a kernel, ~1 % of a core "
          "while idle (README: Classroom workshops)")
    sys.stdout.flush()
    os.chdir(prep["state"])
    # JupyterHub takes this process's place: a SIGTERM or Ctrl-C to `kjlab hub` reaches the hub
    # itself, which stops its proxy and leaves the learners' servers running.
    os.execve(args[0], args, env)
    return 1  # not reached
