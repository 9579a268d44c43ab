"""exercises/ is generated from solutions/ and must be up to date."""

import json
import shutil

from kjlab import exercises
from kjlab.paths import REPO_DIR


def test_exercises_are_up_to_date():
    stale = exercises.build(check=True)
    assert stale == [], f"regenerate with `kjlab exercises build`: {stale}"


def test_every_solution_has_an_exercise_with_no_answers_left():
    for solution in sorted((REPO_DIR / "solutions").glob("*.ipynb")):
        exercise = (REPO_DIR / "exercises" / solution.name).read_text()
        assert "BEGIN SOLUTION" not in exercise and "HIDDEN TESTS" not in exercise
        assert "TODO: your answer here" in exercise
        sol_text = solution.read_text()
        assert "BEGIN SOLUTION" in sol_text


def test_strip_code_keeps_the_names_and_drops_hidden_tests():
    source = ("x = 1\n### BEGIN SOLUTION\nhelper = 2\nanswer = helper * 3\n### END SOLUTION\nprint(answer)\n"
              "### BEGIN HIDDEN TESTS\nassert answer == 6\n### END HIDDEN TESTS\n")
    out = exercises.strip_code(source)
    assert out == "x = 1\n# TODO: your answer here\nanswer = None\nprint(answer)"
    assert exercises.strip_code("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS\n") is None


def test_functions_become_a_signature_hint():
    out = exercises.strip_code("### BEGIN SOLUTION\ndef f(a, b):\n    return a\n### END SOLUTION\n")
    assert "# write: def f(a, b): ..." in out and out.endswith("f = None")


def test_a_learners_changed_notebook_is_backed_up(tmp_path):
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(REPO_DIR / "solutions", sol)
    ex.mkdir()
    changed = ex / "01-failjob-policy.ipynb"
    changed.write_text('{"my": "work"}')
    written = exercises.build(solutions=sol, exercises=ex)
    assert "exercises/01-failjob-policy.ipynb" in written
    backups = list(ex.glob("01-failjob-policy.backup-*.ipynb"))
    assert len(backups) == 1 and json.loads(backups[0].read_text()) == {"my": "work"}
    assert exercises.build(solutions=sol, exercises=ex) == []  # second run: nothing to do


def test_no_exercise_has_an_empty_markdown_cell():
    """A markdown cell that held only the solution's explanation is left out: an empty one shows
    JupyterLab's "Type Markdown and LaTeX" placeholder at the end of the exercise."""
    for exercise in sorted((REPO_DIR / "exercises").glob("*.ipynb")):
        cells = json.loads(exercise.read_text())["cells"]
        empty = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and not "".join(c["source"]).strip()]
        assert empty == [], f"{exercise.name}: empty markdown cells {empty}"
