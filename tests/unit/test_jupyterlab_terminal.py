"""JupyterLab's terminals start set up for the practice tasks (issue 24 item 2): kjlab's bash rc on a
plain `jupyter lab` of the venv (enabled by `make setup`'s install step) and on `kjlab lab` and the hub
(their command-line option), checked without a browser and without a cluster -- the rc's own logic
with a stand-in `kjlab`, the server's terminal over its websocket. The browser test
(tests/browser/test_practice_terminal.py) does the rest on a cluster."""

import asyncio
import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kjlab import paths


def _bash_with_rc(tmp_path, script: str, practice_env: str, extra: str = "") -> subprocess.CompletedProcess:
    """``script`` in `bash --rcfile terminal.bashrc -i` as the server starts it, from a clean environment
    with PATH as /etc/profile would not leave it, HOME in tmp_path and a stand-in `kjlab` whose
    `practice env` prints ``practice_env`` (a shell script body)."""
    home, env_bin = tmp_path / "home", tmp_path / "env" / "bin"
    home.mkdir(exist_ok=True)
    env_bin.mkdir(parents=True, exist_ok=True)
    (home / ".bashrc").write_text('LEARNER_RC=read\nPATH="/learner/bin:$PATH"\n' + extra)
    fake = env_bin / "kjlab"
    fake.write_text(f'#!/bin/sh\nif [ "$1 $2" = "practice env" ]; then\n{practice_env}\nfi\n')
    fake.chmod(0o755)
    command = paths.terminal_shell_command(tmp_path / "env")
    return subprocess.run([*command[:-1], "-i", "-c", script], capture_output=True, text=True, timeout=60,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "dumb"})


def test_the_shell_is_interactive_not_login_and_reads_the_learners_bashrc_then_puts_the_env_first(tmp_path):
    done = _bash_with_rc(tmp_path, 'echo "PATH=$PATH"; echo "rc=$LEARNER_RC"; shopt -q login_shell && echo LOGIN',
                         "echo 'export KUBECONFIG=/practice/kubeconfig'")
    out = done.stdout
    assert f"PATH={tmp_path / 'env' / 'bin'}:/learner/bin:/usr/bin:/bin" in out, out  # /etc/profile would reset it
    assert "rc=read" in out and "LOGIN" not in out, out


def test_a_current_task_sets_kubeconfig_alias_and_completion(tmp_path):
    lines = "echo 'export KUBECONFIG=/practice/kubeconfig'; echo 'alias k=kubectl'; echo 'complete -F _minimal k'"
    done = _bash_with_rc(tmp_path, 'echo "KUBECONFIG=$KUBECONFIG"; alias k; complete -p k', lines)
    assert "KUBECONFIG=/practice/kubeconfig" in done.stdout, done
    assert "alias k='kubectl'" in done.stdout and "complete -F _minimal k" in done.stdout, done


def test_kjlab_failing_leaves_its_message_and_says_what_then(tmp_path):
    done = _bash_with_rc(tmp_path, 'echo "KUBECONFIG=${KUBECONFIG:-unset}"',
                         "echo 'kjlab: there is no lab cluster yet' >&2; exit 1")
    assert "KUBECONFIG=unset" in done.stdout
    assert "there is no lab cluster yet" in done.stderr
    assert 'eval "$(kjlab practice env)" here' in done.stderr, done.stderr


def test_kjlab_lab_and_the_hub_pass_the_same_shell_command_the_extension_sets():
    from jupyter_server.serverapp import ServerApp

    app = ServerApp()
    app.parse_command_line(paths.jupyterlab_args())
    assert shlex.split(app.terminado_settings["shell_command"]) == paths.terminal_shell_command()
    assert paths.terminal_shell_command()[1] == f"KJLAB_ENV_BIN={Path(sys.prefix) / 'bin'}"


