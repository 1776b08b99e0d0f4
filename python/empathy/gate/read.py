"""Read the new landing files of one table into a DuckDB temp table, in bulk.

The result, ``__g_src``, holds every readable row with its original column names and values
plus ``__g_ord`` (the file's position in this run) and ``__g_row`` (1-based row number in the
file; for CSV the data record number, header excluded). Files that cannot be read, empty files
and malformed CSV lines are returned as per-file results so that nothing goes missing silently.
The ``day=YYYY-MM-DD`` landing folder is never read as a column (hive partitioning is off).
"""

from __future__ import annotations

import gzip
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


def _raw_line(fr: FileRead, byte_pos: int | None, fallback: str) -> str:
    """The original bytes of a rejected CSV line, undecodable bytes escaped (never lost)."""
    if byte_pos is None or fr.file.path.name.lower().endswith(".gz"):
        return fallback
    # DuckDB's position may point at the line's first byte or just past it: start after the last
    # newline before it.
    base = max(0, byte_pos - 65536)
    try:
        with fr.file.path.open("rb") as fh:
            fh.seek(base)
            data = fh.read(byte_pos - base + CSV_MAX_LINE)
    except OSError:
        return fallback
    start = data.rfind(b"\n", 0, byte_pos - base) + 1
    end = data.find(b"\n", max(start, byte_pos - base))
    data = data[start:] if end < 0 else data[start:end]
    return data.rstrip(b"\r").decode("utf-8", errors="backslashreplace")


def _csv_is_blank(fr: FileRead) -> bool:
    if fr.file.size == 0:
        return True
    opener = gzip.open if fr.file.path.name.lower().endswith(".gz") else open
    try:
        with opener(fr.file.path, "rb") as fh:
            return not fh.read(4096).strip()
    except OSError:
        return False


