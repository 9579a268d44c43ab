"""What a simulated container prints (kjlab/cluster/kwok/container_logs.py) and which part of it the
log endpoint serves (kjlab/cluster/kwok/log_endpoint.py). Expected output is what bash's echo,
`date` and python's print write for each script, written out by hand."""

import itertools
from datetime import datetime, timedelta, timezone

from kjlab.cluster.kwok import container_logs as logs
from kjlab.cluster.kwok.log_endpoint import available, run_of

T0 = datetime(2026, 11, 23, 9, 5, 7, tzinfo=timezone.utc)


def sh(script, shell="sh"):
    return {"name": "main", "command": [shell, "-c", script]}


def py(code):
    return {"name": "main", "command": ["python3", "-c", code]}


def out(container, n=20, **kw):
    return list(itertools.islice(logs.output(container, start=T0, **kw), n))


def test_echo_words_quotes_and_separators():
    script = 'echo one   two; sleep 5 && echo "a  b;c" \'x && y\'\necho\nexit 3'
    assert out(sh(script)) == [(0.0, b"one two\n"), (5.0, b"a  b;c x && y\n"), (5.0, b"\n")]


def test_echo_n_writes_no_newline_and_text_is_never_a_command():
    assert out(sh('echo -n ready; echo "run: exit 5"', "bash")) == [(0.0, b"ready"), (0.0, b"run: exit 5\n")]


def test_sleep_units_and_the_time_scale():
    assert out(sh("sleep 1m; echo a; sleep 0.5; echo b"), scale=0.1) == [(6.0, b"a\n"), (6.05, b"b\n")]


def test_date_prints_the_time_it_runs_at():
    assert out(sh("date; sleep 2h; date")) == [(0.0, b"Mon Nov 23 09:05:07 UTC 2026\n"),
                                              (7200.0, b"Mon Nov 23 11:05:07 UTC 2026\n")]


def test_a_loop_prints_forever_at_its_own_pace():
    assert out(sh("echo start; while true; do echo tick; sleep 10; done"), n=4) == [
        (0.0, b"start\n"), (0.0, b"tick\n"), (10.0, b"tick\n"), (20.0, b"tick\n")]


def test_index_branches_and_exits_print_nothing():
    script = 'echo go; if [ "$JOB_COMPLETION_INDEX" -eq 1 ]; then exit 3; else exit 0; fi'
    assert out(sh(script, "bash")) == [(0.0, b"go\n")]


def test_a_bare_echo_keeps_its_argv_words():
    assert out({"name": "main", "command": ["echo", "hi  there"]}) == [(0.0, b"hi  there\n")]


def test_python_output_is_written_when_the_program_exits():
    code = 'import time\nprint("a")\ntime.sleep(3)\nprint(\'b\')'
    assert out(py(code)) == []  # still running: all of it sits in the buffer
    assert out(py(code), exited_after=3.0) == [(3.0, b"a\nb\n")]
    assert out(py(code), exited_after=3.0, killed=True) == []  # SIGKILL loses the buffer


def test_a_python_loop_writes_full_buffers():
    chunks = out(py('import time\nwhile True:\n  print("0123456789")\n  time.sleep(1)'), n=2)
    assert [len(d) for _, d in chunks] == [logs.PYTHON_BUFFER] * 2
    # 11 bytes a line, one line a second: the first 8192 bytes are full during line 745 (t=744 s).
    assert chunks[0][0] == 744.0


def test_a_script_outside_the_grammar_prints_nothing():
    assert out(sh("echo $((40+2))")) == []
    assert out({"name": "main", "command": ["perl", "-e", "print 1"]}) == []


def _pod(state, last=None, name="main"):
    return {"metadata": {"name": "p"}, "status": {"containerStatuses": [
        {"name": name, "state": state, "lastState": last or {}}]}}


def _iso(seconds):
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_which_run_is_shown_in_the_kubelets_words():
    running = _pod({"running": {"startedAt": _iso(0)}})
    assert run_of(running, "main", False) == {"started": T0, "finished": None, "exit": None}
    assert run_of(running, "main", True) == 'previous terminated container "main" in pod "p" not found'
    backoff = _pod({"waiting": {"reason": "CrashLoopBackOff"}},
                   {"terminated": {"startedAt": _iso(0), "finishedAt": _iso(1), "exitCode": 1}})
    assert run_of(backoff, "main", False)["exit"] == 1 == run_of(backoff, "main", True)["exit"]
    assert run_of(_pod({"waiting": {"reason": "ImagePullBackOff"}}), "main", False) == \
        'container "main" in pod "p" is waiting to start: trying and failing to pull image'
    assert run_of(_pod({"waiting": {"reason": "NotSimulated"}}), "main", False) == \
        'container "main" in pod "p" is waiting to start: NotSimulated'


def test_available_cuts_at_now_or_at_the_end_of_the_run():
    c = sh("echo a; sleep 10; echo b; sleep 10; echo c; sleep infinity")
    run = {"started": T0, "finished": None, "exit": None}
    assert available(c, run, 1.0, T0 + timedelta(seconds=12)) == b"a\nb\n"
    killed = {"started": T0, "finished": T0 + timedelta(seconds=15), "exit": 137}
    assert available(c, killed, 1.0, T0 + timedelta(seconds=99)) == b"a\nb\n"
    done = {"started": T0, "finished": T0 + timedelta(seconds=1), "exit": 0}  # whole seconds: never cut
    assert available(sh("echo a; sleep 1.4; echo b"), done, 1.0, T0) == b"a\nb\n"


def test_timestamps_and_since_are_applied_per_line():
    from kjlab.cluster.kwok.log_endpoint import _since, render, written

    c = sh("echo -n a; echo b; sleep 2.5; echo c")
    chunks = written(c, {"started": T0, "finished": None, "exit": None}, 1.0, T0 + timedelta(seconds=3))
    assert render(chunks, False, None) == b"ab\nc\n"
    stamped = render(chunks, True, None).decode().splitlines()
    assert stamped == [f"{T0:%Y-%m-%dT%H:%M:%S}Z ab", f"{T0 + timedelta(seconds=2.5):%Y-%m-%dT%H:%M:%S}.5Z c"]
    assert render(chunks, False, T0 + timedelta(seconds=1)) == b"c\n"
    assert _since({"sinceSeconds": "10"}, T0 + timedelta(seconds=12)) == T0 + timedelta(seconds=2)
    assert _since({"sinceTime": "2026-01-01T00:00:00Z"}, T0).year == 2026
    assert _since({}, T0) is None


def test_the_docs_echo_with_an_exclamation_mark_prints_it():
    chunks = list(itertools.islice(logs.output(sh("echo The app is running! && sleep 3600"), 1.0, T0), 1))
    assert chunks[0] == (0.0, b"The app is running!\n")
