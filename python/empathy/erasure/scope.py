"""Everything that identifies the customers of one erasure: their ids, the keys of their rows that other tables
refer to, and (for scrubbing messages) their personal values and texts.

Found in raw.* and audit.quarantine (the rows the gate rejected are theirs too), table by table in the
contract's load order so that an order found in raw.orders takes its items and shipments with it; the landing
files add what they hold beyond the warehouse (landing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from empathy import contract
from empathy.erasure.links import CUSTOMER, carried_kinds, column_kinds

SCOPE_TABLE = "__e_scope"
RAW = contract.RAW_SCHEMA


def q(name: str) -> str:
    """Quote an identifier (as the gate does; this package is imported by the gate, so it does not import it)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Scope:
    """kind -> values of one erasure; ``personal`` (e-mails, handles) and ``texts`` only scrub messages."""

    values: dict[str, set[str]] = field(default_factory=dict)
    personal: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)

    def add(self, kind: str, values) -> None:
        for v in values:
            if v is not None and str(v) != "":
                self.values.setdefault(kind, set()).add(str(v))

    def of(self, kind: str) -> set[str]:
        return self.values.get(kind, set())

    def rows(self) -> list[tuple[str, str]]:
        """(kind, value), sorted."""
        return sorted((k, v) for k, vs in self.values.items() for v in vs)

    def identifying(self) -> set[str]:
        """Every id and personal value: what no message may still hold."""
        return {v for vs in self.values.values() for v in vs} | self.personal

    def load(self, con: duckdb.DuckDBPyConnection) -> str:
        """The scope as a temp table (kind, value); returns its name."""
        con.execute(f"create or replace temp table {SCOPE_TABLE} (kind varchar, value varchar)")
        if self.values:
            con.executemany(f"insert into {SCOPE_TABLE} values (?, ?)", self.rows())
        return SCOPE_TABLE


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and not temporary",
            [schema, name],
        ).fetchone()[0]
    )


def raw_value(column: str) -> str:
    return f"cast({q(column)} as varchar)"


def quarantined_value(column: str) -> str:
    return f"json_extract_string(row_json, {lit('$.' + column)})"


def match_sql(table: contract.Table, value_of, available: set[str] | None = None) -> str | None:
    """SQL condition: a row of ``table`` holds a value of the loaded scope in one of its linking columns.

    ``value_of(column)`` gives the column's value as varchar; ``available`` limits the columns (None: all)."""
    conds = [
        f"{value_of(col)} in (select value from {SCOPE_TABLE} where kind = {lit(kind)})"
        for col, kind in column_kinds(table).items()
        if available is None or col in available
    ]
    return " or ".join(f"({c})" for c in conds) or None


def _sources(con: duckdb.DuckDBPyConnection, table: contract.Table) -> list[tuple[str, object, str]]:
    """(relation, value_of, extra condition) of the rows of ``table`` in the warehouse: raw and quarantined."""
    out = []
    if table_exists(con, RAW, table.name):
        out.append((f"{RAW}.{q(table.name)}", raw_value, "true"))
    if table_exists(con, "audit", "quarantine"):
        out.append(("audit.quarantine", quarantined_value, f"table_name = {lit(table.name)}"))
    return out


def find_scope(con: duckdb.DuckDBPyConnection, customer_ids: list[str]) -> Scope:
    """The scope of ``customer_ids`` in the working database (raw.* and audit.quarantine)."""
    scope = Scope()
    scope.add(CUSTOMER, customer_ids)
    for table in contract.load_order():
        carried = carried_kinds(table)
        keep = [c.name for c in table.columns if c.pii]
        texts = [c.name for c in table.columns if c.type == "string" and c.max_length == contract.MAX_TEXT]
        for relation, value_of, where in _sources(con, table):
            scope.load(con)
            cond = match_sql(table, value_of)
            if cond is None:
                continue
            picked = [*carried, *keep, *texts]
            if not picked:
                continue
            cols = ", ".join(value_of(c) for c in picked)
            for row in con.execute(f"select distinct {cols} from {relation} where {where} and ({cond})").fetchall():
                values = dict(zip(picked, row, strict=True))
                for col, kind in carried.items():
                    scope.add(kind, [values[col]])
                scope.personal.update(str(values[c]) for c in keep if values[c])
                scope.texts.update(str(values[c]) for c in texts if values[c])
    return scope
