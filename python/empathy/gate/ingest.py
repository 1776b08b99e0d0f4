"""The data-quality gate and the load into the raw schema.

For every table of the contract, in ``contract.load_order()`` (parents before children):

1. read the new or changed landing files in bulk (unchanged files are skipped by content hash),
2. coerce every contract column to its DuckDB type (a value that does not cast is quarantined); values of
   allowed-values columns are trimmed and lower-cased first, as staging reads them,
3. validate the table once with Great Expectations (rules built from the contract),
4. quarantine later copies of a version of a record (key and updated_column), in this run or already
   loaded from another file: resent duplicates, duplicates and conflicts (gate/duplicates.py),
5. in one transaction: replace the rows earlier loaded from those files, load the valid rows
   into ``raw.<table>``, write every rejected row to ``audit.quarantine`` and the per-file
   and per-check outcome to ``audit.load_log`` and ``audit.gate_results``.

For every file: rows_loaded + rows_quarantined + rows_erased = rows_read (checked, never assumed); rows_erased
counts the rows an erasure's tombstone dropped as they were read (empathy.erasure.tombstones).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import duckdb

from empathy import contract
from empathy.config import Settings
from empathy.erasure.tombstones import drop_erased
from empathy.gate import duplicates, suites
from empathy.gate import extras as extra_registry
from empathy.gate import read as rd
from empathy.gate.discover import IgnoredEntry, LandingFile, UnknownFolder, discover
from empathy.gate.read import FILES, SRC, FileRead, lit, q
from empathy.gate.report import (
    BLOCKED,
    EMPTY,
    IGNORED,
    LOADED,
    REJECTED,
    SKIPPED,
    UNKNOWN_TABLE,
    FileResult,
    IngestReport,
)
from empathy.gate.rules import rule_text
from empathy.gate.suites import RULE_ORDER, GxProject, build_checks, ref_flag_column, rule_rank, version_column

RAW = contract.RAW_SCHEMA
TYPED = "__g_typed"
FAILS = "__g_fails"
QROWS = "__g_qrows"
RULETEXT = "__g_ruletext"
METADATA_COLUMNS = {
    "_file": "varchar",
    "_row_number": "bigint",
    "_batch_id": "varchar",
    "_run_id": "varchar",
    "_loaded_at": "timestamp",
}
INTERNAL = {"__g_ord", "__g_row"}
TS_MIN, TS_MAX = "1678-01-01", "2261-12-31"  # pandas nanosecond range, for the validation frame only

AUDIT_DDL = {
    "gate_runs": """
        run_id varchar, started_at timestamp, finished_at timestamp, files_seen bigint, files_read bigint,
        rows_read bigint, rows_loaded bigint, rows_quarantined bigint, files_blocking bigint, status varchar,
        message varchar
    """,
    "load_log": """
        run_id varchar, batch_id varchar, table_name varchar, file varchar, file_hash varchar, rows_read bigint,
        rows_loaded bigint, rows_quarantined bigint, failure_rate double, status varchar, message varchar,
        loaded_at timestamp, file_bytes bigint, rows_erased bigint
    """,
    "quarantine": """
        run_id varchar, batch_id varchar, table_name varchar, file varchar, row_number bigint, rule varchar,
        rules varchar, column_name varchar, bad_value varchar, message varchar, row_json varchar,
        quarantined_at timestamp
    """,
    "gate_results": """
        run_id varchar, table_name varchar, expectation varchar, column_name varchar, success boolean,
        element_count bigint, unexpected_count bigint, unexpected_percent double, details varchar,
        checked_at timestamp, rule varchar
    """,
}


def plan_chunks(files: list[tuple[int, int]], limit: int) -> list[str]:
    """SQL conditions on (__g_ord, __g_row) that cut the files into chunks of at most ``limit`` rows.

    ``files`` lists (ord, rows) in ord order. Whole files are grouped; a file larger than the
    limit is split by row number (row numbers run from 1 to its row count, gaps allowed).
    """
    chunks: list[str] = []
    first = last = None
    acc = 0
    for ord_, rows in files:
        if first is not None and acc + rows > limit:
            chunks.append(f"t.__g_ord between {first} and {last}")
            first, acc = None, 0
        if rows > limit:
            for lo in range(1, rows + 1, limit):
                chunks.append(f"t.__g_ord = {ord_} and t.__g_row between {lo} and {lo + limit - 1}")
            continue
        if first is None:
            first = ord_
        acc += rows
        last = ord_
    if first is not None:
        chunks.append(f"t.__g_ord between {first} and {last}")
    return chunks


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def ensure_audit(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute("create schema if not exists audit")
    for name, ddl in AUDIT_DDL.items():
        con.execute(f"create table if not exists audit.{name} ({ddl})")
    # Rows an erasure's tombstone dropped as they were read (empathy.erasure.tombstones).
    con.execute("alter table audit.load_log add column if not exists rows_erased bigint")
    extra_registry.ensure(con)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and not temporary",
            [schema, name],
        ).fetchone()[0]
    )


def drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the gate's temporary tables (all named __g_*)."""
    for (name,) in con.execute(
        "select table_name from duckdb_tables() where temporary and table_name like '\\_\\_g\\_%' escape '\\'"
    ).fetchall():
        con.execute(f"drop table if exists {q(name)}")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]


