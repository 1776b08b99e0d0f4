"""Day-to-day stability of segments: of the customers with no new interaction on a day, the share who keep the
segment they had the day before."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa


@dataclass(frozen=True)
class Stability:
    """`share` of `customer_days` (days with a previous day and no interaction) whose segment stayed the same."""

    share: float | None
    customer_days: int
    kept: int


def day_to_day_stability(segments: pa.Table) -> Stability:
    """Stability of `segments` (columns customer_id, segment_date, segment_id, had_interaction).

    A day counts when the customer had no interaction on it and has a row for the calendar day before; it is kept
    when the segment is the same on both days. `share` is None when no day counts.
    """
    needed = {"customer_id", "segment_date", "segment_id", "had_interaction"}
    missing = needed - set(segments.column_names)
    if missing:
        raise ValueError(f"segments needs the columns {sorted(needed)}; missing {sorted(missing)}")
    con = duckdb.connect()
    try:
        con.register("segments", segments)
        counted, kept = con.sql(
            """
            select count(*), count(*) filter (where today.segment_id = yesterday.segment_id)
            from segments as today
            inner join segments as yesterday
                on today.customer_id = yesterday.customer_id
                and yesterday.segment_date = today.segment_date - interval 1 day
            where not coalesce(today.had_interaction, false)
            """
        ).fetchone()
    finally:
        con.close()
    return Stability(kept / counted if counted else None, int(counted), int(kept))
