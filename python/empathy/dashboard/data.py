"""Reading the published database for the dashboard: one short read-only connection per page view.

The dashboard never opens the working database, so it never blocks a build; a page opens the published file
read-only (empathy.query's sandboxed connection) and closes it when drawn, so the next view sees the latest
publication. A table that is absent or empty is a `TableState` whose `message` says why, from
`audit.mart_status` (what the build said of the mart) when it has a word for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from empathy.query import connect_published


@contextlib.contextmanager
def published(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, sandboxed connection to the published database, closed on exit."""
    con = connect_published(path)
    try:
        yield con
    finally:
        con.close()


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """The rows of `sql` as a DataFrame."""
    return con.execute(sql, params or []).df()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first value of the first row of `sql` (None when there is no row)."""
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether `schema.table` is in the published database."""
    schema, _, name = relation.partition(".")
    return bool(
        scalar(
            con,
            "select count(*) from duckdb_tables() where database_name = current_database()"
            " and schema_name = ? and table_name = ?",
            [schema, name],
        )
    )


@dataclass(frozen=True)
class TableState:
    """A published table as a page needs it: how many rows, and in plain words why there are none."""

    relation: str
    rows: int | None  # None: not in the published database
    status: str = ""
    reason: str = ""
    fix: str = ""

    @property
    def ready(self) -> bool:
        return bool(self.rows)

    @property
    def message(self) -> str:
        """Why the table cannot be shown; empty when it can."""
        if self.ready:
            return ""
        if self.rows is None:
            text = f"`{self.relation}` is not in the published database"
            text += f": {self.reason.rstrip('.')}." if self.reason else ": the last publication did not include it."
            return text + (f" {self.fix}" if self.fix else " Run `empathy run` to build and publish it.")
        text = f"`{self.relation}` has no rows"
        if self.status:
            text += f" (status `{self.status}`)"
        text += f": {self.reason.rstrip('.')}." if self.reason else "."
        return text + (f" What would fix it: {self.fix}" if self.fix else "")


def mart_status(con: duckdb.DuckDBPyConnection, model: str) -> dict:
    """The newest row of audit.mart_status for `model` ({} when the build said nothing of it)."""
    if not exists(con, "audit.mart_status"):
        return {}
    rows = frame(
        con,
        "select status, reason, fix from audit.mart_status where model = ? order by recorded_at desc limit 1",
        [model],
    )
    if rows.empty:
        return {}
    row = rows.iloc[0]
    return {key: (row[key] or "") for key in ("status", "reason", "fix")}


def table_state(con: duckdb.DuckDBPyConnection, relation: str) -> TableState:
    """Rows of a published table, with the build's word on it when it is absent or empty."""
    model = relation.partition(".")[2]
    rows = int(scalar(con, f"select count(*) from {relation}")) if exists(con, relation) else None
    said = mart_status(con, model) if not rows else {}
    return TableState(relation=relation, rows=rows, **said)


def publication(con: duckdb.DuckDBPyConnection) -> dict:
    """The run id and time of the published version ({} when meta.publication is absent)."""
    if not exists(con, "meta.publication"):
        return {}
    rows = frame(con, "select run_id, published_at from meta.publication limit 1")
    return {} if rows.empty else rows.iloc[0].to_dict()
