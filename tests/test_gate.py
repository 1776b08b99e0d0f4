"""The data-quality gate and the load into raw: rules, bookkeeping, idempotence, blocking, bad inputs."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from empathy.gate import GateBlocked, build_data_docs, ingest
from empathy.gate import suites as gate_suites
from tests.gate_helpers import NOW, customer, order, query, settings_for, ts, write_bytes, write_parquet

BAD = Path(__file__).parent / "bad_inputs"
DAY = "2024-06-02"


@pytest.fixture
def s(tmp_path):
    return settings_for(tmp_path / "home")


def run(settings, **kw):
    return ingest(settings, now=kw.pop("now", NOW), **kw)


def assert_nothing_lost(settings):
    """For every file: loaded + quarantined = read, and the audit tables agree with raw."""
    bad = query(
        settings,
        "select file, rows_read, rows_loaded, rows_quarantined from audit.load_log "
        "where rows_read <> rows_loaded + rows_quarantined",
    )
    assert bad == []
    current = query(
        settings,
        "select table_name, file, rows_loaded, rows_quarantined, status from audit.load_log "
        "where status not in ('unknown_table') "
        "qualify row_number() over (partition by file order by loaded_at desc) = 1",
    )
    for table, file, loaded, quarantined, status in current:
        if status in ("loaded", "blocked", "empty"):
            exists = query(
                settings,
                "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = ?",
                [table],
            )[0][0]
            in_raw = (
                query(settings, f'select count(*) from raw."{table}" where _file = ?', [file])[0][0] if exists else 0
            )
            assert in_raw == loaded, (file, in_raw, loaded)
        in_q = query(
            settings, "select count(*) from audit.quarantine where file = ? and row_number is not null", [file]
        )[0][0]
        assert in_q == quarantined, (file, in_q, quarantined)


def quarantine(settings, table=None):
    sql = "select file, row_number, rule, rules, column_name, bad_value, message, row_json from audit.quarantine"
    params = []
    if table:
        sql += " where table_name = ?"
        params = [table]
    rows = query(settings, sql + " order by file, row_number", params)
    keys = ("file", "row_number", "rule", "rules", "column_name", "bad_value", "message", "row_json")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def status_of(settings, file_suffix):
    rows = query(
        settings,
        "select status, message from audit.load_log where file like ? order by loaded_at desc limit 1",
        ["%" + file_suffix],
    )
    assert rows, f"no load_log row for {file_suffix}"
    return rows[0]


def snapshot(settings):
    tables = [
        r[0]
        for r in query(
            settings,
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where schema_name in ('raw', 'audit') and table_name <> 'gate_runs' order by 1",
        )
    ]
    return {t: sorted(map(repr, query(settings, f"select * from {t}"))) for t in tables}


# -- valid data ------------------------------------------------------------------------------


def test_valid_data_loads_fully(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(i) for i in range(1, 6)])
    write_parquet(s.landing, "orders", DAY, [order(i, customer_id=f"c{i}") for i in range(1, 6)])
    report = run(s)
    report.raise_if_blocked()
    assert report.ok
    assert query(s, "select count(*) from raw.customers")[0][0] == 5
    assert query(s, "select count(*) from raw.orders")[0][0] == 5
    assert quarantine(s) == []
    rows = {r["table"]: r for r in report.summary_rows()}
    assert rows["orders"] == {
        "table": "orders",
        "files": 1,
        "files_read": 1,
        "rows_read": 5,
        "rows_loaded": 5,
        "rows_quarantined": 0,
        "status": "loaded",
    }
    # Contract types and metadata columns.
    types = dict(query(s, "select column_name, data_type from information_schema.columns where table_name = 'orders'"))
    assert types["order_total"] == "DOUBLE"
    assert types["ordered_at"] == "TIMESTAMP"
    assert types["_row_number"] == "BIGINT"
    meta = query(s, "select _file, _row_number, _batch_id, _run_id from raw.orders order by _row_number limit 1")[0]
    assert meta[0] == f"orders/day={DAY}/part-0.parquet"
    assert meta[1] == 1
    assert len(meta[2]) == 16
    assert meta[3] == report.run_id
    # Optional tables without files stay absent.
    assert query(s, "select count(*) from duckdb_tables() where schema_name = 'raw'")[0][0] == 2
    assert_nothing_lost(s)
    # One gate_results row per check; all passed.
    failed = query(s, "select rule from audit.gate_results where success = false")
    assert failed == []
    assert query(s, "select count(*) from audit.gate_runs")[0][0] == 1


def test_each_rule_quarantines_the_right_rows(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(i) for i in range(1, 4)])
    rows = [
        order(1),  # valid
        order(2, status="lost"),  # allowed
        order(3, order_total=-5.0),  # range
        order(4, currency="EURO"),  # max_length
        order(5, ordered_at=ts("2030-01-01 00:00:00")),  # not_future
        order(6, customer_id="c404"),  # references
        order(7, customer_id=None),  # not_null
        order(8, status="lost", order_total=-1.0),  # two rules
        order(9),  # valid
    ]
    write_parquet(s.landing, "orders", DAY, rows)
    report = run(
        s,
    )
    got = {q["row_number"]: (q["rule"], q["rules"]) for q in quarantine(s, "orders")}
    assert got == {
        2: ("allowed:status", "allowed:status"),
        3: ("range:order_total", "range:order_total"),
        4: ("max_length:currency", "max_length:currency"),
        5: ("not_future:ordered_at", "not_future:ordered_at"),
        6: ("references:customer_id", "references:customer_id"),
        7: ("not_null:customer_id", "not_null:customer_id"),
        8: ("allowed:status", "allowed:status,range:order_total"),
    }
    assert sorted(r[0] for r in query(s, "select order_id from raw.orders")) == ["o1", "o9"]
    q = {r["row_number"]: r for r in quarantine(s, "orders")}
    assert q[2]["bad_value"] == "lost"
    assert q[2]["column_name"] == "status"
    assert "lost" in q[2]["message"] and "Fix:" in q[2]["message"] and f"orders/day={DAY}" in q[2]["message"]
    assert json.loads(q[6]["row_json"])["customer_id"] == "c404"
    results = {
        r[0]: r[1:]
        for r in query(s, "select rule, success, unexpected_count from audit.gate_results where table_name = 'orders'")
    }
    assert results["allowed:status"] == (False, 2)
    assert results["references:customer_id"] == (False, 1)
    assert results["not_null:order_id"] == (True, 0)
    f = next(f for f in report.files if f.table == "orders")
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (9, 2, 7)
    assert_nothing_lost(s)


def test_type_coercion_quarantines_values_that_do_not_cast(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
    t = pa.table(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["c1"] * 5,
            "ordered_at": ["2024-06-02 10:00:00", "2024-06-02T10:00:00+02:00", "31/12/2024", "", "2024-06-02"],
            "status": ["placed"] * 5,
            "order_total": ["1.5", "2", "3", "abc", "NaN"],
            "discount_amount": [0.0, None, 1.0, 0.0, 0.0],
        }
    )
    write_parquet(s.landing, "orders", DAY, t)
    run(s)
    got = {q["row_number"]: q["rules"] for q in quarantine(s, "orders")}
    assert got == {
        3: "type:ordered_at",
        # '' is empty (not a type error) and then fails the not-null rule; 'abc' does not cast.
        4: "type:order_total,not_null:ordered_at",
        5: "type:order_total",
    }
    q = {r["row_number"]: r for r in quarantine(s, "orders")}
    assert q[3]["bad_value"] == "31/12/2024"
    assert q[4]["rule"] == "type:order_total" and q[4]["bad_value"] == "abc"
    loaded = dict(query(s, "select order_id, ordered_at from raw.orders"))
    assert loaded["o2"] == datetime(2024, 6, 2, 8, 0)  # the offset is converted to UTC
    assert loaded["o1"] == datetime(2024, 6, 2, 10, 0)
    assert_nothing_lost(s)


def test_zoned_parquet_timestamps_become_utc(s):
    t = pa.table(
        {
            "customer_id": ["c1"],
            "created_at": pa.array([datetime(2024, 6, 1, 8, 0)], pa.timestamp("us", tz="UTC")).cast(
                pa.timestamp("us", tz="Europe/Berlin")
            ),
        }
    )
    write_parquet(s.landing, "customers", "2024-06-01", t)
    assert run(s).ok
    assert query(s, "select created_at from raw.customers") == [(datetime(2024, 6, 1, 8, 0),)]


def test_integer_columns_reject_fractions(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
    rows = [
        {"review_id": f"r{i}", "customer_id": "c1", "created_at": ts("2024-06-02 10:00:00"), "rating": v}
        for i, v in enumerate(["5", "4.0", "3.5", "seven", "9"], start=1)
    ]
    write_parquet(s.landing, "reviews", DAY, rows)
    run(s)
    got = {q["row_number"]: q["rule"] for q in quarantine(s, "reviews")}
    assert got == {3: "type:rating", 4: "type:rating", 5: "range:rating"}
    assert sorted(query(s, "select rating from raw.reviews")) == [(4,), (5,)]


# -- duplicates ------------------------------------------------------------------------------


def test_versions_are_history_and_copies_of_a_version_keep_the_first(s):
    write_parquet(
        s.landing,
        "customers",
        "2024-06-01",
        [customer(1, segment="consumer"), customer(2), customer(3)],
    )
    write_parquet(
        s.landing,
        "customers",
        "2024-06-05",
        [customer(1, segment="business", updated_at=ts("2024-06-05 09:00:00"))],
    )
    # Same key twice in one file, same updated_at, other content: the first row stays, the second conflicts.
    write_parquet(s.landing, "orders", DAY, [order(1, order_total=1.0), order(1, order_total=2.0), order(2)])
    report = run(s)
    # Two versions of c1 (different updated_at) are history, not duplicates: both are loaded and
    # staging keeps the latest.
    assert sorted(query(s, "select segment from raw.customers where customer_id = 'c1'")) == [
        ("business",),
        ("consumer",),
    ]
    assert query(s, "select order_total from raw.orders where order_id = 'o1'") == [(1.0,)]
    dups = {(q["file"], q["row_number"]): q for q in quarantine(s) if q["rule"] == "conflict"}
    assert set(dups) == {(f"orders/day={DAY}/part-0.parquet", 2)}
    assert f"orders/day={DAY}/part-0.parquet row 1" in dups[(f"orders/day={DAY}/part-0.parquet", 2)]["message"]
    # The conflict in orders (1 of 3 rows) blocks that file; the customers files are clean.
    blocked = {f.file for f in report.blocked}
    assert blocked == {f"orders/day={DAY}/part-0.parquet"}
    # GX checks that each version of a record appears once: true of customers, not of orders.
    unique = dict(query(s, "select rule, unexpected_count from audit.gate_results where rule like 'unique:%'"))
    assert unique == {"unique:customer_id": 0, "unique:order_id": 2}
    assert_nothing_lost(s)


def test_updated_key_in_a_later_run_is_loaded(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1, segment="consumer")])
    run(s)
    write_parquet(
        s.landing, "customers", "2024-06-09", [customer(1, segment="business", updated_at=ts("2024-06-09 00:00:00"))]
    )
    report = run(s)
    assert report.ok
    assert sorted(query(s, "select segment from raw.customers")) == [("business",), ("consumer",)]
    assert quarantine(s) == []


# -- bookkeeping: idempotence, replacement, blocking -------------------------------------------


def test_rerun_changes_nothing_but_a_run_row(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1), customer(2, gender="robot")])
    write_parquet(s.landing, "orders", DAY, [order(1), order(2, customer_id="c2")])
    first = run(s)
    before = snapshot(s)
    second = run(s)
    assert snapshot(s) == before
    assert query(s, "select count(*) from audit.gate_runs")[0][0] == 2
    assert {f.status for f in second.files} == {"skipped_unchanged"}
    assert second.rows_read == 0
    # The blocked state survives the re-run: an unchanged bad file still blocks.
    assert {f.file for f in first.blocked} == {f.file for f in second.blocked}
    with pytest.raises(GateBlocked, match="unchanged since run"):
        second.raise_if_blocked()


def test_changed_file_replaces_its_rows(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1), customer(2), customer(3, gender="robot")])
    run(s)
    assert query(s, "select count(*) from raw.customers")[0][0] == 2
    assert len(quarantine(s)) == 1
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1), customer(3), customer(4)])
    report = run(s)
    assert report.ok
    assert sorted(r[0] for r in query(s, "select customer_id from raw.customers")) == ["c1", "c3", "c4"]
    assert quarantine(s) == []  # the old version's rejected rows went with it
    assert query(s, "select count(distinct _batch_id) from raw.customers")[0][0] == 1
    assert len(query(s, "select * from audit.load_log")) == 2
    assert_nothing_lost(s)


def test_threshold_blocks_publication_with_file_rule_and_count(s):
    s.options["gate"]["max_failure_rate"] = 0.2
    write_parquet(s.landing, "customers", "2024-06-01", [customer(i) for i in range(1, 11)])
    rows = [order(i, customer_id="c1") for i in range(1, 11)]
    for i in range(3):
        rows[i]["order_total"] = "n/a"
    rows[3]["status"] = "weird"
    rows = [{**r, "order_total": str(r["order_total"])} for r in rows]
    write_parquet(s.landing, "orders", DAY, rows)
    report = run(s)
    assert not report.ok
    with pytest.raises(GateBlocked) as exc:
        report.raise_if_blocked()
    msg = str(exc.value)
    assert f"orders/day={DAY}/part-0.parquet: 4 of 10 rows (40.0%) rejected" in msg
    assert "top rule type:order_total (3 rows)" in msg
    assert "allowed:status (1 rows)" in msg
    assert "gate.max_failure_rate" in msg
    assert status_of(s, "orders/day=2024-06-02/part-0.parquet")[0] == "blocked"
    # The valid rows are loaded to the working database all the same.
    assert query(s, "select count(*) from raw.orders")[0][0] == 6
    # Raising the threshold unblocks without re-reading.
    s.options["gate"]["max_failure_rate"] = 0.5
    assert run(s).ok
    # So does fixing the file.
    s.options["gate"]["max_failure_rate"] = 0.2
    assert not run(s).ok
    write_parquet(s.landing, "orders", DAY, [order(i, customer_id="c1") for i in range(1, 11)])
    fixed = run(s)
    assert fixed.ok
    assert query(s, "select count(*) from raw.orders")[0][0] == 10
    assert_nothing_lost(s)


def test_extra_columns_are_carried_and_missing_optional_columns_filled(s):
    write_parquet(
        s.landing, "customers", "2024-06-01", [{**customer(1), "loyalty_tier": "gold", "score": 7, "_file": "crm.csv"}]
    )
    # A file without the optional email/gender/country/segment columns.
    write_parquet(
        s.landing,
        "customers",
        "2024-06-02",
        [{"customer_id": "c2", "created_at": ts("2024-06-02 10:00:00"), "score": 8}],
    )
    assert run(s).ok
    rows = dict(query(s, "select customer_id, loyalty_tier from raw.customers"))
    assert rows == {"c1": "gold", "c2": None}
    assert query(s, "select email, gender from raw.customers where customer_id = 'c2'") == [(None, None)]
    types = dict(
        query(s, "select column_name, data_type from information_schema.columns where table_name = 'customers'")
    )
    assert types["score"] == "BIGINT"
    # A source column named like a metadata column is kept under another name.
    assert query(s, "select _file_source from raw.customers where customer_id = 'c1'") == [("crm.csv",)]
    # A later file brings a new extra column, and one whose type changed to text.
    write_parquet(
        s.landing,
        "customers",
        "2024-06-03",
        [{"customer_id": "c3", "created_at": ts("2024-06-03 10:00:00"), "score": "high", "nps_segment": "promoter"}],
    )
    assert run(s).ok
    assert dict(query(s, "select customer_id, score from raw.customers")) == {"c1": "7", "c2": "8", "c3": "high"}
    assert query(s, "select nps_segment from raw.customers where customer_id = 'c3'") == [("promoter",)]


def test_columns_named_like_reader_columns_are_kept(s):
    write_parquet(s.landing, "customers", "2024-06-01", [{**customer(1), "file_row_number": 41, "filename": "x.csv"}])
    write_parquet(s.landing, "customers", "2024-06-02", [customer(2)])
    assert run(s).ok
    assert sorted(query(s, "select customer_id, file_row_number, filename, _row_number from raw.customers")) == [
        ("c1", 41, "x.csv", 1),
        ("c2", None, None, 1),
    ]


def test_unknown_folders_are_reported_and_underscore_folders_ignored(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
    write_parquet(s.landing, "ordrs", DAY, [order(1)])
    write_parquet(s.landing, "_truth", DAY, [{"x": 1}])
    write_bytes(s.landing, "customers", "2024-06-01", "_SUCCESS", b"")
    write_bytes(s.landing, "customers", "2024-06-01", ".part-0.parquet.crc", b"junk")
    report = run(s)
    unknown = [f for f in report.files if f.status == "unknown_table"]
    assert [f.file for f in unknown] == ["ordrs"]
    assert "Did you mean 'orders'" in unknown[0].message
    assert report.ok  # reported, but it does not block
    assert query(s, "select status from audit.load_log where table_name = 'ordrs'") == [("unknown_table",)]
    assert query(
        s, "select status, count(*) from audit.load_log where table_name = 'customers' group by 1 order by 1"
    ) == [
        ("ignored", 1),
        ("loaded", 1),
    ]
    # Reported once, not at every run.
    run(s)
    assert query(s, "select count(*) from audit.load_log where table_name = 'ordrs'")[0][0] == 1


def test_reference_check_skipped_when_parent_never_loaded(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
    write_parquet(
        s.landing,
        "support_tickets",
        DAY,
        [
            {
                "ticket_id": "t1",
                "customer_id": "c1",
                "created_at": ts("2024-06-02 10:00:00"),
                "status": "open",
                "assigned_agent_id": "a-unknown",
            }
        ],
    )
    report = run(s)
    assert report.ok
    assert query(s, "select count(*) from raw.support_tickets")[0][0] == 1
    skipped = query(
        s,
        "select success, details from audit.gate_results where rule = 'references:assigned_agent_id'",
    )
    assert skipped[0][0] is None
    assert "never been loaded" in skipped[0][1]
    checked = query(s, "select success from audit.gate_results where rule = 'references:customer_id'")
    assert checked == [(True,)]


def test_required_customers_table_missing_blocks(s):
    write_parquet(s.landing, "orders", DAY, [order(1)])
    report = run(s)
    with pytest.raises(GateBlocked, match=r"raw\.customers has never been loaded"):
        report.raise_if_blocked()


def test_chunked_validation_and_progress(s, monkeypatch):
    monkeypatch.setattr(gate_suites, "CHUNK_ROWS", 7)
    write_parquet(s.landing, "customers", "2024-06-01", [customer(i) for i in range(1, 21)])
    write_parquet(s.landing, "customers", "2024-06-02", [customer(i, gender="x") for i in range(21, 24)])
    write_parquet(s.landing, "customers", "2024-06-03", [customer(i) for i in range(24, 27)])
    calls = []
    report = run(s, progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert query(s, "select count(*) from raw.customers")[0][0] == 23
    assert sorted(q["row_number"] for q in quarantine(s)) == [1, 2, 3]
    assert query(s, "select element_count from audit.gate_results where rule = 'allowed:gender'") == [(26,)]
    assert calls and calls[-1][1] == calls[-1][2] == 3
    assert report.rows_read == 26


def test_plan_chunks_covers_every_row_once():
    from empathy.gate.ingest import plan_chunks

    assert plan_chunks([(0, 3), (1, 3), (2, 3)], 7) == ["t.__g_ord between 0 and 1", "t.__g_ord between 2 and 2"]
    assert plan_chunks([(0, 2), (1, 10), (2, 1)], 4) == [
        "t.__g_ord between 0 and 0",
        "t.__g_ord = 1 and t.__g_row between 1 and 4",
        "t.__g_ord = 1 and t.__g_row between 5 and 8",
        "t.__g_ord = 1 and t.__g_row between 9 and 12",
        "t.__g_ord between 2 and 2",
    ]
    assert plan_chunks([], 5) == []


def test_gx_results_are_stored_and_data_docs_built(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1), customer(2, gender="robot")])
    run(s)
    index = build_data_docs(s)
    assert index.name == "index.html" and index.exists()
    assert str(index).startswith(str(s.gx_dir))
    stored = list((s.gx_dir / "gx").rglob("validations/**/*.json"))
    assert stored, "no validation result stored"
    # Stored results are trimmed: no full list of failing rows.
    text = stored[0].read_text()
    assert '"unexpected_index_list"' not in text
    assert '"partial_unexpected_index_list"' in text


def test_build_data_docs_before_any_run_is_a_clear_error(s):
    with pytest.raises(FileNotFoundError, match="run the gate first"):
        build_data_docs(s)


# -- the bad-input corpus ------------------------------------------------------------------------


def land(settings, name: str, day: str = DAY) -> str:
    table = name.split("_")[0]
    if table == "order":
        table = "orders"
    folder = settings.landing / table / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(BAD / name, folder / name)
    return f"{table}/day={day}/{name}"


@pytest.fixture
def with_parents(s):
    land(s, "customers_valid.csv", day="2024-06-01")
    return s


def test_corpus_readme_lists_every_file():
    readme = (BAD / "README.md").read_text()
    for f in BAD.iterdir():
        if f.name != "README.md":
            assert f"`{f.name}`" in readme, f"{f.name} is not described in tests/bad_inputs/README.md"


def test_bad_wrong_types(with_parents):
    s = with_parents
    rel = land(s, "orders_wrong_types.csv")
    run(s)
    q = {r["row_number"]: r for r in quarantine(s, "orders")}
    assert {k: v["rule"] for k, v in q.items()} == {2: "type:ordered_at", 3: "type:order_total"}
    assert q[2]["bad_value"] == "yesterday"
    assert q[3]["bad_value"] == "12,50"
    assert q[2]["file"] == rel
    assert "is not a timestamp" in q[2]["message"]
    assert query(s, "select count(*) from raw.orders")[0][0] == 2
    assert_nothing_lost(s)


def test_bad_duplicate_keys(s):
    land(s, "customers_duplicate_keys.csv", day="2024-06-01")
    report = run(s)
    assert sorted(query(s, "select segment from raw.customers where customer_id = 'c1'")) == [
        ("business",),
        ("consumer",),
    ]
    q = quarantine(s)
    assert [(r["row_number"], r["rule"]) for r in q] == [(3, "duplicate_key")]
    assert "the kept copy is customers/day=2024-06-01/customers_duplicate_keys.csv row 1" in q[0]["message"]
    assert [f.file for f in report.blocked] == ["customers/day=2024-06-01/customers_duplicate_keys.csv"]
    assert_nothing_lost(s)


def test_bad_orphans(with_parents):
    s = with_parents
    land(s, "orders_orphans.parquet")
    run(s)
    q = quarantine(s, "orders")
    assert [(r["row_number"], r["rule"], r["bad_value"]) for r in q] == [(2, "references:customer_id", "c404")]
    assert "does not exist in customers.customer_id" in q[0]["message"]
    assert_nothing_lost(s)


def test_bad_future_dates(with_parents):
    s = with_parents
    land(s, "orders_future_dates.csv")
    run(s)
    q = quarantine(s, "orders")
    assert [(r["row_number"], r["rule"]) for r in q] == [(2, "not_future:ordered_at")]
    assert q[0]["bad_value"].startswith("2099-01-01")
    assert_nothing_lost(s)


def test_bad_encoding(s):
    rel = land(s, "customers_bad_encoding.csv", day="2024-06-01")
    run(s)
    q = quarantine(s)
    assert [(r["file"], r["row_number"], r["rule"]) for r in q] == [(rel, 2, "encoding")]
    line = json.loads(q[0]["row_json"])["line"]
    assert line == "c2,2024-06-01 10:00:00,Caf\\xe9 M\\xfcller"
    assert "UTF-8" in q[0]["message"]
    assert sorted(query(s, "select customer_id, _row_number from raw.customers")) == [("c1", 1), ("c3", 3)]
    assert_nothing_lost(s)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("customers_empty_0_bytes.csv", "0 bytes"),
        ("customers_header_only.csv", "0 rows"),
        ("orders_zero_rows.parquet", "0 rows"),
    ],
)
def test_bad_empty_files(with_parents, name, reason):
    s = with_parents
    rel = land(s, name, day="2024-06-03")
    report = run(s)
    f = next(f for f in report.files if f.file == rel)
    assert f.status == "empty"
    assert reason in f.message
    assert status_of(s, rel) == ("empty", f.message)
    assert report.ok
    assert all(q["file"] != rel for q in quarantine(s))


@pytest.mark.parametrize("name", ["orders_corrupt.parquet", "orders_not_parquet.parquet"])
def test_bad_unreadable_parquet(with_parents, name):
    s = with_parents
    land(s, "orders_orphans.parquet", day="2024-06-01")
    rel = land(s, name)
    report = run(s)
    f = next(f for f in report.files if f.file == rel)
    assert f.status == "rejected"
    q = [r for r in quarantine(s) if r["file"] == rel]
    assert len(q) == 1 and q[0]["rule"] == "file_unreadable" and q[0]["row_number"] is None
    assert "Fix:" in q[0]["message"]
    assert json.loads(q[0]["row_json"])["error"]
    # The other files of the table still load, and publication is blocked with the file named.
    assert query(s, "select count(*) from raw.orders")[0][0] == 2
    with pytest.raises(GateBlocked, match=rel.replace(".", r"\.")):
        report.raise_if_blocked()
    assert_nothing_lost(s)


def test_bad_damaged_data_pages_fall_back_to_one_by_one(with_parents):
    s = with_parents
    write_parquet(s.landing, "orders", "2024-06-01", [order(1), order(2)], name="good.parquet")
    big = pa.table(
        {
            "order_id": [f"x{i}" for i in range(5000)],
            "customer_id": ["c1"] * 5000,
            "ordered_at": [ts("2024-06-02 10:00:00")] * 5000,
            "status": ["placed"] * 5000,
            "order_total": [float(i) for i in range(5000)],
        }
    )
    path = s.landing / "orders" / f"day={DAY}" / "damaged.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(big, path, compression="snappy")
    data = bytearray(path.read_bytes())
    for i in range(200, 1200):  # inside the first column chunk; the footer stays valid
        data[i] = 0xFF
    path.write_bytes(bytes(data))
    pq.read_metadata(path)  # the footer still reads
    report = run(s)
    statuses = {f.file: f.status for f in report.files if f.table == "orders"}
    assert statuses == {"orders/day=2024-06-01/good.parquet": "loaded", f"orders/day={DAY}/damaged.parquet": "rejected"}
    assert query(s, "select count(*) from raw.orders")[0][0] == 2
    assert_nothing_lost(s)


def test_bad_missing_required_column(with_parents):
    s = with_parents
    rel = land(s, "orders_missing_required_column.csv")
    report = run(s)
    q = quarantine(s, "orders")
    assert [(r["row_number"], r["rule"]) for r in q] == [
        (1, "missing_column:order_total"),
        (2, "missing_column:order_total"),
    ]
    assert "no column 'order_total'" in q[0]["message"] and rel in q[0]["message"]
    with pytest.raises(GateBlocked, match="missing_column:order_total"):
        report.raise_if_blocked()
    assert_nothing_lost(s)


def test_bad_malformed_csv_lines(s):
    land(s, "customers_malformed_lines.csv", day="2024-06-01")
    run(s)
    q = quarantine(s)
    assert [(r["row_number"], r["rule"]) for r in q] == [(2, "csv_malformed"), (3, "csv_malformed")]
    assert json.loads(q[0]["row_json"])["line"] == "c2,2024-06-01 10:00:00,consumer,surplus"
    assert sorted(query(s, "select customer_id, _row_number from raw.customers")) == [("c1", 1), ("c4", 4)]
    assert_nothing_lost(s)


def test_bad_one_megabyte_text_field(with_parents):
    s = with_parents
    body = "é" + "x" * 999_999
    write_parquet(
        s.landing,
        "support_tickets",
        DAY,
        [{"ticket_id": "t1", "customer_id": "c1", "created_at": ts("2024-06-02 10:00:00"), "status": "open"}],
    )
    write_parquet(
        s.landing,
        "ticket_messages",
        DAY,
        [
            {
                "message_id": "m1",
                "ticket_id": "t1",
                "author_type": "customer",
                "sent_at": ts("2024-06-02 10:00:00"),
                "body": body,
            },
            {
                "message_id": "m2",
                "ticket_id": "t1",
                "author_type": "agent",
                "sent_at": ts("2024-06-02 10:01:00"),
                "body": "hello",
            },
        ],
    )
    run(s)
    q = quarantine(s, "ticket_messages")
    assert [(r["row_number"], r["rule"]) for r in q] == [(1, "max_length:body")]
    assert len(q[0]["bad_value"]) < 300 and "1,000,000 characters" in q[0]["bad_value"]
    assert json.loads(q[0]["row_json"])["body"] == body  # kept whole
    assert query(s, "select message_id from raw.ticket_messages") == [("m2",)]
    assert_nothing_lost(s)


def test_bad_missing_optional_table(with_parents):
    s = with_parents
    land(s, "orders_orphans.parquet")
    report = run(s)
    assert not any(f.table == "reviews" for f in report.files)
    tables = {r[0] for r in query(s, "select table_name from duckdb_tables() where schema_name = 'raw'")}
    assert tables == {"customers", "orders"}


def test_csv_and_parquet_files_of_one_table_load_together(with_parents):
    s = with_parents
    write_parquet(s.landing, "customers", "2024-06-05", [customer(9)])
    report = run(s)
    assert report.ok
    assert sorted(r[0] for r in query(s, "select customer_id from raw.customers")) == ["c1", "c2", "c3", "c9"]
    # CSV timestamps were coerced to the contract type.
    assert query(s, "select typeof(created_at) from raw.customers limit 1") == [("TIMESTAMP",)]


def test_many_csv_files_are_read_together_with_exact_row_numbers(s, monkeypatch):
    from empathy.gate import read as gate_read

    groups = []
    real = gate_read._read_csv_group

    def spy(con, frs, table):
        ok = real(con, frs, table)
        groups.append((len(frs), ok))
        return ok

    monkeypatch.setattr(gate_read, "_read_csv_group", spy)
    header = "customer_id,created_at,segment\n"
    for day in range(1, 4):
        body = "".join(f"c{day}{i},2024-06-0{day} 10:00:00,consumer\n" for i in range(1, 5))
        write_bytes(s.landing, "customers", f"2024-06-0{day}", "part.csv", (header + body).encode())
    # Same header, with a surplus field on row 2 and a Latin-1 byte on row 4.
    write_bytes(
        s.landing,
        "customers",
        "2024-06-04",
        "part.csv",
        (header + "c41,2024-06-04 10:00:00,consumer\nc42,2024-06-04 10:00:00,consumer,x\n").encode()
        + b"c43,2024-06-04 10:00:00,consumer\nc44,2024-06-04 10:00:00,caf\xe9\nc45,2024-06-04 10:00:00,business\n",
    )
    # Another header (an extra column), shared with a file that is not CSV at all: that group
    # cannot be read in one scan and is read file by file.
    tier = b"customer_id,created_at,tier\n"
    write_bytes(s.landing, "customers", "2024-06-05", "part.csv", tier + b"c51,2024-06-05 10:00:00,gold\n")
    write_bytes(s.landing, "customers", "2024-06-06", "part.csv", tier + bytes(range(256)) * 20)
    report = run(s)
    got = sorted(query(s, "select customer_id, _row_number, _file from raw.customers where customer_id like 'c4%'"))
    assert got == [
        ("c41", 1, "customers/day=2024-06-04/part.csv"),
        ("c43", 3, "customers/day=2024-06-04/part.csv"),
        ("c45", 5, "customers/day=2024-06-04/part.csv"),
    ]
    assert sorted(query(s, "select customer_id, _row_number from raw.customers where customer_id like 'c2%'")) == [
        ("c21", 1),
        ("c22", 2),
        ("c23", 3),
        ("c24", 4),
    ]
    q = [(r["file"], r["row_number"], r["rule"]) for r in quarantine(s) if r["row_number"] is not None]
    assert ("customers/day=2024-06-04/part.csv", 2, "csv_malformed") in q
    assert ("customers/day=2024-06-04/part.csv", 4, "encoding") in q
    assert query(s, "select tier from raw.customers where customer_id = 'c51'") == [("gold",)]
    bad = next(f for f in report.files if f.file == "customers/day=2024-06-06/part.csv")
    assert bad.status == "rejected"
    # A bad line anywhere makes a group's strict scan fail: its files are then read one by one.
    assert sorted(groups) == [(2, False), (4, False)]
    assert_nothing_lost(s)


def test_session_time_zone_is_restored(s):
    write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
    s.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(s.warehouse))
    try:
        con.execute("set TimeZone = 'America/New_York'")
        ingest(s, con=con, now=NOW)
        assert con.execute("select current_setting('TimeZone')").fetchone()[0] == "America/New_York"
        assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone()[0] == 0
    finally:
        con.close()
