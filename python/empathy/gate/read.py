"""Read the new landing files of one table into a DuckDB temp table, in bulk.

The result, ``__g_src``, holds every readable row with its original column names and values
plus ``__g_ord`` (the file's position in this run) and ``__g_row`` (1-based row number in the
file; for CSV the data record number, header excluded). Files that cannot be read, empty files
and malformed CSV lines are returned as per-file results so that nothing goes missing silently.
The ``day=YYYY-MM-DD`` landing folder is never read as a column (hive partitioning is off).

CSV files are read by DuckDB strictly (linear in the file whatever the field lengths); a file with a bad
line is parsed again in one linear pass with Python's csv module, which keeps its good records and returns
the bad ones as rejects. DuckDB's ``store_rejects`` is not used: its time grows with the square of a quoted
field's length (a 0.2 MB field with commas: 100 s).
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from empathy.gate.discover import LandingFile

SRC = "__g_src"
FILES = "__g_files"
# Columns DuckDB itself adds when reading; files that carry a column of that name are read with pyarrow.
_DUCKDB_ADDED = {"file_row_number", "__g_file"}
CSV_MAX_LINE = 8 * 1024 * 1024
CSV_BATCH_ROWS = 100_000  # records per Arrow batch when a CSV file with bad lines is parsed in Python


@dataclass
class CsvReject:
    row_number: int  # data record number (header excluded)
    error_type: str  # DuckDB's: INVALID ENCODING, TOO MANY COLUMNS, MISSING COLUMNS, ...
    error: str
    line: str  # the raw line, undecodable bytes shown as \xNN


@dataclass
class FileRead:
    file: LandingFile
    ord: int
    status: str = "ok"  # ok | empty | rejected
    rows_in_src: int = 0
    columns: list[str] = field(default_factory=list)
    error: str = ""
    empty_reason: str = ""
    rejects: list[CsvReject] = field(default_factory=list)
    expected_rows: int | None = None  # from the Parquet footer
    rows_erased: int = 0  # of rows_in_src, dropped by an erasure's tombstone (empathy.erasure.tombstones)

    @property
    def rows_read(self) -> int:
        return self.rows_in_src + len(self.rejects)


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal."""
    return "'" + value.replace("'", "''") + "'"


def path_lit(path: object) -> str:
    """A file path as a literal for read_parquet / read_csv, which take glob patterns: the glob characters
    ``[ ] ? *`` are escaped (``[[]``), so ``export[1].parquet`` or ``*.parquet`` name that one file."""
    text = str(path)
    return lit("".join(f"[{ch}]" if ch in "[]?*" else ch for ch in text))


def _first_lines(text: str, n: int = 3) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    out = " ".join(lines[:n])
    return out[:600]


