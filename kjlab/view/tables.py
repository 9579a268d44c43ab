"""Tables as a learner reads them in a notebook: every cell in full, and an empty table that says
why it is empty instead of a bare ``Empty DataFrame``.

pandas cuts each cell at ``display.max_colwidth`` (50 characters) with ``...``: a STATUS sequence,
an event message or a reason is then lost exactly where it says something. A lab session
(kjlab.Lab) turns that cut off for its kernel.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown


def show_in_full() -> None:
    """Show every table cell in full from now on, in this kernel (display.max_colwidth: no limit)."""
    pd.set_option("display.max_colwidth", None)


def explain_empty(table: pd.DataFrame, why: str):
    """``table`` itself, or, when it has no rows, one line saying ``why`` (shown in its place)."""
    if len(table):
        return table
    return Markdown(f"*(no rows: {why})*")
