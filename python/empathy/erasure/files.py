"""The gate's Great Expectations store without an erasure's values.

Stored validation results keep samples of failing values (an unknown customer id of an order, a malformed
e-mail). In every JSON file under the GX folder, list items that hold an id, e-mail, handle or text of the
scope (a value, or a record with one) are dropped and other strings that hold one become "[erased]"; any other file there that holds one (the
rendered data docs) is deleted: `empathy docs` renders it again from the cleaned results.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from empathy.erasure.scope import Scope

ERASED = "[erased]"
PREFIX = 60


class _Needles:
    def __init__(self, scope: Scope) -> None:
        self.values = sorted(v for v in scope.identifying() if v)
        self.prefixes = {t[:PREFIX] for t in scope.texts if t}

    def hit(self, value: object) -> bool:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return (isinstance(value, str) and text[:PREFIX] in self.prefixes) or any(v in text for v in self.values)

    def holds(self, item: object) -> bool:
        """A list item about one of the scope's rows: a value that is one, or a record with one at its top level."""
        if isinstance(item, dict):
            return any(self.hit(v) for v in item.values() if not isinstance(v, dict | list))
        return not isinstance(item, list) and self.hit(item)

    def scrub(self, value: object) -> object:
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value if not self.holds(v)]
        if isinstance(value, str) and self.hit(value):
            return ERASED
        return value


def _write(path: Path, text: str) -> None:
    tmp = path.parent / f".{path.name}.erasing.tmp"
    tmp.write_text(text)
    os.replace(tmp, path)


def scrub_files(root: Path, scope: Scope) -> int:
    """Scrub (JSON) or delete (anything else) the files under ``root`` that hold a value of the scope."""
    needles = _Needles(scope)
    if not root.is_dir() or not (needles.values or needles.prefixes):
        return 0
    changed = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if path.suffix == ".json":
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if data is not None:
                clean = needles.scrub(data)
                if clean != data:
                    _write(path, json.dumps(clean, indent=2))
                    changed += 1
                continue
        if any(v in text for v in needles.values):
            path.unlink()
            changed += 1
    return changed
