"""The lab as a learner sees it: JupyterLab in headless Chromium (Debian's package, driven by
Playwright with its executable path; no browser download), labs/01-failjob.ipynb run up to the
policy run, and the live dashboard must show the Job's Failed state. The screenshot is kept in
artifacts/browser/.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from jupyter_page import run_all_cells
from kjlab import paths

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "artifacts" / "browser"
# Chromium on a machine without network: no background connections, no sandbox (root in CI).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="Chromium is not installed (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_part_of_lab01(tmp: Path, context: str) -> Path:
    """labs/01-failjob.ipynb with the test's parameters, up to (and including) the run with the policy."""
    import nbformat

    nb = nbformat.read(ROOT / "labs" / "01-failjob.ipynb", as_version=4)
    # As papermill does: the test's values go in a cell right after the `parameters` cell.
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell(f"FAST = True\nNAMESPACE = 'browser01'\nCONTEXT = {context!r}")
    nb.cells.insert(at + 1, injected)
    cells = []
    for cell in nb.cells:
        if "lab.start(" in cell.source:
            continue  # the minutes-long run without the policy is not what this test looks at
        cells.append(cell)
        if 'lab.run("failjob")' in cell.source:
            break
    nb.cells = cells
    path = tmp / "01-failjob.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def jupyterlab(tmp_path, lab):
    port, token = free_port(), secrets.token_hex(16)
    workdir = tmp_path / "lab"
    workdir.mkdir()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
           "KJLAB_CONTEXT": lab["context"]}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workdir}",
         # kjlab's settings overrides, as `kjlab lab` passes them (they keep the news toast away)
         *paths.jupyterlab_args()]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start: " + (tmp_path / "server.log").read_text()[-2000:])
    yield {"url": f"http://127.0.0.1:{port}", "token": token, "dir": workdir}
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()


