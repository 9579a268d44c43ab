"""Exercise 13's check on the kwok engine: it needs real containers, and says so instead of running
(the exercise notebook must still run green there)."""

from kjlab import check


def test_exit_on_sigterm_says_it_needs_kind(lab):
    v = check.run("exit-on-sigterm", "trap 'exit 143' TERM; while true; do sleep 1 & wait $!; done",
                  context=lab["context"], echo=False)
    assert not v.passed and v.solved, v
    assert "needs real containers" in v.headline and "kjlab up --engine kind" in str(v), v
