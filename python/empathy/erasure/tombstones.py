"""The gate's erasure filter: rows a tombstone names are dropped as a file is read, and counted as erased.

A re-sent export that still holds an erased customer does not bring them back: before any check, every row of
``__g_src`` whose linking column (customer id, or the key of one of their orders, tickets, invitations, their
handle) hashes to a tombstone is removed, and its file's ``rows_erased`` counts it, so that
rows_loaded + rows_quarantined + rows_erased = rows_read holds in audit.load_log.
"""

from __future__ import annotations

import duckdb

from empathy import contract
from empathy.config import Settings
from empathy.erasure.keys import erasure_key, keyed_hash_sql
from empathy.erasure.links import column_kinds
from empathy.erasure.purge import TOMBSTONES
from empathy.gate.read import SRC, FileRead, lit, q

HITS = "__g_erased"  # the gate drops every __g_* temp table when it ends


def tombstoned_kinds(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Kinds with at least one tombstone; empty when no erasure ever ran."""
    try:
        return {r[0] for r in con.execute(f"select distinct kind from {TOMBSTONES}").fetchall()}
    except duckdb.CatalogException:
        return set()


def drop_erased(con: duckdb.DuckDBPyConnection, settings: Settings, table: contract.Table, reads: list[FileRead]):
    """Remove the tombstoned rows of ``table`` from the gate's read; set ``rows_erased`` on each file.

    Only the distinct values of each linking column are hashed (a few per customer), not every row."""
    kinds = tombstoned_kinds(con)
    if not kinds:
        return
    by_lower = {r[0].lower(): r[0] for r in con.execute(f"describe {SRC}").fetchall()}
    linked = [
        (f"cast({q(by_lower[col.lower()])} as varchar)", kind)
        for col, kind in column_kinds(table).items()
        if kind in kinds and col.lower() in by_lower
    ]
    if not linked:
        return
    key = lit(erasure_key(settings))
    con.execute(f"create or replace temp table {HITS} (link integer, value varchar)")
    for i, (value, kind) in enumerate(linked):
        con.execute(
            f"insert into {HITS} select {i}, v from (select distinct {value} as v from {SRC}) "
            f"where v is not null and {keyed_hash_sql(key, lit(kind), 'v')} in "
            f"(select key_hash from {TOMBSTONES} where kind = {lit(kind)})"
        )
    where = " or ".join(
        f"({value} in (select value from {HITS} where link = {i}))" for i, (value, _) in enumerate(linked)
    )
    counts = dict(con.execute(f"select __g_ord, count(*) from {SRC} where {where} group by 1").fetchall())
    if counts:
        con.execute(f"delete from {SRC} where {where}")
    con.execute(f"drop table {HITS}")
    for fr in reads:
        fr.rows_erased = int(counts.get(fr.ord, 0))
