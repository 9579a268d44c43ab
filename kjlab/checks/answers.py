"""Reading answers safely: YAML stays data, files have a size limit, code is never run here.

* YAML answers go through ``yaml.safe_load`` only (no Python tags), after a size limit
  (:data:`MAX_BYTES`) and a limit on aliases: ``safe_load`` shares an aliased node instead of copying
  it, so a "billion laughs" document loads small -- and then explodes in whatever walks it (a deep
  copy, the API client serialising it). :func:`load_yaml` counts the document's size with every
  alias expanded and refuses it past :data:`MAX_NODES`, and refuses an alias that contains itself.
* Files must be text (UTF-8, no NUL bytes): ``kjlab.files.read_text`` with the 64 KiB limit.
  (``kjlab.files.expanded_size`` does the counting, for manifests and answers alike.)
* A ``.py`` answer becomes a :class:`kjlab.sandbox.Code` (its text); it runs only in the sandbox, and
  :func:`may_run` decides whether the caller may run someone else's file at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from kjlab import files
from kjlab.errors import KjlabError

MAX_BYTES = 64 * 1024
MAX_NODES = files.MAX_NODES


def text_of(data: str | bytes, what: str) -> str:
    """The answer as text, or one line saying why it is not an answer (too big, binary, not UTF-8)."""
    size = len(data.encode("utf-8", "replace")) if isinstance(data, str) else len(data)
    if size > MAX_BYTES:
        raise KjlabError(f"{what} is {size} bytes; an answer may be at most {MAX_BYTES // 1024} KiB",
                         "give just the answer (the policy, the manifest or the function)")
    if isinstance(data, bytes):
        if b"\0" in data:
            raise KjlabError(f"{what} is not a text file (it contains NUL bytes)", "give a YAML or .py text file")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise KjlabError(f"{what} is not UTF-8 text (byte {e.start} is 0x{data[e.start]:02x})",
                             "save the file as UTF-8") from None
    return data


def load_yaml(data: str | bytes, what: str = "your answer"):
    """``yaml.safe_load`` behind the size, alias and encoding limits; YAMLError passes through."""
    text = text_of(data, what)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            size = files.expanded_size(node, "answer", MAX_NODES)
            if size > MAX_NODES:
                raise KjlabError(f"{what} expands to more than {MAX_NODES} YAML nodes through its aliases (*name)",
                                 "write the answer out without anchors (&name) and aliases (*name)")
        return yaml.safe_load(text)
    except RecursionError:
        raise files.too_deep(what) from None


def read(path: str | Path) -> str:
    """The text of an answer file: kjlab.files.read_text (missing, directory, binary, not UTF-8: one
    line each) with the answer's size limit."""
    return files.read_text(path, "text answer", MAX_BYTES)


def may_run(path: str | Path, untrusted: bool) -> None:
    """May the caller run the code in ``path``? Raises KjlabError (one line + fix) when not.

    The rule: code runs with no more rights than its author already has on this machine.
    * A non-root caller's sandbox runs the code as the caller, so it runs only files that are the
      caller's own and that nobody else can write (group/other write bits off). ``--untrusted``
      cannot change that: without root the code cannot be run as anyone else.
    * A root caller's sandbox runs the code as a uid of its own with private /tmp and home; a file owned by
      another user still needs ``--untrusted`` (the instructor says: I know this is someone else's).
    """
    st = os.stat(path)
    me = os.geteuid()
    foreign = st.st_uid != me or bool(st.st_mode & 0o022)
    whose = f"uid {st.st_uid}" if st.st_uid != me else "a file others can write"
    if me != 0:
        if foreign:
            raise KjlabError(
                f"refusing to run {path}: it is {whose}, not your own, and code checked as a non-root user runs "
                f"with that user's rights", "check someone else's code as root, where it runs as a uid of its own: "
                f"kjlab check ... --untrusted (see the README, For instructors)")
        if untrusted:
            raise KjlabError("--untrusted needs root: only root can run the code as another user, away from your files",
                             "run the class check as root in a throwaway container or VM (see the README)")
        return
    if foreign and not untrusted:
        raise KjlabError(f"refusing to run {path}: it is {whose}, not yours",
                         "to check someone else's code, pass --untrusted (it runs as a uid of its own, see the README)")
