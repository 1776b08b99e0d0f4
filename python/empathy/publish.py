"""Write-audit-publish: BI tools read a published database that is replaced atomically.

The working database (settings.warehouse) is private to the pipeline: the gate
loads it and dbt builds in it. Only after the gate and every dbt test pass are
the published schemas copied into a new file next to the published one, which
then replaces it with one rename. Readers that hold the old file keep reading
their version (on POSIX the old inode lives until they close it); new readers
get the new version; a failed or killed build never touches the published file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from empathy.config import Settings

_LOCK_RE = re.compile(r"PID (\d+)")


class WarehouseLocked(RuntimeError):
    pass


def connect_warehouse(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the working database with a clear error when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" not in text.lower():
            raise
        pid = _LOCK_RE.search(text)
        who = f"process {pid.group(1)}" if pid else "another process"
        cmdline = ""
        if pid:
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{pid.group(1)}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        raise WarehouseLocked(
            f"the working database {path} is locked by {who}"
            + (f" ({cmdline})" if cmdline else "")
            + ". Only the pipeline may open it; dashboards and ad-hoc queries should read the published copy "
            "(EMPATHY_PUBLISHED). Close that process and re-run."
        ) from exc


@contextlib.contextmanager
def run_lock(settings: Settings):
    """One pipeline run at a time per EMPATHY_HOME."""
    settings.home.mkdir(parents=True, exist_ok=True)
    lock_path = settings.home / "run.lock"
    with lock_path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise WarehouseLocked(
                f"another empathy run holds {lock_path} (pid {holder}); wait for it to finish"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]
    seconds: float
    published_at: datetime


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish(settings: Settings, run_id: str, schemas: list[str] | None = None) -> PublishResult:
    """Copy the published schemas of the working database into a new file and swap it in atomically."""
    start = time.monotonic()
    schemas = schemas or list(settings.options["publish"]["schemas"])
    target = settings.published
    target.parent.mkdir(parents=True, exist_ok=True)
    # Leftovers of killed publishes are never read; remove them.
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        with contextlib.suppress(OSError):
            stale.unlink()
    tmp = target.parent / f".{target.name}.{run_id}.tmp"
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    counts: dict[str, int] = {}
    con = connect_warehouse(settings.warehouse, read_only=True)
    try:
        con.execute(f"attach '{tmp}' as pub (read_only false)")
        rows = con.execute(
            """
            select table_schema, table_name, table_comment
            from (
                select schema_name as table_schema, table_name, comment as table_comment
                from duckdb_tables()
                where database_name = current_database()
            )
            where table_schema in (select unnest(?::varchar[]))
              -- leftovers of a killed dbt build are never published
              and not suffix(table_name, '__dbt_tmp') and not suffix(table_name, '__dbt_backup')
            order by 1, 2
            """,
            [schemas],
        ).fetchall()
        if not rows:
            raise RuntimeError(f"nothing to publish: no tables in schemas {schemas} of {settings.warehouse}")
        for schema in sorted({r[0] for r in rows}):
            con.execute(f"create schema if not exists pub.{_quote(schema)}")
        for schema, name, comment in rows:
            qualified = f"{_quote(schema)}.{_quote(name)}"
            con.execute(f"create table pub.{qualified} as select * from {qualified}")
            counts[f"{schema}.{name}"] = con.execute(f"select count(*) from pub.{qualified}").fetchone()[0]
            if comment:
                con.execute(f"comment on table pub.{qualified} is {_literal(comment)}")
            for col, col_comment in con.execute(
                """
                select column_name, comment from duckdb_columns()
                where database_name = current_database() and schema_name = ? and table_name = ?
                  and comment is not null
                """,
                [schema, name],
            ).fetchall():
                con.execute(f"comment on column pub.{qualified}.{_quote(col)} is {_literal(col_comment)}")
        con.execute("create schema if not exists pub.meta")
        con.execute(
            "create table pub.meta.publication as "
            "select ?::varchar as run_id, ?::timestamp as published_at, ?::varchar as source_warehouse, "
            "?::bigint as tables_published, ?::bigint as rows_published",
            [run_id, published_at, str(settings.warehouse), len(counts), sum(counts.values())],
        )
        con.execute("checkpoint pub")
        con.execute("detach pub")
    except BaseException:
        con.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    con.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)  # atomic on POSIX: readers see the old or the new file, never a mix
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return PublishResult(path=target, tables=counts, seconds=time.monotonic() - start, published_at=published_at)


def published_run_id(path: Path) -> str | None:
    """The run id of the published database, or None when nothing is published yet."""
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select run_id from meta.publication").fetchone()[0]
    finally:
        con.close()
