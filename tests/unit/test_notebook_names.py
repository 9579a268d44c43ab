"""Every `kjlab.<name>` a notebook uses resolves on the package: modules moved into folders keep
their old attribute names (a lab on kind failed with "module 'kjlab' has no attribute 'policy'")."""

import json
import re
from pathlib import Path

import kjlab

ROOT = Path(__file__).resolve().parents[2]
USE = re.compile(r"\bkjlab\.([A-Za-z_]+)\b(?![/-])")  # not a label or annotation key such as kjlab.io/run


def test_every_kjlab_attribute_a_notebook_uses_exists():
    missing = []
    for path in sorted(ROOT.glob("*/[0-9][0-9]-*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            for name in USE.findall("".join(cell["source"])):
                if not hasattr(kjlab, name):
                    missing.append(f"{path.relative_to(ROOT)}: kjlab.{name}")
    assert not missing, "\n".join(sorted(set(missing)))