def enum_normalised(expr: str) -> str:
    """SQL of an allowed-values (enum) column as staging reads it: surrounding spaces trimmed, lower case.

    Staging selects every such column as ``lower(trim(column))`` (tests/test_gate_enums.py keeps the two
    in step), so ``' SHIPPED '`` is the value ``shipped`` and loads; an unknown value is still quarantined.
    """
    return f"lower(trim({expr}))"


class _Casts:
    """SQL that coerces a source column to its contract type, and the condition of a failed cast."""

    INTS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
    FLOATS = ("FLOAT", "DOUBLE", "REAL")

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._castable: dict[tuple[str, str], bool] = {}

    def castable(self, src_type: str, target: str) -> bool:
        key = (src_type, target)
        if key not in self._castable:
            try:
                self.con.execute(f"select try_cast(null::{src_type} as {target})").fetchall()
                self._castable[key] = True
            except duckdb.Error:
                self._castable[key] = False
        return self._castable[key]

    def expr(self, s: str, src_type: str, col: contract.Column) -> tuple[str, str | None]:
        """(expression, failed-cast condition or None when the cast cannot fail)."""
        st = src_type.upper()
        target = col.duckdb_type
        blank = f"nullif(trim({s}), '')"
        is_text = st == "VARCHAR"
        if col.type == "string":
            if col.allowed:
                text = s if is_text else f"cast({s} as varchar)"
                enum = enum_normalised(text)
                return (f"nullif({enum}, '')" if col.required else enum), None
            if is_text:
                return (f"nullif({s}, '')" if col.required else s), None
            return f"cast({s} as varchar)", None
        present = f"{blank} is not null" if is_text else f"{s} is not null"
        if col.type in ("timestamp", "date"):
            if st.startswith(("TIMESTAMP", "DATE")):
                return f"cast({s} as {target})", None
            if is_text:
                e = f"try_cast(try_cast({blank} as timestamptz) as timestamp)"
                if col.type == "date":
                    e = f"coalesce(try_cast({blank} as date), cast({e} as date))"
                return e, f"{present} and ({e}) is null"
        elif col.type == "integer":
            if st in self.INTS:
                e = f"try_cast({s} as bigint)"
                return e, f"{present} and ({e}) is null"
            if st in self.FLOATS or st.startswith("DECIMAL"):
                e = f"case when {s} = trunc({s}) then try_cast({s} as bigint) end"
                return e, f"{present} and ({e}) is null"
            if is_text:
                e = f"case when try_cast({blank} as double) = try_cast({blank} as bigint) then try_cast({blank} as bigint) end"
                return e, f"{present} and ({e}) is null"
        elif col.type == "double":
            if st in self.INTS or st in self.FLOATS or st.startswith("DECIMAL"):
                e = f"case when isfinite(cast({s} as double)) then cast({s} as double) end"
                return e, f"{present} and ({e}) is null"
            if is_text:
                e = f"case when isfinite(try_cast({blank} as double)) then try_cast({blank} as double) end"
                return e, f"{present} and ({e}) is null"
        elif col.type == "boolean":
            if st == "BOOLEAN":
                return s, None
            if is_text:
                e = f"try_cast(lower({blank}) as boolean)"
                return e, f"{present} and ({e}) is null"
        if self.castable(src_type, target):
            e = f"try_cast({s} as {target})"
            return e, f"{present} and ({e}) is null"
        return f"null::{target}", present


