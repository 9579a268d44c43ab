"""Issue 24's hands-on loop as a learner does it in the browser: JupyterLab's terminal in headless
Chromium (Debian's package, driven by Playwright by path, as test_lab_in_browser.py does), opened after
the task job-completions has started: it comes up set up, with no line typed (kjlab's terminal.bashrc,
with the shell command `kjlab lab` passes -- paths.jupyterlab_args; a plain `jupyter lab` gets the same from
kjlab's server extension, tests/unit/test_jupyterlab_terminal.py): kubectl in the task's namespace, alias
k with completion. The learner types kubectl -- first a wrong answer, then a right one -- and a notebook's
practice widget's Check button shows the verdict: the explanation of the wrong answer, then PASS.

The terminal's text is read from xterm's accessibility tree (JupyterLab's terminal setting
screenReaderMode, set through the server's settings API): the terminal itself paints on a canvas.
Each typed line ends with `echo "D""ONE-<n> rc=$?"`, whose output (not its echo, which shows the
quotes) says the command has finished and with which exit code: the test waits for that, not a fixed
time. The screenshots are kept in artifacts/browser/.
"""

import json
import re
import sys
import urllib.request
from pathlib import Path

import pytest

import test_lab_in_browser as lab_in_browser

ARTIFACTS = lab_in_browser.ARTIFACTS
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("practice_namespaces_removed"),
              lab_in_browser.pytestmark]
jupyterlab = lab_in_browser.jupyterlab  # the same JupyterLab server fixture (the learner's view of it)

TASK = "job-completions"
WRONG = ('kubectl create job batch --image=bash:5 -- sh -c "sleep 2"', "completions is 1")
# the task's reference (kjlab practice solution), typed with the alias k for half of it
RIGHT = ['k delete job batch --wait=true',
         'kubectl create job batch --image=bash:5 --dry-run=client -o yaml -- sh -c "sleep 2" > job.yaml',
         "k patch --local -f job.yaml --type=merge -p '{\"spec\":{\"completions\":4,\"parallelism\":2}}' -o yaml"
         " | kubectl create -f -"]

TERMINAL_TEXT_JS = """() => {
  const tree = document.querySelector('.jp-Terminal .xterm-accessibility-tree');
  return tree ? [...tree.children].map(r => r.textContent.replace(/\\u00a0/g, ' ')).join('\\n') : '';
}"""

# The verdict is the panel's last HTML widget; a marker put in it before Check is pressed is gone
# once the widget shows a new value, so an old verdict is never read as the new one.
VERDICT = ".widget-vbox:has(> .widget-hbox > .widget-button) > .widget-html"
MARK_STALE_JS = """(sel) => { const els = document.querySelectorAll(sel + ' .widget-html-content');
  const el = els[els.length - 1]; el.insertAdjacentHTML('beforeend', '<span data-stale="1"></span>'); }"""
NEW_VERDICT_JS = """(sel) => { const els = document.querySelectorAll(sel + ' .widget-html-content');
  const el = els[els.length - 1];
  return el && !el.querySelector('[data-stale]') && /^(PASS|NOT YET)/.test(el.textContent.trim()); }"""


