"""The one "waiting for X (at most N s)" line every wait prints (kjlab.api.wait.announced)."""

import pytest

from kjlab.api import wait
from kjlab.errors import KjlabError


def test_a_wait_says_what_and_how_long_at_most_then_how_long_it_took(capsys):
    with wait.announced("pod a to run", 60) as elapsed:
        assert 0 <= elapsed() < 5
    assert capsys.readouterr().out == "waiting for pod a to run (at most 60 s) ...\n  ... after 0 s\n"
    with wait.announced("3 ready pods", 30, digits=1):
        pass
    assert capsys.readouterr().out.endswith("  ... after 0.0 s\n")


def test_a_failed_wait_leaves_the_saying_to_its_error_and_a_quiet_one_prints_nothing(capsys):
    with pytest.raises(KjlabError):
        with wait.announced("node x", 5):
            raise KjlabError("node x was not Ready")
    assert "after" not in capsys.readouterr().out
    with wait.announced("anything", 5, echo=False):
        pass
    assert capsys.readouterr().out == ""
