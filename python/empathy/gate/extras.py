"""The registry of extra columns: every column a company sent beyond the contract, as the gate saw it.

``audit.extra_columns`` holds one row per raw table and extra column: its name in ``raw.<table>``, the
name it had in the landing file, its current raw type, and when, in which file and in which run it was
first seen. Staging reads the registry to carry each table's extras through
(``macros/extra_columns.sql``) and ``empathy contract sources`` writes them into the dbt source files,
marked as extras. The landing folder (``day=YYYY-MM-DD``) is never a column, so it never appears here.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from empathy import contract
from empathy.gate.read import FileRead

TABLE = "audit.extra_columns"
DDL = """
    table_name varchar, column_name varchar, source_column_name varchar, data_type varchar,
    first_seen_at timestamp, first_seen_file varchar, first_seen_run_id varchar
"""
# The landing partition key: gates before the registry read it as a DATE column from the folder name.
PARTITION_KEY = "day"


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create table if not exists {TABLE} ({DDL})")


def _raw_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, tuple[str, str]]:
    """lower(name) -> (name, type) of the columns of raw.<table>."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [contract.RAW_SCHEMA, table],
    ).fetchall()
    return {n.lower(): (n, t) for n, t in rows}


def _registered(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """lower(column_name) -> data_type of the registered extras of ``table``."""
    rows = con.execute(f"select column_name, data_type from {TABLE} where table_name = ?", [table]).fetchall()
    return {n.lower(): t for n, t in rows}


def record(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table,
    extras: list[tuple[str, str, str]],
    reads: list[FileRead],
    run_id: str,
    now: datetime,
) -> None:
    """Register the extras (source name, raw name, type) of one load; call after raw.<table> has them."""
    if not extras:
        return
    raw = _raw_types(con, table.name)
    known = _registered(con, table.name)
    for source_name, raw_name, _ in extras:
        data_type = raw[raw_name.lower()][1]
        if raw_name.lower() in known:
            if known[raw_name.lower()] != data_type:  # widened to text by the loader
                con.execute(
                    f"update {TABLE} set data_type = ? where table_name = ? and lower(column_name) = ?",
                    [data_type, table.name, raw_name.lower()],
                )
            continue
        first = next((fr.file.rel for fr in reads if source_name.lower() in {c.lower() for c in fr.columns}), None)
        con.execute(
            f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [table.name, raw[raw_name.lower()][0], source_name, data_type, now, first, run_id],
        )


def backfill(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
    """Register the extras of raw tables loaded before the registry existed.

    A DATE column named ``day`` is the landing folder that earlier gates read as a column: not registered.
    """
    metadata = {"_file", "_row_number", "_batch_id", "_run_id", "_loaded_at"}
    for table in contract.TABLES:
        raw = _raw_types(con, table.name)
        if not raw:
            continue
        known = _registered(con, table.name)
        skip = {c.lower() for c in table.column_names} | metadata | set(known)
        for low, (name, data_type) in raw.items():
            if low in skip or (low == PARTITION_KEY and data_type.upper() == "DATE"):
                continue
            con.execute(
                f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?)",
                [table.name, name, name, data_type, now, None, run_id],
            )


def registry_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(table, column, type) of every registered extra, by table and first sighting; [] without a registry."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'audit' and table_name = 'extra_columns'"
    ).fetchone()[0]
    if not exists:
        return []
    return [
        (t, c, d)
        for t, c, d in con.execute(
            f"select table_name, column_name, data_type from {TABLE} "
            "order by table_name, first_seen_at, lower(column_name)"
        ).fetchall()
    ]
