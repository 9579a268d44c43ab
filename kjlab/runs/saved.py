"""Recorded runs saved compactly: each row keeps the whole API object it saw (``row["object"]``), and
most of an object is the same from one row of it to the next. ``compact`` keeps the first object
of each (kind, name) whole and stores every later one as the difference from the one before;
``expand`` gives back exactly what was compacted (``expand(compact(x)) == x``, checked on save).
Rows are found wherever they sit in the saved structure (``{"rows": [...]}``, ``{name: [...]}`` ...).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

_DELETE = {"$delete": True}   # a key the newer object no longer has
_PATCH = "$patch"             # {"$patch": {...}}: a dict changed in part
_SAME_AS_BEFORE = "$diff"     # row["object"] = {"$diff": {...}}: the difference from the previous object


def _diff(old: dict, new: dict) -> dict:
    out = {k: _DELETE for k in old if k not in new}
    for k, v in new.items():
        if k in old and old[k] == v:
            continue
        if k in old and isinstance(old[k], dict) and isinstance(v, dict) and v:
            out[k] = {_PATCH: _diff(old[k], v)}
        else:
            out[k] = v
    return out


def _apply(old: dict, patch: dict) -> dict:
    new = dict(old)
    for k, v in patch.items():
        if v == _DELETE:
            del new[k]
        elif isinstance(v, dict) and list(v) == [_PATCH]:
            new[k] = _apply(old[k], v[_PATCH])
        else:
            new[k] = v
    return new


def _is_rows(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) and "object" in r for r in value)


def _walk(data, rows_fn):
    if _is_rows(data):
        return rows_fn(data)
    if isinstance(data, dict):
        return {k: _walk(v, rows_fn) for k, v in data.items()}
    if isinstance(data, list):
        return [_walk(v, rows_fn) for v in data]
    return data


def _along(rows: list[dict], step) -> list[dict]:
    """Each row's object through ``step(previous object of its (kind, name) or None, object)``,
    which gives (what the row holds, the whole object)."""
    last: dict[tuple, dict] = {}
    out = []
    for row in rows:
        key = (row.get("kind"), row.get("name"))
        held, whole = step(last.get(key), row["object"])
        if isinstance(whole, dict):
            last[key] = whole
        out.append(row if held is row["object"] else {**row, "object": held})
    return out


def _to_difference(previous, obj):
    both = isinstance(previous, dict) and isinstance(obj, dict)
    return ({_SAME_AS_BEFORE: _diff(previous, obj)} if both else obj), obj


def _to_whole(previous, obj):
    if isinstance(obj, dict) and list(obj) == [_SAME_AS_BEFORE]:
        obj = _apply(previous, obj[_SAME_AS_BEFORE])
    return obj, obj


def compact(data):
    return _walk(data, lambda rows: _along(rows, _to_difference))


def expand(data):
    return _walk(data, lambda rows: _along(rows, _to_whole))


def dumps(data, **json_args) -> str:
    """JSON of ``data`` with its rows compacted; refuses to write what would not read back the same."""
    plain = json.loads(json.dumps(data, default=str))
    small = compact(copy.deepcopy(plain))
    if expand(small) != plain:
        raise ValueError("a compacted recording would not read back the same")
    return json.dumps(small, **json_args)


def load(path: Path | str):
    """A saved recording, its rows as they were recorded (objects whole)."""
    return expand(json.loads(Path(path).read_text()))
