"""Hysteresis on segment assignments: on a day with no new interaction a customer leaves their segment only when they
no longer fit it with its thresholds loosened by their margins, or when today's rules have pointed to one other
segment for `hold_days` days in a row. On a day with an interaction the segment follows the rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Held:
    """The kept segments, row by row, and how many days in a row the rules have pointed elsewhere (0 = they agree)."""

    segments: list[str]
    days_pointing_elsewhere: list[int]


def apply_hysteresis(
    customer_ids: Sequence,
    rule_segments: Sequence[str],
    fits: Mapping[str, Sequence[bool]],
    had_interaction: Sequence[bool],
    hold_days: int,
) -> Held:
    """Walk each customer's days in order (rows sorted by customer, then day) and keep their segment.

    `rule_segments[i]` is the segment today's strict rules give; `fits[segment][i]` says whether row i still fits
    `segment` with its thresholds loosened by the hysteresis margins. The first day takes the rule's segment, and
    so does a day with an interaction (something happened: the change is news, not noise). On a quiet day the kept
    segment changes to the rule's segment when the customer no longer fits the kept one, or when the rules have
    named the same other segment for `hold_days` consecutive days.
    """
    if hold_days < 1:
        raise ValueError(f"hold_days must be at least 1 (var segment_hold_days), not {hold_days}")
    missing = set(rule_segments) - set(fits)
    if missing:
        raise ValueError(f"no fits_<segment> column for {sorted(missing)}: add it to int_customer_segment_rules")
    segments: list[str] = []
    pointing: list[int] = []
    previous_customer = object()
    current = candidate = ""
    streak = 0
    for i, (customer, rule) in enumerate(zip(customer_ids, rule_segments, strict=True)):
        if customer != previous_customer or had_interaction[i] or rule == current:
            previous_customer, current, candidate, streak = customer, rule, rule, 0
        else:
            streak = streak + 1 if rule == candidate else 1
            candidate = rule
            if not fits[current][i] or streak >= hold_days:
                current, streak = rule, 0
        segments.append(current)
        pointing.append(streak)
    return Held(segments, pointing)
