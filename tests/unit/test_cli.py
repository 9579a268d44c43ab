import os
import pytest

from kjlab.cluster import kubectl
from kjlab.cli import main


def test_kubectl_gets_the_lab_context():
    argv = kubectl.argv(["get", "nodes"], "kwok-kjlab", "/bin/kubectl")
    assert argv == ["/bin/kubectl", "--context", "kwok-kjlab", "get", "nodes"]


def test_kubectl_keeps_the_learners_own_context():
    argv = kubectl.argv(["--context=prod", "get", "pods"], "kwok-kjlab", "/bin/kubectl")
    assert "--context" not in argv and "--context=prod" in argv


def test_kubectl_reads_kjlabs_kubeconfig_before_the_learners(monkeypatch, tmp_path):
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("KUBECONFIG", "/home/me/.kube/a:/home/me/.kube/b")
    monkeypatch.delenv("KJLAB_KUBECONFIG", raising=False)
    assert kubectl.environment()["KUBECONFIG"].split(":") == [
        str(tmp_path / "state" / "kubeconfig"), "/home/me/.kube/a", "/home/me/.kube/b"]


def test_kubectl_run_returns_the_status_and_both_streams(monkeypatch, tmp_path):
    """The one runner every lab calls: the lab context, kjlab's kubeconfig, stdout then stderr."""
    fake = tmp_path / "kubectl"
    fake.write_text('#!/bin/sh\necho "args: $*"\necho "config: $KUBECONFIG"\necho "refused" >&2\nexit 3\n')
    fake.chmod(0o755)
    monkeypatch.setattr(kubectl.tools, "kubectl_path", lambda: fake)
    monkeypatch.setenv("KJLAB_STATE", str(tmp_path / "state"))
    code, output = kubectl.run(["get", "pods"], "kwok-kjlab", timeout=30)
    assert code == 3
    assert output.splitlines() == ["args: --context kwok-kjlab get pods",
                                   f"config: {kubectl.environment()['KUBECONFIG']}", "refused"]


