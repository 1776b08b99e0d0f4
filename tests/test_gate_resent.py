"""Records sent again: the first copy of a version is kept; resent copies and conflicts are quarantined."""

from __future__ import annotations

import shutil

import pytest

from empathy.gate import ingest
from tests.gate_helpers import NOW, customer, order, query, settings_for, ts, write_bytes, write_parquet
from tests.test_gate import assert_nothing_lost, quarantine

FIRST = "orders/day=2024-06-02/part-0.parquet"


@pytest.fixture
def s(tmp_path):
    settings = settings_for(tmp_path / "home")
    write_parquet(settings.landing, "customers", "2024-06-01", [customer(i) for i in range(1, 4)])
    return settings


def run(settings):
    return ingest(settings, now=NOW)


def load_log(settings, file):
    return query(
        settings,
        "select rows_read, rows_loaded, rows_quarantined, status, message from audit.load_log where file = ? "
        "order by loaded_at desc limit 1",
        [file],
    )[0]


def test_a_file_resent_under_a_new_name_is_not_loaded_twice(s):
    first = write_parquet(s.landing, "orders", "2024-06-02", [order(i) for i in range(1, 4)])
    run(s)
    again = s.landing / "orders" / "day=2024-06-03" / "resent.parquet"
    again.parent.mkdir(parents=True)
    shutil.copy(first, again)
    report = run(s)
    assert query(s, "select count(*), count(distinct order_id) from raw.orders") == [(3, 3)]
    q = quarantine(s, "orders")
    assert [(r["file"], r["row_number"], r["rule"]) for r in q] == [
        ("orders/day=2024-06-03/resent.parquet", n, "duplicate_resent") for n in (1, 2, 3)
    ]
    assert f"the kept copy is {FIRST} row 1 (loaded " in q[0]["message"]
    assert "Fix:" in q[0]["message"]
    # Counted, explained, and not a failure: the resent file does not block publication.
    read, loaded, quarantined, status, message = load_log(s, "orders/day=2024-06-03/resent.parquet")
    assert (read, loaded, quarantined, status) == (3, 0, 3, "loaded")
    assert "3 already loaded from another file: duplicate_resent" in message
    assert report.ok
    resent = query(s, "select unexpected_count, success from audit.gate_results where rule = 'duplicate_resent'")
    assert resent[-1] == (3, False)
    assert_nothing_lost(s)


def test_the_same_record_as_csv_and_parquet_in_one_run_is_loaded_once(s):
    write_parquet(s.landing, "orders", "2024-06-02", [order(1, order_total=12.5), order(2)])
    csv = (
        "order_id,customer_id,ordered_at,updated_at,status,channel,currency,order_total,discount_amount\n"
        "o1,c1,2024-06-02T10:00:00Z,2024-06-02 10:00:00, PLACED ,web,EUR,12.50,0\n"
    )
    write_bytes(s.landing, "orders", "2024-06-03", "export.csv", csv.encode())
    report = run(s)
    assert report.ok
    assert sorted(query(s, "select order_id, _file from raw.orders")) == [("o1", FIRST), ("o2", FIRST)]
    q = quarantine(s, "orders")
    assert [(r["file"], r["row_number"], r["rule"]) for r in q] == [
        ("orders/day=2024-06-03/export.csv", 1, "duplicate_resent")
    ]
    assert f"the kept copy is {FIRST} row 1" in q[0]["message"]
    assert_nothing_lost(s)


def test_a_conflicting_copy_is_quarantined_and_the_first_stays(s):
    write_parquet(s.landing, "orders", "2024-06-02", [order(1, order_total=12.5), order(2)])
    run(s)
    # Same order and updated_at, another amount and status: not a new version, a conflict.
    write_parquet(
        s.landing,
        "orders",
        "2024-06-04",
        [order(1, order_total=13.0, status="shipped"), order(3)],
        name="late.parquet",
    )
    report = run(s)
    assert query(s, "select order_total, status from raw.orders where order_id = 'o1'") == [(12.5, "placed")]
    assert sorted(r[0] for r in query(s, "select order_id from raw.orders")) == ["o1", "o2", "o3"]
    q = quarantine(s, "orders")
    assert [(r["file"], r["row_number"], r["rule"], r["column_name"], r["bad_value"]) for r in q] == [
        ("orders/day=2024-06-04/late.parquet", 1, "conflict", "order_id", "o1")
    ]
    msg = q[0]["message"]
    assert f"the kept copy is {FIRST} row 1" in msg
    assert "status: 'shipped' here, 'placed' kept" in msg
    assert "order_total: '13.0' here, '12.5' kept" in msg
    assert "currency" not in msg  # only what differs is named
    assert '"order_total":13.0' in q[0]["row_json"]  # the rejected copy is kept whole
    # A conflict is a failure: 1 of 2 rows blocks the file, named with the rule; and it is reported.
    assert [f.file for f in report.blocked] == ["orders/day=2024-06-04/late.parquet"]
    assert "conflict (1 rows)" in report.blocked_message()
    assert any("quarantined as 'conflict'" in n for n in report.notes)
    assert load_log(s, "orders/day=2024-06-04/late.parquet")[:4] == (2, 1, 1, "blocked")
    assert_nothing_lost(s)


def test_a_newer_version_is_history_not_a_conflict(s):
    write_parquet(s.landing, "orders", "2024-06-02", [order(1, order_total=12.5)])
    run(s)
    write_parquet(
        s.landing,
        "orders",
        "2024-06-04",
        [order(1, order_total=13.0, updated_at=ts("2024-06-04 08:00:00"))],
        name="update.parquet",
    )
    report = run(s)
    assert report.ok
    assert sorted(query(s, "select order_total from raw.orders")) == [(12.5,), (13.0,)]
    assert quarantine(s, "orders") == []


def test_repeats_within_one_file_keep_the_first_copy(s):
    rows = [order(1, order_total=1.0), order(1, order_total=1.0), order(1, order_total=2.0), order(2)]
    write_parquet(s.landing, "orders", "2024-06-02", rows)
    report = run(s)
    assert query(s, "select order_total, _row_number from raw.orders where order_id = 'o1'") == [(1.0, 1)]
    q = {r["row_number"]: r for r in quarantine(s, "orders")}
    assert {n: r["rule"] for n, r in q.items()} == {2: "duplicate_key", 3: "conflict"}
    assert f"the kept copy is {FIRST} row 1" in q[2]["message"]
    assert "order_total: '2.0' here, '1.0' kept" in q[3]["message"]
    # Both count as failures (2 of 4 rows), unlike a copy from another file.
    assert report.blocked[0].rows_failed == 2
    assert_nothing_lost(s)


def test_resent_copies_are_judged_the_same_way_on_every_run(tmp_path):
    outcomes = []
    for n in range(2):
        s = settings_for(tmp_path / f"home{n}")
        write_parquet(s.landing, "customers", "2024-06-01", [customer(1)])
        for day in ("2024-06-02", "2024-06-03", "2024-06-04"):
            write_parquet(s.landing, "orders", day, [order(1, order_total=5.0 if day < "2024-06-04" else 6.0)])
        run(s)
        outcomes.append(
            (
                query(s, "select order_id, order_total, _file from raw.orders"),
                [(r["file"], r["rule"], r["message"].split(" (loaded")[0]) for r in quarantine(s, "orders")],
            )
        )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == [("o1", 5.0, FIRST)]
    assert [rule for _, rule, _ in outcomes[0][1]] == ["duplicate_resent", "conflict"]
