"""`empathy forget`: a forgotten customer is nowhere (landing files, working and published database, every table
and column), other customers are untouched, and re-landing the original files does not bring them back."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from empathy.erasure.forget import ErasureError, clean_ids, forget, read_ids_file
from empathy.pipeline import run
from tests.conftest import WORLD_END, make_settings, query

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115
pytestmark = pytest.mark.slow


def _landing_query(landing: Path, sql: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        for table in ("customers", "orders", "support_tickets", "ticket_messages", "reviews", "survey_responses"):
            con.execute(
                f"create view {table} as select * from read_parquet('{landing}/{table}/*/*.parquet', "
                "union_by_name = true, hive_partitioning = false)"
            )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _pick_customer(landing: Path) -> str:
    """The customer with the most tickets (with messages) who also has orders and a review or survey comment."""
    return _landing_query(
        landing,
        """
        select c.customer_id from customers c
        where c.email is not null
          and exists (select 1 from orders o where o.customer_id = c.customer_id)
          and (exists (select 1 from reviews r where r.customer_id = c.customer_id and r.body is not null)
               or exists (select 1 from survey_responses s where s.customer_id = c.customer_id
                          and s.comment is not null))
        order by (select count(*) from support_tickets t semi join ticket_messages m on m.ticket_id = t.ticket_id
                  where t.customer_id = c.customer_id) desc, c.customer_id
        limit 1
        """,
    )[0][0]


def _needles(landing: Path, customer: str) -> list[str]:
    """The id, e-mail, their sha256 / md5 forms, order and ticket ids, and every text only this customer wrote."""
    email = _landing_query(landing, f"select any_value(email) from customers where customer_id = '{customer}'")[0][0]
    norm = email.strip().lower()
    needles = [
        customer,
        email,
        hashlib.sha256(customer.encode()).hexdigest(),
        hashlib.md5(customer.encode()).hexdigest(),
    ]
    needles += [hashlib.sha256(norm.encode()).hexdigest(), hashlib.md5(norm.encode()).hexdigest()]
    texts = _landing_query(
        landing,
        f"""
        with theirs as (
            select body as t from reviews where customer_id = '{customer}'
            union all select comment from survey_responses where customer_id = '{customer}'
            union all select m.body from ticket_messages m join support_tickets k using (ticket_id)
                where k.customer_id = '{customer}' and m.author_type = 'customer'
        ),
        others as (
            select body as t from reviews where customer_id is distinct from '{customer}'
            union all select comment from survey_responses where customer_id <> '{customer}'
            union all select m.body from ticket_messages m join support_tickets k using (ticket_id)
                where k.customer_id <> '{customer}'
        )
        select distinct t from theirs where t is not null and length(t) > 20 and t not in (select t from others
            where t is not null)
        """,
    )
    ids = _landing_query(
        landing,
        f"select order_id from orders where customer_id = '{customer}' union "
        f"select ticket_id from support_tickets where customer_id = '{customer}'",
    )
    return needles + sorted(t for (t,) in texts) + sorted(i for (i,) in ids)


def _find_in_database(path: Path, needles: list[str]) -> list[str]:
    """schema.table.column holding any needle: every column of every table, cast to text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("create temp table needles as select unnest(?::varchar[]) as needle", [needles])
        found = []
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            cols = [r[0] for r in con.execute(f'describe "{schema}"."{table}"').fetchall()]
            for col in cols:
                hit = con.execute(
                    f'select n.needle from "{schema}"."{table}" t, needles n '
                    f'where contains(cast(t."{col}" as varchar), n.needle) limit 1'
                ).fetchall()
                if hit:
                    found.append(f"{schema}.{table}.{col}: {hit[0][0][:40]}")
        return found
    finally:
        con.close()


def _find_in_landing(landing: Path, needles: list[str]) -> list[str]:
    found = []
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            text = str(pq.read_table(path, partitioning=None).to_pylist())
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{path.relative_to(landing)}: {n[:40]}" for n in needles if n in text]
    return found


def _counts_without(warehouse: Path, customer: str) -> dict[str, int]:
    """Rows of other customers in every raw table (with a customer_id, or under an order or ticket) and in
    customer-grain models."""
    out = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for schema, table in con.execute(
            "select distinct c.schema_name, c.table_name from duckdb_columns() c "
            "join duckdb_tables() t on t.schema_name = c.schema_name and t.table_name = c.table_name "
            "where c.column_name = 'customer_id' and (c.schema_name = 'raw' "
            "or c.table_name in ('int_customer_days', 'int_customer_snapshots', 'int_customers'))"
        ).fetchall():
            out[f"{schema}.{table}"] = con.execute(
                f'select count(*) from "{schema}"."{table}" where customer_id is distinct from ?', [customer]
            ).fetchone()[0]
        # Child tables: rows that do not hang off one of the customer's orders or tickets.
        for child, key, parent in (
            ("order_items", "order_id", "orders"),
            ("shipments", "order_id", "orders"),
            ("ticket_messages", "ticket_id", "support_tickets"),
        ):
            out[f"raw.{child}"] = con.execute(
                f"select count(*) from raw.{child} where {key} not in "
                f"(select {key} from raw.{parent} where customer_id = ?)",
                [customer],
            ).fetchone()[0]
    finally:
        con.close()
    return out


