"""Write-audit-publish: BI tools read a published database that is replaced atomically.

The working database (settings.warehouse) is private to the pipeline: the gate
loads it and dbt builds in it. Only after the gate and every dbt test pass are
the published schemas copied into a new file next to the published one, which
then replaces it with one rename. Readers that hold the old file keep reading
their version (on POSIX the old inode lives until they close it); new readers
get the new version; a failed or killed build never touches the published file.

The copy is the privacy boundary (empathy.privacy): every customer id column
(and every key built from one, e.g. customer_day_id) is replaced by its keyed
hash, every other text column is redacted (e-mails, phones, IBANs, cards,
street addresses masked; identifier columns are left as they are), and
audit.quarantine loses the raw row and the bad value. The lookup from key to
customer id goes to a separate restricted file for the contact centre only.
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
from empathy.privacy import hmac_sql, redact, redaction_guard_sql, resolve_salt

_LOCK_RE = re.compile(r"PID (\d+)")
# A column naming a customer, or a key built from one (customer_day_id, customer_version_id): published keyed.
CUSTOMER_ID_COLUMN = re.compile(r"(.*_)?customer(_.*)?_id")
# So is any other identifier column with a customer id as a whole value or a ':'-separated part of one
# (explanation_id = '<customer_id>:<date>:<driver>:<rank>'), found by its values.
KEY_PART_SEPARATOR = ":"
# Identifiers and hashes are not free text and are published as they are.
IDENTIFIER_COLUMN = re.compile(r"(.*_)?(id|ids|hash|key)")
# Columns of a published table that stay in the working database: the raw row and the bad value.
WITHHELD_COLUMNS = {("audit", "quarantine"): ("row_json", "bad_value", "message")}
# Columns published through an expression: the gate's check details without the sample of unexpected values.
PUBLISHED_AS = {
    ("audit", "gate_results", "details"): "cast(json_object('kwargs', json_extract(details, '$.kwargs'),"
    " 'notes', json_extract(details, '$.notes')) as varchar)",
}


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


def _redact_arrow(values):
    import pyarrow as pa

    return pa.array([redact(v) for v in values.to_pylist()], pa.string())


def _published_select(con: duckdb.DuckDBPyConnection, schema: str, name: str, salt: str) -> str:
    """The select list of a table's published copy: customer ids keyed, free text redacted, raw rows withheld."""
    items = []
    withheld = WITHHELD_COLUMNS.get((schema, name), ())
    for column, data_type in con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = current_database()"
        " and schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall():
        quoted = _quote(column)
        lower = column.lower()
        if lower in withheld:
            continue
        if (schema, name, lower) in PUBLISHED_AS:
            items.append(f"{PUBLISHED_AS[(schema, name, lower)]} as {quoted}")
        elif CUSTOMER_ID_COLUMN.fullmatch(lower) or (
            data_type == "VARCHAR"
            and IDENTIFIER_COLUMN.fullmatch(lower)
            and _holds_customer_ids(con, schema, name, column)
        ):
            items.append(f"{hmac_sql(quoted, salt)} as {quoted}")
        elif data_type == "VARCHAR" and not IDENTIFIER_COLUMN.fullmatch(lower):
            items.append(
                f"case when {redaction_guard_sql(quoted)} then empathy_redact({quoted}) else {quoted} end as {quoted}"
            )
        else:
            items.append(quoted)
    return ", ".join(items)


def _holds_customer_ids(con: duckdb.DuckDBPyConnection, schema: str, name: str, column: str) -> bool:
    """Whether any value of the column is, or has as a ':'-separated part, an id of published_customer_ids."""
    return con.execute(
        f"select exists (select 1 from (select distinct unnest(string_split({_quote(column)}, ?)) as part"
        f" from {_quote(schema)}.{_quote(name)}) where part in (select customer_id from published_customer_ids))",
        [KEY_PART_SEPARATOR],
    ).fetchone()[0]


