"""tools/classroom/cache_key.py: the classroom images' cache key changes exactly when an input does."""

import importlib.util
import os
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "classroom" / "cache_key.py"
spec = importlib.util.spec_from_file_location("cache_key", SCRIPT)
cache_key = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cache_key)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("a = 1\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("b = 2\n")
    (tmp_path / "labs").mkdir()
    (tmp_path / "labs" / "01.ipynb").write_text("{}\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    return tmp_path


def key(root, *paths, extra=()):
    return cache_key.cache_key(root, list(paths), extra)


def test_the_key_is_twelve_hex_digits_and_independent_of_the_order_of_the_inputs(tree):
    k = key(tree, "pkg", "labs", "pyproject.toml")
    assert len(k) == 12 and int(k, 16) >= 0
    assert key(tree, "pyproject.toml", "labs", "pkg") == k


def test_a_changed_byte_changes_the_key(tree):
    before = key(tree, "pkg", "labs")
    (tree / "pkg" / "sub" / "b.py").write_text("b = 3\n")
    assert key(tree, "pkg", "labs") != before


def test_a_new_a_removed_and_a_moved_file_change_the_key(tree):
    before = key(tree, "pkg")
    (tree / "pkg" / "c.py").write_text("")
    added = key(tree, "pkg")
    assert added != before
    (tree / "pkg" / "c.py").unlink()
    assert key(tree, "pkg") == before
    (tree / "pkg" / "a.py").rename(tree / "pkg" / "sub" / "a.py")  # same bytes, another place in the image
    assert key(tree, "pkg") != before


def test_the_executable_bit_is_an_input(tree):
    # the entrypoint script must stay executable in the image
    before = key(tree, "pkg")
    os.chmod(tree / "pkg" / "a.py", 0o755)
    assert key(tree, "pkg") != before


def test_caches_and_editor_files_are_not_inputs(tree):
    before = key(tree, "pkg", "labs")
    (tree / "pkg" / "__pycache__").mkdir()
    (tree / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (tree / "labs" / ".ipynb_checkpoints").mkdir()
    (tree / "labs" / ".ipynb_checkpoints" / "01-checkpoint.ipynb").write_text("{}")
    (tree / "pkg" / "kjlab.egg-info").mkdir()
    (tree / "pkg" / "kjlab.egg-info" / "PKG-INFO").write_text("x")
    (tree / "pkg" / "a.py~").write_text("old")
    assert key(tree, "pkg", "labs") == before


def test_extra_strings_are_inputs(tree):
    assert key(tree, "pkg", extra=["python3 tini"]) != key(tree, "pkg", extra=["python3"])
    assert key(tree, "pkg", extra=["a", "b"]) != key(tree, "pkg", extra=["b", "a"])


def test_the_listing_is_what_is_hashed(tree):
    (tree / "pkg" / "__pycache__").mkdir()
    (tree / "pkg" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert cache_key.input_files(tree, ["pkg", "pyproject.toml"]) == ["pkg/a.py", "pkg/sub/b.py", "pyproject.toml"]


def test_a_missing_input_is_an_error_not_a_smaller_key(tree):
    with pytest.raises(FileNotFoundError, match="nope"):
        key(tree, "pkg", "nope")
    assert cache_key.main([str(tree), "pkg", "nope"]) == 1


def test_the_command_line_prints_the_same_key(tree, capsys):
    assert cache_key.main([str(tree), "--extra", "v1", "pkg", "labs"]) == 0
    assert capsys.readouterr().out.strip() == key(tree, "pkg", "labs", extra=["v1"])


def test_the_build_script_refuses_an_unknown_command_in_one_line_before_needing_docker():
    import subprocess

    build = SCRIPT.with_name("build.sh")
    for args in (["learners"], ["learner", "--fast"], []):
        proc = subprocess.run(["bash", str(build), *args], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2 and proc.stdout == ""
        assert len(proc.stderr.splitlines()) == 1 and "usage: tools/classroom/build.sh learner|hub|all" in proc.stderr
