"""Interview-prep questions (questions.yaml), each linked to the lab cell that proves it."""

from __future__ import annotations

import copy
import html
import json
import random
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import ipywidgets as w
import yaml
from IPython.display import Markdown, display

KINDS = ("choice", "short")


_parsed: dict[str, list[dict]] = {}


def _bank() -> list[dict]:
    """The parsed bank, read once per content of questions.yaml: parsing its 130 KB took about 0.7 s on
    a busy machine, and lab 05 asked for it once per card (101 s for one cell in CI)."""
    text = resources.files("kjlab.quiz").joinpath("questions.yaml").read_text()
    if text not in _parsed:
        _parsed.clear()
        _parsed[text] = yaml.safe_load(text)
    return _parsed[text]


def questions() -> list[dict]:
    """Every question, as a copy the caller may change."""
    return copy.deepcopy(_bank())


def question(qid: str) -> dict:
    for q in _bank():
        if q["id"] == qid:
            return copy.deepcopy(q)
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


def shown_choices(q: dict, seed=None) -> list[tuple[int, dict]]:
    """A choice question's choices in the order one showing of it uses: (index in the file, choice),
    shuffled each time (so the place of the right answer tells nothing); the same ``seed``, the
    same order. Grading goes by the index in the file, whatever the order shown."""
    order = list(enumerate(q["choices"]))
    (random.Random(seed) if seed is not None else random.SystemRandom()).shuffle(order)
    return order


SOURCE = re.compile(r"^(https://kubernetes\.io/docs/\S+|kubernetes/kubernetes@v1\.36\.4:[\w./-]+)$")


def source_href(q: dict) -> str:
    """The link to a question's source: a kubernetes.io page, or a file of kubernetes/kubernetes at v1.36.4."""
    src = q["source"]
    if src.startswith("kubernetes/kubernetes@"):
        tag, path = src.split("@", 1)[1].split(":", 1)
        return f"https://github.com/kubernetes/kubernetes/blob/{tag}/{path}"
    return src


def problems(q: dict, root: Path | None = None) -> list[str]:
    """What is wrong with one question file entry, each naming the question (empty: nothing).
    ``root`` is the repository whose notebooks the proof links name."""
    qid = q.get("id", "<no id>")
    found = []
    if not SOURCE.match(str(q.get("source") or "")):
        found.append(f"{qid}: no source (a https://kubernetes.io/docs/... page or "
                     f"kubernetes/kubernetes@v1.36.4:<path>), got {q.get('source')!r}")
    if q.get("kind") == "choice":
        right = sum(bool(c.get("correct")) for c in q.get("choices") or [])
        if right != 1:
            found.append(f"{qid}: {right} correct choices, should be exactly 1")
    elif not q.get("answers"):
        found.append(f"{qid}: a short question without accepted answers")
    if "proof_pending" in q:
        # an honest "no cluster proof yet", instead of a link to a cell that does not show the claim
        if not str(q.get("proof_pending") or "").strip():
            found.append(f"{qid}: proof_pending without a reason (say why there is no cluster proof yet)")
        if q.get("proof"):
            found.append(f"{qid}: both a proof and proof_pending; keep one")
        return found
    notebook, _, cell = str(q.get("proof", "")).partition("#")
    path = (root or Path(__file__).resolve().parents[2]) / notebook
    cells = [c.get("id") for c in json.loads(path.read_text())["cells"]] if notebook and path.is_file() else []
    if not cell or cell not in cells:
        found.append(f"{qid}: proof {q.get('proof')!r} names no existing notebook cell (or give proof_pending: <why>)")
    return found


def _right(q: dict) -> int:
    return next(i for i, c in enumerate(q["choices"]) if c.get("correct"))


