"""Interview-prep questions (questions.yaml), each linked to the lab cell that proves it."""

from __future__ import annotations

import re
from importlib import resources

import ipywidgets as w
import yaml
from IPython.display import Markdown, display

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


# The feedback texts start with their own verdict word; the card says it once, in its own words.
_VERDICT_WORD = re.compile(r"^(Right|Yes|Correct|No|Wrong)[.,!]\s*")


def feedback_markdown(q: dict, ok: bool, feedback: str) -> str:
    """What the card shows after Check: the verdict in words (no emoji: a machine without an
    emoji font shows an empty box), the feedback, and the link to the proving cell."""
    mark = "**Correct.**" if ok else "**Not quite.**"
    return (f"{mark} {_VERDICT_WORD.sub('', feedback)}\n\n"
            f"<small>proof on the cluster: [{q['proof']}]({proof_href(q)})</small>")


def widget(qid: str):
    """An ipywidgets card for one question: choose or type, press Check, read the feedback."""
    q = question(qid)
    # An Output area, not an HTML widget: Markdown shown in it is rendered by JupyterLab, whose link
    # handler opens a relative notebook link inside the same JupyterLab and honours #cell-id=.
    out = w.Output()
    if q["kind"] == "choice":
        field = w.RadioButtons(options=[(c["text"], i) for i, c in enumerate(q["choices"])], value=None,
                               layout=w.Layout(width="auto"))
    else:
        field = w.Text(placeholder="your answer")
    button = w.Button(description="Check")

    def on_click(_):
        out.clear_output()
        with out:
            if field.value is None or field.value == "":
                display(Markdown("*choose or type an answer first*"))
                return
            display(Markdown(feedback_markdown(q, *grade(qid, field.value))))

    button.on_click(on_click)
    return w.VBox([w.HTML(f"<b>{q['question']}</b>"), field, button, out])


# --- mock interview: a few questions drawn at random, scored at the end -------------------------

def mock_interview(n: int = 10, seed: int | None = None) -> list[str]:
    """``n`` question ids drawn at random without repeats (all of them if there are fewer),
    spread over the topics: one topic at a time in turn, so no topic fills the interview while
    another has questions left. Same ``seed``, same interview."""
    import random

    rng = random.Random(seed)
    by_topic: dict[str, list[str]] = {}
    for q in questions():
        by_topic.setdefault(q["topic"], []).append(q["id"])
    for ids in by_topic.values():
        rng.shuffle(ids)
    topics = list(by_topic)
    rng.shuffle(topics)
    drawn: list[str] = []
    while len(drawn) < n and any(by_topic.values()):
        for topic in topics:
            if by_topic[topic] and len(drawn) < n:
                drawn.append(by_topic[topic].pop())
    rng.shuffle(drawn)
    return drawn


def score(answers: dict) -> dict:
    """Score a mock interview: ``answers`` maps question id -> answer (choice index or text; None or
    missing = not answered). Returns the count right, the total, and per question whether it was
    right, the feedback, and the link to the cell that proves it."""
    results = []
    for qid, answer in answers.items():
        q = question(qid)
        if answer is None or answer == "":
            ok, feedback = False, "not answered"
        else:
            ok, feedback = grade(qid, answer)
        results.append({"id": qid, "topic": q["topic"], "correct": ok, "feedback": feedback, "proof": q["proof"]})
    right = sum(r["correct"] for r in results)
    return {"right": right, "total": len(results), "results": results}


def score_markdown(result: dict) -> str:
    """A scored mock interview (kjlab.quiz.score) as Markdown: the total, then each answer's
    verdict, feedback and proof link."""
    lines = [f"**{result['right']} of {result['total']}**", ""]
    for k, r in enumerate(result["results"], 1):
        mark = "right" if r["correct"] else "wrong"
        lines.append(f"{k}. **{mark}**: {_VERDICT_WORD.sub('', r['feedback'])} ([proof]({proof_href(r)}))")
    return "\n".join(lines)


def mock_widget(n: int = 10, seed: int | None = None):
    """A mock interview in the notebook: ``n`` questions drawn at random, answered without feedback,
    then one Score button that grades them all (kjlab.quiz.score) and links each to its proof."""
    ids = mock_interview(n, seed)
    fields = {}
    cards = []
    for i, qid in enumerate(ids, 1):
        q = question(qid)
        if q["kind"] == "choice":
            field = w.RadioButtons(options=[(c["text"], k) for k, c in enumerate(q["choices"])], value=None,
                                   layout=w.Layout(width="auto"))
        else:
            field = w.Text(placeholder="your answer")
        fields[qid] = field
        cards.append(w.VBox([w.HTML(f"<b>{i}. {q['question']}</b> <small>({q['topic']})</small>"), field]))
    out = w.Output()  # Markdown in an Output area: JupyterLab opens its proof links at the cell
    button = w.Button(description="Score")

    def on_click(_):
        out.clear_output()
        with out:
            display(Markdown(score_markdown(score({qid: f.value for qid, f in fields.items()}))))

    button.on_click(on_click)
    return w.VBox(cards + [button, out])
