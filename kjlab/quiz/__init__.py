"""Interview-prep questions (questions.yaml), each linked to the lab cell that proves it."""

from __future__ import annotations

import re
from importlib import resources

import ipywidgets as w
import yaml

KINDS = ("choice", "short")


def questions() -> list[dict]:
    return yaml.safe_load(resources.files("kjlab.quiz").joinpath("questions.yaml").read_text())


def question(qid: str) -> dict:
    for q in questions():
        if q["id"] == qid:
            return q
    raise KeyError(qid)


def _norm(text: str) -> str:
    return re.sub(r"[\s`'\".]+", " ", str(text)).strip().lower()


def grade(qid: str, answer) -> tuple[bool, str]:
    """(correct, feedback) for an answer: a choice index (0-based) or its text, or a short answer."""
    q = question(qid)
    if q["kind"] == "choice":
        choices = q["choices"]
        if isinstance(answer, int):
            if not 0 <= answer < len(choices):
                return False, f"choose 0 to {len(choices) - 1}"
            chosen = choices[answer]
        else:
            matches = [c for c in choices if _norm(c["text"]) == _norm(answer)]
            if not matches:
                return False, "that is not one of the choices"
            chosen = matches[0]
        return bool(chosen.get("correct")), chosen["feedback"]
    ok = _norm(answer) in {_norm(a) for a in q["answers"]} or _terms(answer) in {_terms(a) for a in q["answers"]}
    return ok, q["feedback"]["correct" if ok else "wrong"]


def _terms(text: str) -> frozenset[str]:
    """A short answer's words, whatever joins them: "Indexed/NonIndexed" = "NonIndexed and Indexed"."""
    words = re.split(r"[\s`'\".,;/|&+]+|\band\b|\bor\b", str(text).lower())
    return frozenset(w for w in words if w)


def proof_href(q: dict) -> str:
    """The link to the cell that proves the answer, relative to labs/05 (where the quiz runs).
    ``#cell-id=<id>`` is JupyterLab's fragment for a cell: the notebook opens scrolled to it."""
    notebook, cell = q["proof"].split("#", 1)
    notebook = notebook.split("/", 1)[1] if notebook.startswith("labs/") else "../" + notebook
    return f"{notebook}#cell-id={cell}"


def widget(qid: str):
    """An ipywidgets card for one question: choose or type, press Check, read the feedback."""
    q = question(qid)
    out = w.HTML()
    if q["kind"] == "choice":
        field = w.RadioButtons(options=[(c["text"], i) for i, c in enumerate(q["choices"])], value=None,
                               layout=w.Layout(width="auto"))
    else:
        field = w.Text(placeholder="your answer")
    button = w.Button(description="Check")

    def on_click(_):
        if field.value is None or field.value == "":
            out.value = "<i>choose or type an answer first</i>"
            return
        ok, feedback = grade(qid, field.value)
        # Words, not emoji: a machine without an emoji font shows an empty box.
        mark = ('<b style="color:#1a7f37">Correct.</b>' if ok else '<b style="color:#cf222e">Not quite.</b>')
        out.value = (f"{mark} {feedback}<br><small>proof on the cluster: "
                     f"<a href=\"{proof_href(q)}\" target=\"_blank\"><code>{q['proof']}</code></a></small>")

    button.on_click(on_click)
    return w.VBox([w.HTML(f"<b>{q['question']}</b>"), field, button, out])