def giveaways(qs: list[dict] | None = None) -> dict:
    """How much a test-wise reader could guess without knowing Kubernetes (choice questions, in file
    order, before shuffling): the share whose right choice is the strictly longest text, the right
    answer's place counted per position, and right answers whose text another question shares."""
    qs = questions() if qs is None else qs
    choice = [q for q in qs if q["kind"] == "choice"]
    longest = 0
    for q in choice:
        lengths = [len(c["text"]) for c in q["choices"]]
        right = lengths[_right(q)]
        longest += all(right > n for i, n in enumerate(lengths) if i != _right(q))
    positions = Counter(_right(q) for q in choice)
    texts = Counter(_norm(q["choices"][_right(q)]["text"]) for q in choice)
    return {"questions": len(qs), "choice": len(choice),
            "longest_right": longest, "longest_share": longest / len(choice) if choice else 0.0,
            "positions": dict(sorted(positions.items())),
            "top_position_share": max(positions.values()) / len(choice) if choice else 0.0,
            "shared_answers": sorted(t for t, n in texts.items() if n > 1)}


def proof_href(q: dict) -> str | None:
    """The link to the cell that proves the answer, relative to labs/05 (where the quiz runs);
    None for a question whose proof is pending (no cell shows it yet).
    ``#cell-id=<id>`` is JupyterLab's fragment for a cell: the notebook opens scrolled to it."""
    if not q.get("proof"):
        return None
    notebook, cell = q["proof"].split("#", 1)
    notebook = notebook.split("/", 1)[1] if notebook.startswith("labs/") else "../" + notebook
    return f"{notebook}#cell-id={cell}"


# The feedback texts start with their own verdict word; the card says it once, in its own words.
_VERDICT_WORD = re.compile(r"^(Right|Yes|Correct|No|Wrong)[.,!]\s*")


# The notebooks are committed without outputs: a proof link opens a cell that has not run yet.
RUN_IT = "open it and run that notebook from the top: the proving cell shows its output once it has run"


def feedback_markdown(q: dict, ok: bool, feedback: str) -> str:
    """What the card shows after Check: the verdict in words (no emoji: a machine without an
    emoji font shows an empty box), the feedback, and the link to the proving cell (with what to
    do there: it has no output until its notebook has run)."""
    mark = "**Correct.**" if ok else "**Not quite.**"
    return (f"{mark} {_VERDICT_WORD.sub('', feedback)}\n\n"
            f"<small>{proof_markdown(q)} · source: [{q['source']}]({source_href(q)})</small>")


def proof_markdown(q: dict) -> str:
    """The proof part of a card: the link to the proving cell (with what to do there: it has no
    output until its notebook has run), or why there is none yet."""
    if not q.get("proof"):
        return f"no cluster proof yet: {q['proof_pending']}"
    return f"proof on the cluster: [{q['proof']}]({proof_href(q)}) ({RUN_IT})"


def question_html(text: str) -> str:
    """A question's text for an HTML label: escaped, its `code` spans as <code> (no raw backticks)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def choice_label(text: str) -> str:
    """A choice as a radio button's label, which is plain text: its `code` spans without the backticks."""
    return re.sub(r"`([^`]+)`", r"\1", text)


def right_answer_text(q: dict) -> str:
    """The right answer as a learner reads it: the correct choice, or the first accepted short answer."""
    return choice_label(q["choices"][_right(q)]["text"] if q["kind"] == "choice" else str(q["answers"][0]))


# Radio labels wrap inside their card: a long choice must not run out of the card and push its own
# radio button out of sight (ipywidgets lays each label out on one line of fixed height, in a box of
# fixed width). ipywidgets puts the button after the text: row-reverse shows it first.
CARD_CSS = ("<style>.kjlab-quiz .widget-radio-box label{white-space:normal;width:auto;max-width:100%;"
            "height:auto;line-height:1.4;display:flex;flex-direction:row-reverse;justify-content:flex-end;"
            "align-items:flex-start;gap:0.4em;margin:0.15em 0}"
            ".kjlab-quiz .widget-radio-box label input{flex:none;margin-top:0.3em}"
            ".kjlab-quiz .widget-radio-box{width:auto;max-width:100%}"
            ".kjlab-quiz .widget-radio{width:auto;max-width:100%}</style>")


