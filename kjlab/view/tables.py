"""Tables as a learner reads them in a notebook: every cell in full, no raw ``NaN``/``None``/``<NA>``,
and an empty table that says why it is empty instead of a bare ``Empty DataFrame``.

pandas cuts each cell at ``display.max_colwidth`` (50 characters) with ``...``: a STATUS sequence,
an event message or a reason is then lost exactly where it says something. A missing value (a pod
not gone yet, a Job still running) shows as ``NaN``, ``None`` or ``<NA>`` depending on the column's
dtype, which reads as "broken"; and a count column that has one missing value becomes float
("4.0"). A lab session (kjlab.Lab) turns all of this off for its kernel: every DataFrame the
notebook displays goes through :func:`for_learner` first.
"""

from __future__ import annotations

import math

import pandas as pd
from IPython import get_ipython
from IPython.display import Markdown

MISSING = "-"  # what a missing value reads as, in every table


def is_missing(value) -> bool:
    """None, NaN (Python or numpy), pd.NA and NaT; not a list or dict (pd.isna would map over those)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _column(values: list) -> list:
    floats = [v for v in values if isinstance(v, float) and not is_missing(v)]
    # a column of whole numbers that pandas made float (a count with a missing value) reads as ints;
    # other floats are seconds on a run's clock: one decimal, as the timelines and summaries say them
    whole = all(v.is_integer() for v in floats)
    shown = []
    for v in values:
        if is_missing(v):
            shown.append(MISSING)
        elif isinstance(v, float):
            shown.append(str(int(v)) if whole else f"{v:.1f}")
        else:
            shown.append(v)
    return shown


def for_learner(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` to show: missing values as ``-``, whole-number floats as ints, other
    floats (seconds) with one decimal. Columns, index and the other cells are left as they are."""
    # built column by column by position: names may repeat, and a cell may hold a list or a dict
    columns = {i: pd.Series(_column(list(table.iloc[:, i])), index=table.index, dtype=object)
               for i in range(table.shape[1])}
    shown = pd.DataFrame(columns, index=table.index)
    shown.columns = table.columns
    return shown


def _html(table: pd.DataFrame) -> str:
    return for_learner(table)._repr_html_()


def _text(table: pd.DataFrame, printer, cycle) -> None:
    printer.text(repr(for_learner(table)))


def show_in_full() -> None:
    """Show every table cell in full from now on, in this kernel (display.max_colwidth: no limit),
    and display every DataFrame through :func:`for_learner`."""
    pd.set_option("display.max_colwidth", None)
    shell = get_ipython()
    if shell is None:  # a plain Python process: nothing displays tables
        return
    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(pd.DataFrame, _html)
    formatters["text/plain"].for_type(pd.DataFrame, _text)


def explain_empty(table: pd.DataFrame, why: str):
    """``table`` itself, or, when it has no rows, one line saying ``why`` (shown in its place)."""
    if len(table):
        return table
    return Markdown(f"*(no rows: {why})*")
