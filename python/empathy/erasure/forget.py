"""`empathy forget`: erase customers everywhere the product keeps them, and keep them out of later loads.

Under the run lock, in this order (each step can be re-run: forgetting a forgotten customer finds nothing and
rebuilds again):

1. the scope: the customers' ids and the keys of their rows, from raw.* and audit.quarantine;
2. the landing files rewritten without their rows (the files add keys the warehouse did not have);
3. in one transaction: tombstones (keyed hashes) for every value of the scope, their rows deleted from raw.* and
   audit.quarantine, their values removed from the samples in audit.gate_results; then the same samples in the
   gate's Great Expectations store (files.py);
4. the gate, which re-reads the rewritten files and writes their load_log rows;
5. `dbt build --full-refresh`: every model, incremental history and text cache rebuilt from the cleaned raw
   tables (a delete per table would leave what models learnt and kept from them);
6. an audit.erasures row per customer (keyed hash, reason, time, rows removed per table; never the id), and the
   working database copied into a new file (the old one keeps deleted bytes in freed blocks);
7. publication (the published file is replaced atomically), refused over a blocked gate unless forced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from rich.console import Console

from empathy.config import Settings
from empathy.erasure.files import scrub_files
from empathy.erasure.keys import erasure_key, keyed_hash
from empathy.erasure.landing import FileErasure, rewrite_landing
from empathy.erasure.links import CUSTOMER
from empathy.erasure.purge import ensure_tables, purge_warehouse, write_tombstones
from empathy.erasure.scope import find_scope
from empathy.gate.ingest import ensure_audit
from empathy.pipeline import build_step, ingest_step, new_run_id
from empathy.publish import connect_warehouse, publish, run_lock, swap_in
from empathy.runs import recorded_run

MAX_REASON = 500


class ErasureError(RuntimeError):
    """The request cannot be carried out as given; the message says what to pass."""


class PublicationRefused(RuntimeError):
    """The customers are erased from the working database but the gate blocked, so nothing was published."""


@dataclass
class ErasureResult:
    erasure_id: str
    customers: int
    rows_removed: dict[str, int] = field(default_factory=dict)
    landing_files: list[FileErasure] = field(default_factory=list)
    published: Path | None = None

    @property
    def files_rewritten(self) -> list[FileErasure]:
        return [f for f in self.landing_files if f.rows_removed]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def clean_ids(ids: list[str]) -> list[str]:
    """Ids stripped, de-duplicated, in the order given; an empty list or an empty id is an error."""
    out: list[str] = []
    for raw in ids:
        value = (raw or "").strip()
        if not value:
            raise ErasureError("an empty customer id was given; pass --customer-id ID (the raw customer_id)")
        if value not in out:
            out.append(value)
    if not out:
        raise ErasureError("no customer to forget: pass --customer-id ID (repeatable) or --ids-file FILE")
    return out


def read_ids_file(path: Path) -> list[str]:
    """One customer id per line; blank lines and lines starting with '#' are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ErasureError(f"cannot read the ids file {path}: {exc}; pass a UTF-8 text file, one id per line") from exc
    ids = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not ids:
        raise ErasureError(f"the ids file {path} holds no customer id; write one customer_id per line")
    return ids


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every table of the working database, as schema.table."""
    names = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
        "and not temporary order by 1, 2"
    ).fetchall()
    return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in names}


def _erase_stored(settings: Settings, ids: list[str], erasure_id: str, key: str) -> tuple[dict, list, dict]:
    """Steps 1-3: scope, landing files, tombstones and the purge of raw and audit. Returns (removed, files,
    row counts before)."""
    con = connect_warehouse(settings.warehouse)
    try:
        ensure_audit(con)
        ensure_tables(con)
        before = table_counts(con)
        scope = find_scope(con, ids)
        files = rewrite_landing(settings.landing, scope)
        con.execute("begin transaction")
        try:
            write_tombstones(con, scope, key, erasure_id, _now())
            removed = purge_warehouse(con, scope)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.close()
    gx_files = scrub_files(settings.gx_dir, scope)
    if gx_files:
        removed["files.gx (files scrubbed)"] = gx_files
    for f in files:
        if f.rows_removed:
            name = f"landing.{f.table or '(outside the table folders)'}"
            removed[name] = removed.get(name, 0) + f.rows_removed
    return removed, files, before


def _record(settings: Settings, ids: list[str], reason: str, erasure_id: str, key: str, result, before) -> None:
    """Step 6: the audit.erasures rows, with the row count changes of the rebuilt models."""
    con = connect_warehouse(settings.warehouse)
    try:
        after = table_counts(con)
        for name, n in sorted(before.items()):
            if name.split(".")[0] in ("raw", "audit", "erasure") or name in result.rows_removed:
                continue
            if n > after.get(name, 0):
                result.rows_removed[name] = n - after.get(name, 0)
        removed = json.dumps(dict(sorted(result.rows_removed.items())))
        now = _now()
        for cid in ids:
            con.execute(
                "insert into audit.erasures values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    erasure_id,
                    keyed_hash(key, CUSTOMER, cid),
                    reason,
                    now,
                    now,
                    removed,
                    len(result.files_rewritten),
                    "erased",
                ],
            )
    finally:
        con.close()


def compact_warehouse(path: Path) -> None:
    """Copy the working database into a new file and swap it in atomically: DuckDB leaves the bytes of deleted
    rows in freed blocks of the file until they are reused; the copy holds only what is still there."""
    import contextlib

    tmp = path.parent / f".{path.name}.compact.tmp"
    tmp.unlink(missing_ok=True)
    con = connect_warehouse(path)
    try:
        con.execute("checkpoint")
        con.execute(f"attach '{tmp}' as __e_compact")
        con.execute(
            'copy from database "' + con.execute("select current_database()").fetchone()[0] + '" to __e_compact'
        )
        con.execute("detach __e_compact")
    except BaseException:
        con.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    con.close()
    swap_in(tmp, path)


def forget(
    settings: Settings, ids: list[str], reason: str = "", console: Console | None = None, force: bool = False
) -> ErasureResult:
    """Erase ``ids`` everywhere (module docstring); raises PublicationRefused when the gate blocked."""
    console = console or Console()
    ids = clean_ids(ids)
    if not settings.landing.is_dir():
        raise ErasureError(
            f"landing folder {settings.landing} does not exist: point --landing / EMPATHY_LANDING at the folder the "
            "pipeline loads, so that its files are cleaned too"
        )
    reason = (reason or "").strip()[:MAX_REASON]
    erasure_id = new_run_id()
    result = ErasureResult(erasure_id=erasure_id, customers=len(ids))
    with run_lock(settings), recorded_run(settings, erasure_id, "empathy forget", f"{len(ids)} customer(s)") as rec:
        key = erasure_key(settings, create=True)
        removed, files, before = _erase_stored(settings, ids, erasure_id, key)
        result.rows_removed, result.landing_files = removed, files
        console.print(
            f"erasure {erasure_id}: {sum(removed.values()):,} rows removed from landing, raw and audit; "
            f"{len(result.files_rewritten)} landing file(s) rewritten"
        )
        for f in (f for f in files if f.error):
            console.print(
                f"[yellow]not checked:[/yellow] landing file {f.rel}: {f.error}; it may still hold the customer(s): "
                "replace or remove it and run `empathy forget` again"
            )
        report = ingest_step(settings, console, erasure_id)
        build_step(settings, console, run_id=erasure_id, full_refresh=True)
        _record(settings, ids, reason, erasure_id, key, result, before)
        compact_warehouse(settings.warehouse)
        if not report.ok and not force:
            message = (
                f"erased {len(ids)} customer(s) from the landing files and the working database, but the gate "
                f"blocked publication, so the published database {settings.published} still holds them.\n"
                f"{report.blocked_message()}\nFix the landing files and run `empathy run`, or publish now with "
                "`empathy forget ... --force` (recorded in audit.runs)."
            )
            rec.record("blocked_by_gate", f"erasure done, not published: {report.blocked_message()[:500]}")
            raise PublicationRefused(message)
        rec.record("audited", "erasure done; publishing")
        result.published = publish(settings, erasure_id).path
        note = "; --force over a blocked gate" if not report.ok else ""
        rec.record("published", f"{len(ids)} customer(s) erased; {result.published}{note}")
    return result
