"""Each check's verdict, recorded for the class view.

One JSON line per check in ``results.jsonl``: in $KJLAB_RESULTS_DIR when the hub set it (a
directory the learner owns, mode 0700, that the instructor -- root -- reads; no other learner
can list or open it), else in the learner's own kjlab state directory. The file is the learner's
own: it is a record for teaching, not an exam proof (a learner can edit their own lines)."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from kjlab.paths import state_dir

FILE = "results.jsonl"


def results_file() -> Path:
    base = os.environ.get("KJLAB_RESULTS_DIR")
    return Path(base) / FILE if base else state_dir() / FILE


def record(verdict) -> None:
    """Append one verdict. A record that cannot be written never changes the check's outcome: it
    says so in one line and the learner goes on."""
    line = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "learner": os.environ.get("KJLAB_LEARNER") or os.environ.get("USER", ""),
        "exercise": verdict.exercise,
        "passed": bool(verdict.passed),
        "solved": bool(getattr(verdict, "solved", True)),
        "summary": (verdict.headline or "").splitlines()[0] if verdict.headline else "",  # the explanation's first line
        "reason": verdict.reasons[0] if verdict.reasons else "",
    }
    path = results_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(json.dumps(line) + "\n")  # one write of one line: concurrent checks do not interleave
    except OSError as e:
        print(f"kjlab: this result was not recorded for your instructor ({e.strerror}: {path})", file=sys.stderr)
    if os.environ.get("KJLAB_RESULTS_URL"):  # a learner pod of the Kubernetes hub (issue 29): also to the hub
        problem = post(line)
        if problem:
            print(f"kjlab: this result was not sent to your instructor's hub ({problem})", file=sys.stderr)


def read(path: Path) -> list[dict]:
    """The verdicts in one results file; a damaged line is skipped (and counted by the caller)."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return rows
    for raw in text.splitlines():
        try:
            row = json.loads(raw)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("exercise"), str):
            # a learner may have edited the file: the fields the report reads are coerced to their types
            for key in ("summary", "reason", "time"):
                row[key] = "" if row.get(key) is None else str(row[key])
            rows.append(row)
    return rows


def post(line: dict, url: str | None = None, token: str | None = None, timeout: float = 5.0) -> str | None:
    """A learner pod of the Kubernetes hub (issue 29): send one verdict to the hub's kjlab-results service
    (kjlab/classroom/verdict_service.py) with the learner's own API token; returns None, or why it was not
    recorded there."""
    url = url or os.environ.get("KJLAB_RESULTS_URL")
    token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return "no KJLAB_RESULTS_URL or JUPYTERHUB_API_TOKEN"
    request = urllib.request.Request(url, data=json.dumps(line).encode(), method="POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as e:
        return f"the hub answered {e.code}: {e.read().decode(errors='replace').strip()[:200]}"
    except (urllib.error.URLError, OSError) as e:
        return f"the hub's kjlab-results service did not answer ({getattr(e, 'reason', e)})"
