"""Copies of one version of a record: the first copy is kept, the others are quarantined.

A version of a record is its key and its ``updated_column`` (its key alone in tables without one). Among
the valid rows of this run and the rows already in ``raw.<table>`` (from files other than the ones read
again now), the copies of one version are ordered: rows already loaded first (by load time, file, row),
then this run's files in landing order and rows in file order. The first copy is kept; every later copy
is quarantined under one of three rules, by what it is against the kept copy:

* ``duplicate_resent``: same content, another file (a record or file sent again). Not a failure: it does
  not count towards the file's failure rate, but it is quarantined so that every row read is accounted for.
* ``duplicate_key``: same content, the same file (the export repeats a line). Counts as a failure.
* ``conflict``: other content under the same key and version (a changed amount with the same
  ``updated_at``). Counts as a failure; the detail names the kept copy and every column that differs.

Content is the contract's columns after type coercion and enum normalisation, so a record sent once as
CSV and once as Parquet is the same record; extra columns are not compared.
"""

from __future__ import annotations

import duckdb

from empathy import contract
from empathy.gate.read import FILES, lit, q

DUPLICATE_RESENT = "duplicate_resent"
DUPLICATE_KEY = "duplicate_key"
CONFLICT = "conflict"
RULES = (DUPLICATE_KEY, DUPLICATE_RESENT, CONFLICT)
# Counts towards the file's failure rate (a resent copy does not).
COUNTS = {DUPLICATE_KEY: True, DUPLICATE_RESENT: False, CONFLICT: True}
SHOWN_CHARS = 60  # of each differing value in a conflict's detail

_GROUPS = "__g_dup_groups"
_COPIES = "__g_dup_copies"


def _shown(expr: str) -> str:
    text = f"cast({expr} as varchar)"
    return (
        f"coalesce('''' || case when length({text}) > {SHOWN_CHARS} then left({text}, {SHOWN_CHARS}) || '...' "
        f"else {text} end || '''', 'empty')"
    )


def _raw_exists(con: duckdb.DuckDBPyConnection, table: contract.Table) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and not temporary",
            [contract.RAW_SCHEMA, table.name],
        ).fetchone()[0]
    )


