"""Find the landing files: ``<landing>/<table>/day=YYYY-MM-DD/<anything>.parquet`` (or ``.csv``).

Folders and files whose name starts with ``_`` or ``.`` are not loaded (``_truth``, ``_SUCCESS``,
``.part-0.crc``); hidden ones (``.``) are reported as ignored. A folder that is not a contract table is
reported, never silently skipped.

Landing files are read, never followed: a symbolic link (file or folder), anything that is not a regular
file or folder, and any path that resolves outside the landing folder are refused and reported, and what
they point to is never opened.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from empathy import contract

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")


@dataclass
class LandingFile:
    table: str
    path: Path  # absolute
    rel: str  # relative to the landing folder, forward slashes
    size: int
    kind: str  # "parquet", "csv" or "other"
    hash: str = ""

    @property
    def batch_id(self) -> str:
        return self.hash[:16]


@dataclass
class UnknownFolder:
    name: str
    rel: str
    files: list[str] = field(default_factory=list)
    hash: str = ""

    def message(self) -> str:
        near = difflib.get_close_matches(self.name.lower(), list(contract.BY_NAME), n=1)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        if not self.name:
            return (
                f"{len(self.files)} file(s) lie directly in the landing folder; files must be in a "
                "<table>/day=YYYY-MM-DD/ folder. They were not loaded."
            )
        return (
            f"folder '{self.name}' is not a table of the raw-data contract, so its {len(self.files)} file(s) "
            f"were not loaded.{hint} Rename the folder to a contract table "
            f"({', '.join(sorted(contract.BY_NAME))}), or prefix it with '_' to mark it as not for loading."
        )


@dataclass
class IgnoredEntry:
    """A landing entry that is not read: hidden, or refused (symlink, special file, outside the landing)."""

    table: str
    rel: str
    reason: str
    hash: str = ""


def _ignored(name: str) -> bool:
    return name.startswith(("_", "."))


def _refusal(entry: os.DirEntry, root: Path) -> str | None:
    """Why an entry is not read, or None when it is a plain file or folder inside the landing folder."""
    if entry.is_symlink():
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = "?"
        return (
            f"refused: a symbolic link (to {target}); landing files are read, never followed. Copy the file "
            "itself into the landing folder"
        )
    if not (entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)):
        return "refused: not a regular file or folder (a pipe, socket or device); deliver a regular file"
    if not Path(entry.path).resolve().is_relative_to(root):
        return f"refused: resolves outside the landing folder {root}"
    if entry.name.startswith("."):
        kind = "folder" if entry.is_dir(follow_symlinks=False) else "file"
        return f"ignored: a hidden {kind} (name starts with '.'), never loaded; rename it to load it"
    return None


def _kind(name: str) -> str:
    low = name.lower()
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if low.endswith(CSV_SUFFIXES):
        return "csv"
    return "other"


def _ignore(landing: Path, table: str, entry: os.DirEntry, reason: str) -> IgnoredEntry:
    rel = Path(entry.path).relative_to(landing).as_posix()
    size = 0
    if entry.is_file(follow_symlinks=False):
        size = entry.stat(follow_symlinks=False).st_size
    digest = hashlib.sha256(f"{reason}\n{size}".encode()).hexdigest()
    return IgnoredEntry(table=table, rel=rel, reason=reason, hash=digest)


def _walk(folder: Path, landing: Path, root: Path, ignored: list[IgnoredEntry]) -> list[Path]:
    """Plain files under ``folder``, sorted; hidden and refused entries go to ``ignored``."""
    out: list[Path] = []
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        reason = _refusal(entry, root)
        if reason:
            ignored.append(_ignore(landing, folder.relative_to(landing).parts[0], entry, reason))
        elif entry.name.startswith("_"):
            continue
        elif entry.is_dir(follow_symlinks=False):
            out.extend(_walk(Path(entry.path), landing, root, ignored))
        else:
            out.append(Path(entry.path))
    return out


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # never through a link put in place after discovery
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def discover(landing: Path, progress=None) -> tuple[list[LandingFile], list[UnknownFolder], list[IgnoredEntry]]:
    """All landing files (hashed), sorted by table then path, the unknown folders and the ignored entries."""
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(
            f"landing folder {landing} does not exist: generate the demo world (`empathy generate`) or point "
            "EMPATHY_LANDING / --landing at your files"
        )
    root = landing.resolve()
    files: list[LandingFile] = []
    unknown: list[UnknownFolder] = []
    ignored: list[IgnoredEntry] = []
    stray = UnknownFolder(name="", rel=".")
    with os.scandir(landing) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        reason = _refusal(entry, root)
        table = entry.name if entry.name in contract.BY_NAME else "(landing)"
        if reason:
            ignored.append(_ignore(landing, table, entry, reason))
            continue
        if _ignored(entry.name):
            continue
        if entry.is_file(follow_symlinks=False):
            stray.files.append(entry.name)
            continue
        inside: list[IgnoredEntry] = []
        found = _walk(Path(entry.path), landing, root, inside)
        if entry.name not in contract.BY_NAME:
            folder = UnknownFolder(name=entry.name, rel=entry.name)
            folder.files = [p.relative_to(landing).as_posix() for p in found]
            unknown.append(folder)
            continue
        ignored.extend(inside)
        for p in found:
            files.append(
                LandingFile(
                    table=entry.name,
                    path=root / p.relative_to(landing),
                    rel=p.relative_to(landing).as_posix(),
                    size=p.stat().st_size,
                    kind=_kind(p.name),
                )
            )
    if stray.files:
        unknown.append(stray)
    for folder in unknown:
        folder.hash = hashlib.sha256("\n".join(folder.files).encode()).hexdigest()

    total = len(files)
    done = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        for f, digest in zip(files, pool.map(lambda f: file_hash(f.path), files), strict=True):
            f.hash = digest
            done += 1
            if progress and (done % 200 == 0 or done == total):
                progress("hash landing files", done, total)
    return files, unknown, ignored
