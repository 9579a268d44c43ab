"""Where kjlab keeps its files: the repo's tools/, the build cache and the state directory."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# kjlab is installed editable from its repo (the README's set-up does that), so the repo's
# tools/ directory sits next to the package; KJLAB_TOOLS_DIR points elsewhere if needed.
REPO_DIR = PACKAGE_DIR.parent


def tools_dir() -> Path:
    return Path(os.environ.get("KJLAB_TOOLS_DIR", REPO_DIR / "tools"))


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kjlab"
    return Path(os.environ.get("KJLAB_CACHE", default))


def state_dir() -> Path:
    """Per-user state: the record of clusters kjlab created (the safety guard reads it)."""
    default = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "kjlab"
    return Path(os.environ.get("KJLAB_STATE", default))


def kubeconfig_path() -> Path:
    """The kubeconfig kjlab writes its clusters' contexts into: a file of its own in the state
    directory ($KJLAB_KUBECONFIG overrides), so the learner's ~/.kube/config (or $KUBECONFIG) is
    never rewritten -- kind and kwokctl would otherwise reorder it, drop its comments and switch
    its current context. kubectl reaches the lab with `kjlab kubectl` or KUBECONFIG=<this file>."""
    return Path(os.environ.get("KJLAB_KUBECONFIG", state_dir() / "kubeconfig"))


def user_kubeconfig() -> str:
    """The learner's own kubeconfig search path ($KUBECONFIG, else ~/.kube/config): only read,
    for contexts kjlab did not create (a classroom cluster, an explicit opt-in)."""
    return os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")


def kubeconfig_search_path() -> str:
    """kjlab's kubeconfig first, then the learner's, as one KUBECONFIG-style list: a lab context
    comes from kjlab's file even when the learner's has an old entry of the same name."""
    return os.pathsep.join([str(kubeconfig_path()), user_kubeconfig()])


# The settings every learner's JupyterLab starts with, as a JupyterLab overrides file
# (overrides.d/kjlab.json): no "get notified about official Jupyter news?" toast over the first lab,
# no update check (@jupyterlab/apputils-extension:notification). A learner's own settings still win.
# `kjlab lab` and the classroom hub pass this directory; `make setup` (and Binder's postBuild) also copy
# the file into the environment, where a plain `jupyter lab` reads it (install_jupyterlab_settings).
JUPYTERLAB_SETTINGS_DIR = PACKAGE_DIR / "jupyterlab" / "settings"


# JupyterLab's terminals, set up for the practice tasks with no line typed (kjlab/jupyterlab/terminal.py).
TERMINAL_RC = PACKAGE_DIR / "jupyterlab" / "terminal.bashrc"
TERMINAL_EXTENSION = "kjlab.jupyterlab.terminal"


def terminal_shell_command(prefix: str | Path = sys.prefix) -> list[str]:
    """What the server runs for a terminal: bash, interactive and not a login shell (so /etc/profile
    does not reset PATH), reading kjlab's terminal.bashrc, told the bin directory of the Python
    environment ``prefix`` (the one running JupyterLab: its kjlab, jupyter, python)."""
    return ["env", f"KJLAB_ENV_BIN={Path(prefix) / 'bin'}", "bash", "--rcfile", str(TERMINAL_RC), "-i"]


def jupyterlab_args() -> list[str]:
    """The JupyterLab server options that apply those settings (the directory of overrides.d/) and
    start the terminals with kjlab's shell command. A string shell command: jupyter_server_terminals
    splits it with shlex; a JSON list does not parse on the command line."""
    return [f"--LabApp.app_settings_dir={JUPYTERLAB_SETTINGS_DIR}",
            f"--ServerApp.terminado_settings=shell_command={shlex.join(terminal_shell_command())}"]


def install_jupyterlab_settings(prefix: str | Path = sys.prefix) -> Path:
    """Copy kjlab's settings file to ``{prefix}/share/jupyter/lab/settings/overrides.d/kjlab.json``: the
    JupyterLab of that environment reads every overrides.d/*.json there (jupyterlab_server's
    settings_utils._get_overrides), so a plain ``jupyter lab`` starts without the news toast too. A
    file of kjlab's own name: the learner's overrides.json beside it is left as it is. Also enables kjlab's
    terminal extension there (install_terminal_settings)."""
    target = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "kjlab.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(JUPYTERLAB_SETTINGS_DIR / "overrides.d" / "kjlab.json", target)
    install_terminal_settings(prefix)
    return target


def install_terminal_settings(prefix: str | Path = sys.prefix) -> Path:
    """Enable kjlab's terminal extension for the Jupyter server of ``prefix``: a file of kjlab's own name,
    ``{prefix}/etc/jupyter/jupyter_server_config.d/kjlab.json``, which that server reads for the extensions
    to load (a learner's jupyter_server_config.json is left as it is, and a shell command set there wins).
    The extension, not the file, holds the shell command: it reads the running server's sys.prefix."""
    target = Path(prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "kjlab.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {TERMINAL_EXTENSION: True}}}, indent=2) + "\n")
    return target
