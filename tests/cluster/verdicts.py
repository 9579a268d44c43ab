"""What every exercise check test asks of a verdict: that it explains itself in given words, and (for
checks that wait on the cluster's own timers) every answer checked at once, so they share the wait."""

from concurrent.futures import ThreadPoolExecutor

from kjlab import check


def explained(verdict, *phrases):
    """Each phrase appears in the verdict's text, as a learner reads it."""
    text = str(verdict)
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{missing} not in:\n{text}"


def check_all(exercise: str, answers: dict, context: str) -> dict:
    """``check.run`` on every answer in parallel threads (each in a namespace of its own): the
    verdicts by the answers' keys."""
    with ThreadPoolExecutor(len(answers)) as pool:
        futures = {k: pool.submit(check.run, exercise, a, context=context, echo=False) for k, a in answers.items()}
        return {k: f.result() for k, f in futures.items()}
