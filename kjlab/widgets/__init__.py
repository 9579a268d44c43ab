"""Seeing a run: the live JobDashboard, the pod timeline and the comparison of runs.

Each also renders statically (HTML, PNG), so executed notebooks show results without a kernel.
"""

from IPython.display import HTML, Image, display

from kjlab.runs.result import compare
from kjlab.widgets.dashboard import JobDashboard, render_html
from kjlab.view.dashboard_model import DashboardModel, model_from_rows
from kjlab.widgets.timeline import comparison_figure, png, timeline_data, timeline_figure

__all__ = ["DashboardModel", "JobDashboard", "comparison_figure", "model_from_rows", "render_html",
           "show_comparison", "show_timeline", "timeline_data", "timeline_figure"]


def show_timeline(result, title=None):
    """Display one run's pod timeline (a PNG, so it survives in executed notebooks)."""
    display(Image(png(timeline_figure(result, title))))


def show_comparison(*results):
    """Display runs on one time axis, each titled with its headline, plus the table of outcomes."""
    display(HTML(compare(*results).to_html()))
    display(Image(png(comparison_figure(results))))