class _Run:
    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection, progress, now: datetime, run_id: str):
        self.settings = settings
        self.con = con
        self.progress = progress
        self.now = now
        self.run_id = run_id
        gate = settings.options.get("gate", {})
        self.max_failure_rate = float(gate.get("max_failure_rate", 0.05))
        self.not_after = now + timedelta(hours=float(gate.get("future_tolerance_hours", 1)))
        self.report = IngestReport(run_id=run_id, started_at=_utcnow(), max_failure_rate=self.max_failure_rate)
        self._gx: GxProject | None = None
        self.casts = _Casts(con)
        self.files_total = 0
        self.files_done = 0
        self._lap = time.monotonic()

    # -- helpers -----------------------------------------------------------------------------
    def lap(self, table: str, phase: str) -> None:
        """Record the seconds spent in a phase of a table (report.seconds["orders.read"])."""
        t = time.monotonic()
        self.report.seconds[f"{table}.{phase}"] = t - self._lap
        self._lap = t

    def tick(self, stage: str) -> None:
        if self.progress:
            self.progress(stage, self.files_done, self.files_total)

    @property
    def gx(self) -> GxProject:
        if self._gx is None:
            self._gx = GxProject(self.settings)
        return self._gx

    def previous_state(self) -> dict[str, tuple]:
        rows = self.con.execute(
            """
            select file, file_hash, status, failure_rate, run_id, rows_read, rows_loaded, rows_quarantined, message,
                   table_name
            from audit.load_log
            qualify row_number() over (partition by file order by loaded_at desc) = 1
            """
        ).fetchall()
        return {r[0]: r for r in rows}

    # -- main --------------------------------------------------------------------------------
    def run(self) -> IngestReport:
        t0 = time.monotonic()
        ensure_audit(self.con)
        extra_registry.backfill(self.con, self.run_id, self.now)
        files, unknown, ignored = discover(self.settings.landing, progress=self.progress)
        self.report.seconds["discover"] = time.monotonic() - t0
        prev = self.previous_state()
        self._unknown_folders(unknown, prev)
        self._ignored_entries(ignored, prev)

        by_table: dict[str, list[LandingFile]] = {}
        for f in files:
            by_table.setdefault(f.table, []).append(f)
        todo: dict[str, list[LandingFile]] = {}
        for name, fs in by_table.items():
            for f in fs:
                p = prev.get(f.rel)
                if p is not None and p[1] == f.hash and p[9] == f.table:
                    self.report.files.append(self._skipped(f, p))
                else:
                    todo.setdefault(name, []).append(f)
        self.files_total = sum(len(v) for v in todo.values())
        self.tick("gate + load")
        for table in contract.load_order():
            if table.name in todo:
                t = time.monotonic()
                self._table(table, todo[table.name])
                self.report.seconds[table.name] = time.monotonic() - t

        if not _table_exists(self.con, RAW, contract.CUSTOMERS.name):
            self.report.problems.append(
                f"raw.{contract.CUSTOMERS.name} has never been loaded: the contract requires the customers table. "
                f"Deliver its files under {self.settings.landing / contract.CUSTOMERS.name}/day=YYYY-MM-DD/ and re-run."
            )
        self.report.finished_at = _utcnow()
        self._write_run_row()
        self.report.seconds["total"] = time.monotonic() - t0
        return self.report

    def _write_run_row(self) -> None:
        r = self.report
        read = [f for f in r.files if f.status not in (SKIPPED, UNKNOWN_TABLE)]
        status = "passed" if r.ok else "blocked"
        msg = "" if r.ok else r.blocked_message()[:4000]
        self.con.execute(
            "insert into audit.gate_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                r.run_id,
                r.started_at,
                r.finished_at,
                len(r.files),
                len(read),
                r.rows_read,
                r.rows_loaded,
                r.rows_quarantined,
                len(r.blocked),
                status,
                msg,
            ],
        )

    def _unknown_folders(self, unknown: list[UnknownFolder], prev: dict) -> None:
        for folder in unknown:
            fr = FileResult(
                table=folder.name or "(landing)",
                file=folder.rel,
                status=UNKNOWN_TABLE,
                message=folder.message(),
                file_hash=folder.hash,
                run_id=self.run_id,
            )
            self.report.files.append(fr)
            self.report.notes.append(fr.message)
            p = prev.get(folder.rel)
            if p is None or p[1] != folder.hash:
                self._log(fr, batch_id=None, size=None)

    def _ignored_entries(self, ignored: list[IgnoredEntry], prev: dict) -> None:
        """Hidden and refused entries: a load_log row (status ignored, with the reason) when new or changed."""
        for entry in ignored:
            fr = FileResult(
                table=entry.table,
                file=entry.rel,
                status=IGNORED,
                message=f"{entry.rel}: {entry.reason}",
                file_hash=entry.hash,
                run_id=self.run_id,
            )
            self.report.ignored.append(fr)
            self.report.notes.append(fr.message)
            p = prev.get(entry.rel)
            if p is None or p[1] != entry.hash or p[2] != IGNORED:
                self._log(fr, batch_id=None, size=None)

    def _skipped(self, f: LandingFile, p: tuple) -> FileResult:
        _, _, status, rate, run_id, read, _, _, message, _ = p
        rate = rate or 0.0
        blocking = status == REJECTED or (status in (LOADED, BLOCKED) and rate > self.max_failure_rate)
        fr = FileResult(
            table=f.table,
            file=f.rel,
            status=SKIPPED,
            failure_rate=rate,
            message=message or "",
            file_hash=f.hash,
            blocking=blocking,
            run_id=run_id,
            previous_status=status,
        )
        if blocking:
            # Figures of the run that read it, so the message names rule and count.
            fr.rows_checked = int(read or 0)
            fr.rows_failed = round(rate * fr.rows_checked)
            fr.top_rules = [
                (r, n)
                for r, n in self.con.execute(
                    "select rule, count(*) from audit.quarantine where file = ? and batch_id = ? "
                    "group by 1 order by 2 desc, 1 limit 3",
                    [f.rel, f.batch_id],
                ).fetchall()
            ]
        return fr

    # -- one table ---------------------------------------------------------------------------
    def _table(self, table: contract.Table, files: list[LandingFile]) -> None:
        con = self.con
        self.tick(f"{table.name}: read {len(files)} files")
        base_done = self.files_done
        self._lap = time.monotonic()
        reads = rd.read_table(
            con,
            files,
            progress=lambda d, n: (
                self.progress and self.progress(f"{table.name}: read", base_done + d, self.files_total)
            ),
        )
        self.files_done = base_done + len(files)
        have_src = bool(
            con.execute("select count(*) from duckdb_tables() where temporary and table_name = ?", [SRC]).fetchone()[0]
        )
        results = {
            fr.ord: FileResult(
                table=table.name, file=fr.file.rel, status=LOADED, file_hash=fr.file.hash, run_id=self.run_id
            )
            for fr in reads
        }
        checks_rows: list[dict] = []
        extras: list[tuple[str, str, str]] = []  # (source name, raw name, type)
        bad_by_ord: dict[int, int] = {}
        failing_by_ord: dict[int, int] = {}
        top_by_ord: dict[int, Counter] = {}
        resent_by_ord: dict[int, int] = {}

        if have_src:
            drop_erased(con, self.settings, table, reads)
            self.lap(table.name, "read")
            extras = self._typed(table, reads, checks_rows)
            self.lap(table.name, "coerce")
            self._fails(table, reads, checks_rows)
            for ord_, bad, failing in con.execute(
                f"select __g_ord, count(*), count(*) filter (where counting) from {QROWS} group by 1"
            ).fetchall():
                bad_by_ord[ord_] = bad
                failing_by_ord[ord_] = failing
            for ord_, rule, n in con.execute(
                f"select __g_ord, rule, count(*) from {QROWS} where counting group by 1, 2"
            ).fetchall():
                top_by_ord.setdefault(ord_, Counter())[rule] = n
            resent_by_ord = dict(
                con.execute(
                    f"select __g_ord, count(*) from {QROWS} where rule = ? group by 1", [duplicates.DUPLICATE_RESENT]
                ).fetchall()
            )

        # CSV lines that could not be parsed and files that could not be read.
        extra_q: list[list] = []
        for fr in reads:
            res = results[fr.ord]
            if fr.status == "rejected":
                res.status = REJECTED
                res.failure_rate = 1.0
                rule_, (what, fix) = "file_unreadable", rule_text(table, "file_unreadable")
                res.message = f"{what.replace('{value}', fr.error)}. Fix: {fix}"
                res.top_rules = [(rule_, 1)]
                extra_q.append(
                    [
                        fr,
                        None,
                        rule_,
                        rule_,
                        None,
                        None,
                        f"{fr.file.rel}: {res.message}",
                        json.dumps({"file": fr.file.rel, "bytes": fr.file.size, "error": fr.error}),
                    ]
                )
                continue
            if fr.status == "empty":
                res.status = EMPTY
                res.message = f"{fr.empty_reason}; nothing to load"
                continue
            counter = top_by_ord.setdefault(fr.ord, Counter())
            for rj in fr.rejects:
                rule_ = "encoding" if rj.error_type == "INVALID ENCODING" else "csv_malformed"
                what, fix = rule_text(table, rule_)
                shown = rj.line if len(rj.line) <= 200 else rj.line[:200] + f"... ({len(rj.line):,} characters)"
                detail = rj.error if rule_ == "csv_malformed" else repr(shown)
                msg = f"{fr.file.rel} row {rj.row_number}: {what.replace('{value}', detail)}. Fix: {fix}"
                extra_q.append([fr, rj.row_number, rule_, rule_, None, shown, msg, json.dumps({"line": rj.line})])
                counter[rule_] += 1
            res.rows_read = fr.rows_read
            res.rows_erased = fr.rows_erased
            res.rows_quarantined = bad_by_ord.get(fr.ord, 0) + len(fr.rejects)
            failing = failing_by_ord.get(fr.ord, 0) + len(fr.rejects)
            checked = res.rows_read - res.rows_erased
            res.failure_rate = failing / checked if checked else 0.0
            res.rows_checked, res.rows_failed = checked, failing
            res.rows_loaded = res.rows_read - res.rows_quarantined - res.rows_erased
            res.top_rules = counter.most_common()
            if res.failure_rate > self.max_failure_rate:
                res.status = BLOCKED
                res.message = res.blocked_line(self.max_failure_rate)
            else:
                resent = resent_by_ord.get(fr.ord, 0)
                res.message = (
                    f"{res.rows_loaded:,} of {res.rows_read:,} rows loaded"
                    + (f", {res.rows_quarantined:,} quarantined" if res.rows_quarantined else "")
                    + (f" ({resent:,} already loaded from another file: duplicate_resent)" if resent else "")
                    + (f", {res.rows_erased:,} erased (tombstoned customers)" if res.rows_erased else "")
                )
        for fr in reads:
            res = results[fr.ord]
            res.blocking = res.status in (BLOCKED, REJECTED)

        self.lap(table.name, "duplicates")
        readable = any(fr.status in ("ok", "empty") for fr in reads)
        self.tick(f"{table.name}: load")
        con.execute("begin transaction")
        try:
            raw_exists = _table_exists(con, RAW, table.name)
            if readable or raw_exists:
                self._ensure_raw(table, extras)
                raw_exists = True
            rels = [fr.file.rel for fr in reads]
            if raw_exists:
                con.execute(f"delete from {RAW}.{q(table.name)} where _file in (select unnest(?::varchar[]))", [rels])
            con.execute(
                "delete from audit.quarantine where table_name = ? and file in (select unnest(?::varchar[]))",
                [table.name, rels],
            )
            loaded_now: dict[str, int] = {}
            if have_src:
                self._insert_raw(table, extras)
                self._insert_quarantine(table)
                extra_registry.record(con, table, extras, reads, self.run_id, self.now)
                loaded_now = dict(
                    con.execute(
                        f"select _file, count(*) from {RAW}.{q(table.name)} where _run_id = ? "
                        "and _file in (select unnest(?::varchar[])) group by 1",
                        [self.run_id, rels],
                    ).fetchall()
                )
            if extra_q:
                con.executemany(
                    "insert into audit.quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            self.run_id,
                            fr.file.batch_id,
                            table.name,
                            fr.file.rel,
                            row,
                            rule_,
                            rules,
                            col,
                            bad,
                            msg,
                            rj,
                            self.now,
                        ]
                        for fr, row, rule_, rules, col, bad, msg, rj in extra_q
                    ],
                )
            quarantined_now = dict(
                con.execute(
                    "select file, count(*) from audit.quarantine where run_id = ? and table_name = ? "
                    "and row_number is not null and file in (select unnest(?::varchar[])) group by 1",
                    [self.run_id, table.name, rels],
                ).fetchall()
            )
            for fr in reads:
                res = results[fr.ord]
                # Check what was written, not what was planned.
                if res.rows_loaded != loaded_now.get(fr.file.rel, 0) or res.rows_quarantined != quarantined_now.get(
                    fr.file.rel, 0
                ):
                    raise AssertionError(
                        f"gate bookkeeping error for {fr.file.rel}: planned {res.rows_loaded} loaded / "
                        f"{res.rows_quarantined} quarantined, wrote {loaded_now.get(fr.file.rel, 0)} / "
                        f"{quarantined_now.get(fr.file.rel, 0)}"
                    )
                res.check_invariant()
                self._log(res, batch_id=fr.file.batch_id, size=fr.file.size)
            self._write_checks(table, checks_rows, reads)
            con.execute("commit")
            self.lap(table.name, "load")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            drop_temp_tables(con)
        for fr in reads:
            self.report.files.append(results[fr.ord])
        self.tick(f"{table.name}: done")

    # -- typing ------------------------------------------------------------------------------
    def _typed(self, table: contract.Table, reads: list[FileRead], checks_rows: list[dict]) -> list[tuple]:
        con = self.con
        src_cols = [(n, t) for n, t in _columns(con, SRC) if n not in INTERNAL]
        by_lower = {n.lower(): (n, t) for n, t in src_cols}
        contract_lower = {c.name.lower() for c in table.columns}
        select = ["__g_ord", "__g_row"]
        errs = []
        type_checked = []
        for c in table.columns:
            hit = by_lower.get(c.name.lower())
            if hit is None:
                select.append(f"null::{c.duckdb_type} as {q(c.name)}")
                continue
            expr, failed = self.casts.expr(q(hit[0]), hit[1], c)
            select.append(f"{expr} as {q(c.name)}")
            if failed:
                errs.append(f"case when {failed} then {lit(c.name)} end")
                type_checked.append(c.name)
        extras = []
        for n, t in src_cols:
            if n.lower() in contract_lower:
                continue
            raw_name = f"{n}_source" if n.lower() in METADATA_COLUMNS else n
            typ = "VARCHAR" if t.upper() == '"NULL"' or t.upper() == "NULL" else t
            extras.append((n, raw_name, typ))
            select.append(f"{q(n)} as {q(raw_name)}")
        err_list = "list_filter([" + ", ".join(errs) + "], x -> x is not null)" if errs else "[]::varchar[]"
        select.append(f"{err_list} as __g_type_errors")
        con.execute(f"create temp table {TYPED} as select {', '.join(select)} from {SRC}")
        total = sum(fr.rows_in_src for fr in reads)
        if type_checked:
            counts = dict(
                con.execute(
                    f"select e, count(*) from (select unnest(__g_type_errors) as e from {TYPED}) group by 1"
                ).fetchall()
            )
            for name in type_checked:
                n = int(counts.get(name, 0))
                col = table.column(name)
                checks_rows.append(
                    self._check_row(
                        table,
                        f"cast_to_{col.type}",
                        name,
                        n == 0,
                        total,
                        n,
                        {"target_type": col.duckdb_type},
                        rule=f"type:{name}",
                    )
                )
        return extras

    # -- failures: structure, types, GX, duplicates --------------------------------------------
    def _fails(self, table: contract.Table, reads: list[FileRead], checks_rows: list[dict]) -> None:
        con = self.con
        con.execute(
            f"create temp table {FAILS} (__g_ord integer, __g_row bigint, rule varchar, column_name varchar, "
            "rank integer, detail varchar, counts boolean)"
        )
        ranks = {}

        def rank(rule: str) -> int:
            if rule not in ranks:
                ranks[rule] = rule_rank(rule, table)
            return ranks[rule]

        # Required columns missing from a file: every row of that file.
        total = sum(fr.rows_in_src for fr in reads)
        missing_rows: Counter = Counter()
        for fr in reads:
            if fr.status != "ok" or not fr.rows_in_src:
                continue
            present = {c.lower() for c in fr.columns}
            for c in table.columns:
                if c.required and c.name.lower() not in present:
                    r = f"missing_column:{c.name}"
                    con.execute(
                        f"insert into {FAILS} select __g_ord, __g_row, ?, ?, ?, null, true from {SRC} "
                        "where __g_ord = ?",
                        [r, c.name, rank(r), fr.ord],
                    )
                    missing_rows[c.name] += fr.rows_in_src
        for c in table.columns:
            if c.required:
                n = missing_rows.get(c.name, 0)
                checks_rows.append(
                    self._check_row(
                        table,
                        "required_column_in_every_file",
                        c.name,
                        n == 0,
                        total,
                        n,
                        {},
                        rule=f"missing_column:{c.name}",
                    )
                )
        # Values that do not cast to the contract type.
        type_rules = [(f"type:{c.name}", c.name, rank(f"type:{c.name}")) for c in table.columns]
        con.execute("create or replace temp table __g_rank (rule varchar, column_name varchar, rank integer)")
        con.executemany("insert into __g_rank values (?, ?, ?)", type_rules)
        con.execute(
            f"insert into {FAILS} select t.__g_ord, t.__g_row, r.rule, r.column_name, r.rank, null, true "
            f"from (select __g_ord, __g_row, unnest(__g_type_errors) as e from {TYPED}) t "
            "join __g_rank r on r.column_name = t.e"
        )
        con.execute("drop table __g_rank")

        # Referential sanity: orphans against raw parents (loaded earlier or in this run).
        references: dict[str, str] = {}
        orphan_parts = []
        for c in table.columns:
            if not c.references:
                continue
            parent, _, pkey = c.references.partition(".")
            if not _table_exists(con, RAW, parent):
                checks_rows.append(
                    self._check_row(
                        table,
                        "expect_column_values_to_be_in_set",
                        c.name,
                        None,
                        total,
                        None,
                        {
                            "skipped": f"parent table raw.{parent} has never been loaded, so {table.name}.{c.name} "
                            f"cannot be checked against {c.references}"
                        },
                        rule=f"references:{c.name}",
                    )
                )
                self.report.notes.append(
                    f"{table.name}.{c.name}: reference check skipped, raw.{parent} has never been loaded"
                )
                continue
            references[c.name] = c.references
            orphan_parts.append(
                f"select __g_ord, __g_row, {lit(c.name)} as column_name from {TYPED} t "
                f"where t.{q(c.name)} is not null and not exists "
                f"(select 1 from {RAW}.{q(parent)} p where p.{q(pkey)} = t.{q(c.name)})"
            )
        con.execute(
            "create temp table __g_orphans as "
            + (
                " union all ".join(orphan_parts)
                if orphan_parts
                else "select null::integer as __g_ord, null::bigint as __g_row, null::varchar as column_name where false"
            )
        )

        # Great Expectations: one validation per table (chunked).
        checks = build_checks(table, self.not_after, references)
        rel_to_ord = {fr.file.rel: fr.ord for fr in reads}
        self.lap(table.name, "structure")
        self.tick(f"{table.name}: validate")
        outcomes, failures = self.gx.validate(
            table.name, checks, self._frames(table, reads, references), self.run_id, self.now
        )
        if failures:
            import pandas as pd

            fdf = pd.DataFrame(
                {
                    "__g_ord": [rel_to_ord[f] for f, _, _, _ in failures],
                    "__g_row": [r for _, r, _, _ in failures],
                    "rule": [ru for _, _, ru, _ in failures],
                    "column_name": [c for _, _, _, c in failures],
                    "rank": [rank(ru) for _, _, ru, _ in failures],
                }
            )
            con.register("__g_gxf", fdf)
            try:
                con.execute(
                    f"insert into {FAILS} select __g_ord::integer, __g_row::bigint, rule, column_name, rank::integer, "
                    "null, true from __g_gxf"
                )
            finally:
                con.unregister("__g_gxf")
        for o in outcomes.values():
            details = {"kwargs": o.kwargs, "notes": (o.check.expectation.meta or {}).get("notes")}
            if o.partial:
                details["partial_unexpected"] = o.partial[:10]
            if o.error:
                details["error"] = o.error
                self.report.problems.append(
                    f"{table.name}: check {o.check.rule} could not run ({o.error[:300]}); the gate cannot vouch for "
                    "this table"
                )
            checks_rows.append(
                self._check_row(
                    table,
                    o.type,
                    o.check.column,
                    o.success,
                    o.element_count,
                    o.unexpected_count,
                    details,
                    rule=o.check.rule,
                )
            )
        # A value that did not cast (or a column that is missing) is reported once, as such.
        con.execute(
            f"""
            delete from {FAILS} f where f.rule like 'not_null:%' and exists (
                select 1 from {FAILS} g where g.__g_ord = f.__g_ord and g.__g_row = f.__g_row
                and g.column_name = f.column_name and (g.rule like 'type:%' or g.rule like 'missing_column:%'))
            """
        )

        self.lap(table.name, "validate")
        # Copies of one version of a record (in this run, or already loaded from another file): the
        # first is kept; see gate/duplicates.py. Versions that differ are history, all loaded.
        found = duplicates.quarantine_copies(con, table, TYPED, FAILS, [fr.file.rel for fr in reads], rank)
        version = f"{table.key} and {table.updated_column}" if table.updated_column else table.key
        for rule, expectation, note in (
            (duplicates.DUPLICATE_KEY, "unique_key_per_version", "the same content twice in one file"),
            (duplicates.DUPLICATE_RESENT, "not_loaded_before", "the same content as a row of another file"),
            (duplicates.CONFLICT, "no_conflicting_copy", "other content than the kept copy"),
        ):
            n = found[rule]
            checks_rows.append(
                self._check_row(
                    table,
                    expectation,
                    table.key,
                    n == 0,
                    total,
                    n,
                    {
                        rule: n,
                        "notes": f"rows with the {version} of an earlier row (already loaded, or earlier in this "
                        f"run's files) and {note}; the first copy is kept",
                    },
                    rule=rule,
                )
            )
        if found[duplicates.CONFLICT]:
            self.report.notes.append(
                f"{table.name}: {found[duplicates.CONFLICT]:,} row(s) carry the {version} of a row loaded "
                "earlier but other content; the first copy is kept and they are quarantined as 'conflict' "
                "(audit.quarantine says what differs)"
            )
        con.execute(
            f"""
            create temp table {QROWS} as
            select __g_ord, __g_row, arg_min(rule, rank) as rule, arg_min(column_name, rank) as column_name,
                   arg_min(detail, rank) as detail, string_agg(rule, ',' order by rank) as rules,
                   bool_or(counts) as counting
            from {FAILS} group by 1, 2
            """
        )

    def _frames(self, table: contract.Table, reads: list[FileRead], references: dict[str, str]):
        """Pandas chunks (<= suites.CHUNK_ROWS rows) for GX: _file, _row_number, contract columns, reference flags."""
        cols = ["f.rel as _file", "t.__g_row as _row_number"]
        ts_cols = []
        for c in table.columns:
            name = q(c.name)
            if c.type in ("timestamp", "date"):
                # least/greatest skip NULLs, so the clamp must keep NULL explicitly.
                cols.append(
                    f"case when t.{name} is not null then least(greatest(cast(t.{name} as timestamp), "
                    f"timestamp '{TS_MIN}'), timestamp '{TS_MAX}') end as {name}"
                )
                ts_cols.append(c.name)
            elif c.type == "integer":
                cols.append(f"cast(t.{name} as double) as {name}")
            else:
                cols.append(f"t.{name}")
        if table.updated_column:
            cols.append(
                f"t.{q(table.key)} || '|' || coalesce(cast(t.{q(table.updated_column)} as varchar), '') "
                f"as {q(version_column(table))}"
            )
        joins = ""
        for i, name in enumerate(references):
            joins += (
                f" left join (select __g_ord, __g_row from __g_orphans where column_name = {lit(name)}) o{i} "
                f"on o{i}.__g_ord = t.__g_ord and o{i}.__g_row = t.__g_row"
            )
            cols.append(f"o{i}.__g_row is null as {q(ref_flag_column(name))}")
        base = f"select {', '.join(cols)} from {TYPED} t join {FILES} f on f.ord = t.__g_ord{joins}"

        chunks = plan_chunks(
            [(fr.ord, fr.rows_read) for fr in reads if fr.status == "ok" and fr.rows_in_src], suites.CHUNK_ROWS
        )
        for where in chunks:
            df = self.con.execute(f"{base} where {where}").df()
            for c in ts_cols:
                df[c] = df[c].astype("datetime64[ns]")
            yield df

    # -- writing -----------------------------------------------------------------------------
    def _ensure_raw(self, table: contract.Table, extras: list[tuple[str, str, str]]) -> None:
        con = self.con
        name = f"{RAW}.{q(table.name)}"
        wanted = [(c.name, c.duckdb_type) for c in table.columns]
        wanted += [(raw_name, typ) for _, raw_name, typ in extras]
        wanted += list(METADATA_COLUMNS.items())
        if not _table_exists(con, RAW, table.name):
            con.execute(f"create table {name} ({', '.join(f'{q(n)} {t}' for n, t in wanted)})")
            return
        have = {n.lower(): (n, t) for n, t in _columns(con, name)}
        for n, t in wanted:
            if n.lower() not in have:
                con.execute(f"alter table {name} add column {q(n)} {t}")
        # An extra column that arrives with another type than before: keep it if every value casts,
        # otherwise widen the raw column to text (nothing is dropped).
        for _, raw_name, typ in extras:
            cur = have.get(raw_name.lower())
            if cur is None or cur[1].upper() == typ.upper() or cur[1].upper() == "VARCHAR":
                continue
            lossy = con.execute(
                f"select count(*) from {TYPED} where {q(raw_name)} is not null "
                f"and try_cast({q(raw_name)} as {cur[1]}) is null"
            ).fetchone()[0]
            if lossy:
                con.execute(f"alter table {name} alter column {q(cur[0])} type varchar")

    def _insert_raw(self, table: contract.Table, extras: list[tuple[str, str, str]]) -> None:
        con = self.con
        name = f"{RAW}.{q(table.name)}"
        have = dict(_columns(con, name))
        cols = [f"t.{q(c.name)}" for c in table.columns]
        for _, raw_name, typ in extras:
            target = next((t for n, t in have.items() if n.lower() == raw_name.lower()), typ)
            if target.upper() == typ.upper():
                cols.append(f"t.{q(raw_name)}")
            elif target.upper() == "VARCHAR":
                cols.append(f"cast(t.{q(raw_name)} as varchar) as {q(raw_name)}")
            else:
                cols.append(f"try_cast(t.{q(raw_name)} as {target}) as {q(raw_name)}")
        cols += [
            "f.rel as _file",
            "t.__g_row as _row_number",
            "f.batch_id as _batch_id",
            f"{lit(self.run_id)} as _run_id",
            "?::timestamp as _loaded_at",
        ]
        where = ""
        if con.execute(f"select count(*) from {QROWS}").fetchone()[0]:
            where = f" where not exists (select 1 from {QROWS} b where b.__g_ord = t.__g_ord and b.__g_row = t.__g_row)"
        con.execute(
            f"insert into {name} by name select {', '.join(cols)} from {TYPED} t join {FILES} f on f.ord = t.__g_ord"
            + where,
            [self.now],
        )

    def _insert_quarantine(self, table: contract.Table) -> None:
        con = self.con
        src_cols = [n for n, _ in _columns(con, SRC) if n not in INTERNAL]
        by_lower = {n.lower(): n for n in src_cols}
        rules = [r[0] for r in con.execute(f"select distinct rule from {QROWS}").fetchall()]
        if not rules:
            return
        con.execute(f"create or replace temp table {RULETEXT} (rule varchar, what varchar, fix varchar)")
        con.executemany(f"insert into {RULETEXT} values (?, ?, ?)", [(r, *rule_text(table, r)) for r in rules])
        cases = []
        for c in table.columns:
            s = by_lower.get(c.name.lower())
            if s is not None:
                cases.append(f"when {lit(c.name)} then cast(s.{q(s)} as varchar)")
        bad = f"case a.column_name {' '.join(cases)} end" if cases else "null::varchar"
        struct = (
            "to_json(struct_pack(" + ", ".join(f"{q(n)} := s.{q(n)}" for n in src_cols) + "))::varchar"
            if src_cols
            else "'{}'"
        )
        short = (
            "case when length(x.bad) > 200 then left(x.bad, 200) || format('... ({:,} characters)', length(x.bad)) "
            "else x.bad end"
        )
        con.execute(
            f"""
            insert into audit.quarantine
            with x as (
                select a.*, f.rel, f.batch_id, {bad} as bad, {struct} as row_json
                from {QROWS} a
                join {SRC} s on s.__g_ord = a.__g_ord and s.__g_row = a.__g_row
                join {FILES} f on f.ord = a.__g_ord
            )
            select ?, x.batch_id, ?, x.rel, x.__g_row, x.rule, x.rules, x.column_name, {short},
                   x.rel || ' row ' || x.__g_row || ': '
                   || replace(rt.what, '{{value}}', coalesce('''' || ({short}) || '''', 'empty'))
                   || coalesce(' (' || x.detail || ')', '')
                   || '. Fix: ' || rt.fix
                   || case when x.rules <> x.rule then ' All broken rules: ' || x.rules || '.' else '' end,
                   x.row_json, ?
            from x join {RULETEXT} rt on rt.rule = x.rule
            """,
            [self.run_id, table.name, self.now],
        )

    def _log(self, fr: FileResult, batch_id: str | None, size: int | None) -> None:
        self.con.execute(
            "insert into audit.load_log (run_id, batch_id, table_name, file, file_hash, rows_read, rows_loaded, "
            "rows_quarantined, failure_rate, status, message, loaded_at, file_bytes, rows_erased) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.run_id,
                batch_id,
                fr.table,
                fr.file,
                fr.file_hash,
                fr.rows_read,
                fr.rows_loaded,
                fr.rows_quarantined,
                fr.failure_rate,
                fr.status,
                fr.message[:4000],
                _utcnow(),
                size,
                fr.rows_erased,
            ],
        )

    def _check_row(self, table, expectation, column, success, element_count, unexpected, details, rule) -> dict:
        pct = (100.0 * unexpected / element_count) if (element_count and unexpected is not None) else None
        return {
            "run_id": self.run_id,
            "table_name": table.name,
            "expectation": expectation,
            "column_name": column,
            "success": success,
            "element_count": element_count,
            "unexpected_count": unexpected,
            "unexpected_percent": pct,
            "details": json.dumps(details, default=str),
            "checked_at": self.now,
            "rule": rule,
        }

    def _write_checks(self, table: contract.Table, rows: list[dict], reads: list[FileRead]) -> None:
        n_csv = sum(len(fr.rejects) for fr in reads)
        if any(fr.file.kind == "csv" for fr in reads):
            total = sum(fr.rows_read for fr in reads)
            rows.append(self._check_row(table, "csv_lines_parse", None, n_csv == 0, total, n_csv, {}, "csv_malformed"))
        n_bad = sum(fr.status == "rejected" for fr in reads)
        rows.append(
            self._check_row(
                table,
                "file_readable",
                None,
                n_bad == 0,
                len(reads),
                n_bad,
                {"unit": "files", "rejected": [fr.file.rel for fr in reads if fr.status == "rejected"][:50]},
                "file_unreadable",
            )
        )
        order = {k: i for i, k in enumerate(RULE_ORDER)}
        rows.sort(key=lambda r: (order.get((r["rule"] or "").split(":")[0], 99), r["column_name"] or ""))
        self.con.executemany(
            "insert into audit.gate_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    r["run_id"],
                    r["table_name"],
                    r["expectation"],
                    r["column_name"],
                    r["success"],
                    r["element_count"],
                    r["unexpected_count"],
                    r["unexpected_percent"],
                    r["details"],
                    r["checked_at"],
                    r["rule"],
                ]
                for r in rows
            ],
        )
        self.report.checks.extend(rows)


def ingest(
    settings: Settings,
    con: duckdb.DuckDBPyConnection | None = None,
    progress=None,
    now: datetime | None = None,
    run_id: str | None = None,
) -> IngestReport:
    """Validate the landing files and load the valid rows into raw.<table>; see the module docstring.

    ``progress(stage, done, total)`` is called as files are hashed and tables are processed.
    ``now`` (UTC) is the reference for "no future timestamps"; default: the current time.
    """
    if now is None:
        now = _utcnow()
    elif now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    own = con is None
    if own:
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(settings.warehouse))
    tz_before, bar_before = con.execute(
        "select current_setting('TimeZone'), current_setting('enable_progress_bar')"
    ).fetchone()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    try:
        return _Run(settings, con, progress, now, run_id or new_run_id()).run()
    finally:
        try:
            drop_temp_tables(con)
            con.execute(f"set TimeZone = {lit(tz_before)}")
            con.execute(f"set enable_progress_bar = {'true' if bar_before else 'false'}")
        finally:
            if own:
                con.close()
