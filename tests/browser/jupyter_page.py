"""Driving JupyterLab's page as a learner does, robustly on a busy machine.

``run_all_cells``: "Run > Run All Cells" pressed before the kernel is connected runs nothing, and on
a loaded machine a menu may not take the click; so wait for the kernel to be idle, press, and check
that a cell has started ([*] or a number in its prompt), pressing again if not. (All three browser
tests failed in a CI run at load 15-28: each pressed Run All 2 s after the page opened.)"""

from __future__ import annotations

import re
import time

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
PROMPTS = f"() => [...document.querySelectorAll('{PANEL} .jp-Cell.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent)"
IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"


def run_all_cells(page, tries: int = 5, idle_timeout: float = 180) -> None:
    """Press Run All Cells in the notebook shown once its kernel is idle; raise if no cell starts.
    A "Select Kernel" dialog is answered with the default kernel."""
    page.wait_for_selector(IDLE, timeout=idle_timeout * 1000)
    for _ in range(tries):
        try:
            # JupyterLab asks "Select Kernel" when a notebook's session is gone or not yet made (the
            # tour saw it with the kernel idle): Escape would answer "No Kernel", and Run All would
            # then run nothing. Accept the default kernel instead.
            dialog = page.locator(".jp-Dialog:has(.jp-Dialog-header:text-is('Select Kernel')) .jp-mod-accept")
            if dialog.count():
                dialog.first.click(timeout=30_000)
                page.wait_for_selector(IDLE, timeout=idle_timeout * 1000)
            page.keyboard.press("Escape")  # a menu left open would swallow the click
            # Run All acts on the current widget: with the focus elsewhere (the file browser, a restored
            # tab) the menu item is disabled and the click does nothing. Selecting a cell makes the
            # notebook current. (A tour of every lab once failed here, on the fourth notebook.)
            page.click(f"{PANEL} .jp-Cell .jp-InputPrompt", timeout=30_000)
            page.click("div.lm-MenuBar-itemLabel:text-is('Run')", timeout=30_000)
            # exactly "Run All Cells": the same menu has "Restart Kernel and Run All Cells…"
            page.click("li.lm-Menu-item:has(div.lm-Menu-itemLabel:text-is('Run All Cells'))", timeout=30_000)
        except Exception:  # noqa: BLE001 -- a busy machine: try again
            continue
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(re.search(r"[*0-9]", p) for p in page.evaluate(PROMPTS)):
                return
            time.sleep(1)
    raise AssertionError(f"Run All Cells pressed {tries} times and no cell started")
