"""Day-to-day stability counts only quiet days that follow a day of the same customer."""

from datetime import date

import pyarrow as pa
import pytest

from empathy.segments.stability import day_to_day_stability


def _table(rows):
    customers, days, segments, interactions = zip(*rows, strict=True)
    return pa.table(
        {
            "customer_id": list(customers),
            "segment_date": pa.array(days, pa.date32()),
            "segment_id": list(segments),
            "had_interaction": list(interactions),
        }
    )


def test_share_of_quiet_days_that_keep_the_segment():
    table = _table(
        [
            ("c1", date(2026, 3, 1), "steady_regulars", False),
            ("c1", date(2026, 3, 2), "steady_regulars", False),  # kept
            ("c1", date(2026, 3, 3), "quietly_drifting", False),  # flipped on a quiet day
            ("c1", date(2026, 3, 4), "upset", True),  # an interaction: not counted
            ("c2", date(2026, 3, 1), "lapsed", False),
            ("c2", date(2026, 3, 2), "lapsed", False),  # kept
            ("c2", date(2026, 3, 5), "lapsed", False),  # no row the day before: not counted
        ]
    )
    result = day_to_day_stability(table)
    assert (result.customer_days, result.kept) == (3, 2)
    assert result.share == pytest.approx(2 / 3)


def test_no_quiet_day_gives_no_share():
    table = _table([("c1", date(2026, 3, 1), "upset", True)])
    assert day_to_day_stability(table).share is None


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="had_interaction"):
        day_to_day_stability(pa.table({"customer_id": ["c1"], "segment_date": [date(2026, 3, 1)], "segment_id": ["x"]}))
