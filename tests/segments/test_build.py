"""int_customer_segments' table: the rules' segments kept by hysteresis, with reasons, and a degraded status when no
day has an emotional state."""

from datetime import date, timedelta

import pyarrow as pa

from empathy import status
from empathy.segments.build import SEGMENTS, customer_segments


def _rules(rule_segments, valence=None):
    n = len(rule_segments)
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(n)]
    columns = {
        "customer_segment_id": [f"c1:{day}" for day in days],
        "customer_id": ["c1"] * n,
        "segment_date": pa.array(days, pa.date32()),
        "had_interaction": [False] * n,
        "country": ["DE"] * n,
        "lifecycle_stage": ["active"] * n,
        "tenure_days": [400] * n,
        "orders_365d": [3] * n,
        "revenue_365d": [120.0] * n,
        "value_percentile": [0.5] * n,
        "days_since_engagement": [10] * n,
        "open_tickets": [0] * n,
        "complaints_30d": [0] * n,
        "valence": pa.array([valence] * n, pa.float64()),
        "valence_change_30d": pa.array([None] * n, pa.float64()),
        "dominant_emotion": pa.array([None] * n, pa.string()),
        "empathy_score": pa.array([None] * n, pa.float64()),
        "has_state": [valence is not None] * n,
        "rule_segment": rule_segments,
    }
    columns |= {f"fits_{segment}": [True] * n for segment in SEGMENTS}
    # shuffled: the model sorts by customer and day itself
    return pa.table(columns).take([2, 0, 1])


def test_a_blip_is_held_and_the_reason_says_so():
    out = customer_segments(_rules(["steady_regulars", "quietly_drifting", "steady_regulars"], valence=0.1), 3)
    assert out.column("segment_id").to_pylist() == ["steady_regulars"] * 3
    reasons = out.column("segment_reason").to_pylist()
    assert reasons[0] == "3 orders in 365 days, last engaged 10 days ago, valence +0.10"
    assert reasons[1].endswith("kept by hysteresis: today's rules say quietly drifting (day 1 of 3)")


def test_without_any_state_the_model_reports_behaviour_alone():
    customer_segments(_rules(["steady_regulars"] * 3), 3)
    assert status.recent()[-1]["status"] == "degraded"
    assert "behaviour alone" in status.recent()[-1]["reason"]


def test_reasons_are_the_same_when_built_in_chunks(monkeypatch):
    from empathy.segments import build

    rules = _rules(["steady_regulars", "quietly_drifting", "steady_regulars"], valence=0.1)
    whole = customer_segments(rules, 3).column("segment_reason").to_pylist()
    monkeypatch.setattr(build, "REASON_CHUNK_ROWS", 2)
    assert customer_segments(rules, 3).column("segment_reason").to_pylist() == whole
