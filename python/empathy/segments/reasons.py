"""The reason for a customer's segment in words, naming their actual values (valence, its change, open tickets,
value percentile, recency) and saying which inputs were missing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAMES = {
    "lapsed": "lapsed",
    "frustrated_loyalists": "frustrated loyalists",
    "upset": "upset",
    "new_and_unsure": "new and unsure",
    "quietly_drifting": "quietly drifting",
    "delighted_advocates": "delighted advocates",
    "steady_regulars": "steady regulars",
    "occasional": "occasional customers",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _engagement(row: Mapping[str, Any]) -> str:
    days = row.get("days_since_engagement")
    if days is None:
        return "no engagement in 365 days"
    return {0: "engaged today", 1: "last engaged yesterday"}.get(days, f"last engaged {days} days ago")


def _value(row: Mapping[str, Any]) -> str:
    percentile = row.get("value_percentile") or 0.0
    country = row.get("country") or "unknown"
    band = "top-decile value" if percentile >= 0.9 else f"value above {int(percentile * 100)}% of customers"
    return f"{band} in {country}"


def _trend(row: Mapping[str, Any]) -> str:
    change = row.get("valence_change_30d")
    if change is None or abs(change) < 0.05:
        return ""
    return f", {'down' if change < 0 else 'up'} {abs(change):.2f} on its 30-day mean"


def _mood(row: Mapping[str, Any]) -> str:
    """The emotional state in words, or the fallback when there is none."""
    if row.get("valence") is None:
        return "no emotional state (no texts or state scores): behaviour alone"
    emotion = row.get("dominant_emotion")
    felt = f", mostly {emotion}" if emotion and emotion != "neutral" else ""
    return f"valence {row['valence']:+.2f}{_trend(row)}{felt}"


def _negative(row: Mapping[str, Any]) -> str:
    tickets, complaints = row.get("open_tickets") or 0, row.get("complaints_30d") or 0
    issues = []
    if tickets:
        issues.append(_plural(tickets, "open ticket"))
    if complaints:
        issues.append(_plural(complaints, "complaint") + " in 30 days")
    return ", ".join([_mood(row), *issues])


def _orders(row: Mapping[str, Any]) -> str:
    return _plural(row.get("orders_365d") or 0, "order") + " in 365 days"


def _describe(segment: str, row: Mapping[str, Any]) -> str:
    if segment == "lapsed":
        return f"{_engagement(row)}, {_orders(row)}, no open ticket, {_mood(row)}"
    if segment == "frustrated_loyalists":
        return f"{_negative(row)}, {_value(row)}"
    if segment == "upset":
        return f"{_negative(row)}, {_value(row)}"
    if segment == "new_and_unsure":
        return (
            f"customer for {row.get('tenure_days')} days, {_plural(row.get('orders_365d') or 0, 'order')}, {_mood(row)}"
        )
    if segment == "quietly_drifting":
        return f"{_mood(row)}, {_engagement(row)} after {_orders(row)}, no open ticket or complaint"
    if segment == "delighted_advocates":
        return f"{_mood(row)}, {_engagement(row)}"
    return f"{_orders(row)}, {_engagement(row)}, {_mood(row)}"


def segment_reason(
    segment: str, row: Mapping[str, Any], rule_segment: str, days_pointing_elsewhere: int, hold_days: int
) -> str:
    """Why `row` is in `segment`; when the hysteresis kept it there against today's rules, says so."""
    reason = _describe(segment, row)
    if rule_segment != segment:
        reason += (
            f"; kept by hysteresis: today's rules say {NAMES.get(rule_segment, rule_segment)}"
            f" (day {days_pointing_elsewhere} of {hold_days})"
        )
    return reason
