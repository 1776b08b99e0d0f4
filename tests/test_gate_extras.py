"""The gate's registry of extra columns (audit.extra_columns), and the landing folder never being a column."""

from __future__ import annotations

import duckdb
import pytest

from empathy.gate import ingest
from tests.gate_helpers import NOW, customer, order, query, settings_for, ts, write_bytes, write_parquet


@pytest.fixture
def s(tmp_path):
    return settings_for(tmp_path / "home")


def columns(settings, table):
    rows = query(
        settings,
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
        [table],
    )
    return [r[0] for r in rows]


def registry(settings):
    return query(
        settings,
        "select table_name, column_name, source_column_name, data_type, first_seen_file, first_seen_run_id "
        "from audit.extra_columns order by table_name, column_name",
    )


def test_landing_day_folder_is_never_a_column(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
    write_parquet(s.landing, "customers", "2024-06-02", [customer(2)], name="b.parquet")
    write_parquet(s.landing, "orders", "2024-06-02", [order(1)])
    csv = "order_id,customer_id,ordered_at,status,currency,order_total\no2,c1,2024-06-02 11:00:00,placed,EUR,3.5\n"
    write_bytes(s.landing, "orders", "2024-06-03", "orders.csv", csv.encode())
    write_bytes(s.landing, "orders", "2024-06-04", "more.csv", csv.replace("o2", "o3").encode())
    assert ingest(s, now=NOW).ok
    for table in ("customers", "orders"):
        assert "day" not in [c.lower() for c in columns(s, table)]
    assert registry(s) == []


def test_every_extra_column_is_registered_once_with_its_first_sighting(s):
    first = write_parquet(
        s.landing,
        "customers",
        "2024-06-01",
        [{**customer(1), "loyalty_tier": "gold", "score": 7, "_file": "crm.csv"}],
    )
    write_parquet(s.landing, "reviews", "2024-06-01", [])  # no reviews yet: nothing registered for them
    report = ingest(s, now=NOW)
    assert report.ok
    run_1 = report.run_id
    rel = first.relative_to(s.landing).as_posix()
    assert registry(s) == [
        ("customers", "_file_source", "_file", "VARCHAR", rel, run_1),
        ("customers", "loyalty_tier", "loyalty_tier", "VARCHAR", rel, run_1),
        ("customers", "score", "score", "BIGINT", rel, run_1),
    ]
    # A later file: a new extra on another table, and an extra whose type widened to text.
    write_parquet(
        s.landing,
        "customers",
        "2024-06-03",
        [{"customer_id": "c3", "created_at": ts("2024-06-03 10:00:00"), "score": "high"}],
    )
    review = {
        "review_id": "r1",
        "customer_id": "c1",
        "created_at": ts("2024-06-03 10:00:00"),
        "rating": 4,
        "order_id": "o9",
    }
    later = write_parquet(s.landing, "reviews", "2024-06-03", [review], name="r.parquet")
    run_2 = ingest(s, now=NOW).run_id
    assert registry(s) == [
        ("customers", "_file_source", "_file", "VARCHAR", rel, run_1),
        ("customers", "loyalty_tier", "loyalty_tier", "VARCHAR", rel, run_1),
        ("customers", "score", "score", "VARCHAR", rel, run_1),
        ("reviews", "order_id", "order_id", "VARCHAR", later.relative_to(s.landing).as_posix(), run_2),
    ]
    # A run without new files changes nothing.
    ingest(s, now=NOW)
    assert len(registry(s)) == 4


def test_raw_tables_loaded_before_the_registry_are_backfilled_without_the_day_folder(s):
    s.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(s.warehouse))
    con.execute("create schema raw")
    con.execute(
        "create table raw.customers (customer_id varchar, created_at timestamp, household_size bigint, "
        '"day" date, _file varchar, _row_number bigint, _batch_id varchar, _run_id varchar, _loaded_at timestamp)'
    )
    con.close()
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
    assert ingest(s, now=NOW).ok
    assert [r[:4] for r in registry(s)] == [("customers", "household_size", "household_size", "BIGINT")]