def _add_quarantined_order(landing: Path, customer: str) -> None:
    """A CSV of 39 valid new orders of other customers and one of `customer` with a status outside the contract."""
    rows = _landing_query(
        landing,
        f"select customer_id from customers where customer_id <> '{customer}' order by customer_id limit 39",
    )
    folder = landing / "orders" / f"day={WORLD_END.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["order_id,customer_id,ordered_at,status,currency,order_total"]
    lines += [f"XO{i:05d},{cid},{WORLD_END} 08:00:00,delivered,USD,12.5" for i, (cid,) in enumerate(rows)]
    lines.append(f"XO99999,{customer},{WORLD_END} 09:00:00,lost_in_space,USD,99.0")
    (folder / "resent-orders.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def erased(tmp_path_factory):
    """A world run end to end, one customer forgotten; the original landing files kept aside."""
    from empathy.generate import generate

    home = tmp_path_factory.mktemp("erasure")
    landing = home / "landing"
    generate(landing, customers=150, days=60, seed=7, sector="retail", end_date=WORLD_END)
    customer = _pick_customer(landing)
    _add_quarantined_order(landing, customer)
    original = home / "original-landing"
    shutil.copytree(landing, original)
    s = make_settings(home, landing=landing)
    run(s, QUIET)
    needles = _needles(landing, customer)
    before = {
        "working": _find_in_database(s.warehouse, needles),
        "landing": _find_in_landing(landing, needles),
        "counts": _counts_without(s.warehouse, customer),
        "bytes": customer.encode() in s.warehouse.read_bytes(),
        "published_customers": query(s.published, "select count(*) from marts.dim_customers")[0][0],
        "quarantined": query(
            s.warehouse, "select count(*) from audit.quarantine where row_json like ?", [f"%{customer}%"]
        )[0][0],
    }
    result = forget(s, [customer], reason="request 42", console=QUIET)
    return s, customer, needles, before, result, original


def test_the_search_finds_the_customer_before_forget(erased):
    """The search below is not blind: before forget it finds the id, e-mail hash and texts everywhere."""
    _, _, needles, before, _, _ = erased
    assert before["quarantined"] == 1, "the fixture's bad order of the customer should be quarantined"
    assert len(needles) > 8, needles
    assert any(f.startswith("raw.customers.email") for f in before["working"])
    assert any(f.startswith("audit.quarantine.row_json") for f in before["working"])
    assert any(f.startswith("intermediate.int_customer_days.customer_id") for f in before["working"])
    # The published marts may carry the id hashed with an installation's salt; the search still has to come
    # up empty there afterwards, and the published customer count shows the customer was there.
    assert before["published_customers"] >= 2
    assert any(f.startswith("customers/") for f in before["landing"])
    assert any(f.startswith("_truth/") for f in before["landing"])
    assert before["bytes"], "the id should be readable in the working database file before forget"


def test_nothing_of_the_customer_remains(erased):
    s, _, needles, _, result, _ = erased
    assert _find_in_database(s.warehouse, needles) == []
    assert _find_in_database(s.published, needles) == []
    assert _find_in_landing(s.landing, needles) == []
    # Not even in freed blocks of the database files.
    for path in (s.warehouse, s.published):
        data = path.read_bytes()
        assert not [n for n in needles[:2] if n.encode() in data], path
    assert result.rows_removed["raw.customers"] >= 1
    assert result.rows_removed["audit.quarantine"] == 1
    assert result.rows_removed["raw.ticket_messages"] >= 1
    assert result.files_rewritten


def test_other_customers_are_untouched(erased):
    s, customer, _, before, _, _ = erased
    assert _counts_without(s.warehouse, customer) == before["counts"]
    dim = query(s.warehouse, "select count(*) from marts.dim_customers")[0][0]
    assert dim == before["counts"]["intermediate.int_customers"]  # dim_customers is a view over it
    assert query(s.published, "select count(*) from marts.dim_customers")[0][0] == before["published_customers"] - 1


def test_the_erasure_is_audited_without_the_id(erased):
    s, customer, _, _, result, _ = erased
    rows = query(s.published, "select erasure_id, customer_key_hash, reason, rows_removed, status from audit.erasures")
    assert len(rows) == 1
    erasure_id, key_hash, reason, removed, status = rows[0]
    assert (erasure_id, reason, status) == (result.erasure_id, "request 42", "erased")
    assert len(key_hash) == 64 and customer not in key_hash
    assert key_hash != hashlib.sha256(customer.encode()).hexdigest()
    assert '"raw.customers"' in removed
    kinds = dict(query(s.warehouse, "select kind, count(*) from erasure.tombstones group by 1"))
    assert kinds["customers.customer_id"] == 1
    assert kinds["orders.order_id"] >= 2  # their orders, the quarantined one included


def test_relanding_the_original_files_does_not_bring_them_back(erased):
    s, _, needles, _, _, original = erased
    shutil.rmtree(s.landing)
    shutil.copytree(original, s.landing)
    run(s, QUIET)
    assert _find_in_database(s.warehouse, needles) == []
    assert _find_in_database(s.published, needles) == []
    erased_rows, bad = query(
        s.warehouse,
        "select sum(rows_erased), count(*) filter (where rows_read <> rows_loaded + rows_quarantined "
        "+ coalesce(rows_erased, 0)) from audit.load_log",
    )[0]
    assert erased_rows >= 3  # the customer row, their orders, their tickets' messages, ...
    assert bad == 0


def test_ids_are_checked():
    assert clean_ids([" C1 ", "C1", "C2"]) == ["C1", "C2"]
    with pytest.raises(ErasureError, match="--customer-id"):
        clean_ids([])
    with pytest.raises(ErasureError, match="empty customer id"):
        clean_ids(["C1", "  "])


def test_ids_file(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("# erasure requests\nC1\n\n C2 \n")
    assert read_ids_file(path) == ["C1", "C2"]
    path.write_text("# none\n")
    with pytest.raises(ErasureError, match=str(path)):
        read_ids_file(path)
    with pytest.raises(ErasureError, match="cannot read"):
        read_ids_file(tmp_path / "missing.txt")
