"""Allowed-values (enum) columns are checked as staging reads them: trimmed and lower-cased, nothing more."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from empathy import contract
from empathy.gate.ingest import enum_normalised
from tests.gate_helpers import query, settings_for
from tests.test_gate import assert_nothing_lost, land, quarantine, run

ROOT = Path(__file__).resolve().parents[1]
# Values a source system sends for an enum, including what staging does NOT clean (tabs, inner spaces).
TRICKY = [" SHIPPED ", "Delivered", "\tshipped", "ship ped", "  ", "", "ÉTÉ", "placed\n"]


def _staging_sql(table: contract.Table) -> str:
    """The staging models that read ``table`` from its source, with the shared column macros they call."""
    pattern = re.compile(rf"source_or_empty\('{table.source}', '{table.name}'\)")
    text = "".join(
        p.read_text() for p in (ROOT / "models" / "staging").glob("*/*.sql") if pattern.search(p.read_text())
    )
    if "_columns()" in text:
        text += (ROOT / "macros" / "staging_columns.sql").read_text()
    return text


ENUMS = [
    pytest.param(t, c, id=f"{t.name}.{c.name}") for t in contract.TABLES for c in t.columns if c.allowed is not None
]


@pytest.mark.parametrize(("table", "column"), ENUMS)
def test_gate_normalises_each_enum_exactly_as_its_staging_model(table, column):
    sql = _staging_sql(table)
    found = re.findall(rf"((?:[a-z_]+\()+{column.name}(?:\))+)\s+as\s", sql)
    assert found, (
        f"no staging model cleans {table.name}.{column.name}; the gate normalises it as {enum_normalised('x')}"
    )
    con = duckdb.connect()
    try:
        for expr in set(found):
            for value in TRICKY:
                lit = "'" + value.replace("'", "''") + "'"
                staged, gated = con.execute(
                    f"select {expr.replace(column.name, lit)}, {enum_normalised(lit)}"
                ).fetchone()
                assert staged == gated, (table.name, column.name, expr, value)
    finally:
        con.close()


@pytest.fixture
def s(tmp_path):
    settings = settings_for(tmp_path / "home")
    land(settings, "customers_valid.csv", day="2024-06-01")
    return settings


def test_enum_case_and_spaces_load_and_unknown_values_stay_quarantined(s):
    rel = land(s, "orders_enum_case_and_spaces.csv")
    report = run(s)
    got = {oid: (st, ch) for oid, st, ch in query(s, "select order_id, status, channel from raw.orders")}
    assert got == {"o1": ("shipped", "web"), "o2": ("delivered", "app"), "o5": ("placed", None)}
    q = {r["row_number"]: r for r in quarantine(s, "orders")}
    assert {n: (r["rule"], r["bad_value"]) for n, r in q.items()} == {
        3: ("allowed:status", "lost"),
        4: ("allowed:status", "\tshipped"),  # staging trims spaces only, so a tab stays and the value is unknown
    }
    assert rel in q[3]["message"] and "not one of the allowed values" in q[3]["message"]
    assert '"status":"lost"' in q[3]["row_json"].replace(" ", "")
    f = next(f for f in report.files if f.file == rel)
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 3, 2)
    assert_nothing_lost(s)
