"""Small landing folders shaped like real companies' exports, beside the demo world.

Each builder writes ``<landing>/<table>/day=YYYY-MM-DD/<table>.parquet`` files with the contract's column names
(missing contract columns are null, extra columns are kept), is deterministic and takes seconds. Where a real public
data set fits (``../shared/data`` or ``EMPATHY_SHARED_DATA``, see its README) the world is derived from it; those builders raise
``MissingData`` with the folder they need when it is absent.

* ``no_repeat_customers``: every customer ordered exactly once (a generated retail world cut to first orders).
* ``subscriptions_snapshot``: customers and one current-state row per subscription (Telco-like: plan, monthly
  charge, contract term; ``updated_at`` = the cancellation time for those who left).
* ``telco_snapshot``: a Telco-churn-like export (tenure, contract, services, monthly charge) as customers and one
  subscription each, where about a quarter left in the last month and nobody is seen leaving before.
* ``online_retail``: UCI Online Retail II invoice lines -> customers, orders, order_items (orders only, no text).
* ``cdnow``: CDNOW 1997-1998 -> customers, orders (many one-time buyers; data that ended long ago).
* ``texts_without_ratings``: women's clothing reviews -> customers and their posts as social mentions (text, no
  star rating), English only.

``assert_no_nan_or_inf(published)`` checks every float column of every published mart.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from empathy import contract
from empathy.generate.writer import ARROW_TYPES

SHARED_DATA = Path(os.environ.get("EMPATHY_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
END = date(2026, 6, 30)


class MissingData(RuntimeError):
    """A real data set a world is derived from is not on this machine."""


def shared_file(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        raise MissingData(f"{path} is absent: the real-shaped world needs ../shared/data (see its README)")
    return path


# -- landing files ---------------------------------------------------------------------------------------------------
def read_landing(landing: Path, table: str) -> pa.Table:
    """Every row of a table's landing files (the partition folders are not a column)."""
    files = sorted((landing / table).glob("day=*/*.parquet"))
    return ds.dataset([str(f) for f in files], format="parquet").to_table()


def write_landing(landing: Path, table: str, rows: pa.Table) -> int:
    """Write `rows` as the table's landing files, one per day of the contract's partition column. Contract columns
    come first with their contract types (absent ones null); other columns follow as they are."""
    spec = contract.table(table)
    n = rows.num_rows
    arrays, names = [], []
    for column in spec.columns:
        typ = ARROW_TYPES[column.type]
        arrays.append(rows[column.name].cast(typ) if column.name in rows.column_names else pa.nulls(n, typ))
        names.append(column.name)
    for name in rows.column_names:
        if name not in names:
            arrays.append(rows[name])
            names.append(name)
    full = pa.Table.from_arrays(arrays, names=names)
    folder = landing / table
    if folder.exists():
        shutil.rmtree(folder)
    days = pc.strftime(full[spec.day_column], format="%Y-%m-%d")
    for day in sorted(set(days.to_pylist())):
        part = full.filter(pc.equal(days, day))
        (folder / f"day={day}").mkdir(parents=True)
        pq.write_table(part, folder / f"day={day}" / f"{table}.parquet")
    return n


def keep_tables(landing: Path, keep: set[str]) -> None:
    """Drop every table folder (and the ground truth) but `keep`."""
    for folder in landing.iterdir():
        if folder.is_dir() and folder.name not in keep:
            shutil.rmtree(folder)


def _generated(out: Path, sector: str, customers: int, days: int, seed: int) -> Path:
    from empathy.generate import generate

    generate(out, customers=customers, days=days, seed=seed, sector=sector, end_date=END)
    return out


def first_per(rows: pa.Table, key: str, order: str) -> pa.Table:
    """The first row per `key` in `order` (an SQL order-by list that breaks every tie), sorted by key."""
    con = duckdb.connect()
    try:
        con.register("input_rows", rows)
        return con.execute(
            f"select * exclude (row_rank) from (select *, row_number() over (partition by {key}"
            f" order by {order}) as row_rank from input_rows) where row_rank = 1 order by {key}"
        ).to_arrow_table()
    finally:
        con.close()


def current_state(history: pa.Table) -> pa.Table:
    """One row per subscription, its latest version: what a current-state export holds for a change history."""
    return first_per(history, "subscription_id", "updated_at desc nulls last")