def _read_csv_one(con: duckdb.DuckDBPyConnection, fr: FileRead, table: str) -> bool:
    if _csv_is_blank(fr):
        fr.status, fr.empty_reason = "empty", "the file is empty (0 bytes)"
        return False
    tmp = f"{table}_in"
    _drop(con, "__g_rej", "__g_rejscan", tmp)
    try:
        con.execute(
            f"create temp table {q(tmp)} as select * from read_csv({path_lit(fr.file.path)}, all_varchar = true, "
            f"header = true, hive_partitioning = false, store_rejects = true, rejects_table = '__g_rej', rejects_scan = '__g_rejscan', "
            f"max_line_size = {CSV_MAX_LINE}, buffer_size = {2 * CSV_MAX_LINE})"
        )
    except Exception as exc:
        _drop(con, "__g_rej", "__g_rejscan", tmp)
        fr.status, fr.error = "rejected", f"the CSV file cannot be parsed: {_first_lines(exc)}"
        return False
    fr.columns = [r[0] for r in con.execute(f"describe {q(tmp)}").fetchall()]
    rejects = []
    try:
        rows = con.execute(
            "select line, arg_min(error_type::varchar, column_idx), arg_min(error_message, column_idx), "
            "arg_min(csv_line, column_idx), min(line_byte_position) from __g_rej group by line order by line"
        ).fetchall()
    except duckdb.CatalogException:
        rows = []
    for line, etype, msg, csv_line, pos in rows:
        raw = _raw_line(fr, pos, csv_line or "") if etype == "INVALID ENCODING" else (csv_line or "")
        rejects.append(CsvReject(int(line) - 1, str(etype), _first_lines(msg, 1), raw))
    fr.rejects = rejects
    _drop(con, "__g_rej", "__g_rejscan")
    good = con.execute(f"select count(*) from {q(tmp)}").fetchone()[0]
    if good == 0 and not rejects:
        _drop(con, tmp)
        fr.status, fr.empty_reason = "empty", "the file has a header but 0 rows"
        return False
    if rejects:
        total = good + len(rejects)
        bad = [r.row_number for r in rejects]
        con.execute(
            f"create temp table {q(table)} as "
            f"with s as (select n from range(1, {total + 1}) r(n) where n not in (select unnest(?::bigint[]))), "
            f"m as (select row_number() over (order by n) as k, n from s), "
            f"c as (select *, rowid + 1 as __g_k from {q(tmp)}) "
            f"select c.* exclude (__g_k), {fr.ord}::integer as __g_ord, coalesce(m.n, c.__g_k)::bigint as __g_row "
            f"from c left join m on m.k = c.__g_k",
            [bad],
        )
    else:
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
    """Read CSV files that share a header in one scan; False when that fails (read them one by one)."""
    tmp = f"{table}_in"
    _drop(con, "__g_rej", "__g_rejscan", tmp)
    listing = "[" + ", ".join(path_lit(fr.file.path) for fr in frs) + "]"
    try:
        con.execute(
            f"create temp table {q(tmp)} as select * from read_csv({listing}, all_varchar = true, header = true, "
            f"hive_partitioning = false, store_rejects = true, rejects_table = '__g_rej', rejects_scan = '__g_rejscan', filename = '__g_file', "
            f"max_line_size = {CSV_MAX_LINE}, buffer_size = {2 * CSV_MAX_LINE})"
        )
    except Exception:
        _drop(con, "__g_rej", "__g_rejscan", tmp)
        return False
    columns = [r[0] for r in con.execute(f"describe {q(tmp)}").fetchall() if r[0] != "__g_file"]
    by_path = {str(fr.file.path): fr for fr in frs}
    try:
        rows = con.execute(
            "select s.file_path, r.line, arg_min(r.error_type::varchar, r.column_idx), "
            "arg_min(r.error_message, r.column_idx), arg_min(r.csv_line, r.column_idx), min(r.line_byte_position) "
            "from __g_rej r join __g_rejscan s using (scan_id, file_id) group by 1, 2 order by 1, 2"
        ).fetchall()
    except duckdb.CatalogException:
        rows = []
    for path, line, etype, msg, csv_line, pos in rows:
        fr = by_path[path]
        raw = _raw_line(fr, pos, csv_line or "") if etype == "INVALID ENCODING" else (csv_line or "")
        fr.rejects.append(CsvReject(int(line) - 1, str(etype), _first_lines(msg, 1), raw))
    _drop(con, "__g_rej", "__g_rejscan")
    good = dict(con.execute(f"select __g_file, count(*) from {q(tmp)} group by 1").fetchall())
    con.execute("create or replace temp table __g_rowmap (path varchar, k bigint, n bigint)")
    for fr in frs:
        fr.columns = list(columns)
        n_good = int(good.get(str(fr.file.path), 0))
        if n_good == 0 and not fr.rejects:
            fr.status, fr.empty_reason = "empty", "the file has a header but 0 rows"
        if fr.rejects and n_good:
            total = n_good + len(fr.rejects)
            con.execute(
                "insert into __g_rowmap select ?, row_number() over (order by n), n from range(1, ?) r(n) "
                "where n not in (select unnest(?::bigint[]))",
                [str(fr.file.path), total + 1, [r.row_number for r in fr.rejects]],
            )
    # The temp table keeps the scan's order (files in order, lines in order), so rowid gives the
    # position of a row within its file.
    con.execute(
        f"create temp table {q(table)} as "
        f"with c as (select *, row_number() over (partition by __g_file order by rowid) as __g_k from {q(tmp)}) "
        f"select c.* exclude (__g_file, __g_k), f.ord::integer as __g_ord, coalesce(m.n, c.__g_k)::bigint as __g_row "
        f"from c join {FILES} f on f.path = c.__g_file left join __g_rowmap m on m.path = c.__g_file and m.k = c.__g_k"
    )
    _drop(con, tmp, "__g_rowmap")
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
