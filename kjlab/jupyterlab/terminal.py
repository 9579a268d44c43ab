"""A Jupyter server extension: the server's terminals start set up for the practice tasks.

jupyter_server_terminals starts each terminal with ``ServerApp.terminado_settings["shell_command"]``;
unset, it runs ``$SHELL -l`` whenever the server has no terminal of its own (JupyterHub, CI, a service),
and a login shell's /etc/profile resets PATH, so the environment's ``kjlab`` is not found. This extension
sets that shell command to ``paths.terminal_shell_command()`` (bash with kjlab's terminal.bashrc) when
nobody configured one: a shell command of the learner's or the admin's own is kept.

``{sys.prefix}/etc/jupyter/jupyter_server_config.d/kjlab.json`` enables it for a plain ``jupyter lab``
(paths.install_terminal_settings); ``kjlab lab`` and the classroom hub pass the same shell command on
the command line (paths.jupyterlab_args), so it is the same either way. A setting in a ``.d`` file
is not read for ServerApp's own traits -- only ``jpserver_extensions`` is merged from there
(jupyter_server serverapp.py find_server_extensions) -- hence an extension rather than the setting itself.
"""

from __future__ import annotations

from kjlab import paths


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": __name__}]


def _link_jupyter_server_extension(serverapp) -> None:
    """Extensions are linked (in name order) before any is loaded, so this runs before
    jupyter_server_terminals reads the setting when it loads."""
    settings = dict(serverapp.terminado_settings)
    if "shell_command" in settings:
        serverapp.log.info("kjlab: the terminals keep the configured shell_command %s", settings["shell_command"])
        return
    settings["shell_command"] = paths.terminal_shell_command()
    serverapp.terminado_settings = settings


def _load_jupyter_server_extension(serverapp) -> None:
    """Nothing to add once loaded (jupyter_server requires the function)."""
