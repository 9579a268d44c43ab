"""The classroom images' cache key: one short hash over every input file that goes into an image,
so `tools/classroom/build.sh` rebuilds exactly when one of them (or a pinned version) changed.

    python3 tools/classroom/cache_key.py ROOT [--extra TEXT]... [--list] PATH...

prints the key (12 hex digits) of the files under the PATHs (relative to ROOT; a directory means
every file in it), or with --list the files themselves, one per line (the build copies exactly
those, so what is hashed is what goes in). Standalone on purpose: the build runs it with the host's
python3, before any venv exists."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

# Written by Python, Jupyter or an editor while someone works; never an input of an image.
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


def input_files(root: Path, paths: Iterable[str]) -> list[str]:
    """The files under ``paths`` (relative to ``root``), sorted, as POSIX paths relative to ``root``.
    A path that does not exist is an error: a renamed input must not silently drop out of the key."""
    found: set[str] = set()
    for rel in paths:
        top = root / rel
        if top.is_file():
            found.add(Path(rel).as_posix())
            continue
        if not top.is_dir():
            raise FileNotFoundError(f"cache key input {rel} does not exist under {root}")
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
            for name in filenames:
                if not name.endswith(SKIPPED_SUFFIXES):
                    found.add(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


def cache_key(root: Path, paths: Iterable[str], extra: Iterable[str] = ()) -> str:
    """12 hex digits over each file's path, executable bit and content, and the ``extra`` strings
    (versions, the keys of other pieces). Independent of the order ``paths`` are given in."""
    digest = hashlib.sha256()
    for rel in input_files(root, paths):
        _hash_file(digest, root, rel)
    for text in extra:
        digest.update(f"extra {text}\n".encode())
    return digest.hexdigest()[:12]


def file_digests(root: Path, paths: Iterable[str]) -> dict[str, str]:
    """Each input file's own digest (12 hex digits, over what the key hashes of it), so a change can be
    named file by file: tools/classroom/built.py records them for the images it built."""
    digests = {}
    for rel in input_files(root, paths):
        digest = hashlib.sha256()
        _hash_file(digest, root, rel)
        digests[rel] = digest.hexdigest()[:12]
    return digests


def _hash_file(digest, root: Path, rel: str) -> None:
    path = root / rel
    digest.update(f"file {rel} {'x' if os.access(path, os.X_OK) else '-'} {path.stat().st_size}\n".encode())
    digest.update(path.read_bytes())


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    root, rest = Path(argv[0]), argv[1:]
    extra, paths, listing = [], [], False
    while rest:
        arg = rest.pop(0)
        if arg == "--extra" and rest:
            extra.append(rest.pop(0))
        elif arg == "--list":
            listing = True
        else:
            paths.append(arg)
    try:
        if listing:
            print("\n".join(input_files(root, paths)))
        else:
            print(cache_key(root, paths, extra))
    except FileNotFoundError as e:
        print(f"cache_key.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