def screen_reader_mode(jupyterlab) -> None:
    """xterm keeps the rows as DOM text only in screen reader mode: turn it on for this server."""
    request = urllib.request.Request(
        f"{jupyterlab['url']}/lab/api/settings/@jupyterlab/terminal-extension:plugin",
        data=json.dumps({"raw": json.dumps({"screenReaderMode": True})}).encode(), method="PUT",
        headers={"Authorization": f"token {jupyterlab['token']}", "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30)


def practice_notebook(directory: Path) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    # a kernel named in the notebook: JupyterLab opens it without asking which kernel to start
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("from kjlab.practice import widget\npanel = widget.panel()\npanel")]
    nbformat.write(nb, directory / "practice.ipynb")
    return "practice.ipynb"


class Terminal:
    """JupyterLab's terminal as the learner uses it: type a line, wait until it has run."""

    def __init__(self, page):
        self.page, self.n = page, 0

    def text(self) -> str:
        return self.page.evaluate(TERMINAL_TEXT_JS)

    def run(self, line: str, timeout: float = 120) -> tuple[int, str]:
        """Type ``line`` and Enter; wait until it has run; returns its exit code and what it printed
        (the screen from the line typed to its end marker)."""
        self.n += 1
        self.page.locator(".jp-Terminal .xterm").last.click()
        self.page.keyboard.type(f'{line}; echo "D""ONE-{self.n} rc=$?"')
        self.page.keyboard.press("Enter")
        done = f"DONE-{self.n} rc="
        self.page.wait_for_function(f"() => ({TERMINAL_TEXT_JS})().includes({json.dumps(done)})",
                                    timeout=timeout * 1000, polling=250)
        screen = self.text()
        (ARTIFACTS / "practice-terminal.txt").write_text(screen)
        previous = re.search(rf"^DONE-{self.n - 1} rc=\d+", screen, re.M)
        end = re.search(rf"^DONE-{self.n} rc=(\d+)", screen, re.M)
        return int(end.group(1)), screen[previous.end() if previous else 0:end.start()]


def open_terminal(page) -> Terminal:
    page.click("div.lm-MenuBar-itemLabel:text-is('File')")
    page.hover("li.lm-Menu-item:has-text('New')")
    page.click("li.lm-Menu-item:has-text('Terminal')")
    page.locator(".jp-Terminal .xterm").last.wait_for(timeout=60_000)
    terminal = Terminal(page)
    # the shell is up once a first line has run (its prompt may take a while on a busy machine)
    terminal.run("true", timeout=60)
    return terminal


def show_tab(page, label: str) -> None:
    page.locator(f".lm-DockPanel-tabBar .lm-TabBar-tab:has-text('{label}')").first.click()


def press_check(page, shot: str) -> str:
    """Press the practice panel's Check and return the new verdict's text."""
    show_tab(page, "practice.ipynb")
    page.evaluate(MARK_STALE_JS, VERDICT)
    page.locator(".widget-button:text-is('Check')").last.click()
    page.wait_for_function(NEW_VERDICT_JS, arg=VERDICT, timeout=180_000, polling=500)
    page.locator(VERDICT).last.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / shot))
    return page.locator(VERDICT).last.text_content().replace("\xa0", " ")


def test_learner_types_kubectl_in_jupyterlab_terminal_and_checks_in_the_notebook(jupyterlab, lab):
    from playwright.sync_api import sync_playwright

    from kjlab.practice import registry, session

    session.start(TASK, lab["context"], engine="kwok")
    namespace = registry.get(TASK).namespace()
    screen_reader_mode(jupyterlab)
    notebook = practice_notebook(jupyterlab["dir"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=lab_in_browser.CHROMIUM, args=lab_in_browser.CHROMIUM_ARGS,
                                     headless=True)
        page = None
        try:
            page = lab_in_browser.run_all(browser, jupyterlab, notebook, {"width": 1400, "height": 1000})
            page.locator(".widget-button:text-is('Check')").last.wait_for(timeout=180_000)
            # the button's click reaches the kernel once the cell has run
            page.wait_for_function(
                "() => { const i = document.querySelector('.jp-Notebook-ExecutionIndicator');"
                " return i && i.dataset.status === 'idle'; }", timeout=120_000, polling=500)

            terminal = open_terminal(page)
            first_screen = terminal.text()
            # nothing typed before: what the terminal came up with
            _, context_screen = terminal.run("kubectl config view --minify -o jsonpath='{..namespace}'; echo")
            _, kjlab_screen = terminal.run("command -v kjlab")
            _, alias_screen = terminal.run("alias k; complete -p k")
            # a directory for job.yaml: File > New > Terminal starts in the server's working directory
            terminal.run(f"cd {jupyterlab['dir']}")
            wrong_rc, _ = terminal.run(WRONG[0])
            page.screenshot(path=str(ARTIFACTS / "practice-terminal-wrong.png"))
            wrong = press_check(page, "practice-check-wrong.png")

            show_tab(page, "Terminal")
            right_rcs = [terminal.run(line)[0] for line in RIGHT]
            _, jobs_screen = terminal.run("k get job batch -o jsonpath='{.spec.completions}/{.spec.parallelism}'; echo")
            right = press_check(page, "practice-check-right.png")
        except Exception:
            if page is not None:
                page.screenshot(path=str(ARTIFACTS / "practice-terminal-failed.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert "kjlab:" not in first_screen, f"the terminal's set-up said something: {first_screen}"
    assert re.search(rf"^{re.escape(namespace)}$", context_screen, re.M), (
        f"the terminal's kubectl is not in the task's namespace {namespace}: {context_screen}")
    assert str(Path(sys.prefix) / "bin" / "kjlab") in kjlab_screen, kjlab_screen
    assert "alias k='kubectl'" in alias_screen, alias_screen
    assert "__start_kubectl" in alias_screen, "alias k has no kubectl completion in the terminal"
    assert wrong_rc == 0 and all(rc == 0 for rc in right_rcs), (wrong_rc, right_rcs)
    assert wrong.startswith("NOT YET") and WRONG[1] in wrong, wrong
    assert "4/2" in jobs_screen
    assert right.startswith("PASS"), right
