"""An interrupt ends in one line that says what kjlab cleaned up."""

import subprocess
import sys
import textwrap

from kjlab import interrupts


def test_the_message_names_what_was_cleaned_up_once():
    interrupts.note("node kjlab-worker uncordoned")
    interrupts.note("namespace failjob-policy deleted")
    interrupts.note("node kjlab-worker uncordoned")
    assert interrupts.message() == ("kjlab: interrupted; cleaned up: node kjlab-worker uncordoned; "
                                    "namespace failjob-policy deleted")
    assert interrupts.message() == "kjlab: interrupted; nothing of kjlab's was left running"


def test_an_interrupted_notebook_cell_is_one_line(tmp_path):
    # A real kernel (nbclient): Ctrl-C in a cell that imported kjlab shows the one line, no traceback.
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent("""\
        import kjlab
        from kjlab import interrupts
        interrupts.note("namespace demo deleted")
        raise KeyboardInterrupt
    """))]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "kjlab: interrupted; cleaned up: namespace demo deleted" in text
    assert not [o for o in outputs if o.output_type == "error"]


def test_a_kjlab_error_in_a_notebook_is_its_message_and_fix(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import kjlab\nkjlab.scenarios.run('failjob', context='kwok-kjlab', namespace='kube-system')")]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    [error] = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "KjlabError"
    lines = [line.replace("\x1b[31m", "").replace("\x1b[0m", "") for line in error.traceback]
    assert lines[0] == ("kjlab: refusing to use the system namespace 'kube-system' for a run: "
                        "a run deletes its namespace")
    assert lines[1].startswith("  fix: choose a namespace of the run's own")
    assert len(lines) == 2


def test_what_an_interrupt_leaves_running_is_said():
    interrupts.note("namespace demo deleted")
    interrupts.still_running("the background run in namespace lab01-nopolicy (lab.cleanup() deletes it)")
    assert interrupts.message() == ("kjlab: interrupted; cleaned up: namespace demo deleted; still running: "
                                    "the background run in namespace lab01-nopolicy (lab.cleanup() deletes it)")
    assert interrupts.message() == "kjlab: interrupted; nothing of kjlab's was left running"