# -- the worlds ------------------------------------------------------------------------------------------------------
def no_repeat_customers(out: Path) -> Path:
    """A generated retail world where every customer who bought, bought once: first orders and their lines only."""
    _generated(out, "retail", customers=700, days=150, seed=21)
    keep_tables(out, {"customers", "orders", "order_items"})
    orders = read_landing(out, "orders")
    firsts = first_per(orders, "customer_id", "ordered_at, order_id")
    items = read_landing(out, "order_items")
    items = items.filter(pc.is_in(items["order_id"], value_set=firsts["order_id"]))
    write_landing(out, "orders", firsts)
    write_landing(out, "order_items", items)
    return out


def subscriptions_snapshot(out: Path) -> Path:
    """Customers and one current-state row per subscription, with Telco-like extra columns (contract term,
    paperless billing). Those who left have ``ended_at`` and an ``updated_at`` at the cancellation."""
    _generated(out, "subscription", customers=900, days=240, seed=23)
    keep_tables(out, {"customers", "subscriptions"})
    subs = current_state(read_landing(out, "subscriptions"))
    n = subs.num_rows
    rng = np.random.default_rng(23)
    terms = np.array(["month-to-month", "one year", "two year"])[rng.choice(3, size=n, p=[0.55, 0.25, 0.2])]
    subs = subs.append_column("contract_term", pa.array(terms)).append_column(
        "paperless_billing", pa.array(rng.random(n) < 0.6)
    )
    write_landing(out, "subscriptions", subs)
    return out


def telco_snapshot(out: Path, customers: int = 1500, seed: int = 31) -> Path:
    """A Telco-churn-like export: one row per customer with tenure (months), contract term, services and monthly
    charge, mapped to customers + one subscription each; about a quarter left in the last month (``ended_at`` in
    the 30 days before END), nobody before (the export shows only who left in its last month). Churn is likelier
    on month-to-month contracts, short tenure, fibre and high charges, as in the public Telco data."""
    rng = np.random.default_rng(seed)
    n = customers
    tenure = rng.integers(1, 73, n)
    contract = np.array(["month-to-month", "one year", "two year"])[rng.choice(3, n, p=[0.55, 0.21, 0.24])]
    internet = np.array(["fiber optic", "dsl", "none"])[rng.choice(3, n, p=[0.44, 0.34, 0.22])]
    services = rng.integers(0, 6, n) * (internet != "none")
    charge = np.round(20 + 25 * (internet == "dsl") + 50 * (internet == "fiber optic") + 5 * services
                      + rng.normal(0, 3, n), 2).clip(18, 120)  # fmt: skip
    logit = (
        -1.2 + 1.3 * (contract == "month-to-month") - 1.2 * (contract == "two year") - 0.035 * tenure
        + 0.8 * (internet == "fiber optic") + 0.01 * (charge - 65) - 0.15 * services
    )  # fmt: skip
    left = rng.random(n) < 1 / (1 + np.exp(-logit))
    end = datetime(END.year, END.month, END.day, 12)
    started = [end - timedelta(days=int(30.4 * t) + int(rng.integers(0, 28))) for t in tenure]
    ended = [end - timedelta(days=int(rng.integers(0, 30))) if g else None for g in left]
    ids = [f"T{i:05d}" for i in range(n)]
    write_landing(
        out,
        "customers",
        pa.table({"customer_id": ids, "created_at": pa.array(started, pa.timestamp("us")), "country": ["US"] * n}),
    )
    subscriptions = pa.table(
        {
            "subscription_id": [f"S{i:05d}" for i in range(n)],
            "customer_id": ids,
            "plan": internet,
            "started_at": pa.array(started, pa.timestamp("us")),
            "ended_at": pa.array(ended, pa.timestamp("us")),
            "updated_at": pa.array([e or s for e, s in zip(ended, started, strict=True)], pa.timestamp("us")),
            "monthly_amount": charge,
            "currency": ["USD"] * n,
            "status": np.where(left, "cancelled", "active"),
            "contract_term": contract,
            "online_services": services.astype(float),
        }
    )
    write_landing(out, "subscriptions", subscriptions)
    return out


COUNTRIES = {
    "United Kingdom": "GB",
    "EIRE": "IE",
    "Germany": "DE",
    "France": "FR",
    "Netherlands": "NL",
    "Spain": "ES",
    "Belgium": "BE",
    "Switzerland": "CH",
    "Portugal": "PT",
    "Australia": "AU",
}


