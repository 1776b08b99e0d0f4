"""A full disk, told in one message: the path being written, the room left, and what can be freed.

Running out of space surfaces in many shapes: an ``OSError`` with ``ENOSPC`` (or ``EDQUOT``) from Python,
DuckDB's "IO Error: Could not write file ...: No space left on device" (often followed by "database has been
invalidated" on the next statement), or a dbt failure whose log lines say so. ``disk_full`` recognises them
anywhere in an exception's chain and returns one ``DiskFull`` error that the CLI prints (exit 2).
"""

from __future__ import annotations

import errno
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from empathy.config import Settings

NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
NO_SPACE_TEXT = ("no space left on device", "disk quota exceeded", "not enough space on the disk", "disk is full")
_QUOTED_PATH = re.compile(r"""["'](/[^"']+)["']""")


class DiskFull(RuntimeError):
    """The disk (or quota) under a path the pipeline writes is full; the message says what to free."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__]


def no_space(exc: BaseException) -> tuple[bool, str | None]:
    """(True, the path named if any) when ``exc`` or an exception it came from says the disk is full."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in NO_SPACE_ERRNOS:
            return True, e.filename if isinstance(e.filename, str) else None
        text = str(e)
        if any(t in text.lower() for t in NO_SPACE_TEXT):
            m = _QUOTED_PATH.search(text)
            return True, m.group(1) if m else None
    return False, None


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _human(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_full(exc: BaseException, settings: Settings) -> DiskFull | None:
    """A ``DiskFull`` naming the path and what to free when ``exc`` is an out-of-space error, else None."""
    found, named = no_space(exc)
    if not found:
        return None
    path = Path(named) if named else settings.warehouse
    try:
        usage = shutil.disk_usage(_existing(path))
        room = f"the disk holding it has {_human(usage.free)} free of {_human(usage.total)}"
    except OSError:
        room = "the free space of its disk cannot be read"
    own = [
        (settings.warehouse, "the working database; the gate and dbt need room to grow it"),
        (settings.dbt_target, "dbt artefacts, made again by the next build: safe to delete"),
        (settings.gx_dir, "data-quality results and docs"),
        (settings.published.parent, "the published database and its next copy (publication needs room for both)"),
        (settings.landing, "landing files; those already loaded can be archived elsewhere"),
    ]
    listed = []
    for p, what in own:
        try:
            listed.append(f"{p} ({_human(_size(p))}): {what}")
        except OSError:
            continue
    message = (
        f"out of disk space writing {path}: {room}. The step stopped; nothing was published and the last published "
        "version stays in place. Free space on that disk (or point EMPATHY_HOME / EMPATHY_WAREHOUSE at a disk with "
        "more room) and run the command again. The pipeline's own files:\n  " + "\n  ".join(listed)
    )
    return DiskFull(message, path)
