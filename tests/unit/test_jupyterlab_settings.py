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
    assert paths.jupyterlab_args() == [arg]
    assert (paths.JUPYTERLAB_SETTINGS_DIR / "overrides.json").is_file()
    source = (paths.PACKAGE_DIR / "commands.py").read_text() + (paths.PACKAGE_DIR / "classroom" / "hubconfig.py").read_text()
    assert source.count("jupyterlab_args()") == 2