def _drop(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        con.execute(f"drop table if exists {q(name)}")


def _inspect_parquet(fr: FileRead) -> None:
    f = fr.file
    if f.size == 0:
        fr.status, fr.empty_reason = "empty", "the file is empty (0 bytes)"
        return
    try:
        meta = pq.read_metadata(f.path)
        schema = meta.schema.to_arrow_schema()
    except Exception as exc:
        fr.status, fr.error = "rejected", f"not a readable Parquet file: {_first_lines(exc)}"
        return
    fr.columns = list(schema.names)
    fr.expected_rows = meta.num_rows
    if meta.num_rows == 0:
        fr.status, fr.empty_reason = "empty", "the file has a schema but 0 rows"


def _parquet_bulk_sql(paths: list[str]) -> str:
    listing = "[" + ", ".join(path_lit(p) for p in paths) + "]"
    return (
        f"select p.* exclude (__g_file, file_row_number), f.ord::integer as __g_ord, "
        f"p.file_row_number::bigint + 1 as __g_row "
        f"from read_parquet({listing}, union_by_name = true, filename = '__g_file', file_row_number = true, "
        f"hive_partitioning = false) p "
        f"join {FILES} f on f.path = p.__g_file"
    )


def _read_parquet_one(con: duckdb.DuckDBPyConnection, fr: FileRead, table: str) -> bool:
    """Read one file into its own temp table; False (and the file rejected) when it cannot be read."""
    cols = {c.lower() for c in fr.columns}
    try:
        if cols & _DUCKDB_ADDED:
            t = pq.read_table(fr.file.path, partitioning=None)
            t = t.append_column("__g_ord", pa.array([fr.ord] * t.num_rows, pa.int32()))
            t = t.append_column("__g_row", pa.array(range(1, t.num_rows + 1), pa.int64()))
            con.register("__g_arrow", t)
            try:
                con.execute(f"create temp table {q(table)} as select * from __g_arrow")
            finally:
                con.unregister("__g_arrow")
        else:
            sql = (
                f"select * exclude (file_row_number), {fr.ord}::integer as __g_ord, "
                f"file_row_number::bigint + 1 as __g_row from read_parquet({path_lit(fr.file.path)}, "
                f"file_row_number = true, hive_partitioning = false)"
            )
            con.execute(f"create temp table {q(table)} as {sql}")
        return True
    except Exception as exc:
        _drop(con, table)
        fr.status, fr.error = "rejected", f"the Parquet file cannot be read: {_first_lines(exc)}"
        return False


def _csv_is_blank(fr: FileRead) -> bool:
    if fr.file.size == 0:
        return True
    opener = gzip.open if fr.file.path.name.lower().endswith(".gz") else open
    try:
        with opener(fr.file.path, "rb") as fh:
            return not fh.read(4096).strip()
    except OSError:
        return False


DELIMITERS = (",", ";", "\t", "|")


def _csv_delimiter(fr: FileRead) -> str:
    """The delimiter of a CSV file: the candidate its header line holds most often (a comma when none).

    It is fixed, not left to DuckDB's sniffer: on a file with bad lines the sniffer may otherwise settle on
    a dialect that reads every line as one column, or take a later line as the header and skip the rest.
    """
    header = _csv_header(fr).decode("utf-8", errors="replace")
    counts = [(header.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


def _csv_sql(listing: str, delimiter: str, filename: bool = False) -> str:
    """A strict read_csv of ``listing``, every column as text, header on the first line: a bad line raises."""
    opts = f"all_varchar = true, header = true, skip = 0, delim = {lit(delimiter)}, hive_partitioning = false"
    if filename:
        opts += ", filename = '__g_file'"
    return (
        f"select * from read_csv({listing}, {opts}, max_line_size = {CSV_MAX_LINE}, buffer_size = {2 * CSV_MAX_LINE})"
    )


def _strict_read(
    con: duckdb.DuckDBPyConnection, tmp: str, listing: str, delimiter: str, filename: bool = False
) -> bool:
    """Read ``listing`` strictly into ``tmp``; False (nothing kept) when a line is bad."""
    try:
        con.execute(f"create temp table {q(tmp)} as {_csv_sql(listing, delimiter, filename)}")
    except duckdb.Error:
        _drop(con, tmp)
        return False
    return True


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        base = name or "column"
        n = seen.get(base.lower(), 0)
        seen[base.lower()] = n + 1
        out.append(base if n == 0 else f"{base}_{n}")
    return out


def _not_utf8(record: list[str]) -> bool:
    """True when a field holds bytes that were not UTF-8 (kept as surrogates by ``surrogateescape``)."""
    try:
        for value in record:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _CsvRows:
    """Good records of a CSV file, appended to a temp table in batches of CSV_BATCH_ROWS."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, header: list[str], ord_: int) -> None:
        self.con, self.table, self.header, self.ord = con, table, header, ord_
        self.columns: list[list[str | None]] = [[] for _ in header]
        self.rows: list[int] = []
        self.created = False

    def add(self, number: int, record: list[str]) -> None:
        for col, value in zip(self.columns, record, strict=True):
            col.append(value if value != "" else None)
        self.rows.append(number)
        if len(self.rows) >= CSV_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows and self.created:
            return
        arrays = {name: pa.array(col, pa.string()) for name, col in zip(self.header, self.columns, strict=True)}
        arrays["__g_ord"] = pa.array([self.ord] * len(self.rows), pa.int32())
        arrays["__g_row"] = pa.array(self.rows, pa.int64())
        self.con.register("__g_arrow", pa.table(arrays))
        try:
            if self.created:
                self.con.execute(f"insert into {q(self.table)} select * from __g_arrow")
            else:
                self.con.execute(f"create temp table {q(self.table)} as select * from __g_arrow")
                self.created = True
        finally:
            self.con.unregister("__g_arrow")
        self.columns = [[] for _ in self.header]
        self.rows = []


def _read_csv_python(con: duckdb.DuckDBPyConnection, fr: FileRead, table: str) -> bool:
    """Parse a CSV file that has bad lines, in one linear pass (Python's csv module); bad records become rejects.

    Every field is text (empty = NULL); row numbers count data records, header and blank lines excluded. A
    record with another number of fields than the header is ``csv_malformed`` and one with bytes that are not
    UTF-8 is ``encoding`` (its bytes shown as \\xNN). DuckDB's own reader with ``store_rejects`` would do the
    same but takes time quadratic in the length of a field (a 1 MB text field: minutes).
    """
    delim = _csv_delimiter(fr)
    opener = gzip.open if fr.file.path.name.lower().endswith(".gz") else open
    csv.field_size_limit(sys.maxsize)
    good: _CsvRows | None = None
    number = 0
    try:
        with opener(fr.file.path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
            reader = csv.reader(
                text,
                delimiter=delim,
                quotechar='"',
                doublequote=True,
            )
            for record in reader:
                if not record or record == [""]:
                    continue  # a blank line
                if good is None:
                    good = _CsvRows(con, table, _unique_names(record), fr.ord)
                    fr.columns = list(good.header)
                    continue
                number += 1
                if any("\x00" in value for value in record):
                    raise csv.Error(f"record {number} holds NUL bytes: this is not a CSV text file")
                if _not_utf8(record):
                    line = delim.join(record).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                    fr.rejects.append(CsvReject(number, "INVALID ENCODING", "invalid UTF-8 bytes", line))
                elif len(record) != len(good.header):
                    kind = "TOO MANY COLUMNS" if len(record) > len(good.header) else "MISSING COLUMNS"
                    error = f"expected {len(good.header)} fields (the header's), found {len(record)}"
                    fr.rejects.append(CsvReject(number, kind, error, delim.join(record)))
                else:
                    good.add(number, record)
            if good is not None:
                good.flush()
    except (csv.Error, OSError, duckdb.Error) as exc:
        _drop(con, table)
        fr.rejects = []
        fr.status, fr.error = "rejected", f"the CSV file cannot be parsed: {_first_lines(exc)}"
        return False
    if number == 0:
        _drop(con, table)
        fr.status, fr.empty_reason = "empty", "the file has a header but 0 rows"
        return False
    return True


def _read_csv_one(con: duckdb.DuckDBPyConnection, fr: FileRead, table: str) -> bool:
    if _csv_is_blank(fr):
        fr.status, fr.empty_reason = "empty", "the file is empty (0 bytes)"
        return False
    tmp = f"{table}_in"
    _drop(con, tmp)
    fr.rejects = []
    if not _strict_read(con, tmp, path_lit(fr.file.path), _csv_delimiter(fr)):
        return _read_csv_python(con, fr, table)
    fr.columns = [r[0] for r in con.execute(f"describe {q(tmp)}").fetchall()]
    if not con.execute(f"select count(*) from {q(tmp)}").fetchone()[0]:
        _drop(con, tmp)
        fr.status, fr.empty_reason = "empty", "the file has a header but 0 rows"
        return False
    con.execute(
        f"create temp table {q(table)} as select *, {fr.ord}::integer as __g_ord, "
        f"(rowid + 1)::bigint as __g_row from {q(tmp)}"
    )
    _drop(con, tmp)
    return True


def _csv_header(fr: FileRead) -> bytes:
    opener = gzip.open if fr.file.path.name.lower().endswith(".gz") else open
    try:
        with opener(fr.file.path, "rb") as fh:
            return fh.readline(1 << 20)
    except OSError:
        return b""


def _read_csv_group(con: duckdb.DuckDBPyConnection, frs: list[FileRead], table: str) -> bool:
    """Read CSV files that share a header in one strict scan; False when a line is bad (read them one by one)."""
    tmp = f"{table}_in"
    _drop(con, tmp)
    listing = "[" + ", ".join(path_lit(fr.file.path) for fr in frs) + "]"
    if not _strict_read(con, tmp, listing, _csv_delimiter(frs[0]), filename=True):
        return False
    columns = [r[0] for r in con.execute(f"describe {q(tmp)}").fetchall() if r[0] != "__g_file"]
    good = dict(con.execute(f"select __g_file, count(*) from {q(tmp)} group by 1").fetchall())
    for fr in frs:
        fr.columns = list(columns)
        if not good.get(str(fr.file.path)):
            fr.status, fr.empty_reason = "empty", "the file has a header but 0 rows"
    # The temp table keeps the scan's order (files in order, lines in order), so rowid gives the
    # position of a row within its file.
    con.execute(
        f"create temp table {q(table)} as "
        f"with c as (select *, row_number() over (partition by __g_file order by rowid) as __g_k from {q(tmp)}) "
        f"select c.* exclude (__g_file, __g_k), f.ord::integer as __g_ord, c.__g_k::bigint as __g_row "
        f"from c join {FILES} f on f.path = c.__g_file"
    )
    _drop(con, tmp)
    return True


def read_table(con: duckdb.DuckDBPyConnection, files: list[LandingFile], progress=None) -> list[FileRead]:
    """Read ``files`` (all of one table) into ``__g_src``; returns one FileRead per file, in order."""
    reads = [FileRead(file=f, ord=i) for i, f in enumerate(files)]
    _drop(con, SRC, FILES)
    con.execute(f"create temp table {FILES} (ord integer, path varchar, rel varchar, batch_id varchar)")
    con.executemany(
        f"insert into {FILES} values (?, ?, ?, ?)",
        [(fr.ord, str(fr.file.path), fr.file.rel, fr.file.batch_id) for fr in reads],
    )

    parts: list[str] = []  # SQL selects
    temp_tables: list[str] = []
    bulk: list[FileRead] = []
    csv_groups: dict[tuple, list[FileRead]] = {}
    for fr in reads:
        if fr.file.kind == "other":
            fr.status = "rejected"
            fr.error = (
                "not a .parquet or .csv file, so it cannot be loaded; convert it to Parquet or CSV, or move it "
                "out of the landing folder (or prefix its name with '_')"
            )
        elif fr.file.kind == "parquet":
            _inspect_parquet(fr)
            if fr.status == "ok":
                if {c.lower() for c in fr.columns} & _DUCKDB_ADDED:
                    name = f"__g_part_{fr.ord}"
                    if _read_parquet_one(con, fr, name):
                        temp_tables.append(name)
                else:
                    bulk.append(fr)
        elif _csv_is_blank(fr):
            fr.status, fr.empty_reason = "empty", "the file is empty (0 bytes)"
        else:
            key = (_csv_header(fr), fr.file.path.name.lower().endswith(".gz"))
            csv_groups.setdefault(key, []).append(fr)
        if progress and fr.file.kind != "csv":
            progress(fr.ord + 1, len(reads))

    # CSV files with the same header are read in one scan; a group that fails is read file by file.
    for n, group in enumerate(csv_groups.values()):
        name = f"__g_csv_{n}"
        if len(group) > 1 and _read_csv_group(con, group, name):
            temp_tables.append(name)
        else:
            for fr in group:
                fr.rejects = []
                name = f"__g_part_{fr.ord}"
                if _read_csv_one(con, fr, name):
                    temp_tables.append(name)
        if progress:
            progress(max(fr.ord for fr in group) + 1, len(reads))

    if bulk:
        parts.append(_parquet_bulk_sql([str(fr.file.path) for fr in bulk]))
    parts.extend(f"select * from {q(t)}" for t in temp_tables)

    if parts:
        try:
            con.execute(f"create temp table {SRC} as " + " union all by name ".join(parts))
        except duckdb.Error:
            if not bulk:
                raise
            # One of the files is damaged beyond its footer: read them one by one to find it.
            for fr in bulk:
                name = f"__g_part_{fr.ord}"
                if _read_parquet_one(con, fr, name):
                    temp_tables.append(name)
            parts = [f"select * from {q(t)}" for t in temp_tables]
            if parts:
                con.execute(f"create temp table {SRC} as " + " union all by name ".join(parts))
    _drop(con, *temp_tables)

    if not con.execute("select count(*) from duckdb_tables() where temporary and table_name = ?", [SRC]).fetchone()[0]:
        return reads
    counts = dict(con.execute(f"select __g_ord, count(*) from {SRC} group by 1").fetchall())
    for fr in reads:
        if fr.status != "ok":
            continue
        fr.rows_in_src = int(counts.get(fr.ord, 0))
        if fr.expected_rows is not None and fr.rows_in_src != fr.expected_rows:
            raise AssertionError(
                f"{fr.file.rel}: the Parquet footer says {fr.expected_rows} rows but {fr.rows_in_src} were read"
            )
    return reads