def run_all(browser, jupyterlab, notebook: str, viewport: dict):
    """A page of ``browser`` at ``viewport`` with ``notebook`` open in JupyterLab, Run All Cells pressed."""
    page = browser.new_page(viewport=viewport)
    page.goto(f"{jupyterlab['url']}/lab/tree/{notebook}?token={jupyterlab['token']}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    run_all_cells(page, notebook)
    return page


def test_lab01_dashboard_shows_failed_in_chromium(jupyterlab, lab):
    from playwright.sync_api import sync_playwright

    from kjlab.lab import cleanup

    first_part_of_lab01(jupyterlab["dir"], lab["context"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "01-failjob-dashboard.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{jupyterlab['url']}/lab/tree/01-failjob.ipynb?token={jupyterlab['token']}")
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            run_all_cells(page, "01-failjob.ipynb")
            status = page.locator("[data-kjlab='job-status']").last
            status.wait_for(timeout=180_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll(\"[data-kjlab='job-status']\")].some(e => e.textContent === 'Failed')",
                timeout=180_000)
            # The live dashboard re-renders its HTML on every event, so an element found a moment ago may
            # be gone: scroll and read in one script, against the DOM as it is at that instant.
            texts, counters = page.evaluate(
                "() => { const s = [...document.querySelectorAll(\"[data-kjlab='job-status']\")];"
                " const failed = s.find(e => e.textContent === 'Failed'); if (failed) failed.scrollIntoView();"
                " const c = [...document.querySelectorAll(\"[data-kjlab='counters']\")];"
                " return [s.map(e => e.textContent), c.length ? c[c.length - 1].textContent : ''] }")
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
            cleanup(lab["context"], "browser01")
    assert "Failed" in texts
    assert "failed 2" in counters.replace("\xa0", " ")
    assert shot.stat().st_size > 10_000


def test_a_quiz_proof_link_opens_the_proving_cell(jupyterlab):
    """Lab 05: answer the first question, press Check, click its proof link: JupyterLab opens the
    proving notebook in the same window, scrolled to the proving cell."""
    import json

    from playwright.sync_api import sync_playwright

    labs = jupyterlab["dir"] / "labs"
    shutil.copytree(ROOT / "labs", labs)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = run_all(browser, jupyterlab, "labs/05-interview-prep.ipynb", {"width": 1400, "height": 1000})
            card = page.locator(".widget-vbox:has(> .widget-button:text-is('Check'))").first
            card.wait_for(timeout=120_000)
            # A button's click reaches the kernel only once it is idle: Run All Cells is still running the
            # lab's later cells (about a minute and a half; longer on a loaded machine), so wait for them.
            page.wait_for_function(
                "() => { const i = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                ".jp-Notebook-ExecutionIndicator'); return i && i.dataset.status === 'idle' && "
                "![...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]"
                ".some(p => p.textContent.includes('*')) }", timeout=600_000, polling=1000)
            radios = card.locator("input[type=radio]")
            if radios.count():
                radios.first.check()
            else:
                card.locator("input[type=text]").fill("x")
            card.locator(".widget-button:text-is('Check')").click()
            link = card.locator("a:has-text('.ipynb#')").first
            try:
                link.wait_for(timeout=30_000)
            except Exception:  # keep what the card showed instead
                page.screenshot(path=str(ARTIFACTS / "05-proof-link-missing.png"), full_page=True)
                raise
            notebook, cell_id = link.text_content().strip().split("#")
            link.click()
            name = notebook.rsplit("/", 1)[1]
            page.wait_for_selector(f".lm-TabBar-tab.jp-mod-current:has-text('{name}')", timeout=60_000)
            source = "".join(next(c for c in json.loads((ROOT / notebook).read_text())["cells"]
                                  if c["id"] == cell_id)["source"])
            first_line = source.splitlines()[0].strip()
            panel = page.locator(".jp-NotebookPanel:visible")
            cell = panel.locator(".jp-Cell", has_text=first_line).first
            cell.wait_for(timeout=30_000)
            time.sleep(2)  # the scroll to the fragment runs once the notebook has rendered
            page.screenshot(path=str(ARTIFACTS / "05-proof-link.png"))
            box = cell.bounding_box()
            title = panel.locator(".jp-Cell").first.bounding_box()
        finally:
            browser.close()
    index = [c["id"] for c in json.loads((ROOT / notebook).read_text())["cells"]].index(cell_id)
    assert box is not None and 0 <= box["y"] < 1000, f"the proving cell ({cell_id}: {first_line!r}) is not in view"
    if index > 5:  # deep in the notebook: only a scroll to the fragment brings it into view
        assert title is None or title["y"] + title["height"] < 0, "the notebook stayed at its top"


# Measured in the browser on every choice of lab 05's cards: the label's right edge against the
# output area its card is in (and text cut inside the label), and whether its radio button lies
# inside that area and inside its own label's box.
OVERFLOW_JS = """() => {
  const out = [];
  for (const card of document.querySelectorAll('.jp-Notebook .widget-vbox.kjlab-quiz, .jp-Notebook .widget-vbox:has(> .widget-radio)')) {
    // the output area the card sits in: a card grown by its content is no bound of its own
    const area = card.closest('.jp-OutputArea-output') || card.closest('.jp-Cell') || card;
    const box = area.getBoundingClientRect();
    const title = (card.querySelector('.widget-html') || {}).textContent || '';
    for (const label of card.querySelectorAll('.widget-radio-box label')) {
      const r = label.getBoundingClientRect();
      const input = label.querySelector('input');
      const i = input ? input.getBoundingClientRect() : r;
      out.push({question: title.slice(0, 80), choice: label.textContent.slice(0, 80),
                overflow: Math.round(Math.max(r.right - box.right, label.scrollWidth - label.clientWidth)),
                radio_inside: i.left >= box.left - 1 && i.right <= box.right + 1 && i.width > 0
                              && i.top >= r.top - 1 && i.bottom <= r.bottom + 1});
    }
  }
  return out;
}"""


def test_no_quiz_choice_overflows_its_card_at_1280_px(jupyterlab):
    """Issue 26 item 3: at 1280 px, every choice of every card of lab 05 stays inside its card and
    its radio button shows; no Jupyter news toast covers the page (kjlab's settings overrides)."""
    from playwright.sync_api import sync_playwright

    from kjlab import paths, quiz

    labs = jupyterlab["dir"] / "labs"
    shutil.copytree(ROOT / "labs", labs)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = run_all(browser, jupyterlab, "labs/05-interview-prep.ipynb", {"width": 1280, "height": 900})
            page.locator(".widget-button:text-is('Score')").wait_for(timeout=180_000)
            time.sleep(2)
            measured = page.evaluate(OVERFLOW_JS)
            # the screenshot shows the card with the longest choice
            page.evaluate("""() => { const labels = [...document.querySelectorAll('.widget-radio-box label')];
                const longest = labels.sort((a, b) => b.textContent.length - a.textContent.length)[0];
                if (longest) longest.scrollIntoView({block: 'center'}); }""")
            time.sleep(1)
            page.screenshot(path=str(ARTIFACTS / "05-quiz-1280.png"))
            toast = page.locator(".Toastify__toast:has-text('Jupyter news')").count()
        finally:
            browser.close()
    choices = sum(len(q["choices"]) for q in quiz.questions() if q["kind"] == "choice")
    assert len(measured) >= choices, f"measured {len(measured)} choices, the bank has {choices} (+ the mock interview's)"
    over = [m for m in measured if m["overflow"] > 1 or not m["radio_inside"]]
    assert not over, f"{len(over)} choices overflow their card at 1280 px: {over[:5]}"
    assert "app_settings_dir" in " ".join(paths.jupyterlab_args()) and toast == 0, "the Jupyter news toast showed"