def online_retail(out: Path, customers: int = 800) -> Path:
    """UCI Online Retail II: the first `customers` customer ids' invoices as orders and their lines (no text,
    no tickets). Cancellation invoices (C...) and lines without a positive quantity or price are left out."""
    lines = pq.read_table(shared_file("online_retail_uci/online_retail_II_2009_2010.parquet"))
    con = duckdb.connect()
    try:
        con.register("lines", lines)
        base = f"""
            with kept as (
                select distinct "Customer ID" as cid from lines where "Customer ID" is not null
                order by cid limit {customers}
            )
            select
                'U' || cast(cast(lines."Customer ID" as bigint) as varchar) as customer_id,
                lines."Invoice" as order_id,
                strptime(lines."InvoiceDate", '%Y-%m-%d %H:%M:%S') as ordered_at,
                lines."StockCode" as product_id,
                lines."Quantity" as quantity,
                lines."Price" as unit_price,
                lines."Country" as country_name,
                row_number() over (partition by lines."Invoice" order by lines."StockCode", lines."Quantity")
                    as line_number
            from lines
            inner join kept on lines."Customer ID" = kept.cid
            where not starts_with(lines."Invoice", 'C') and lines."Quantity" between 1 and 10000
                and lines."Price" > 0
        """
        con.execute(f"create table invoice_lines as {base}")
        country_case = " ".join(f"when '{k}' then '{v}'" for k, v in COUNTRIES.items())
        customers_t = con.execute(
            f"""select customer_id, min(ordered_at) as created_at,
                   case any_value(country_name) {country_case} end as country, 'en' as language
               from invoice_lines group by customer_id order by customer_id"""
        ).to_arrow_table()
        orders = con.execute(
            """select order_id, any_value(customer_id) as customer_id, min(ordered_at) as ordered_at,
                   min(ordered_at) as updated_at, 'delivered' as status, 'web' as channel, 'GBP' as currency,
                   round(sum(quantity * unit_price), 2) as order_total
               from invoice_lines group by order_id order by order_id"""
        ).to_arrow_table()
        items = con.execute(
            """select order_id || '-' || cast(line_number as varchar) as order_item_id, order_id, ordered_at,
                   ordered_at as updated_at, product_id, quantity, unit_price
               from invoice_lines order by order_id, line_number"""
        ).to_arrow_table()
    finally:
        con.close()
    write_landing(out, "customers", customers_t)
    write_landing(out, "orders", orders)
    write_landing(out, "order_items", items)
    return out


def cdnow(out: Path, customers: int = 1000) -> Path:
    """CDNOW sample (1997-1998): the first `customers` customers, their first purchase as created_at, each
    purchase an order."""
    path = shared_file("cdnow/CDNOW_sample.txt")
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    kept = set(sorted({int(r[0]) for r in rows})[:customers])
    rows = [r for r in rows if int(r[0]) in kept]
    customer = [f"CD{int(r[0]):05d}" for r in rows]
    ordered = [datetime.strptime(r[2], "%Y%m%d") + timedelta(hours=12) for r in rows]
    amount = [float(r[4]) for r in rows]
    n = len(rows)
    orders = pa.table(
        {
            "order_id": [f"CDO{i:05d}" for i in range(n)],
            "customer_id": customer,
            "ordered_at": pa.array(ordered, pa.timestamp("us")),
            "updated_at": pa.array(ordered, pa.timestamp("us")),
            "status": ["delivered"] * n,
            "currency": ["USD"] * n,
            "order_total": amount,
        }
    )
    first: dict[str, datetime] = {}
    for c, t in zip(customer, ordered, strict=True):
        first[c] = min(first.get(c, t), t)
    ids = sorted(first)
    customers_t = pa.table(
        {
            "customer_id": ids,
            "created_at": pa.array([first[c] for c in ids], pa.timestamp("us")),
            "country": ["US"] * len(ids),
        }
    )
    write_landing(out, "customers", customers_t)
    write_landing(out, "orders", orders)
    return out


