"""The record of the classroom images tools/classroom/build.sh last built from each tree: what
`kjlab class up --kubernetes` installs. The images a cluster's nodes were given are the ones built,
not the ones the tree would build now -- an edit to a lab after the build changes the key, and an
image under the new key exists nowhere.

    python3 tools/classroom/built.py record RECORD ROOT WHICH IMAGE PATH...

records that IMAGE (learner or hub: WHICH) was built from the files under the PATHs of the tree at
ROOT, with each file's digest (cache_key.file_digests), so a later reader can name the files that
changed since. RECORD is a JSON file, one entry per tree and image:

    {"trees": {"/abs/root": {"learner": {"image": "kjlab.local/learner:<key>", "tree_key": "<key of
     the files>", "built": "<UTC time>", "inputs": [PATH...], "files": {"labs/01.ipynb": "<digest>"}}}}}

Keyed by the tree because worktrees of one machine share the build cache, and each must install
its own build. Standalone (the host's python3, like cache_key.py); kjlab.classroom.kube reads it."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

_spec = importlib.util.spec_from_file_location("kjlab_classroom_cache_key", Path(__file__).with_name("cache_key.py"))
cache_key = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cache_key)


def tree_id(root: Path) -> str:
    """One name per tree however it is reached (a symlink, a relative path)."""
    return os.path.realpath(root)


def read(record: Path) -> dict:
    """The whole record; an absent or unreadable one is empty (the images are then simply not known)."""
    try:
        data = json.loads(Path(record).read_text())
    except (OSError, ValueError):
        return {"trees": {}}
    return data if isinstance(data, dict) and isinstance(data.get("trees"), dict) else {"trees": {}}


def recorded(record: Path, root: Path) -> dict[str, dict]:
    """{which: entry} of the images built from the tree at ``root``."""
    entries = read(record)["trees"].get(tree_id(root)) or {}
    return {which: e for which, e in entries.items() if isinstance(e, dict) and e.get("image")}


def record(record: Path, root: Path, which: str, image: str, inputs: list[str], now: dt.datetime | None = None) -> dict:
    """Note that ``image`` was built from ``inputs`` of ``root`` as they are now; returns the entry.
    Written whole through a rename: a reader sees the old record or the new one."""
    entry = {"image": image, "tree_key": cache_key.cache_key(root, inputs),
             "built": (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "inputs": sorted(inputs), "files": cache_key.file_digests(root, inputs)}
    record = Path(record)
    data = read(record)
    data["trees"].setdefault(tree_id(root), {})[which] = entry
    record.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=record.parent, prefix=".built.", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, record)
    except BaseException:
        os.unlink(tmp)
        raise
    return entry


def changed(entry: dict, root: Path) -> list[str]:
    """The files of ``entry``'s inputs that differ in the tree now: edited, added or removed
    (a removed input counts as all its files removed), sorted."""
    now: dict[str, str] = {}
    for rel in entry.get("inputs") or []:
        try:
            now.update(cache_key.file_digests(root, [rel]))
        except FileNotFoundError:
            pass
    then = entry.get("files") or {}
    return sorted(f for f in set(now) | set(then) if now.get(f) != then.get(f))


def main(argv: list[str]) -> int:
    if len(argv) < 6 or argv[0] != "record":
        print("usage: " + __doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    _, path, root, which, image, *inputs = argv
    try:
        record(Path(path), Path(root), which, image, inputs)
    except OSError as e:  # FileNotFoundError too: a renamed input
        print(f"built.py: cannot record {image} in {path}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
