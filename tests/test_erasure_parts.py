"""The parts of `empathy forget` without dbt: the gate's tombstone filter, the landing rewrite, the purge."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from datetime import datetime

import duckdb
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from empathy import contract
from empathy.erasure.keys import ENV, ErasureKeyMissing, erasure_key, key_path, keyed_hash
from empathy.erasure.landing import rewrite_landing
from empathy.erasure.links import CUSTOMER, carried_kinds, column_kinds
from empathy.erasure.purge import ensure_tables, purge_warehouse, write_tombstones
from empathy.erasure.scope import Scope, find_scope
from empathy.gate import ingest
from tests.gate_helpers import NOW, customer, order, query, settings_for, ts, write_bytes, write_parquet

DAY = "2024-06-02"
QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    return settings_for(tmp_path / "home")


def _item(i: int, order_id: str) -> dict:
    return {
        "order_item_id": f"i{i}",
        "order_id": order_id,
        "ordered_at": ts("2024-06-02 10:00:00"),
        "product_id": "p1",
        "quantity": 1,
        "unit_price": 5.0,
    }


def _land(landing) -> None:
    write_parquet(landing, "customers", "2024-06-01", [customer(1), customer(2), customer(3)])
    write_parquet(landing, "orders", DAY, [order(1, "c1"), order(2, "c2"), order(3, "c1")])
    write_parquet(landing, "order_items", DAY, [_item(1, "o1"), _item(2, "o2"), _item(3, "o3")])


def _tombstone(s, ids, orders=()) -> None:
    scope = Scope()
    scope.add(CUSTOMER, ids)
    scope.add("orders.order_id", orders)
    con = duckdb.connect(str(s.warehouse))
    try:
        ensure_tables(con)
        write_tombstones(con, scope, erasure_key(s, create=True), "e1", NOW)
    finally:
        con.close()


def test_links_follow_the_contract_references():
    assert column_kinds(contract.table("order_items"))["order_id"] == "orders.order_id"
    assert column_kinds(contract.table("ticket_messages"))["author_id"] == CUSTOMER
    assert carried_kinds(contract.table("support_tickets")) == {"ticket_id": "support_tickets.ticket_id"}
    assert "author_handle" in carried_kinds(contract.table("social_mentions"))


def test_the_gate_drops_tombstoned_rows_and_counts_them(s):
    _tombstone(s, ["c1"], orders=["o1", "o3"])
    _land(s.landing)
    report = ingest(s, now=NOW)
    assert report.ok
    assert [r[0] for r in query(s, "select customer_id from raw.customers order by 1")] == ["c2", "c3"]
    assert [r[0] for r in query(s, "select order_id from raw.orders order by 1")] == ["o2"]
    assert [r[0] for r in query(s, "select order_id from raw.order_items order by 1")] == ["o2"]
    by_table = dict(query(s, "select table_name, rows_erased from audit.load_log"))
    assert by_table == {"customers": 1, "orders": 2, "order_items": 2}
    assert query(
        s,
        "select count(*) from audit.load_log where rows_loaded + rows_quarantined + rows_erased <> rows_read",
    ) == [(0,)]
    # Dropped before any check: an erased row is neither loaded nor quarantined.
    assert query(s, "select count(*) from audit.quarantine") == [(0,)]


def test_tombstones_hold_keyed_hashes_only(s):
    _tombstone(s, ["c1"])
    rows = query(s, "select kind, key_hash from erasure.tombstones")
    assert rows == [(CUSTOMER, keyed_hash(erasure_key(s), CUSTOMER, "c1"))]
    assert rows[0][1] != hashlib.sha256(b"c1").hexdigest()
    assert oct(os.stat(key_path(s)).st_mode & 0o777) == "0o600"


def test_tombstones_without_their_key_stop_the_gate(s):
    _tombstone(s, ["c1"])
    key_path(s).unlink()
    _land(s.landing)
    with pytest.raises(ErasureKeyMissing, match=r"erasure\.key"):
        ingest(s, now=NOW)


def test_the_key_can_come_from_the_environment(s, monkeypatch):
    monkeypatch.setenv(ENV, "a-secret")
    assert erasure_key(s) == "a-secret"
    assert not key_path(s).exists()


CSV = (
    "order_id,customer_id,ordered_at,status,order_total\r\n"
    'o7,c2,2024-06-02 10:00:00,placed,"1,5"\r\n'
    "o8,c1,2024-06-02 10:00:00,placed,2\r\n"
    '"o9","c3","2024-06-02 10:00:00","placed","3"\r\n'
)


def test_landing_files_lose_the_rows_and_nothing_else(s, tmp_path):
    _land(s.landing)
    csv_path = write_bytes(s.landing, "orders", "2024-06-03", "resent.csv", CSV.encode())
    gz_path = write_bytes(s.landing, "orders", "2024-06-04", "resent.csv.gz", gzip.compress(CSV.encode()))
    truth = s.landing / "_truth"
    truth.mkdir()
    pq.write_table(pq.read_table(s.landing / "customers/day=2024-06-01/part-0.parquet"), truth / "people.parquet")
    outside = tmp_path / "outside.csv"
    outside.write_text("customer_id\nc1\n")
    os.symlink(outside, s.landing / "orders" / "day=2024-06-04" / "link.csv")
    untouched = s.landing / "customers/day=2024-06-01/part-0.parquet"
    write_parquet(s.landing, "customers", "2024-06-05", [customer(4)], name="other.parquet")
    other = (s.landing / "customers/day=2024-06-05/other.parquet").read_bytes()

    scope = Scope()
    scope.add(CUSTOMER, ["c1"])
    results = {r.rel: r for r in rewrite_landing(s.landing, scope)}

    assert scope.of("orders.order_id") == {"o1", "o3", "o8"}  # found in the files, passed on to order_items
    items = pq.read_table(s.landing / f"order_items/day={DAY}/part-0.parquet").column("order_id").to_pylist()
    assert items == ["o2"]
    assert pq.read_table(untouched).column("customer_id").to_pylist() == ["c2", "c3"]
    assert pq.read_table(truth / "people.parquet").column("customer_id").to_pylist() == ["c2", "c3"]
    kept = CSV.replace("o8,c1,2024-06-02 10:00:00,placed,2\r\n", "")
    assert csv_path.read_bytes() == kept.encode()  # the other records byte for byte
    assert gzip.decompress(gz_path.read_bytes()) == kept.encode()
    assert outside.read_text() == "customer_id\nc1\n"  # a link is never followed
    assert (s.landing / "customers/day=2024-06-05/other.parquet").read_bytes() == other
    assert results["orders/day=2024-06-03/resent.csv"].rows_removed == 1
    assert results["customers/day=2024-06-05/other.parquet"].rows_removed == 0
    assert not list(s.landing.rglob("*.erasing.tmp"))


def test_purge_follows_keys_into_child_tables_and_quarantine(s):
    _land(s.landing)
    # An order of c1 the gate rejects (status outside the contract): its row is in audit.quarantine.
    write_parquet(
        s.landing,
        "orders",
        "2024-06-03",
        [order(4, "c1", status="lost"), *[order(10 + i, "c3") for i in range(30)]],
        name="more.parquet",
    )
    ingest(s, now=NOW)
    assert query(s, "select count(*) from audit.quarantine where row_json like '%\"c1\"%'") == [(1,)]
    con = duckdb.connect(str(s.warehouse))
    try:
        scope = find_scope(con, ["c1"])
        assert scope.of("orders.order_id") == {"o1", "o3", "o4"}
        assert "c1@example.com" in scope.personal
        removed = purge_warehouse(con, scope)
    finally:
        con.close()
    assert removed == {"raw.customers": 1, "raw.orders": 2, "raw.order_items": 2, "audit.quarantine": 1}
    assert query(s, "select count(*) from raw.orders where customer_id = 'c3'") == [(30,)]
    assert query(s, "select count(*) from audit.quarantine") == [(0,)]
    assert query(s, "select count(*) from raw.customers") == [(2,)]


def test_an_unchanged_run_after_the_purge_is_still_consistent(s):
    _land(s.landing)
    ingest(s, now=NOW)
    con = duckdb.connect(str(s.warehouse))
    try:
        purge_warehouse(con, find_scope(con, ["c2"]))
    finally:
        con.close()
    report = ingest(s, now=datetime(2025, 1, 11))
    assert all(f.status == "skipped_unchanged" for f in report.files)
    assert query(s, "select count(*) from raw.customers where customer_id = 'c2'") == [(0,)]


def test_forget_without_ids_or_landing_says_what_to_pass(s, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from empathy.cli import app

    monkeypatch.setenv("EMPATHY_HOME", str(s.home))
    monkeypatch.setenv("EMPATHY_LANDING", str(s.landing))
    runner = CliRunner()
    out = runner.invoke(app, ["forget"])
    assert out.exit_code == 1 and "--customer-id" in out.output
    out = runner.invoke(app, ["forget", "--ids-file", str(tmp_path / "nope.txt")])
    assert out.exit_code == 1 and "nope.txt" in out.output.replace("\n", "")  # a long path may wrap
    out = runner.invoke(app, ["forget", "--customer-id", "c1"])
    assert out.exit_code == 1 and "landing folder" in out.output.replace("\n", " ")


def test_the_gx_store_loses_the_sampled_values(tmp_path):
    from empathy.erasure.files import ERASED, scrub_files

    root = tmp_path / "gx"
    (root / "uncommitted" / "validations").mkdir(parents=True)
    (root / "uncommitted" / "data_docs").mkdir(parents=True)
    result = {
        "results": [
            {"result": {"partial_unexpected_list": ["c1", "c9"], "details": "orphan c1 in row 3", "count": 2}},
            {"result": {"partial_unexpected_index_list": [{"_file": "f", "_row_number": 1, "customer_id": "c1"}]}},
        ]
    }
    validation = root / "uncommitted" / "validations" / "run.json"
    validation.write_text(json.dumps(result))
    page = root / "uncommitted" / "data_docs" / "index.html"
    page.write_text("<td>c1@example.com</td>")
    other = root / "uncommitted" / "data_docs" / "other.html"
    other.write_text("<td>c9</td>")
    scope = Scope()
    scope.add(CUSTOMER, ["c1"])
    scope.personal.add("c1@example.com")
    assert scrub_files(root, scope) == 2
    clean = json.loads(validation.read_text())["results"]
    assert clean[0]["result"] == {"partial_unexpected_list": ["c9"], "details": ERASED, "count": 2}
    assert clean[1]["result"]["partial_unexpected_index_list"] == []
    assert not page.exists() and other.read_text() == "<td>c9</td>"


def test_an_unreadable_landing_file_is_reported_not_skipped(s):
    write_bytes(s.landing, "orders", DAY, "broken.parquet", b"PAR1 not really")
    scope = Scope()
    scope.add(CUSTOMER, ["c1"])
    (result,) = rewrite_landing(s.landing, scope)
    assert result.rel == f"orders/day={DAY}/broken.parquet"
    assert "not a readable Parquet file" in result.error


def test_over_a_blocked_gate_forget_erases_but_does_not_publish(s, monkeypatch):
    from empathy.erasure import forget as forget_mod

    _land(s.landing)
    # Every row of this file breaks a rule: the gate blocks publication.
    write_parquet(s.landing, "orders", "2024-06-03", [order(5, "c2", status="lost")], name="bad.parquet")
    built, published = [], []
    # The dbt build and the publication are the pipeline's own, tested end to end in test_erasure.py.
    monkeypatch.setattr(forget_mod, "build_step", lambda *a, **k: built.append(k))
    monkeypatch.setattr(forget_mod, "publish", lambda *a, **k: published.append(a))
    with pytest.raises(forget_mod.PublicationRefused, match="still holds them"):
        forget_mod.forget(s, ["c1"], reason="r", console=QUIET)
    assert built == [{"run_id": built[0]["run_id"], "full_refresh": True}]
    assert published == []
    assert query(s, "select count(*) from raw.customers where customer_id = 'c1'") == [(0,)]
    assert query(s, "select status from audit.runs where message like 'empathy forget%'") == [("blocked_by_gate",)]
    assert query(s, "select count(*), any_value(status) from audit.erasures") == [(1, "erased")]