def test_the_extension_keeps_a_shell_command_set_by_someone_else():
    from types import SimpleNamespace
    import logging

    from kjlab.jupyterlab import terminal

    own = SimpleNamespace(terminado_settings={"shell_command": ["zsh"]}, log=logging.getLogger("t"))
    terminal._link_jupyter_server_extension(own)
    assert own.terminado_settings == {"shell_command": ["zsh"]}
    unset = SimpleNamespace(terminado_settings={}, log=logging.getLogger("t"))
    terminal._link_jupyter_server_extension(unset)
    assert unset.terminado_settings == {"shell_command": paths.terminal_shell_command()}


def test_install_enables_the_extension_beside_the_learners_own_config(tmp_path):
    from jupyter_server.config_manager import BaseJSONConfigManager

    own = tmp_path / "etc" / "jupyter" / "jupyter_server_config.json"
    own.parent.mkdir(parents=True)
    own.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {"mine": True},
                                             "terminado_settings": {"shell_command": "zsh"}}}))
    target = paths.install_terminal_settings(tmp_path)
    assert target == tmp_path / "etc/jupyter/jupyter_server_config.d/kjlab.json"
    # how jupyter_server reads the extensions to load (serverapp.py find_server_extensions)
    merged = BaseJSONConfigManager(config_dir=str(own.parent)).get("jupyter_server_config")
    assert merged["ServerApp"]["jpserver_extensions"] == {"mine": True, paths.TERMINAL_EXTENSION: True}
    assert json.loads(own.read_text())["ServerApp"]["terminado_settings"] == {"shell_command": "zsh"}


async def _terminal_says(url: str, token: str, line: str, until: str, timeout: float) -> str:
    """Open a terminal on the server (its REST API), type ``line``, collect what it prints until ``until``."""
    from tornado.websocket import websocket_connect

    request = urllib.request.Request(f"{url}/api/terminals?token={token}", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    name = json.load(urllib.request.urlopen(request, timeout=30))["name"]
    ws = await websocket_connect(f"{url.replace('http', 'ws', 1)}/terminals/websocket/{name}?token={token}")
    ws.write_message(json.dumps(["stdin", line + "\r"]))
    seen, deadline = "", time.monotonic() + timeout
    while until not in seen and time.monotonic() < deadline:
        try:
            message = await asyncio.wait_for(ws.read_message(), timeout=max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if message is None:
            break
        kind, *rest = json.loads(message)
        if kind == "stdout":
            seen += rest[0]
    ws.close()
    return seen


def test_a_plain_jupyter_lab_of_the_venv_starts_its_terminals_with_kjlab_on_path(tmp_path):
    """`jupyter lab` as the conda/venv route starts it, with no option of kjlab's, from a server that has
    no terminal of its own (stdout not a tty: without kjlab's extension it would start login shells)
    and a PATH without the venv. Needs `make setup` (target jupyterlab-settings)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KJLAB_STATE": str(tmp_path / "state")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, up = time.monotonic() + 120, False  # a busy machine starts a server slowly
        while not up and time.monotonic() < deadline and server.poll() is None:
            try:
                up = bool(urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5))
            except OSError:
                time.sleep(0.5)
        assert up, "jupyter lab did not answer within 120 s: " + (tmp_path / "server.log").read_text()[-2000:]
        screen = asyncio.run(_terminal_says(url, token, 'echo "W""HERE $(command -v kjlab)"', "WHERE /", 90))
    finally:
        server.terminate()
        server.wait(30)
    installed = Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/kjlab.json"
    assert f"WHERE {Path(sys.prefix) / 'bin' / 'kjlab'}" in screen, (
        f"the terminal has no kjlab: is {installed} there? `make setup` (or `make jupyterlab-settings`) puts it there."
        f"\n{screen[-2000:]}")
    # no cluster in this state directory: kjlab says so, and the rc says what to do then
    assert "no lab cluster" in screen and 'eval "$(kjlab practice env)" here' in screen, screen[-2000:]
