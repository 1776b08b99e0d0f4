"""Landing-file writer: per-table day buffers, deterministic Parquet, Arrow types from the contract.

Rows are simulated as NumPy arrays (ids as integers, categories as integer codes, timestamps as int64
microseconds since the epoch) and turned into Arrow only when a day's file is written. A row can be
added for any day not yet written, so later versions of a record (a shipped order, a solved ticket)
are queued for the day they happen.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathy import contract
from empathy.generate import vocab as V

NULL = np.iinfo(np.int64).min  # null sentinel for int64 timestamps, integers, ids and codes
US_PER_DAY = 86_400_000_000
US_PER_S = 1_000_000

# entity -> (prefix, digits)
ID_FORMATS: dict[str, tuple[str, int]] = {
    "customer": ("C", 8),
    "order": ("O", 9),
    "order_item": ("OL", 10),
    "payment": ("PY", 10),
    "subscription": ("SB", 8),
    "shipment": ("SH", 9),
    "agent": ("AG", 5),
    "ticket": ("T", 9),
    "message": ("M", 10),
    "chat": ("CH", 9),
    "call": ("CL", 9),
    "email_event": ("EE", 11),
    "web_event": ("WE", 11),
    "session": ("WS", 10),
    "invitation": ("SI", 9),
    "response": ("SR", 9),
    "review": ("RV", 9),
    "mention": ("SM", 9),
    "consent": ("CN", 9),
    "product": ("P", 5),
    "campaign": ("CMP", 6),
    "exposure": ("EX", 9),
}

ARROW_TYPES = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "integer": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}


def format_ids(values: np.ndarray, entity: str) -> pa.Array:
    """Fixed-width ids such as C00000123, built directly in an Arrow buffer. Negative values become null."""
    prefix, width = ID_FORMATS[entity]
    v = np.asarray(values, dtype=np.int64)
    n = len(v)
    p = prefix.encode()
    size = len(p) + width
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    valid = v >= 0
    x = np.where(valid, v, 0)
    for j in range(width - 1, -1, -1):
        buf[:, len(p) + j] = 48 + (x % 10)
        x = x // 10
    offsets = np.arange(n + 1, dtype=np.int32) * size
    nulls = int(n - valid.sum())
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.reshape(-1)), bitmap, nulls)


def _cat(values: tuple[str, ...]) -> tuple:
    return ("cat", pa.array(list(values), pa.string()))


def _allowed_cat(table: str, column: str) -> tuple:
    return _cat(V.allowed(table, column))


# Column encodings of the simulated arrays: ("id", entity) | ("cat", values) | "ts" | "int" | "float" | "bool" | "str"
SPECS: dict[str, dict[str, object]] = {
    "customers": {
        "customer_id": ("id", "customer"), "created_at": "ts", "updated_at": "ts", "email": "str",
        "birth_year": "int", "age_band": _cat(V.AGE_BANDS), "gender": _cat(V.GENDERS), "country": _cat(V.COUNTRIES),
        "language": _cat(V.LANGS), "locale": _cat(V.LOCALES), "region": _cat(V.REGIONS), "segment": _cat(V.SEGMENTS),
        "company_name": "str", "industry": _cat(V.INDUSTRIES), "company_size": _cat(V.COMPANY_SIZES),
        "acquisition_channel": _cat(V.ACQUISITION_CHANNELS),
        # bring-your-own columns beyond the contract
        "loyalty_tier": _cat(V.LOYALTY_TIERS), "household_size": "int",
    },
    "consents": {
        "consent_id": ("id", "consent"), "customer_id": ("id", "customer"), "channel": _cat(V.CONSENT_CHANNELS),
        "purpose": _cat(V.CONSENT_PURPOSES), "granted_at": "ts", "revoked_at": "ts", "updated_at": "ts",
        "source_system": _cat(V.CONSENT_SOURCES),
    },
    "orders": {
        "order_id": ("id", "order"), "customer_id": ("id", "customer"), "ordered_at": "ts", "updated_at": "ts",
        "status": _cat(V.ORDER_STATUS), "channel": _cat(V.ORDER_CHANNELS), "currency": _cat(V.CURRENCIES),
        "order_total": "float", "discount_amount": "float",
    },
    "order_items": {
        "order_item_id": ("id", "order_item"), "order_id": ("id", "order"), "ordered_at": "ts",
        "product_id": ("id", "product"), "product_category": "str", "quantity": "int", "unit_price": "float",
        "is_defective": "bool", "returned_at": "ts", "return_reason": _cat(V.RETURN_REASONS), "updated_at": "ts",
    },
    "payments": {
        "payment_id": ("id", "payment"), "customer_id": ("id", "customer"), "order_id": ("id", "order"),
        "subscription_id": ("id", "subscription"), "paid_at": "ts", "amount": "float",
        "currency": _cat(V.CURRENCIES), "method": _cat(V.PAYMENT_METHODS), "status": _cat(V.PAYMENT_STATUS),
    },
    "subscriptions": {
        "subscription_id": ("id", "subscription"), "customer_id": ("id", "customer"), "plan": "str",
        "started_at": "ts", "ended_at": "ts", "updated_at": "ts", "monthly_amount": "float",
        "previous_monthly_amount": "float", "price_changed_at": "ts", "currency": _cat(V.CURRENCIES),
        "status": _cat(V.SUB_STATUS), "cancel_reason": _cat(V.CANCEL_REASONS),
    },
    "shipments": {
        "shipment_id": ("id", "shipment"), "order_id": ("id", "order"), "carrier": _cat(V.CARRIERS),
        "shipped_at": "ts", "promised_delivery_at": "ts", "delivered_at": "ts", "updated_at": "ts",
    },
    "agents": {
        "agent_id": ("id", "agent"), "agent_name": "str", "hired_at": "ts", "updated_at": "ts",
        "experience_years": "float", "skills": "str", "languages": "str", "team": _cat(V.TEAMS),
        "qa_score": "float", "empathy_score": "float", "is_active": "bool",
    },
    "support_tickets": {
        "ticket_id": ("id", "ticket"), "customer_id": ("id", "customer"), "created_at": "ts", "updated_at": "ts",
        "channel": _cat(V.TICKET_CHANNELS), "category": "str", "priority": _cat(V.PRIORITIES),
        "status": _cat(V.TICKET_STATUS), "subject": "str", "assigned_agent_id": ("id", "agent"),
        "first_response_at": "ts", "resolved_at": "ts",
    },
    "ticket_messages": {
        "message_id": ("id", "message"), "ticket_id": ("id", "ticket"), "author_type": _cat(V.AUTHOR_TYPES),
        "author_id": "str", "sent_at": "ts", "body": "str",
    },
    "chats": {
        "chat_id": ("id", "chat"), "customer_id": ("id", "customer"), "agent_id": ("id", "agent"),
        "started_at": "ts", "ended_at": "ts", "wait_seconds": "int", "customer_text": "str", "agent_text": "str",
    },
    "calls": {
        "call_id": ("id", "call"), "customer_id": ("id", "customer"), "agent_id": ("id", "agent"),
        "started_at": "ts", "direction": _cat(V.CALL_DIRECTIONS), "queue": "str", "wait_seconds": "int",
        "duration_seconds": "int", "transcript": "str", "voice_pitch_var": "float", "voice_energy": "float",
        "speech_rate": "float", "outcome": _cat(V.CALL_OUTCOMES),
    },
    "email_events": {
        "event_id": ("id", "email_event"), "customer_id": ("id", "customer"), "campaign_id": "str",
        "campaign_type": _cat(V.CAMPAIGN_TYPES), "event_type": _cat(V.EMAIL_EVENT_TYPES), "occurred_at": "ts",
    },
    "web_events": {
        "event_id": ("id", "web_event"), "session_id": ("id", "session"), "customer_id": ("id", "customer"),
        "occurred_at": "ts", "event_type": _cat(V.WEB_EVENT_TYPES), "page": "str", "search_terms": "str",
        "device": _cat(V.DEVICES),
    },
    "survey_invitations": {
        "invitation_id": ("id", "invitation"), "customer_id": ("id", "customer"),
        "survey_type": _cat(V.SURVEY_TYPES), "sent_at": "ts", "channel": _cat(V.SURVEY_CHANNELS),
        "trigger": _cat(V.SURVEY_TRIGGERS), "related_id": "str",
    },
    "survey_responses": {
        "response_id": ("id", "response"), "invitation_id": ("id", "invitation"), "customer_id": ("id", "customer"),
        "survey_type": _cat(V.SURVEY_TYPES), "responded_at": "ts", "score": "int", "comment": "str",
    },
    "reviews": {
        "review_id": ("id", "review"), "customer_id": ("id", "customer"), "product_id": ("id", "product"),
        "created_at": "ts", "rating": "int", "title": "str", "body": "str", "language": _cat(V.LANGS),
    },
    "social_mentions": {
        "mention_id": ("id", "mention"), "platform": _cat(V.PLATFORMS), "author_handle": "str",
        "customer_id": ("id", "customer"), "posted_at": "ts", "text": "str", "url": "str",
    },
    "treatment_exposures": {
        "exposure_id": ("id", "exposure"), "customer_id": ("id", "customer"), "treatment_id": "str",
        "experiment_id": "str", "arm": _allowed_cat("treatment_exposures", "arm"),
        "channel": _allowed_cat("treatment_exposures", "channel"), "exposed_at": "ts",
    },
}  # fmt: skip

EXTRA_COLUMNS: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    "customers": (("loyalty_tier", pa.string()), ("household_size", pa.int64())),
}


def output_columns(table: str) -> list[tuple[str, pa.DataType]]:
    """Columns written for a table: the contract columns in contract order, then bring-your-own extras."""
    t = contract.table(table)
    cols = [(c.name, ARROW_TYPES[c.type]) for c in t.columns]
    return cols + list(EXTRA_COLUMNS.get(table, ()))


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(n, typ) for n, typ in output_columns(table)])


def _null_like(spec: object, n: int):
    if spec == "str":
        return pa.nulls(n, pa.string())
    if spec == "float":
        return np.full(n, np.nan)
    if spec == "bool":
        return np.full(n, -1, dtype=np.int8)
    return np.full(n, NULL, dtype=np.int64)


def _to_arrow(spec: object, values, typ: pa.DataType) -> pa.Array:
    if spec == "str":
        arr = values
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return arr.cast(typ) if arr.type != typ else arr
    v = np.asarray(values)
    if isinstance(spec, tuple) and spec[0] == "id":
        return format_ids(v, spec[1])
    if isinstance(spec, tuple) and spec[0] == "cat":
        idx = v.astype(np.int64)
        return pc.take(spec[1], pa.array(idx, mask=idx < 0))
    if spec == "ts":
        v = v.astype(np.int64)
        return pa.array(v.view("datetime64[us]"), type=typ, mask=v == NULL)
    if spec == "int":
        v = v.astype(np.int64)
        return pa.array(v, type=typ, mask=v == NULL)
    if spec == "float":
        v = v.astype(np.float64)
        return pa.array(v, type=typ, mask=np.isnan(v))
    if spec == "bool":
        return pa.array(v == 1, type=typ, mask=v < 0)
    raise ValueError(spec)


def _take(values, order: np.ndarray):
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.take(pa.array(order))
    return values[order]


def _slice(values, a: int, b: int):
    return values[a:b]


def _concat(parts: list):
    if isinstance(parts[0], (pa.Array, pa.ChunkedArray)):
        arrs = []
        for p in parts:
            arrs.extend(p.chunks if isinstance(p, pa.ChunkedArray) else [p])
        return pa.concat_arrays(arrs) if len(arrs) > 1 else arrs[0]
    return np.concatenate(parts)


class LandingWriter:
    """Queues rows per table and day; writes ``out/<table>/day=YYYY-MM-DD/<table>-YYYY-MM-DD.parquet``."""

    def __init__(self, out: Path, start: dt.date, days: int, tables: list[str]):
        self.out = Path(out)
        self.start = start
        self.days = days
        self.tables = tables
        self.pending: dict[str, list[tuple[np.ndarray, dict]]] = {t: [] for t in tables}
        self.rows: dict[str, int] = dict.fromkeys(tables, 0)
        self.pending_rows = 0
        self.files = 0
        self.written_through = -1
        self.columns = {t: [n for n, _ in output_columns(t)] for t in tables}
        self.types = {t: dict(output_columns(t)) for t in tables}
        ct = {t: contract.table(t) for t in tables}
        self.sort_col = {t: (ct[t].updated_column or ct[t].day_column) for t in tables}
        self.key_col = {t: ct[t].key for t in tables}
        self.day_col = {t: ct[t].day_column for t in tables}
        self.versioned = {t: ct[t].updated_column is not None for t in tables}

    def add(self, table: str, day, cols: dict) -> None:
        """Queue rows. ``day`` (int or array) is the partition day index; rows for days past the window are dropped."""
        spec = SPECS[table]
        n = None
        for v in cols.values():
            if not np.isscalar(v):
                n = len(v)
                break
        if n is None or n == 0:
            return
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), (n,))
        keep = day < self.days
        if not keep.all():
            if not keep.any():
                return
            idx = np.nonzero(keep)[0]
            cols = {k: (v if np.isscalar(v) else _take(v, idx)) for k, v in cols.items()}
            day = day[idx]
            n = len(idx)
        assert (day > self.written_through).all(), f"{table}: row queued for a day already written"
        full = {}
        for name in self.columns[table]:
            s = spec[name]
            if name in cols:
                v = cols[name]
                if np.isscalar(v) or isinstance(v, str):
                    v = pa.array([v] * n, pa.string()) if s == "str" else np.full(n, v)
                full[name] = v
            else:
                full[name] = _null_like(s, n)
        unknown = set(cols) - set(self.columns[table])
        assert not unknown, f"{table}: unknown columns {unknown}"
        self.pending[table].append((np.array(day, dtype=np.int64), full))
        self.pending_rows += n

    def flush(self, through_day: int) -> None:
        """Write every queued row for days up to ``through_day``."""
        for t in self.tables:
            batches = self.pending[t]
            if not batches:
                continue
            day = np.concatenate([b[0] for b in batches])
            cols = {name: _concat([b[1][name] for b in batches]) for name in self.columns[t]}
            ready = day <= through_day
            rest = np.nonzero(~ready)[0]
            self.pending[t] = [(day[rest], {k: _take(v, rest) for k, v in cols.items()})] if len(rest) else []
            idx = np.nonzero(ready)[0]
            if not len(idx):
                continue
            sort_ts = np.asarray(cols[self.sort_col[t]])[idx]
            key = np.asarray(cols[self.key_col[t]])[idx]
            if self.versioned[t]:
                # one version per record and file: the state at the end of the day (latest update)
                o = np.lexsort((sort_ts, key, day[idx]))
                last = np.r_[(key[o][1:] != key[o][:-1]) | (day[idx][o][1:] != day[idx][o][:-1]), True]
                keep = np.sort(o[last])
                idx, sort_ts, key = idx[keep], sort_ts[keep], key[keep]
            order = idx[np.lexsort((key, sort_ts, day[idx]))]
            dsorted = day[order]
            cols = {k: _take(v, order) for k, v in cols.items()}
            bounds = np.flatnonzero(np.diff(dsorted)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [len(order)]])
            for a, b in zip(starts, ends, strict=True):
                d = int(dsorted[a])
                self._write(t, d, {k: _slice(v, a, b) for k, v in cols.items()})
        self.written_through = max(self.written_through, through_day)
        self.pending_rows = sum(len(b[0]) for batches in self.pending.values() for b in batches)

    def _write(self, table: str, day: int, cols: dict) -> None:
        spec = SPECS[table]
        types = self.types[table]
        arrays = [_to_arrow(spec[name], cols[name], types[name]) for name in self.columns[table]]
        tbl = pa.Table.from_arrays(arrays, schema=arrow_schema(table))
        date = (self.start + dt.timedelta(days=day)).isoformat()
        folder = self.out / table / f"day={date}"
        folder.mkdir(parents=True, exist_ok=True)
        _write_parquet(tbl, folder / f"{table}-{date}.parquet")
        self.rows[table] += tbl.num_rows
        self.files += 1


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", compression_level=3)
