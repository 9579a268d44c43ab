"""Answers stay data: YAML limits (size, aliases, tags, encoding), and the rule for running a .py answer
(kjlab.answers.may_run), down to the CLI's one-line refusals -- no cluster needed."""

import os

import pytest
import yaml

from kjlab.checks import answers
from kjlab import checks as check
from kjlab.cli import main
from kjlab.commands import load_answer
from kjlab.errors import KjlabError
from kjlab.checks.sandbox import Code

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_policy_loads_as_plain_data():
    assert answers.load_yaml("rules:\n- action: FailJob\n") == {"rules": [{"action": "FailJob"}]}


def test_a_few_aliases_are_fine():
    doc = answers.load_yaml("x: &v {operator: In, values: [42]}\ny: *v\n")
    assert doc["x"] == doc["y"]


def test_the_billion_laughs_is_refused_in_one_line():
    # 72 aliases only: a limit on the number of aliases alone would let it through
    with pytest.raises(KjlabError) as e:
        answers.load_yaml(BILLION_LAUGHS)
    assert "expands to more than 10000 YAML nodes" in e.value.message and "\n" not in e.value.message


def test_an_alias_inside_itself_is_refused():
    with pytest.raises(KjlabError, match="refers to itself"):
        answers.load_yaml("a: &a [*a]\n")


def test_python_tags_never_run():
    with pytest.raises(yaml.YAMLError):
        answers.load_yaml("!!python/object/apply:os.system ['id > pwned.txt']\n")
    assert not os.path.exists("pwned.txt")


def test_the_check_explains_a_python_tag_as_bad_yaml(monkeypatch):
    # the opt-in for a context kjlab did not make lets the check reach the answer: it fails there, before any request
    monkeypatch.setenv("KJLAB_ALLOW_CONTEXT", "none")
    v = check.run("failjob-policy", "rules: !!python/object/apply:os.system ['id']\n", context="none", echo=False)
    assert not v.passed and "not valid YAML" in str(v)


def test_the_check_refuses_the_billion_laughs_before_touching_the_cluster(monkeypatch):
    monkeypatch.setenv("KJLAB_ALLOW_CONTEXT", "none")
    v = check.run("failjob-policy", BILLION_LAUGHS, context="none", echo=False)
    assert not v.passed and "expands to more than" in str(v)


def test_size_limit_one_line():
    with pytest.raises(KjlabError) as e:
        answers.load_yaml("x: " + "y" * (answers.MAX_BYTES + 1))
    assert e.value.message == f"your answer is {answers.MAX_BYTES + 4} bytes; an answer may be at most 64 KiB"


