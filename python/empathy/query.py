"""`empathy query`: read the published database and nothing else.

The connection is read-only and sandboxed: no file system access (no COPY TO, no read_csv of
other files, no ATTACH), no extension install or load, and the configuration is locked so a
query cannot switch any of that back on.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

FORMATS = ("table", "csv", "json")
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


class QueryError(RuntimeError):
    """The query cannot run; the message says why and what to do."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]


def connect_published(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only, sandboxed connection to the published database."""
    if not path.exists():
        raise QueryError(f"nothing published yet at {path}; run `empathy run` first")
    try:
        return duckdb.connect(str(path), read_only=True, config=SANDBOX)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise QueryError(f"cannot open the published database {path}: {exc}") from exc
        raise QueryError(
            f"the published database {path} is held open for writing by another process, so it cannot be read "
            f"now ({str(exc).splitlines()[0]}). The pipeline never writes this file in place: close the program "
            "that opened it read-write (e.g. a `duckdb` shell without -readonly) and re-run the query."
        ) from exc


def run_query(path: Path, sql: str) -> QueryResult | None:
    """Run ``sql`` on the published database; None when the last statement returns no rows."""
    con = connect_published(path)
    try:
        rel = con.sql(sql)
        if rel is None:
            return None
        return QueryResult(columns=list(rel.columns), rows=rel.fetchall())
    except duckdb.PermissionException as exc:
        raise QueryError(
            f"refused: {str(exc).splitlines()[0]}. `empathy query` only reads the published database; it does "
            "not read or write other files, attach databases or install extensions. Use a DuckDB client of "
            "your own for that."
        ) from exc
    except duckdb.InvalidInputException as exc:
        raise QueryError(f"refused: {exc}. `empathy query` is read-only and its settings are locked.") from exc
    except duckdb.Error as exc:
        raise QueryError(str(exc)) from exc
    finally:
        con.close()


def _cell(value: object) -> object:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def to_csv(result: QueryResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([["" if v is None else _cell(v) for v in row] for row in result.rows])
    return out.getvalue()


def _json_cell(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, Decimal):
        return float(value)
    return _cell(value)


def to_json(result: QueryResult) -> str:
    records = [dict(zip(result.columns, (_json_cell(v) for v in row), strict=True)) for row in result.rows]
    return json.dumps(records, indent=2, ensure_ascii=False)
