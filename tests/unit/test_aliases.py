"""The modules' old names (before the folders per concern) still import, as the very same module."""

import importlib
import subprocess
import sys

from kjlab.aliases import MOVED


def test_every_old_name_is_the_module_under_its_new_name():
    for old, new in MOVED.items():
        module = importlib.import_module(old)
        assert module is importlib.import_module(new), old
        assert module.__name__ == new and module.__spec__.name == new, old


def test_notebook_style_imports_of_old_names_work_in_a_fresh_interpreter():
    code = ("import kjlab; from kjlab import readers, check, disruptions; import kjlab.ops; "
            "from kjlab.record import Recorder; from kjlab.cluster import grammar; "
            "assert kjlab.ops is kjlab.actions.ops and check is kjlab.checks and callable(check.broken_manifest); "
            "assert kjlab.readers is readers is sys.modules['kjlab.api.readers']; "
            "assert Recorder is kjlab.runs.record.Recorder and grammar is sys.modules['kjlab.cluster.kwok.grammar']")
    subprocess.run([sys.executable, "-c", "import sys; " + code], check=True)


def test_every_name_the_package_offers_resolves():
    code = "import kjlab; [getattr(kjlab, n) for n in kjlab.__all__]; assert kjlab.selectors.__name__ == 'kjlab.labs.manual_selector'"
    subprocess.run([sys.executable, "-c", code], check=True)
