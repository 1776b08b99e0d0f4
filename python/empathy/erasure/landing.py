"""Landing files rewritten without the rows of an erasure's customers, each replaced atomically.

Every regular .parquet / .csv(.gz) file under the landing folder is read (links are never followed), including
the folders the gate does not load (`_` and `.` entries): the contract's table folders in load order, so that an
order found in a file takes its items and shipments with it, then the rest by column name. A file that holds
none of the customers is left untouched (same bytes, same hash). A kept CSV record is written back byte for
byte; a Parquet file is rewritten with its schema and compression.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathy import contract
from empathy.erasure.links import carried_kinds, column_kinds, kinds_by_name
from empathy.erasure.scope import Scope
from empathy.gate.discover import CSV_SUFFIXES, PARQUET_SUFFIXES
from empathy.publish import swap_in

TMP_SUFFIX = ".erasing.tmp"


@dataclass
class FileErasure:
    rel: str  # relative to the landing folder
    table: str | None  # contract table of its folder, None outside them
    rows_removed: int = 0
    rows_kept: int = 0
    error: str = ""  # why the file could not be checked


def _files(landing: Path) -> list[Path]:
    """Regular .parquet / .csv files under ``landing``, sorted; links and special files are skipped."""
    out: list[Path] = []
    for root, dirs, names in os.walk(landing, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            low = name.lower()
            if low.endswith(TMP_SUFFIX):
                path.unlink(missing_ok=True)  # left by a killed erasure
                continue
            if path.is_symlink() or not path.is_file():
                continue
            if low.endswith(PARQUET_SUFFIXES) or low.endswith(CSV_SUFFIXES):
                out.append(path)
    return out


def _ordered(landing: Path, files: list[Path]) -> list[tuple[Path, contract.Table | None]]:
    rank = {t.name: i for i, t in enumerate(contract.load_order())}
    tagged = []
    for path in files:
        top = path.relative_to(landing).parts[0]
        table = contract.BY_NAME.get(top) if len(path.relative_to(landing).parts) > 1 else None
        tagged.append((rank.get(table.name, len(rank)) if table else len(rank), str(path), path, table))
    return [(p, t) for _, _, p, t in sorted(tagged, key=lambda x: (x[0], x[1]))]


def _replace(tmp: Path, path: Path) -> None:
    with contextlib.suppress(OSError):
        os.chmod(tmp, path.stat().st_mode & 0o777)
    swap_in(tmp, path)


def _tmp(path: Path) -> Path:
    return path.parent / f".{path.name}{TMP_SUFFIX}"


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.chunked_array([pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())])


def _rewrite_parquet(path: Path, kinds: dict[str, str], carried: dict[str, str], scope: Scope, out: FileErasure):
    try:
        table = pq.read_table(path, partitioning=None)
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # unreadable: the gate rejects it too
        out.error = f"not a readable Parquet file: {str(exc).splitlines()[0][:200]}"
        return
    mask = None
    for name in table.column_names:
        kind = kinds.get(name.lower())
        if kind and scope.of(kind):
            hit = pc.is_in(_as_text(table[name]), value_set=pa.array(sorted(scope.of(kind)), pa.string()))
            mask = hit if mask is None else pc.or_(mask, hit)
    out.rows_kept = table.num_rows
    if mask is None:
        return
    mask = pc.fill_null(mask, False)
    removed = pc.sum(mask).as_py() or 0
    if not removed:
        return
    gone = table.filter(mask)
    for name in gone.column_names:
        kind = carried.get(name.lower())
        if kind:
            scope.add(kind, _as_text(gone[name]).to_pylist())
    kept = table.filter(pc.invert(mask))
    compression = "snappy"
    if meta.num_row_groups and meta.num_columns:
        compression = meta.row_group(0).column(0).compression.lower()
        compression = "none" if compression == "uncompressed" else compression
    tmp = _tmp(path)
    pq.write_table(kept, tmp, compression=compression)
    _replace(tmp, path)
    out.rows_removed, out.rows_kept = removed, kept.num_rows


class _Tap:
    """Lines handed to csv.reader, remembered so that a record can be written back byte for byte."""

    def __init__(self, lines) -> None:
        self.lines = iter(lines)
        self.taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line

    def pop(self) -> str:
        text, self.taken = "".join(self.taken), []
        return text


def _csv_dialect(sample: str) -> tuple[str, str]:
    try:
        d = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        return d.delimiter, d.quotechar or '"'
    except csv.Error:
        return ",", '"'


def _rewrite_csv(path: Path, kinds: dict[str, str], carried: dict[str, str], scope: Scope, out: FileErasure):
    gz = path.name.lower().endswith(".gz")
    try:
        if gz:
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except OSError as exc:
        out.error = f"cannot read the file: {exc}"
        return
    text = raw.decode("utf-8", errors="surrogateescape")
    delimiter, quote = _csv_dialect(text[:65536])
    tap = _Tap(io.StringIO(text, newline=""))
    reader = csv.reader(tap, delimiter=delimiter, quotechar=quote)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return
    kept_text = [tap.pop()]
    names = [h.strip().lower() for h in header]
    linked = [(i, kinds[n]) for i, n in enumerate(names) if n in kinds]
    passes = [(i, carried[n]) for i, n in enumerate(names) if n in carried]
    identifying = scope.identifying()
    removed = kept = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:  # a malformed record: kept as it is unless it holds an id of the scope
            line = tap.pop()
            if any(v and v in line for v in identifying):
                removed += 1
            else:
                kept_text.append(line)
                kept += 1
            continue
        line = tap.pop()
        if len(row) == len(header):
            hit = any(scope.of(kind) and row[i] in scope.of(kind) for i, kind in linked)
        else:  # wrong field count: any field that is an id of the scope
            hit = any(f.strip(' "') in identifying for f in row)
        if hit:
            removed += 1
            if len(row) == len(header):
                for i, kind in passes:
                    scope.add(kind, [row[i]])
        else:
            kept_text.append(line)
            kept += 1
    out.rows_kept = kept
    if not removed:
        return
    data = "".join(kept_text).encode("utf-8", errors="surrogateescape")
    tmp = _tmp(path)
    if gz:
        with gzip.open(tmp, "wb") as f:
            f.write(data)
    else:
        tmp.write_bytes(data)
    _replace(tmp, path)
    out.rows_removed = removed


def rewrite_landing(landing: Path, scope: Scope) -> list[FileErasure]:
    """Rewrite every landing file that holds rows of the scope without them; one result per file read."""
    if not landing.exists():
        return []
    results = []
    for path, table in _ordered(landing, _files(landing)):
        if table is not None:
            kinds = {k.lower(): v for k, v in column_kinds(table).items()}
            carried = {k.lower(): v for k, v in carried_kinds(table).items()}
        else:
            kinds, carried = kinds_by_name(), {}
        res = FileErasure(rel=path.relative_to(landing).as_posix(), table=table.name if table else None)
        if path.name.lower().endswith(PARQUET_SUFFIXES):
            _rewrite_parquet(path, kinds, carried, scope, res)
        else:
            _rewrite_csv(path, kinds, carried, scope, res)
        results.append(res)
    return results
