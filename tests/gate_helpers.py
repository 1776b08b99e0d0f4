"""Helpers for the gate tests: write small landing files and synthesise contract-conforming data."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from empathy import contract
from empathy.config import Settings, load_settings

NOW = datetime(2025, 1, 10, 12, 0, 0)


def settings_for(home: Path, landing: Path | None = None, **gate) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    s = load_settings(
        home=home,
        landing=landing or home / "landing",
        warehouse=home / "warehouse.duckdb",
        published=home / "published" / "empathy.duckdb",
    )
    s.options = {**s.options, "gate": {**s.options["gate"], **gate}}
    return s


def write_parquet(
    landing: Path, table: str, day: str, rows: list[dict] | pa.Table, name: str = "part-0.parquet"
) -> Path:
    folder = landing / table / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    t = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows)
    pq.write_table(t, path)
    return path


def write_bytes(landing: Path, table: str, day: str, name: str, data: bytes) -> Path:
    folder = landing / table / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


def customer(i: int, **kw) -> dict:
    row = {
        "customer_id": f"c{i}",
        "created_at": ts("2024-06-01 10:00:00"),
        "updated_at": ts("2024-06-01 10:00:00"),
        "email": f"c{i}@example.com",
        "gender": "female",
        "country": "DE",
        "segment": "consumer",
    }
    row.update(kw)
    return row


def order(i: int, customer_id: str = "c1", **kw) -> dict:
    row = {
        "order_id": f"o{i}",
        "customer_id": customer_id,
        "ordered_at": ts("2024-06-02 10:00:00"),
        "updated_at": ts("2024-06-02 10:00:00"),
        "status": "placed",
        "channel": "web",
        "currency": "EUR",
        "order_total": 10.0 + i,
        "discount_amount": 0.0,
    }
    row.update(kw)
    return row


def query(settings: Settings, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# -- synthetic volume (benchmarks) -------------------------------------------------------------

VOLUME_PER_CUSTOMER = {
    "customers": 1,
    "consents": 2,
    "orders": 15,
    "order_items": 40,
    "payments": 20,
    "subscriptions": 0.5,
    "shipments": 15,
    "agents": 0.01,
    "support_tickets": 3,
    "ticket_messages": 15,
    "chats": 2,
    "calls": 2,
    "email_events": 80,
    "web_events": 150,
    "survey_invitations": 4,
    "survey_responses": 1,
    "reviews": 1,
    "social_mentions": 0.5,
}


def _value_sql(t: contract.Table, c: contract.Column, n: dict[str, int], days: int, start: date) -> str:
    if c.name == t.key:
        return f"'{t.name[:3]}' || i"
    if c.references:
        parent, _, _ = c.references.partition(".")
        return f"'{parent[:3]}' || ((i * 7919) % {max(n[parent], 1)})"
    if c.allowed:
        vals = ", ".join("'" + v + "'" for v in c.allowed)
        return f"([{vals}])[1 + (i % {len(c.allowed)})]"
    if c.type == "timestamp":
        return f"timestamp '{start}' + to_days(i % {days}) + to_seconds((i * 37) % 86400)"
    if c.type == "date":
        return f"date '{start}' + (i % {days})::integer"
    if c.type == "integer":
        lo = int(c.min or 0)
        hi = int(c.max if c.max is not None else lo + 1000)
        return f"{lo} + (i % {hi - lo + 1})"
    if c.type == "double":
        lo = c.min or 0
        hi = c.max if c.max is not None else lo + 500
        return f"{lo} + ((i * 13) % 1000) / 1000.0 * {hi - lo}"
    if c.type == "boolean":
        return "i % 17 = 0"
    limit = min(c.max_length or 40, 40)
    return f"left('text ' || md5(i::varchar), {limit})"


def synth_landing(landing: Path, customers: int, days: int = 365, start: date = date(2024, 1, 1)) -> dict[str, int]:
    """Contract-conforming landing files: one Parquet file per table per day; returns rows per table."""
    n = {name: max(1, int(customers * k)) for name, k in VOLUME_PER_CUSTOMER.items()}
    con = duckdb.connect()
    try:
        for t in contract.TABLES:
            cols = ", ".join(f"{_value_sql(t, c, n, days, start)} as {c.name}" for c in t.columns)
            day = f"strftime(date '{start}' + (i % {days})::integer, '%Y-%m-%d')"
            out = landing / t.name
            out.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"copy (select {cols}, {day} as day from range({n[t.name]}) r(i)) to '{out}' "
                "(format parquet, partition_by (day), overwrite_or_ignore true)"
            )
    finally:
        con.close()
    return n
