"""How much of the interview quiz a test-wise reader could guess without knowing Kubernetes.

    python bench/quiz.py [--rev GIT_REV ...]

Prints, for the question file of this checkout (and of each ``--rev``, read with ``git show``):
the question count (choice questions among them), the share of choice questions whose right choice
is the strictly longest text, how many right answers sit at each position in the file (before the
shuffle the cards do), and right answers whose text two questions share. Also the pairs of questions
whose texts share the most words (candidates for duplicates, to read by eye).
"""

from __future__ import annotations

import argparse
import itertools
import re
import subprocess
from pathlib import Path

import yaml

from kjlab import quiz

ROOT = Path(__file__).resolve().parents[1]
FILE = "kjlab/quiz/questions.yaml"


def words(q: dict) -> set[str]:
    right = next((c["text"] for c in q.get("choices", []) if c.get("correct")), " ".join(q.get("answers", [])))
    return {w for w in re.findall(r"[a-z0-9]+", (q["question"] + " " + right).lower()) if len(w) > 3}


def report(name: str, qs: list[dict]) -> None:
    g = quiz.giveaways(qs)
    spread = ", ".join(f"{p}: {n}" for p, n in g["positions"].items())
    print(f"{name}: {g['questions']} questions ({g['choice']} choice); right choice longest in "
          f"{g['longest_right']} of {g['choice']} ({g['longest_share']:.0%}); right answer per position "
          f"{{{spread}}} (top {g['top_position_share']:.0%}); shared right answers: {len(g['shared_answers'])}")
    close = sorted(((len(words(a) & words(b)) / len(words(a) | words(b)), a["id"], b["id"])
                    for a, b in itertools.combinations(qs, 2)), reverse=True)[:8]
    print("  most alike (word overlap): " + "; ".join(f"{a}/{b} {j:.2f}" for j, a, b in close))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", action="append", default=[], help="also measure the file at this git revision")
    args = ap.parse_args()
    for rev in args.rev:
        text = subprocess.run(["git", "show", f"{rev}:{FILE}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        report(rev, yaml.safe_load(text))
    report("this checkout", quiz.questions())


if __name__ == "__main__":
    main()
