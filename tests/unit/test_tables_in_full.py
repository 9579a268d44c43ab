"""Lab 10's tables as a notebook shows them (HTML, after a lab session's show_in_full): no cell is
cut to ``...``, and an empty table says why. Fed with the zoo runs recorded on both engines."""

import re
from pathlib import Path

import pandas as pd
import pytest

from kjlab.labs import lifecycle
from kjlab.runs import saved as saved_runs
from kjlab.runs.result import Recording
from kjlab.view import tables

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


@pytest.fixture
def in_full():
    with pd.option_context("display.max_colwidth", 50):  # pandas' default, restored afterwards
        tables.show_in_full()
        yield


@pytest.mark.parametrize("engine", ["kwok", "kind"])
def test_no_cell_of_the_zoo_tables_is_cut(in_full, engine):
    recording = Recording(saved_runs.load(RUNS / f"pod-statuses-{engine}.json")["rows"])
    zoo = lifecycle.Zoo(recording, lifecycle.specimens(engine), engine, 0.0)
    shown = [zoo.table()[["pod", "STATUS sequence", "not seen"]],
             zoo.table()[["pod", "phase", "reason", "conditions", "containers"]],
             zoo.table()[["pod", "STATUS sequence", "exit code", "meaning"]], zoo.not_produced(), zoo.plan()]
    everything = [c for table in shown for c in cells(table._repr_html_())]
    assert any(len(c) > 50 for c in everything)  # long cells are there, so the check can fail
    assert not [c for c in everything if c.endswith("...")], [c for c in everything if c.endswith("...")]


def test_pandas_would_cut_them_without_it():
    recording = Recording(saved_runs.load(RUNS / "pod-statuses-kwok.json")["rows"])
    zoo = lifecycle.Zoo(recording, lifecycle.specimens("kwok"), "kwok", 0.0)
    with pd.option_context("display.max_colwidth", 50):
        assert any(c.endswith("...") for c in cells(zoo.not_produced()._repr_html_()))


def test_an_empty_table_says_why():
    empty = pd.DataFrame(columns=["pod", "reason"])
    shown = tables.explain_empty(empty, "no pod has a reason of its own here")
    assert "Empty DataFrame" not in shown._repr_markdown_() and "no pod has a reason of its own here" in shown.data
    full = pd.DataFrame([{"pod": "a", "reason": "Evicted"}])
    assert tables.explain_empty(full, "unused") is full


def test_missing_values_read_as_a_dash_and_counts_as_ints():
    """A count column with a missing value (pandas makes it float), a time column, an object
    column with None, a nullable Int64 column with pd.NA and a cell holding a list."""
    raw = pd.DataFrame({"active": [4.0, float("nan"), 0.0], "at": [0.128, 12.34, float("nan")],
                        "reason": [None, "Evicted", "DeadlineExceeded"],
                        "exit code": pd.array([pd.NA, 137, 0], dtype="Int64"),
                        "nodes": [["kjlab-worker"], None, []]})
    assert {"NaN", "None", "&lt;NA&gt;"} <= set(cells(raw._repr_html_()))  # what pandas shows by itself
    shown = tables.for_learner(raw)
    assert cells(shown._repr_html_()) == [
        "4", "0.1", "-", "-", "[kjlab-worker]",
        "-", "12.3", "Evicted", "137", "-",
        "0", "-", "DeadlineExceeded", "0", "[]"]
    assert raw["active"].isna().sum() == 1  # the recorded frame itself is left as it was


def test_a_lab_kernel_displays_every_table_that_way():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        with pd.option_context("display.max_colwidth", 50):
            tables.show_in_full()
            data, _ = shell.display_formatter.format(pd.DataFrame({"gone": [None, 8.04]}))
        assert cells(data["text/html"]) == ["-", "8.0"]
        assert "None" not in data["text/plain"] and "8.0" in data["text/plain"]
    finally:
        InteractiveShell.clear_instance()
