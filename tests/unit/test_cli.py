from kjlab.cli import kubectl_argv, main


def test_kubectl_gets_the_lab_context_and_kubeconfig():
    argv = kubectl_argv(["get", "nodes"], "kwok-kjlab", "/bin/kubectl", "/k")
    assert argv == ["/bin/kubectl", "--kubeconfig", "/k", "--context", "kwok-kjlab", "get", "nodes"]


def test_kubectl_keeps_the_learners_own_context():
    argv = kubectl_argv(["--context=prod", "get", "pods"], "kwok-kjlab", "/bin/kubectl", "/k")
    assert "--context" not in argv and "--context=prod" in argv


def test_bad_input_is_one_line_and_exit_1(capsys):
    assert main(["up", "--engine", "nonsense"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kjlab: unknown engine 'nonsense'")
    assert "Traceback" not in err


def test_workers_out_of_range(capsys):
    assert main(["up", "--engine", "kwok", "--workers", "0"]) == 1
    assert "--workers must be between 1 and 10" in capsys.readouterr().err
