"""The working database without the customers of one erasure: raw.*, audit.quarantine, the values sampled in
audit.gate_results; and the tombstones (keyed hashes) the gate applies on every later load."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from empathy import contract
from empathy.erasure.keys import keyed_hash
from empathy.erasure.scope import RAW, Scope, lit, match_sql, q, quarantined_value, raw_value, table_exists

TOMBSTONES = "erasure.tombstones"
TOMBSTONES_DDL = "erasure_id varchar, kind varchar, key_hash varchar, created_at timestamp"
ERASURES_DDL = """
    erasure_id varchar, customer_key_hash varchar, reason varchar, requested_at timestamp, finished_at timestamp,
    rows_removed varchar, landing_files_rewritten bigint, status varchar
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists erasure")
    con.execute(f"create table if not exists {TOMBSTONES} ({TOMBSTONES_DDL})")
    con.execute("create schema if not exists audit")
    con.execute(f"create table if not exists audit.erasures ({ERASURES_DDL})")


def write_tombstones(con: duckdb.DuckDBPyConnection, scope: Scope, key: str, erasure_id: str, now: datetime) -> int:
    """One tombstone per (kind, value) not yet tombstoned; returns how many were added."""
    rows = [(erasure_id, kind, keyed_hash(key, kind, value), now) for kind, value in scope.rows()]
    con.execute(
        "create or replace temp table __e_new (erasure_id varchar, kind varchar, key_hash varchar, created_at timestamp)"
    )
    if rows:
        con.executemany("insert into __e_new values (?, ?, ?, ?)", rows)
    added = con.execute(
        f"select count(*) from (select distinct kind, key_hash from __e_new) n "
        f"where not exists (select 1 from {TOMBSTONES} t where t.kind = n.kind and t.key_hash = n.key_hash)"
    ).fetchone()[0]
    con.execute(
        f"insert into {TOMBSTONES} select any_value(erasure_id), kind, key_hash, any_value(created_at) from __e_new n "
        f"where not exists (select 1 from {TOMBSTONES} t where t.kind = n.kind and t.key_hash = n.key_hash) "
        "group by kind, key_hash"
    )
    con.execute("drop table __e_new")
    return added


def _delete(con: duckdb.DuckDBPyConnection, relation: str, where: str) -> int:
    n = con.execute(f"select count(*) from {relation} where {where}").fetchone()[0]
    if n:
        con.execute(f"delete from {relation} where {where}")
    return n


def purge_warehouse(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, int]:
    """Delete the scope's rows from raw.* and audit.quarantine; scrub audit.gate_results. Rows removed per table."""
    counts: dict[str, int] = {}
    scope.load(con)
    has_quarantine = table_exists(con, "audit", "quarantine")
    quarantined = 0
    for table in contract.load_order():
        if table_exists(con, RAW, table.name):
            cond = match_sql(table, raw_value)
            if cond:
                counts[f"raw.{table.name}"] = _delete(con, f"{RAW}.{q(table.name)}", cond)
        cond = match_sql(table, quarantined_value)
        if has_quarantine and cond:
            quarantined += _delete(con, "audit.quarantine", f"table_name = {lit(table.name)} and ({cond})")
    if has_quarantine:
        # Malformed CSV lines are kept as {"line": ...}: one of its fields is an id of the scope.
        quarantined += _delete(
            con,
            "audit.quarantine",
            "json_extract_string(row_json, '$.line') is not null and list_has_any("
            "list_transform(string_split(json_extract_string(row_json, '$.line'), ','), x -> trim(x, ' \"')), "
            "(select list(value) from __e_scope))",
        )
    counts["audit.quarantine"] = quarantined
    counts["audit.gate_results (sampled values removed)"] = scrub_gate_results(con, scope)
    return {k: v for k, v in counts.items() if v}


PREFIX = 60  # samples of long values are shortened; a text is known by its first characters


def _holds(value: object, identifying: set[str], prefixes: set[str]) -> bool:
    text = str(value)
    return text[:PREFIX] in prefixes or any(v in text for v in identifying)


def scrub_gate_results(con: duckdb.DuckDBPyConnection, scope: Scope) -> int:
    """Remove the scope's values from the samples of failing values in audit.gate_results.details."""
    if not table_exists(con, "audit", "gate_results"):
        return 0
    identifying = scope.identifying()
    texts = {t[:PREFIX] for t in scope.texts}
    if not identifying and not texts:
        return 0
    changed = 0
    rows = con.execute(
        "select rowid, details from audit.gate_results where details like '%partial_unexpected%'"
    ).fetchall()
    for rowid, details in rows:
        try:
            parsed = json.loads(details)
        except (TypeError, ValueError):
            continue
        sample = parsed.get("partial_unexpected") if isinstance(parsed, dict) else None
        if not isinstance(sample, list):
            continue
        kept = [v for v in sample if not _holds(v, identifying, texts)]
        if len(kept) != len(sample):
            parsed["partial_unexpected"] = kept
            con.execute("update audit.gate_results set details = ? where rowid = ?", [json.dumps(parsed), rowid])
            changed += len(sample) - len(kept)
    return changed