def texts_without_ratings(out: Path, customers: int = 1000) -> Path:
    """Women's clothing reviews (English) as what customers post: social mentions with text and no star rating,
    one customer per review; dated one every few hours back from END (the data set has no dates)."""
    path = shared_file("womens_clothing_reviews/womens_clothing_ecommerce_reviews.csv")
    con = duckdb.connect()
    try:
        reviews = con.execute(
            f"""select row_number() over (order by "column00") as i, "Age" as age, "Review Text" as text
                from read_csv('{path}', header = true)
                where "Review Text" is not null and length(trim("Review Text")) > 0
                order by "column00" limit {customers}"""
        ).to_arrow_table()
    finally:
        con.close()
    n = reviews.num_rows
    index = reviews["i"].to_numpy()
    posted = [datetime(END.year, END.month, END.day, 20) - timedelta(hours=int(5 * (n - i))) for i in index]
    created = [t - timedelta(days=int(30 + (i * 37) % 400)) for t, i in zip(posted, index, strict=True)]
    ids = [f"W{int(i):05d}" for i in index]
    year = np.array([END.year - int(a) if a is not None else None for a in reviews["age"].to_pylist()])
    customers_t = pa.table(
        {
            "customer_id": ids,
            "created_at": pa.array(created, pa.timestamp("us")),
            "birth_year": pa.array(year.tolist(), pa.int64()),
            "country": ["US"] * n,
            "language": ["en"] * n,
        }
    )
    mentions = pa.table(
        {
            "mention_id": [f"M{int(i):05d}" for i in index],
            "platform": ["other"] * n,
            "customer_id": ids,
            "posted_at": pa.array(posted, pa.timestamp("us")),
            "text": reviews["text"],
        }
    )
    write_landing(out, "customers", customers_t)
    write_landing(out, "social_mentions", mentions)
    return out


WORLDS: dict[str, Callable[[Path], Path]] = {
    "no_repeat_customers": no_repeat_customers,
    "subscriptions_snapshot": subscriptions_snapshot,
    "telco_snapshot": telco_snapshot,
    "online_retail": online_retail,
    "cdnow": cdnow,
    "texts_without_ratings": texts_without_ratings,
}


# -- checks ----------------------------------------------------------------------------------------------------------
def published_marts(published: Path) -> dict[str, int]:
    """Rows per table of the published `marts` schema."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        names = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"
            ).fetchall()
        ]
        return {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in names}
    finally:
        con.close()


def assert_no_nan_or_inf(published: Path) -> None:
    """No float column of any table in the published `marts` schema holds NaN or +-inf (names each offender)."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        columns = con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
            " and data_type in ('DOUBLE', 'FLOAT', 'REAL') order by table_name, column_name"
        ).fetchall()
        bad = []
        for table, column in columns:
            n = con.execute(
                f'select count(*) from marts."{table}" where isnan("{column}") or isinf("{column}")'
            ).fetchone()[0]
            if n:
                bad.append(f"marts.{table}.{column}: {n} NaN/inf")
    finally:
        con.close()
    assert columns, f"{published} has no float column in schema marts"
    assert not bad, "NaN or infinity published: " + "; ".join(bad)


ACTIVATION_CHANNELS = ("email", "sms", "phone", "in_app")


def activation_breaches(warehouse: Path) -> dict[str, int]:
    """Breaches of the activation rules in a built working database, by rule (each must be 0): customers in an
    activation mart who are not scored for activation, contacts without consent on their channel for their
    purpose, marketing without consent data, and sales offers to customers in distress or with an open complaint."""
    consent = " ".join(
        f"when '{c}' then case a.purpose when 'marketing' then k.has_{c}_marketing_consent"
        f" else k.has_{c}_service_consent end"
        for c in ACTIVATION_CHANNELS
    )
    contacts = """
        select customer_id, channel, purpose from marts.fct_next_best_actions
        union all select customer_id, channel, 'service' from marts.fct_outreach_list"""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        not_scored, no_consent, marketing_without_data = con.execute(
            f"""
            select
                count(*) filter (where not coalesce(k.is_activation_scored, false)),
                count(*) filter (
                    where a.channel != 'none' and k.has_consent_data and not coalesce(case a.channel {consent} end, false)
                ),
                count(*) filter (where a.purpose = 'marketing' and not k.has_consent_data)
            from ({contacts}) as a
            left join intermediate.int_customer_consents as k on a.customer_id = k.customer_id
            """
        ).fetchone()
        sales_in_distress = con.execute(
            """
            select count(*)
            from marts.fct_next_best_actions as a
            inner join intermediate.int_customer_activation_signals as s on a.customer_id = s.customer_id
            where a.is_sales_offer and (s.is_distressed or s.has_open_ticket or s.has_recent_complaint)
            """
        ).fetchone()[0]
    finally:
        con.close()
    return {
        "not_scored_for_activation": not_scored,
        "no_consent_on_channel": no_consent,
        "marketing_without_consent_data": marketing_without_data,
        "sales_offer_in_distress_or_complaint": sales_in_distress,
    }
