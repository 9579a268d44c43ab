"""Every lab (and the exercises named) as a learner meets it: JupyterLab in headless Chromium at 1280 px,
Run All Cells, wait until every cell has run and the kernel is idle, then screenshots of the whole
notebook: one tall PNG per notebook and the same cut into 1280x1400 pages (for looking at them).

Too slow for CI (minutes per lab), hence here and not under tests/. Copies of the notebooks run (the
repo's stay stripped); ``FAST = True`` is set where a notebook has that parameter (lab 07's default
measures the back-off cap for 11 minutes). Needs a running lab cluster ($KJLAB_STATE, $KJLAB_CONTEXT).

    KJLAB_STATE=/tmp/st-me .venv/bin/python bench/learner_tour.py --out /tmp/shots labs/0*.ipynb exercises/01-*.ipynb
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from jupyter_page import run_all_cells  # noqa: E402
from test_lab_in_browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

from kjlab import paths  # noqa: E402

WIDTH, PAGE = 1280, 1400
# every cell rendered, not only those in view, so the screenshots show the whole notebook
NOTEBOOK_SETTINGS = {"windowingMode": "none"}


def start_jupyterlab(tmp: Path) -> tuple[subprocess.Popen, str, str]:
    port, token = free_port(), secrets.token_hex(16)
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps(NOTEBOOK_SETTINGS))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "ws")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp / 'work'}", *paths.jupyterlab_args()]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            return server, url, token
        except OSError:
            time.sleep(0.5)
    server.kill()
    sys.exit("JupyterLab did not start: " + (tmp / "server.log").read_text()[-2000:])


def copy_notebook(src: Path, work: Path) -> str:
    """The notebook under work/<its folder>/, with FAST = True where it has that parameter."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = re.sub(r"^FAST = \w+", "FAST = True", cell.source, flags=re.M)
    dest = work / src.parent.name / src.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return f"{src.parent.name}/{src.name}"


# every cell has run, or Run All stopped at an error; and the kernel is idle
FINISHED = """() => {
  const prompts = [...document.querySelectorAll('.jp-Cell.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const error = document.querySelector("[data-mime-type='application/vnd.jupyter.stderr'] .jp-RenderedText, .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']");
  return !prompts.some(p => p.includes('*')) && (error || prompts.every(p => /[0-9]/.test(p)))
         && (!status || status.getAttribute('data-status') === 'idle');
}"""


def tour(page, url: str, token: str, notebook: str, out: Path, timeout: float) -> dict:
    from PIL import Image

    started = time.monotonic()
    # ?reset: a fresh workspace, so the tab of the notebook before is not restored beside this one
    page.goto(f"{url}/lab/tree/{notebook}?reset&token={token}")
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-Cell", timeout=60_000)
    try:
        run_all_cells(page, notebook)
    except AssertionError as e:  # the page as it was is the finding; the tour goes on with the next notebook
        page.screenshot(path=str(out / f"{Path(notebook).stem}-not-started.png"))
        return {"notebook": notebook, "finished": False, "seconds": round(time.monotonic() - started), "error": str(e)}
    finished = True
    try:
        page.wait_for_function(FINISHED, timeout=timeout * 1000, polling=2000)
        time.sleep(3)  # widgets and images of the last cell draw
    except Exception:  # noqa: BLE001 -- the screenshots of a notebook that hung are the finding
        finished = False
    scroller = page.locator(".jp-NotebookPanel:visible .jp-WindowedPanel-outer").first
    height = scroller.evaluate("e => e.scrollHeight")
    view = scroller.evaluate("e => e.clientHeight")
    stem = Path(notebook).stem
    pages = []
    for i, top in enumerate(range(0, height, view)):
        scroller.evaluate(f"e => e.scrollTop = {top}")
        time.sleep(0.4)
        path = out / f"{stem}-p{i + 1:02d}.png"
        scroller.screenshot(path=str(path))
        pages.append(path)
    images = [Image.open(p) for p in pages]
    tall = Image.new("RGB", (images[0].width, sum(im.height for im in images)), "white")
    y = 0
    for im in images:
        tall.paste(im, (0, y))
        y += im.height
    tall.save(out / f"{stem}.png")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
    tracebacks = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count()
    return {"notebook": notebook, "finished": finished, "seconds": round(time.monotonic() - started),
            "pages": len(pages), "stderr_outputs": errors, "tracebacks": tracebacks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "tour")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a notebook may run")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="kjlab-tour-"))
    (tmp / "work").mkdir()
    names = [copy_notebook(nb.resolve(), tmp / "work") for nb in args.notebooks]
    server, url, token = start_jupyterlab(tmp)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for name in names:
                page = browser.new_page(viewport={"width": WIDTH, "height": PAGE})
                report = tour(page, url, token, name, args.out, args.timeout)
                print(json.dumps(report), flush=True)
                page.close()
                # the kernel goes with its notebook: one kernel at a time on a shared machine
                sessions = json.load(urllib.request.urlopen(f"{url}/api/sessions?token={token}"))
                for s in sessions:
                    req = urllib.request.Request(f"{url}/api/sessions/{s['id']}?token={token}", method="DELETE")
                    urllib.request.urlopen(req)
            browser.close()
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