def _collect_customer_ids(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> None:
    """Temp table published_customer_ids: every value of the `customer_id` columns of the tables to publish."""
    sources = [
        f"select cast(customer_id as varchar) as customer_id from {_quote(schema)}.{_quote(name)}"
        for schema, name in tables
        if con.execute(
            "select count(*) from duckdb_columns() where database_name = current_database()"
            " and schema_name = ? and table_name = ? and lower(column_name) = 'customer_id'",
            [schema, name],
        ).fetchone()[0]
    ]
    union = " union ".join(sources) if sources else "select null::varchar as customer_id where false"
    con.execute(
        "create or replace temp table published_customer_ids as"
        f" select distinct customer_id from ({union}) where customer_id is not null"
    )


def publish(settings: Settings, run_id: str, schemas: list[str] | None = None) -> PublishResult:
    """Copy the published schemas of the working database into a new file and swap it in atomically;
    write the restricted contact-centre lookup beside it (settings.restricted)."""
    start = time.monotonic()
    salt = resolve_salt(settings.landing)  # no salt, no publication (outside the demo world)
    schemas = schemas or list(settings.options["publish"]["schemas"])
    target = settings.published
    restricted = settings.restricted
    target.parent.mkdir(parents=True, exist_ok=True)
    restricted.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(restricted.parent, 0o700)
    # Leftovers of killed publishes are never read; remove them.
    for path in (target, restricted):
        for stale in path.parent.glob(f".{path.name}.*.tmp*"):
            with contextlib.suppress(OSError):
                stale.unlink()
    tmp = target.parent / f".{target.name}.{run_id}.tmp"
    restricted_tmp = restricted.parent / f".{restricted.name}.{run_id}.tmp"
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    con = connect_warehouse(settings.warehouse, read_only=True)
    try:
        con.create_function("empathy_redact", _redact_arrow, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False)
        con.execute(f"attach '{tmp}' as pub (read_only false)")
        counts = _copy_published(con, settings, schemas, salt)
        con.execute("create schema if not exists pub.meta")
        con.execute(
            "create table pub.meta.publication as "
            "select ?::varchar as run_id, ?::timestamp as published_at, ?::varchar as source_warehouse, "
            "?::bigint as tables_published, ?::bigint as rows_published",
            [run_id, published_at, str(settings.warehouse), len(counts), sum(counts.values())],
        )
        con.execute("checkpoint pub")
        con.execute("detach pub")
        _write_restricted(con, restricted_tmp, salt, run_id, published_at)
    except BaseException:
        con.close()
        for path in (tmp, restricted_tmp):
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    con.close()
    swap_in(restricted_tmp, restricted)
    swap_in(tmp, target)
    return PublishResult(path=target, tables=counts, seconds=time.monotonic() - start, published_at=published_at)


def _copy_published(con: duckdb.DuckDBPyConnection, settings: Settings, schemas: list[str], salt: str) -> dict:
    """Copy every table and view of `schemas` into the attached `pub` (a view as a table of its rows) as BI may
    read it; {schema.table: rows}."""
    rows = con.execute(
        """
        select table_schema, table_name, table_comment
        from (
            select schema_name as table_schema, table_name, comment as table_comment
            from duckdb_tables()
            where database_name = current_database()
            union all
            -- a view (rpt_contact_centre_lookup) is published as a table of what it shows at publication
            select schema_name, view_name, comment
            from duckdb_views()
            where database_name = current_database() and not internal
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
    counts: dict[str, int] = {}
    _collect_customer_ids(con, [(schema, name) for schema, name, _ in rows])
    for schema in sorted({r[0] for r in rows}):
        con.execute(f"create schema if not exists pub.{_quote(schema)}")
    for schema, name, comment in rows:
        qualified = f"{_quote(schema)}.{_quote(name)}"
        select = _published_select(con, schema, name, salt)
        con.execute(f"create table pub.{qualified} as select {select} from {qualified}")
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
            if col.lower() not in WITHHELD_COLUMNS.get((schema, name), ()):
                con.execute(f"comment on column pub.{qualified}.{_quote(col)} is {_literal(col_comment)}")
    return counts


def _write_restricted(
    con: duckdb.DuckDBPyConnection, path: Path, salt: str, run_id: str, published_at: datetime
) -> None:
    """The contact centre's lookup: every customer id of the published tables beside its published key."""
    con.execute(f"attach '{path}' as restricted (read_only false)")
    con.execute(
        "create table restricted.customer_lookup as"
        f" select customer_id, {hmac_sql('customer_id', salt)} as customer_key"
        " from published_customer_ids order by customer_id"
    )
    con.execute(
        "comment on table restricted.customer_lookup is "
        + _literal(
            "Restricted: the real customer id behind each customer_key of the published marts. "
            "For the contact-centre application only (to find a caller's scores); never for BI."
        )
    )
    con.execute(
        "create table restricted.publication as select ?::varchar as run_id, ?::timestamp as published_at",
        [run_id, published_at],
    )
    con.execute("checkpoint restricted")
    con.execute("detach restricted")
    os.chmod(path, 0o600)


def swap_in(tmp: Path, target: Path) -> None:
    """Replace `target` with the finished `tmp` in one atomic rename, durably."""
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


def published_run_id(path: Path) -> str | None:
    """The run id of the published database, or None when nothing is published yet."""
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select run_id from meta.publication").fetchone()[0]
    finally:
        con.close()