def _field(q: dict, seed=None):
    """The answer field of a card: the choices in a shuffled order (each valued by its index in the
    file, which grading uses), or a text box."""
    if q["kind"] == "choice":
        field = w.RadioButtons(options=[(choice_label(c["text"]), i) for i, c in shown_choices(q, seed)], value=None,
                               layout=w.Layout(width="auto", max_width="100%"))
        field.add_class("kjlab-quiz")
        return field
    return w.Text(placeholder="your answer")


def widget(qid: str, seed=None):
    """An ipywidgets card for one question: choose or type, press Check, read the feedback.
    The choices are shuffled each time the card is built; ``seed`` fixes the order (tests)."""
    q = question(qid)
    # An Output area, not an HTML widget: Markdown shown in it is rendered by JupyterLab, whose link
    # handler opens a relative notebook link inside the same JupyterLab and honours #cell-id=.
    out = w.Output()
    field = _field(q, seed)
    button = w.Button(description="Check")

    def on_click(_):
        out.clear_output()
        with out:
            if field.value is None or field.value == "":
                display(Markdown("*choose or type an answer first*"))
                return
            display(Markdown(feedback_markdown(q, *grade(qid, field.value))))

    button.on_click(on_click)
    card = w.VBox([w.HTML(CARD_CSS + f"<b>{question_html(q['question'])}</b>"), field, button, out])
    card.add_class("kjlab-quiz")
    return card


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
        results.append({"id": qid, "topic": q["topic"], "question": q["question"], "answer": answer,
                        "right answer": right_answer_text(q), "correct": ok, "feedback": feedback,
                        "proof": q.get("proof"), "proof_pending": q.get("proof_pending"), "source": q["source"]})
    right = sum(r["correct"] for r in results)
    return {"right": right, "total": len(results), "results": results}


def score_markdown(result: dict) -> str:
    """A scored mock interview (kjlab.quiz.score) as Markdown: the total, then each answer's
    verdict, feedback and proof link."""
    lines = [f"**{result['right']} of {result['total']}** (each proof opens a lab cell: run its notebook from "
             "the top to see its output)", ""]
    for k, r in enumerate(result["results"], 1):
        mark = "right" if r["correct"] else "not answered" if r["feedback"] == "not answered" else "wrong"
        said = "" if r["correct"] else f" The right answer: **{r['right answer']}**."
        proof = f"[proof]({proof_href(r)})" if r.get("proof") else f"no cluster proof yet: {r['proof_pending']}"
        lines.append(f"{k}. *{r['question']}*  \n   **{mark}**.{said} "
                     + ("" if r["feedback"] == "not answered" else _VERDICT_WORD.sub("", r["feedback"]) + " ")
                     + f"({proof}, [source]({source_href(r)}))")
    return "\n".join(lines)


def mock_widget(n: int = 10, seed: int | None = None):
    """A mock interview in the notebook: ``n`` questions drawn at random (choices shuffled), answered without feedback,
    then one Score button that grades them all (kjlab.quiz.score) and links each to its proof."""
    ids = mock_interview(n, seed)
    fields = {}
    cards = []
    for i, qid in enumerate(ids, 1):
        q = question(qid)
        field = _field(q, None if seed is None else f"{seed}:{qid}")
        fields[qid] = field
        cards.append(w.VBox([w.HTML(CARD_CSS + f"<b>{i}. {question_html(q['question'])}</b> <small>({q['topic']})</small>"),
                             field]))
        cards[-1].add_class("kjlab-quiz")
    out = w.Output()  # Markdown in an Output area: JupyterLab opens its proof links at the cell
    button = w.Button(description="Score")

    def on_click(_):
        out.clear_output()
        with out:
            display(Markdown(score_markdown(score({qid: f.value for qid, f in fields.items()}))))

    button.on_click(on_click)
    return w.VBox(cards + [button, out])