def test_bad_input_is_one_line_and_exit_1(capsys):
    assert main(["up", "--engine", "nonsense"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kjlab: unknown engine 'nonsense'")
    assert "Traceback" not in err


def test_workers_out_of_range(capsys):
    assert main(["up", "--engine", "kwok", "--workers", "0"]) == 1
    assert "--workers must be between 1 and 10" in capsys.readouterr().err


def test_api_and_connection_errors_are_one_line():
    import urllib3
    from kubernetes.client import ApiException

    from kjlab.cli import _api_error_line

    refused = urllib3.exceptions.MaxRetryError(None, "/api", reason=ConnectionRefusedError(111, "refused"))
    assert _api_error_line(refused).startswith("the lab cluster's API server does not answer (MaxRetryError)")
    forbidden = ApiException(status=403, reason="Forbidden")
    forbidden.body = '{"message": "namespaces \\"x\\" is forbidden"}'
    assert _api_error_line(forbidden) == 'the API server said: namespaces "x" is forbidden'
    assert _api_error_line(ValueError("ours")) is None


def test_a_broken_kubeconfig_is_one_line(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nclusters: [\n  - {bad")
    monkeypatch.setenv("KJLAB_KUBECONFIG", str(broken))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert main(["status", "--context", "kwok-kjlab"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"kjlab: the kubeconfig {broken} is not valid YAML")
    assert "Traceback" not in err


@pytest.mark.parametrize("shape,why", [("dir", "is a directory"), ("list", "is a YAML list"),
                                        ("contexts", "has 'contexts' that is not a list")])
def test_a_kubeconfig_of_the_wrong_shape_is_one_line_naming_it(tmp_path, monkeypatch, capsys, shape, why):
    path = tmp_path / "kubeconfig"
    if shape == "dir":
        path.mkdir()
    else:
        path.write_text({"list": "- a\n- b\n", "contexts": "apiVersion: v1\ncontexts: {}\n"}[shape])
    monkeypatch.setenv("KJLAB_KUBECONFIG", str(path))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    assert main(["status", "--context", "kwok-kjlab"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"kjlab: the kubeconfig {path} {why}"), err
    assert "not answering" not in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["ForbiddenException", "NotFoundException", "ServiceException", "ApiException"])
def test_every_api_exception_of_the_client_is_one_line(name):
    from kubernetes.client import exceptions

    from kjlab.cli import _api_error_line

    error = getattr(exceptions, name)(status=403, reason="Forbidden")
    error.body = '{"message": "pods is forbidden"}'
    assert _api_error_line(error) == "the API server said: pods is forbidden"


def test_a_closed_pipe_is_not_a_cluster_that_does_not_answer():
    from kjlab.cli import _api_error_line

    assert _api_error_line(BrokenPipeError(32, "Broken pipe")) is None


def test_the_recreate_hint_is_a_command_that_parses():
    # `kjlab up` with other options than the running cluster's says how to recreate it; the flags
    # it prints must be ones `kjlab up` accepts (a boolean is --x / --no-x, not "--x True").
    from kjlab.cli import _parser
    from kjlab.cluster import _flag

    for options in ({"workers": 3, "time_scale": 0.5, "strict": False}, {"workers": 2, "strict": True}):
        argv = ["up", "--engine", "kwok"] + " ".join(_flag(k, v) for k, v in options.items()).split()
        parsed = _parser().parse_args(argv)
        assert {k: getattr(parsed, k) for k in options} == options


def test_a_reader_that_goes_away_does_not_stop_the_command():
    import subprocess
    import sys

    # `kjlab scenario list | head -0`: the reader is gone before the first line is written
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([sys.executable, "-c", "import sys; from kjlab.cli import main; sys.exit(main(['scenario', 'list']))"],
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "does not answer" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("args,words", [
    (["scenario", "run", "failjob", "--timeout", "0"], "0 is not a time limit"),
    (["scenario", "run", "failjob", "--timeout", "-5"], "-5 is not a time limit"),
    (["scenario", "run", "failjob", "--timeout", "soon"], "'soon' is not a number of seconds"),
    (["scenario", "run", "failjob", "--namespace", ""], "an empty name"),
    (["controller", "config-issue", "--namespace", " "], "an empty name"),
])
def test_a_time_limit_or_namespace_that_would_be_ignored_is_refused(capsys, args, words):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    assert words in capsys.readouterr().err


def test_kjlab_up_from_the_console_leaves_without_the_teardown_and_loses_no_output():
    """`kjlab up` ends with os._exit (issue 27: the interpreter's teardown cost 0.23 s after the
    prompt): its output still arrives and its exit code is kept; a caller in the same process
    (a test, a notebook) gets the code back and its interpreter carries on."""
    import subprocess
    import sys

    script = (
        "import atexit, sys\n"
        "import kjlab.commands\n"
        "def dispatch(args):\n"
        "    print('the status, printed last', end='')\n"  # no newline: only a flush sends it
        "    return 3\n"
        "kjlab.commands.dispatch = dispatch\n"
        "atexit.register(lambda: print(' TEARDOWN', end=''))\n"
        "from kjlab.cli import main\n"
        "if sys.argv[1] == 'caller':\n"
        "    print(main(['up']), end='')\n"
        "else:\n"
        "    sys.argv = ['kjlab', sys.argv[1]]\n"
        "    sys.exit(main())\n")
    up = subprocess.run([sys.executable, "-c", script, "up"], capture_output=True, text=True, timeout=60)
    assert (up.returncode, up.stdout) == (3, "the status, printed last")
    status = subprocess.run([sys.executable, "-c", script, "status"], capture_output=True, text=True, timeout=60)
    assert (status.returncode, status.stdout) == (3, "the status, printed last TEARDOWN")
    caller = subprocess.run([sys.executable, "-c", script, "caller"], capture_output=True, text=True, timeout=60)
    assert (caller.returncode, caller.stdout) == (0, "the status, printed last3 TEARDOWN")
