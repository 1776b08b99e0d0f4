"""What each model that learns or scores could do this run: `audit.model_status`.

A dbt Python model makes its call through `recorded(session, "<model>", function, *arguments)`. While the call runs, the
functions it calls say what they did with `report(component, status, reason, counts=..., fix=...)`:

* ``ok``: the component ran as designed;
* ``degraded``: it ran, but on less than it needs to be trusted fully (the reason says what is missing);
* ``skipped``: it could not run; its output is empty (or its columns null) and the reason says why, with the
  counts that explain it and what data would fix it.

When nothing was reported, the model's own row is ``ok``, with the number of rows it returned. Outside a dbt
build (tests, notebooks) a report is printed on stderr and kept in `recent()`.

Rows are appended to `audit.model_status` in the same database, under the run id of the `empathy` run
(`EMPATHY_RUN_ID`, which the pipeline passes to dbt) or, for a plain `dbt build`, one id per dbt process.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import ibis
import pyarrow as pa

from empathy.tables import finite_or_null

# Every dbt Python model imports this module first. dbt runs models in threads, and two threads importing ibis
# (and loading its DuckDB backend) at the same moment can deadlock on ibis's circular imports or see a
# half-initialised module; loading both here, under this module's import lock, makes later imports no-ops.
ibis.duckdb  # noqa: B018

STATUSES = ("ok", "degraded", "skipped")
_RANK = {"ok": 0, "degraded": 1, "skipped": 2}

STATUS_TABLE = "audit.model_status"
STATUS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("model", pa.string()),
        ("component", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("counts", pa.string()),
        ("fix", pa.string()),
        ("rows_out", pa.int64()),
        ("recorded_at", pa.timestamp("us")),
    ]
)

_PROCESS_RUN_ID = "dbt-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
_local = threading.local()
_recent: list[dict] = []


def run_id() -> str:
    """The run these rows belong to: the pipeline's run id, else one id for this process."""
    return os.environ.get("EMPATHY_RUN_ID") or _PROCESS_RUN_ID


def worst(statuses) -> str:
    """The most severe of some statuses ('ok' for none)."""
    return max(statuses, key=lambda s: _RANK[s], default="ok")


@dataclass
class Recorder:
    model: str
    entries: list[dict] = field(default_factory=list)

    def add(self, component: str, status: str, reason: str, counts: dict | None, fix: str) -> None:
        self.entries.append(
            {
                "component": component,
                "status": status,
                "reason": reason,
                "counts": json.dumps(counts or {}, sort_keys=True, default=_jsonable),
                "fix": fix,
            }
        )


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def report(component: str, status: str, reason: str = "", *, counts: dict | None = None, fix: str = "") -> None:
    """Say what `component` of the running model did. `reason` is plain words; `fix` says what data would help."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    if status != "ok" and not reason:
        raise ValueError(f"a {status} status needs a reason ({component})")
    recorder: Recorder | None = getattr(_local, "recorder", None)
    entry = {"component": component, "status": status, "reason": reason, "counts": counts or {}, "fix": fix}
    _recent.append(entry)
    del _recent[:-200]
    if recorder is None:
        if status != "ok":
            print(f"{component}: {status}: {reason}" + (f" (fix: {fix})" if fix else ""), file=sys.stderr)
        return
    recorder.add(component, status, reason, counts, fix)


def recent() -> list[dict]:
    """Reports made outside a recorded model (newest last), for tests."""
    return list(_recent)


def _rows(result: Any) -> int | None:
    for attr in ("num_rows", "shape"):
        value = getattr(result, attr, None)
        if value is not None:
            return int(value[0] if isinstance(value, tuple) else value)
    return None


def status_rows(recorder: Recorder, rows_out: int | None) -> pa.Table:
    """The rows `recorder` adds to audit.model_status: its components, and the model's own row."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    entries = list(recorder.entries)
    if not any(e["component"] == recorder.model for e in entries):
        own = worst(e["status"] for e in entries)
        if own == "skipped" and rows_out:  # some part could not run, the rest did: the model is degraded
            own = "degraded"
        reasons = [f"{e['component']}: {e['reason']}" for e in entries if e["status"] != "ok"]
        fixes = [e["fix"] for e in entries if e["status"] != "ok" and e["fix"]]
        entries.append(
            {
                "component": recorder.model,
                "status": own,
                "reason": "; ".join(reasons),
                "counts": json.dumps({"rows": rows_out}),
                "fix": "; ".join(dict.fromkeys(fixes)),
            }
        )
    rid = run_id()
    return pa.Table.from_pylist(
        [{"run_id": rid, "model": recorder.model, "rows_out": rows_out, "recorded_at": now, **e} for e in entries],
        schema=STATUS_SCHEMA,
    )


def ensure_table(con) -> None:
    con.execute("create schema if not exists audit")
    cols = ", ".join(f"{f.name} {_sql_type(f.type)}" for f in STATUS_SCHEMA)
    con.execute(f"create table if not exists {STATUS_TABLE} ({cols})")


def _sql_type(t: pa.DataType) -> str:
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_timestamp(t):
        return "timestamp"
    return "varchar"


def write(con, rows: pa.Table) -> None:
    """Replace this run's rows of the models in `rows` in audit.model_status (a re-built model reports anew)."""
    ensure_table(con)
    for model in sorted(set(rows["model"].to_pylist())):
        con.execute(f"delete from {STATUS_TABLE} where run_id = ? and model = ?", [run_id(), model])
    con.register("_empathy_status_rows", rows)
    try:
        con.execute(f"insert into {STATUS_TABLE} by name select * from _empathy_status_rows")
    finally:
        con.unregister("_empathy_status_rows")


def recorded(session, model: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `call(*args, **kwargs)` with a recorder for `model`, write what it reported to audit.model_status, and
    return its result (NaN and infinite floats as null).

    The arguments are passed, not wrapped in a lambda: dbt finds a Python model's `dbt.ref()` and
    `dbt.config.get()` calls by reading its source, and misses them inside a lambda.
    """
    recorder = Recorder(model)
    previous = getattr(_local, "recorder", None)
    _local.recorder = recorder
    try:
        result = call(*args, **kwargs)
    finally:
        _local.recorder = previous
    if isinstance(result, pa.Table):
        result, replaced = finite_or_null(result)
        if replaced:
            recorder.add(
                "not_finite_values",
                "ok",
                f"{sum(replaced.values()):,} values could not be computed (NaN or infinite) and are written as null: "
                + ", ".join(f"{c} {n:,}" for c, n in sorted(replaced.items())),
                replaced,
                "",
            )
    write(session, status_rows(recorder, _rows(result)))
    return result
