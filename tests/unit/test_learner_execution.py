"""kjlab.classroom.client.Execution: a request's output is whole only once the reply AND the IOPub
idle status have come, in whichever order the two channels deliver them."""

from kjlab.classroom.client import Execution


def msg(kind, content, parent="m1"):
    return {"header": {"msg_type": kind}, "parent_header": {"msg_id": parent}, "content": content}


def test_output_after_the_reply_is_kept_until_idle():
    e = Execution("m1")
    for m in (msg("status", {"execution_state": "busy"}), msg("stream", {"name": "stdout", "text": "check: ...\n"}),
              msg("execute_reply", {"status": "ok"})):
        e.feed(m)
    assert not e.done  # the reply came first: the last print is still on its way (seen under load)
    e.feed(msg("stream", {"name": "stdout", "text": "PASSED False\n"}))
    e.feed(msg("stream", {"name": "stdout", "text": "other\n"}, parent="m0"))  # another request's output
    e.feed(msg("status", {"execution_state": "idle"}))
    assert e.done and e.result() == {"status": "ok", "stdout": "check: ...\nPASSED False\n", "error": None}


def test_idle_before_the_reply_waits_for_the_reply_and_errors_are_kept():
    e = Execution("m1")
    e.feed(msg("error", {"evalue": "boom", "traceback": ["Traceback", "ValueError: boom"]}))
    e.feed(msg("status", {"execution_state": "idle"}))
    assert not e.done
    e.feed(msg("execute_reply", {"status": "error"}))
    assert e.done and e.result()["error"] == "Traceback\nValueError: boom" and e.result()["status"] == "error"
