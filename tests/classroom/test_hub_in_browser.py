"""Two learners in Chromium (Debian's package, driven by Playwright by its path, as in
tests/browser/): each logs in to the classroom hub, opens lab 01 in their JupyterLab and runs it
(the run with the policy, as tests/browser/ does: the minutes-long run without it is the notebook
tests' job) followed by the failjob-policy exercise check -- Ada with a right answer, Bob with a
wrong one. The instructor's report then shows both, in the terminal and as its HTML page."""

import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .hubfixture import running_hub

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.jupyter_page import run_all_cells, wait_for_output  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = ROOT / "artifacts" / "browser"
CLASS = "web-ada  Ada Lovelace\nweb-bob  Bob\n"
RIGHT = "rules:\n- action: FailJob\n  onExitCodes: {containerName: main, operator: In, values: [42]}\n"
WRONG = "rules:\n- action: Ignore\n  onExitCodes: {containerName: main, operator: In, values: [42]}\n"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                 reason="Chromium is not installed (apt-get install chromium)")]


def lab01_notebook(answer: str):
    """Lab 01 up to its run with the policy (FAST), then the failjob-policy exercise check with
    ``answer``, on the learner's own lab cluster (the context kjlab created for them)."""
    import nbformat

    nb = nbformat.read(ROOT / "labs" / "01-failjob.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("FAST = True\nNAMESPACE = 'web01'\nCONTEXT = None"))
    cells = []
    for cell in nb.cells:
        if "run_in_background" in cell.source or ".start(" in cell.source:
            continue  # the minutes-long run without the policy
        cells.append(cell)
        if "dashboard=True" in cell.source or "lab.run(" in cell.source:
            break  # the run with the policy
    else:
        raise AssertionError("lab 01 has no run with the policy any more: update this test")
    cells.append(nbformat.v4.new_code_cell(
        f"verdict = kjlab.check.run('failjob-policy', {answer!r})\nprint('VERDICT', verdict.passed)"))
    nb.cells = cells
    return nb


def lab01_with_check(user: str, answer: str) -> str:
    """:func:`lab01_notebook` in the learner's workshop directory, owned by them; returns its path
    below the notebook root."""
    import nbformat

    entry = pwd.getpwnam(user)
    path = Path(entry.pw_dir) / "workshop" / "01-browser.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(lab01_notebook(answer), path)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    return "01-browser.ipynb"


@pytest.fixture(scope="module")
def hub(shared_install):
    with running_hub(CLASS, shared_install["venv"]) as hub:
        yield hub


def test_two_learners_in_chromium_and_the_report_shows_both(hub):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    learners = {"web-ada": RIGHT, "web-bob": WRONG}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pages = {}
        try:
            for login, answer in learners.items():
                context = browser.new_context(viewport={"width": 1400, "height": 1000})  # own cookies
                page = context.new_page()
                page.goto(f"{hub.base}/hub/login")
                page.fill("#username_input", login)
                page.fill("#password_input", hub.password(login))
                page.click("#login_submit")
                page.wait_for_url(f"**/user/kjlab-{login}/lab**", timeout=120_000)
                notebook = lab01_with_check(f"kjlab-{login}", answer)
                page.goto(f"{hub.base}/user/kjlab-{login}/lab/tree/{notebook}")
                page.wait_for_selector(".jp-Notebook", timeout=60_000)
                run_all_cells(page, notebook)  # waits for the kernel, answers "Select Kernel", checks every cell started
                pages[login] = page
            outputs = {}
            for login, page in pages.items():  # both run at once; wait for each one's verdict
                try:  # each learner's own cluster comes up first: minutes on a loaded machine
                    outputs[login] = wait_for_output(page, "VERDICT ")
                finally:
                    page.screenshot(path=str(ARTIFACTS / f"hub-{login}.png"))
            assert "cluster: kwok-kjlab (kwok engine)" in outputs["web-ada"], outputs["web-ada"][-2000:]
            assert "VERDICT True" in outputs["web-ada"], outputs["web-ada"][-2000:]
            assert "VERDICT False" in outputs["web-bob"], outputs["web-bob"][-2000:]

            html = ARTIFACTS / "class-report.html"
            text = subprocess.run([sys.executable, "-m", "kjlab.cli", "class", "report", "--state", str(hub.state),
                                   "--html", str(html), "--json"], capture_output=True, text=True, check=True).stdout
            report = json.loads(text[:text.rindex("}") + 1])
            assert report["table"]["web-ada"]["failjob-policy"]["passed"] is True
            assert report["table"]["web-bob"]["failjob-policy"]["passed"] is False
            assert report["progress"]["failjob-policy"] == 1
            # The instructor's page, as the instructor sees it: both learners, Bob's wrong answer explained.
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(html.as_uri())
            rows = page.locator("tr").all_text_contents()
            page.screenshot(path=str(ARTIFACTS / "class-report.png"), full_page=True)
            assert any("Ada Lovelace" in r and "pass (1)" in r for r in rows), rows
            assert any(r.startswith("Bob") and "not yet (1)" in r for r in rows), rows
            assert "1 x" in page.locator("body").text_content()
        finally:
            browser.close()
