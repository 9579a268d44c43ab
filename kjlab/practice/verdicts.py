"""Verdicts of practice checks: kjlab.checks' Verdict, one line per finding."""

from __future__ import annotations

from kjlab.checks import Verdict


def verdict(task_id: str, problems: list[str], found: list[str], passed_headline: str,
            failed_headline: str = "not yet: see what the check found below"):
    """Pass when there are no ``problems``; the reasons are what was found, then each problem."""
    ok = not problems
    return Verdict(f"practice:{task_id}", ok, passed_headline if ok else failed_headline, found + problems)
