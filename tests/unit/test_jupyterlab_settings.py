"""The JupyterLab settings kjlab opens the lab with: read by jupyterlab_server's own overrides
reader from the directory `kjlab lab` and the hub pass, they turn the news toast off."""

import json

from jupyterlab_server.settings_utils import _get_overrides

from kjlab import paths


def test_the_news_toast_and_update_check_are_off():
    overrides, error = _get_overrides(str(paths.JUPYTERLAB_SETTINGS_DIR))
    assert not error
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False


def test_the_values_are_ones_the_schema_allows():
    """A value outside the plugin's schema would be dropped by JupyterLab (and the toast would come back)."""
    import jupyterlab

    from pathlib import Path

    schema_file = next(Path(jupyterlab.__file__).parents[3].glob(
        "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"), None)
    if schema_file is None:  # not in this installation's prefix: the schema ships with the wheel
        import sys

        schema_file = Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"
    props = json.loads(schema_file.read_text())["properties"]
    assert "false" in [o["const"] for o in props["fetchNews"]["oneOf"]]
    assert props["checkForUpdates"]["type"] == "boolean"


def test_kjlab_lab_and_the_hub_pass_the_settings_directory():
    arg = f"--LabApp.app_settings_dir={paths.JUPYTERLAB_SETTINGS_DIR}"
    assert paths.jupyterlab_args()[0] == arg  # then the terminals' shell command (test_jupyterlab_terminal.py)
    assert (paths.JUPYTERLAB_SETTINGS_DIR / "overrides.d" / "kjlab.json").is_file()
    source = (paths.PACKAGE_DIR / "commands.py").read_text() + (paths.PACKAGE_DIR / "classroom" / "hubconfig.py").read_text()
    assert source.count("jupyterlab_args()") == 2


def test_install_puts_the_file_where_jupyterlab_reads_overrides(tmp_path):
    target = paths.install_jupyterlab_settings(tmp_path)
    (target.parent.parent / "overrides.json").write_text('{"@jupyterlab/apputils-extension:themes": {"theme": "x"}}')
    overrides, error = _get_overrides(str(tmp_path / "share" / "jupyter" / "lab" / "settings"))
    assert not error
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert overrides["@jupyterlab/apputils-extension:themes"] == {"theme": "x"}  # the learner's own file still counts


def test_a_plain_jupyter_lab_of_the_venv_has_the_news_toast_off(tmp_path):
    """`jupyter lab` as the conda/venv route starts it: no kjlab option. Its settings REST API gives the
    schema (overrides applied as its defaults) and the user's settings; the page's composite value is
    those settings over the defaults. fetchNews "false": the toast never asks ("none", the default
    without kjlab's file, asks). Needs `make setup`
    (target jupyterlab-settings), which puts the file in this environment."""
    import os
    import secrets
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = (f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}")
    try:
        deadline, answer = time.monotonic() + 120, None  # a busy machine starts a server slowly
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                answer = json.load(urllib.request.urlopen(url, timeout=5))
            except OSError:
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(30)
    assert answer is not None, "jupyter lab did not answer within 120 s"
    composite = {key: prop.get("default") for key, prop in answer["schema"]["properties"].items()}
    composite.update(answer["settings"])
    installed = Path(sys.prefix) / "share/jupyter/lab/settings/overrides.d/kjlab.json"
    assert composite["fetchNews"] == "false", (
        f"the news toast would ask: is {installed} there? `make setup` (or `make jupyterlab-settings`) puts it there")
    assert composite["checkForUpdates"] is False


def test_code_cells_wrap_their_long_lines():
    """A learner reads the whole line of a code cell, the answer line of a solution included (the kind
    tour's screenshots at 1280 px cut `...replace("restartPolicy: OnFailure", "resta` at the edge)."""
    overrides, error = _get_overrides(str(paths.JUPYTERLAB_SETTINGS_DIR))
    assert not error
    assert overrides["@jupyterlab/notebook-extension:tracker"]["codeCellConfig"]["lineWrap"] is True
