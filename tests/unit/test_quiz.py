"""The interview-prep question bank: schema, feedback, and links to lab cells that exist."""

import json
from pathlib import Path

import pytest

from kjlab import quiz

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = quiz.questions()

REQUIRED_TOPICS = {  # topic -> words one of its questions must mention
    "completion modes": ["completionMode", "Indexed"],
    "how a pod learns its index": ["index"],
    "container vs pod failure": ["OnFailure"],
    "restartPolicy Never when debugging": ["debugging"],
    "back-off timing": ["wait"],
    "stopping before backoffLimit": ["DeadlineExceeded"],
    "137 vs 143": ["137"],
    "STATUS column": ["STATUS"],
    "DisruptionTarget": ["DisruptionTarget"],
    "actions": ["Ignore"],
}


def test_ids_unique():
    ids = [q["id"] for q in QUESTIONS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q["id"])
def test_schema(q):
    assert q["kind"] in quiz.KINDS and q["question"].strip() and q["topic"]
    if q["kind"] == "choice":
        assert len(q["choices"]) >= 2
        assert sum(bool(c.get("correct")) for c in q["choices"]) == 1
        assert all(c["feedback"].strip() for c in q["choices"])
    else:
        assert q["answers"] and q["feedback"]["correct"] and q["feedback"]["wrong"]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q["id"])
def test_proof_links_to_an_existing_lab_cell(q):
    notebook, cell_id = q["proof"].split("#")
    nb = json.loads((ROOT / notebook).read_text())
    assert cell_id in [c["id"] for c in nb["cells"]], q["proof"]


@pytest.mark.parametrize("topic,words", REQUIRED_TOPICS.items())
def test_topics_covered(topic, words):
    text = [json.dumps(q) for q in QUESTIONS]
    assert any(all(w in t for w in words) for t in text), topic


def test_grading_gives_per_answer_feedback():
    q = quiz.question("actions")
    right = next(i for i, c in enumerate(q["choices"]) if c.get("correct"))
    ok, feedback = quiz.grade("actions", right)
    assert ok and feedback == q["choices"][right]["feedback"]
    wrong = (right + 1) % len(q["choices"])
    ok, feedback = quiz.grade("actions", wrong)
    assert not ok and feedback == q["choices"][wrong]["feedback"]
    assert quiz.grade("status-column", " error ")[0]
    assert not quiz.grade("status-column", "Failed")[0]


def test_widget_builds():
    box = quiz.widget("backoff-timing")
    assert box.children[0].value.startswith("<b>After pod failures")


def test_the_correct_choice_is_not_always_in_the_same_place():
    positions = [next(i for i, c in enumerate(q["choices"]) if c.get("correct"))
                 for q in quiz.questions() if q["kind"] == "choice"]
    most = max(positions.count(p) for p in set(positions))
    assert len(set(positions)) >= 3 and most <= len(positions) // 2, positions


def test_short_answers_accept_any_separator_and_order():
    for answer in ("Indexed/NonIndexed", "nonindexed, indexed", "Indexed | NonIndexed", "`NonIndexed` or `Indexed`"):
        assert quiz.grade("completion-modes", answer)[0], answer
    assert not quiz.grade("completion-modes", "Indexed")[0]
    assert not quiz.grade("completion-modes", "Indexed/Parallel")[0]


def test_proof_link_opens_the_proving_cell():
    # labs/05 links to a sibling notebook; JupyterLab scrolls to a cell named by #cell-id=<id>.
    q = {"proof": "labs/04-failindex.ipynb#proof-index"}
    assert quiz.proof_href(q) == "04-failindex.ipynb#cell-id=proof-index"
    assert quiz.proof_href({"proof": "solutions/01-failjob-policy.ipynb#x"}) == "../solutions/01-failjob-policy.ipynb#cell-id=x"
