"""Find the landing files: ``<landing>/<table>/day=YYYY-MM-DD/<anything>.parquet`` (or ``.csv``).

Folders and files whose name starts with ``_`` or ``.`` are ignored (``_truth``, ``_SUCCESS``,
``.part-0.crc``). A folder that is not a contract table is reported, never silently skipped.
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


def _ignored(name: str) -> bool:
    return name.startswith(("_", "."))


def _kind(name: str) -> str:
    low = name.lower()
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if low.endswith(CSV_SUFFIXES):
        return "csv"
    return "other"


def _walk(folder: Path) -> list[Path]:
    out: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        out.extend(Path(root) / f for f in sorted(files) if not _ignored(f))
    return out


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def discover(landing: Path, progress=None) -> tuple[list[LandingFile], list[UnknownFolder]]:
    """All landing files (hashed), sorted by table then path, and the unknown folders."""
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(
            f"landing folder {landing} does not exist: generate the demo world (`empathy generate`) or point "
            "EMPATHY_LANDING / --landing at your files"
        )
    files: list[LandingFile] = []
    unknown: list[UnknownFolder] = []
    stray = UnknownFolder(name="", rel=".")
    for entry in sorted(landing.iterdir()):
        if _ignored(entry.name):
            continue
        if entry.is_file():
            stray.files.append(entry.name)
            continue
        if not entry.is_dir():
            continue
        found = _walk(entry)
        if entry.name not in contract.BY_NAME:
            folder = UnknownFolder(name=entry.name, rel=entry.name)
            folder.files = [p.relative_to(landing).as_posix() for p in found]
            unknown.append(folder)
            continue
        for p in found:
            files.append(
                LandingFile(
                    table=entry.name,
                    path=p.resolve(),
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
    return files, unknown
