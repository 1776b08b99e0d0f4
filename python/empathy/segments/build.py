"""int_customer_segments: the segment rules' answer per customer and day, kept stable by hysteresis, with a reason."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from empathy import status
from empathy.segments.hysteresis import apply_hysteresis
from empathy.segments.reasons import segment_reason

SEGMENTS = (
    "lapsed",
    "frustrated_loyalists",
    "upset",
    "new_and_unsure",
    "quietly_drifting",
    "delighted_advocates",
    "steady_regulars",
    "occasional",
)
REASON_COLUMNS = (
    "country",
    "tenure_days",
    "orders_365d",
    "value_percentile",
    "days_since_engagement",
    "open_tickets",
    "complaints_30d",
    "valence",
    "valence_change_30d",
    "dominant_emotion",
)
REASON_CHUNK_ROWS = 100_000
KEPT_COLUMNS = (
    "customer_segment_id",
    "customer_id",
    "segment_date",
    "had_interaction",
    "country",
    "lifecycle_stage",
    "value_percentile",
    "revenue_365d",
    "valence",
    "valence_change_30d",
    "empathy_score",
    "has_state",
    "rule_segment",
)


def customer_segments(rules: pa.Table | pa.RecordBatchReader, hold_days: int) -> pa.Table:
    """One row per customer and day of `rules` (int_customer_segment_rules) with the kept `segment_id` and reason."""
    if isinstance(rules, pa.RecordBatchReader):
        rules = rules.read_all()
    rules = rules.sort_by([("customer_id", "ascending"), ("segment_date", "ascending")])
    fits = {segment: rules.column(f"fits_{segment}").to_pylist() for segment in SEGMENTS}
    rule_segments = rules.column("rule_segment").to_pylist()
    held = apply_hysteresis(
        rules.column("customer_id").to_pylist(),
        rule_segments,
        fits,
        [bool(value) for value in rules.column("had_interaction").to_pylist()],
        hold_days,
    )
    reasons: list[str] = []
    values = rules.select(list(REASON_COLUMNS))
    for start in range(0, rules.num_rows, REASON_CHUNK_ROWS):  # a chunk's rows as dicts at a time: bounded memory
        end = start + REASON_CHUNK_ROWS
        reasons.extend(
            segment_reason(segment, row, rule, days, hold_days)
            for segment, row, rule, days in zip(
                held.segments[start:end],
                values.slice(start, REASON_CHUNK_ROWS).to_pylist(),
                rule_segments[start:end],
                held.days_pointing_elsewhere[start:end],
                strict=True,
            )
        )
    out = rules.select(list(KEPT_COLUMNS))
    out = out.append_column("segment_id", pa.array(held.segments, pa.string()))
    out = out.append_column("segment_reason", pa.array(reasons, pa.string()))
    out = out.append_column("days_rules_point_elsewhere", pa.array(held.days_pointing_elsewhere, pa.int32()))
    _report(out)
    return out


def _report(segments: pa.Table) -> None:
    """Say when the segments ran on behaviour alone (no emotional state on any day) or had nothing to segment."""
    if segments.num_rows == 0:
        status.report(
            "segments",
            "skipped",
            "no customer-days to segment: int_customer_days is empty",
            fix="load customers with at least one order or interaction",
        )
        return
    with_state = pc.sum(pc.cast(segments.column("has_state"), pa.int64())).as_py() or 0
    if with_state == 0:
        status.report(
            "segments",
            "degraded",
            "no emotional state on any day (no texts or state scores): segments use behaviour alone, "
            "so no one is a delighted advocate and negativity is read from open tickets and complaints",
            counts={"customer_days": segments.num_rows},
            fix="load texts (tickets, chats, reviews, surveys) so the emotional state can be estimated",
        )
