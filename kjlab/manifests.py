"""The one manifest loader: a learner's manifest (a dict, YAML text, or a file) and the manifests
kjlab ships (kjlab/examples, read by ``examples.objects``) are parsed and checked the same way --
plain data (files.load_yaml_all: no tags that build objects, bounded size and aliases), each object
a mapping with apiVersion, kind and metadata.name -- and every problem is one KjlabError with a fix.
"""

from __future__ import annotations

from pathlib import Path

from kjlab import files
from kjlab.errors import KjlabError

START_FROM = "start from a documented example: kjlab.examples.source('failjob')"


def load(source, what: str = "manifest", one: bool = True):
    """The object of ``source`` (``one``: exactly one, else a KjlabError), or with ``one=False`` every
    object in it, in order.

    ``source`` is a dict (taken as it is), YAML text, or a file path. A one-line string is a path (a
    manifest is never one line, unless it is a JSON object), so `--manifest job.txt` reads job.txt or
    says it is missing -- never parses the name as YAML."""
    if isinstance(source, dict):
        docs = [source]
    else:
        text = source
        if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source.strip()
                                        and not source.lstrip().startswith("{")):
            text = files.read_text(source, f"{what} file")
        docs = files.load_yaml_all(text, what)
    if one and len(docs) != 1:
        raise KjlabError(f"expected one Kubernetes object in the {what}, found {len(docs)}", "put one Job in the file")
    for doc in docs:
        _check(doc, what)
    return docs[0] if one else docs


def _check(doc, what: str) -> None:
    if not isinstance(doc, dict):
        raise KjlabError(f"the {what} is a YAML {type(doc).__name__}, not a Kubernetes object", START_FROM)
    for field in ("metadata", "spec"):
        if doc.get(field) is not None and not isinstance(doc[field], dict):
            raise KjlabError(f"the {what}'s {field} is a {type(doc[field]).__name__} ({str(doc[field])[:40]!r}), "
                             "not a mapping of fields", f"write {field}: with its fields indented below it")
    if not doc.get("kind") or not doc.get("apiVersion") or not (doc.get("metadata") or {}).get("name"):
        raise KjlabError(f"the {what} needs apiVersion, kind and metadata.name", START_FROM)
