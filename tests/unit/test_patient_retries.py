"""The patient client's retries (kjlab.api.kube.PATIENT_RETRIES) against the errors urllib3 raises
while an API server restarts: refused connections for about a minute, and a TLS handshake the
restarting server cut off (urllib3 counts that as 'other'; a loaded run once failed on it)."""

import ssl

import pytest
from urllib3.exceptions import MaxRetryError, NewConnectionError, SSLError

from kjlab.api.kube import PATIENT_RETRIES


def _retries_before_giving_up(error) -> tuple[int, float]:
    """How many retries urllib3 makes on ``error`` each time, and the seconds it sleeps between them."""
    retry, count, slept = PATIENT_RETRIES, 0, 0.0
    while True:
        try:
            retry = retry.increment(method="GET", url="/api/v1/pods", error=error)
        except MaxRetryError:
            return count, slept
        slept += retry.get_backoff_time()
        count += 1
        assert count < 1000, "never gives up"


def test_a_cut_off_tls_handshake_is_retried_a_few_times_then_given_up():
    cut = SSLError(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"))
    count, slept = _retries_before_giving_up(cut)
    assert 3 <= count <= 10 and slept <= 30, (count, slept)


def test_refused_connections_are_retried_for_about_a_minute():
    refused = NewConnectionError(None, "Connection refused")
    count, slept = _retries_before_giving_up(refused)
    assert 45 <= slept <= 90, (count, slept)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_cut_off_handshake_is_retried_whatever_the_method(method):
    # the request was never sent, so even a POST (create) is safe to send again
    cut = SSLError(ssl.SSLEOFError(8, "EOF"))
    PATIENT_RETRIES.increment(method=method, url="/", error=cut)
