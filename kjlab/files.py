"""Reading what a learner hands kjlab -- a manifest, an answer -- as data, with limits: a file is
read as a file (a missing path, a directory or a binary file is one clear line, never parsed as
YAML text), and YAML is loaded safely with bounds on size and on what its aliases expand to:
``safe_load`` shares an aliased node instead of copying it, so a "billion laughs" document loads
small and explodes later, in whatever walks it (a deep copy, the API client serialising it)."""

from __future__ import annotations

from pathlib import Path

import yaml

from kjlab.errors import KjlabError

MAX_BYTES = 1024 * 1024
MAX_NODES = 10_000   # YAML nodes of a document with every alias expanded; a Job manifest has ~100


def read_text(path, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of ``path``; one KjlabError for a missing path, a directory, a file too large
    or one that is not text."""
    path = Path(path)
    if not path.exists():
        raise KjlabError(f"no such {what}: {path}", "check the path")
    if path.is_dir():
        raise KjlabError(f"{path} is a directory, not a {what}", "give the path of the file itself")
    if not path.is_file():  # /dev/zero, a FIFO, a socket: reading would never end, or wait forever
        raise KjlabError(f"{path} is not a regular file (a device, a pipe or a socket), not a {what}",
                         "save the manifest or answer to a file and give that file")
    size = path.stat().st_size
    if size > max_bytes:
        raise KjlabError(f"{path} is {size // 1024} KiB; a {what} is at most {max_bytes // 1024} KiB",
                         "give the file that holds just the manifest or answer")
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)  # a file growing while it is read is still bounded
    if len(data) > max_bytes:
        raise KjlabError(f"{path} is more than {max_bytes // 1024} KiB; a {what} is at most {max_bytes // 1024} KiB",
                         "give the file that holds just the manifest or answer")
    if b"\0" in data:
        raise KjlabError(f"{path} is a binary file, not a {what}", "give a YAML text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise KjlabError(f"{path} is not UTF-8 text (byte {e.start})", "save it as UTF-8 and try again") from None


def load_yaml_all(text: str, what: str = "manifest", max_bytes: int = MAX_BYTES) -> list:
    """Every document of ``text`` with yaml.safe_load_all (plain data, no tags that build objects);
    one KjlabError naming the line for bad YAML, too much text or aliases that expand too far."""
    if len(text) > max_bytes:
        raise KjlabError(f"the {what} is {len(text) // 1024} KiB of text; at most {max_bytes // 1024} KiB",
                         "give just the manifest or answer")
    try:
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if node is not None and expanded_size(node, what) > MAX_NODES:
                raise KjlabError(f"the {what} expands to more than {MAX_NODES} YAML nodes through its aliases (*name)",
                                 "write the values out without anchors (&name) and aliases (*name)")
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        raise KjlabError(f"the {what} is not valid YAML{yaml_problem(e, text)}",
                         "fix the indentation or quoting there") from None
    except RecursionError:
        raise too_deep(f"the {what}") from None


def too_deep(what: str) -> KjlabError:
    """Thousands of nested lists or mappings: deeper than any manifest, and than Python's parser goes."""
    return KjlabError(f"{what} nests its lists or mappings thousands of levels deep; a manifest nests about ten",
                      "give just the manifest or answer, without the deep nesting")


def yaml_problem(e: yaml.YAMLError, text: str | None = None) -> str:
    """Where and what, for a YAML error: " (line 3, column 9: `    - action FailJob`): mapping
    values are not allowed here" -- the learner sees the line, not the parser's state."""
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    if not mark:
        return f": {problem}"
    lines = (text or "").splitlines()
    shown = f": `{lines[mark.line].rstrip()}`" if 0 <= mark.line < len(lines) else ""
    return f" (line {mark.line + 1}, column {mark.column + 1}{shown}): {problem}"


def expanded_size(node, what: str = "document", limit: int = MAX_NODES) -> int:
    """How many nodes ``node`` has with every alias expanded, counting up to just past ``limit``;
    an alias that contains itself is refused."""
    sizes: dict[int, int] = {}

    def size(n, path: frozenset) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in path:
            raise KjlabError(f"the {what} contains a YAML alias that refers to itself", "write it out without aliases")
        if isinstance(n, yaml.SequenceNode):
            children = n.value
        elif isinstance(n, yaml.MappingNode):
            children = [c for pair in n.value for c in pair]
        else:
            children = []
        total = 1
        for child in children:
            total += size(child, path | {key})
            if total > limit:
                break
        sizes[key] = total
        return total

    return size(node, frozenset())