def quarantine_copies(
    con: duckdb.DuckDBPyConnection,
    table: contract.Table,
    typed: str,
    fails: str,
    rereads: list[str],
    rank,
) -> dict[str, int]:
    """Insert every later copy of a version into ``fails``; returns the rows found per rule.

    ``typed`` holds this run's coerced rows, ``fails`` the rows already failing a rule (never a kept copy),
    ``rereads`` the landing files read in this run (their earlier rows in raw are about to be replaced, so
    they are not "already loaded"), ``rank(rule)`` the rule's rank.
    """
    key = q(table.key)
    upd = q(table.updated_column) if table.updated_column else None
    version = f"t.{upd}" if upd else "null::timestamp"
    raw = f"{contract.RAW_SCHEMA}.{q(table.name)}"
    cols = [q(c.name) for c in table.columns]
    valid = (
        f"select t.__g_ord, t.__g_row, t.{key} as __k, {version} as __u, {', '.join(f't.{c}' for c in cols)} "
        f"from {typed} t where t.{key} is not null and not exists "
        f"(select 1 from {fails} b where b.__g_ord = t.__g_ord and b.__g_row = t.__g_row)"
    )
    has_raw = _raw_exists(con, table)
    earlier = ""
    if has_raw:
        # A raw table of an older layout may lack a contract column (added at load): NULL there.
        present = {r[0].lower() for r in con.execute(f"describe {raw}").fetchall()}
        at = {
            c.name: (f"r.{qc}" if c.name.lower() in present else f"null::{c.duckdb_type}")
            for c, qc in zip(table.columns, cols, strict=True)
        }
        raw_version = at[table.updated_column] if upd else "null::timestamp"
        earlier = (
            f"select 0 as __src, null::integer as __g_ord, r._row_number as __g_row, r._file as __file, "
            f"r._loaded_at as __loaded, r.{key} as __k, {raw_version} as __u, "
            + ", ".join(f"{at[c.name]} as {qc}" for c, qc in zip(table.columns, cols, strict=True))
            + f" from {raw} r where r._file not in (select unnest(?::varchar[]))"
        )
    # Versions with more than one copy: twice in this run, or in this run and already loaded.
    con.execute(
        f"create or replace temp table {_GROUPS} as "
        f"with v as ({valid}) select __k, __u from v group by __k, __u having count(*) > 1"
        + (
            f" union select distinct v.__k, v.__u from v join ({earlier}) e "
            "on e.__k = v.__k and e.__u is not distinct from v.__u"
            if has_raw
            else ""
        ),
        [rereads] if has_raw else [],
    )
    if not con.execute(f"select count(*) from {_GROUPS}").fetchone()[0]:
        con.execute(f"drop table {_GROUPS}")
        return dict.fromkeys(RULES, 0)
    now_copies = (
        f"select 1 as __src, v.__g_ord, v.__g_row, f.rel as __file, null::timestamp as __loaded, v.* "
        f"exclude (__g_ord, __g_row) from ({valid}) v join {FILES} f on f.ord = v.__g_ord"
    )
    union = f"{earlier} union all by name {now_copies}" if has_raw else now_copies
    con.execute(
        f"""
        create or replace temp table {_COPIES} as
        select c.*, row_number() over (
            partition by c.__k, c.__u order by c.__src, c.__loaded, c.__g_ord, c.__file, c.__g_row
        ) as __rk
        from ({union}) c semi join {_GROUPS} g on g.__k = c.__k and g.__u is not distinct from c.__u
        """,
        [rereads] if has_raw else [],
    )
    differs = [f"a.{c} is distinct from k.{c}" for c in cols]
    diff_detail = (
        "concat_ws('; ', "
        + ", ".join(
            f"case when a.{qc} is distinct from k.{qc} then {lit(c.name + ': ')} || {_shown('a.' + qc)} || ' here, ' "
            f"|| {_shown('k.' + qc)} || ' kept' end"
            for c, qc in zip(table.columns, cols, strict=True)
        )
        + ")"
    )
    kept = (
        "'the kept copy is ' || k.__file || ' row ' || k.__g_row"
        " || case when k.__src = 0 then ' (loaded ' || strftime(k.__loaded, '%Y-%m-%d %H:%M') || ')' else '' end"
    )
    con.execute(
        f"""
        insert into {fails}
        with d as (
            select a.__g_ord, a.__g_row, k.__src as k_src, k.__g_ord as k_ord, {kept} as kept,
                   {" or ".join(differs)} as differs, {diff_detail} as what
            from {_COPIES} a join {_COPIES} k on k.__k = a.__k and k.__u is not distinct from a.__u and k.__rk = 1
            where a.__src = 1 and a.__rk > 1
        ),
        r as (
            select *, case when differs then {lit(CONFLICT)}
                           when k_src = 1 and k_ord = __g_ord then {lit(DUPLICATE_KEY)}
                           else {lit(DUPLICATE_RESENT)} end as rule
            from d
        )
        select __g_ord, __g_row, rule, {lit(table.key)},
               case rule when {lit(CONFLICT)} then {rank(CONFLICT)} when {lit(DUPLICATE_KEY)} then {rank(DUPLICATE_KEY)}
                         else {rank(DUPLICATE_RESENT)} end,
               kept || case when differs then '; it differs in ' || what else '' end,
               rule <> {lit(DUPLICATE_RESENT)}
        from r
        """
    )
    found = dict(con.execute(f"select rule, count(*) from {fails} where rule in {RULES} group by 1").fetchall())
    con.execute(f"drop table {_COPIES}")
    con.execute(f"drop table {_GROUPS}")
    return {rule: int(found.get(rule, 0)) for rule in RULES}