def test_a_big_file_is_not_read_whole(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a" * (10 * answers.MAX_BYTES))
    with pytest.raises(KjlabError, match="640 KiB; a text answer is at most 64 KiB"):
        answers.read(big)


def test_binary_and_non_utf8_files_are_one_line(tmp_path):
    png = tmp_path / "answer.yaml"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    with pytest.raises(KjlabError, match="is a binary file"):
        answers.read(png)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("rules: [caf\xe9]".encode("latin-1"))
    with pytest.raises(KjlabError, match="not UTF-8 text"):
        answers.read(latin)


def test_the_cli_prints_one_line_for_a_binary_answer(tmp_path, capsys):
    f = tmp_path / "answer.yaml"
    f.write_bytes(b"\0\1\2")
    assert main(["check", "failjob-policy", "--answer", str(f)]) == 1
    err = capsys.readouterr().err
    assert "is a binary file" in err and "Traceback" not in err


def test_a_prediction_file_is_safe_loaded(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("outcome: Failed\nfailed: 3\n")
    assert load_answer("predict-failindex", str(f)) == {"outcome": "Failed", "failed": 3}
    f.write_text("!!python/object/apply:os.system ['id']\n")
    with pytest.raises(KjlabError, match="not valid YAML"):
        load_answer("predict-failindex", str(f))


# --- .py answers ----------------------------------------------------------------------------------

EVIL = "import os\nopen({marker!r}, 'w').write('pwned')\ndef mark_and_delete(c, n, p):\n    pass\n"


def test_a_py_answer_is_never_run_by_loading_it(tmp_path):
    marker = tmp_path / "pwned.txt"
    f = tmp_path / "answer.py"
    f.write_text(EVIL.format(marker=str(marker)))
    code = load_answer("config-issue-step", str(f))
    assert isinstance(code, Code) and code.function == "mark_and_delete" and code.origin == str(f)
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_someone_elses_py_file_is_refused_in_one_line(tmp_path, capsys):
    marker = tmp_path / "pwned.txt"
    f = tmp_path / "evil.py"
    f.write_text(EVIL.format(marker=str(marker)))
    os.chown(f, 1234, 1234)
    assert main(["check", "config-issue-step", "--answer", str(f)]) == 1
    err = capsys.readouterr().err
    assert f"refusing to run {f}: it is uid 1234, not yours" in err and "--untrusted" in err
    assert "Traceback" not in err and not marker.exists()


def test_a_py_file_others_can_write_is_not_your_own(tmp_path):
    f = tmp_path / "answer.py"
    f.write_text("def mark_and_delete(c, n, p):\n    pass\n")
    os.chmod(f, 0o666)
    with pytest.raises(KjlabError, match="a file others can write"):
        answers.may_run(f, untrusted=False)
    os.chmod(f, 0o644)
    answers.may_run(f, untrusted=False)


def test_untrusted_as_root_runs_someone_elses_file(tmp_path, monkeypatch):
    f = tmp_path / "answer.py"
    f.write_text("def mark_and_delete(c, n, p):\n    pass\n")
    monkeypatch.setattr(os, "stat", lambda p, _s=os.stat: _fake_owner(_s(p), 1234))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(KjlabError, match="not yours"):
        answers.may_run(f, untrusted=False)
    answers.may_run(f, untrusted=True)


def test_without_root_someone_elses_file_is_refused_even_with_untrusted(tmp_path, monkeypatch):
    f = tmp_path / "answer.py"
    f.write_text("def mark_and_delete(c, n, p):\n    pass\n")
    monkeypatch.setattr(os, "stat", lambda p, _s=os.stat: _fake_owner(_s(p), 0))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(KjlabError, match="runs with that user's rights"):
        answers.may_run(f, untrusted=False)
    with pytest.raises(KjlabError, match="non-root|needs root|not your own"):
        answers.may_run(f, untrusted=True)


def test_without_root_untrusted_is_refused_for_your_own_file_too(tmp_path, monkeypatch):
    f = tmp_path / "answer.py"
    f.write_text("def mark_and_delete(c, n, p):\n    pass\n")
    monkeypatch.setattr(os, "stat", lambda p, _s=os.stat: _fake_owner(_s(p), 1000))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    answers.may_run(f, untrusted=False)
    with pytest.raises(KjlabError, match="--untrusted needs root"):
        answers.may_run(f, untrusted=True)


def _fake_owner(st, uid):
    values = list(st)
    values[4] = uid  # st_uid
    return os.stat_result(values)


def test_yaml_nested_thousands_deep_is_one_line_not_a_recursion_error():
    from kjlab import files

    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(KjlabError) as e:
        answers.load_yaml(deep)
    assert e.value.message.startswith("your answer nests its lists or mappings thousands of levels deep")
    with pytest.raises(KjlabError) as e:
        files.load_yaml_all(deep)
    assert e.value.message.startswith("the manifest nests its lists or mappings thousands of levels deep")


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_device_or_a_pipe_is_refused_at_once_not_read_forever(tmp_path, special):
    import os
    import time

    path = special
    if special == "fifo":
        path = str(tmp_path / "answer.yaml")
        os.mkfifo(path)
    started = time.monotonic()
    with pytest.raises(KjlabError) as e:
        answers.read(path)
    assert "is not a regular file" in e.value.message
    assert time.monotonic() - started < 5


def test_a_python_file_for_a_yaml_exercise_is_one_line(tmp_path):
    answer = tmp_path / "a.py"
    answer.write_text("def mark_and_delete(c, n, p):\n    pass\n")
    answer.chmod(0o600)
    with pytest.raises(KjlabError) as e:
        check.run("failjob-policy", load_answer("failjob-policy", str(answer)), context="none", echo=False)
    assert e.value.message == f"failjob-policy takes a podFailurePolicy (YAML) for the failjob Job, not Python code ({answer})"
