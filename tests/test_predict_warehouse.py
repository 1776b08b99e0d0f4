"""The churn and value explanations' evidence rule, on small synthetic frames."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from empathy.predict.warehouse import churn_evidence, value_evidence
from empathy.state.model import BASELINE_DRIVER

ZERO_COUNT = re.compile(r":\s*0(?![\d.])")


def _rows() -> pa.Table:
    return pa.table(
        {
            "customer_id": ["A", "B", "C"],
            "feature_date": pa.array(pd.to_datetime(["2026-06-29"] * 3).date, pa.date32()),
            "late_deliveries_30d": [0, 0, 1],
            "late_deliveries_90d": [2, 0, 1],
            "days_since_late_delivery": [40.0, None, 3.0],
            "deliveries_30d": [3, 4, 1],
            "active_subscriptions": [0, 1, 0],
            "subscription_monthly_amount_usd": [None, 12.5, None],
            "subscription_tenure_days": [None, 200.0, None],
            "segment": ["consumer", "consumer", None],
        }
    )


def test_churn_driver_named_after_an_event_only_with_the_event():
    groups = pd.DataFrame(
        {
            "late_delivery": [4.0, -1.5, 6.0],  # B never had a late delivery (only ordinary deliveries)
            "subscription": [-2.0, 3.0, 0.5],
            "profile": [0.2, 0.1, 0.3],
        }
    )
    gated, evidence = churn_evidence(groups, _rows())
    assert gated["late_delivery"].tolist() == [4.0, 0.0, 6.0]
    assert gated["subscription"].tolist() == [0.0, 3.0, 0.0]
    assert gated["profile"].tolist() == [0.2, 0.1, 0.0]  # C's segment is unknown
    assert np.allclose(gated[BASELINE_DRIVER], [-2.0, -1.5, 0.8])
    assert np.allclose(gated.sum(axis=1), groups.sum(axis=1))  # still prediction minus baseline
    late = evidence(np.array([0, 2]), "late_delivery")
    assert late[0] == "late deliveries in 90 days: 2, the last on 2026-05-20 (40 days ago)"
    assert late[1].startswith("late deliveries in 90 days: 1, the last on 2026-06-26 (3 days ago)")
    assert evidence(np.array([1]), "subscription")[0] == "active subscriptions: 1, 12.50 USD a month, for 200 days"
    base = evidence(np.array([1]), BASELINE_DRIVER)[0]
    assert base == "none of these in the window, against the average customer: late delivery"
    texts = [t for d in gated.columns for t in evidence(np.arange(3), d) if t is not None]
    assert texts and not any(ZERO_COUNT.search(t) for t in texts)


def test_value_evidence_never_cites_a_zero_count():
    X = pd.DataFrame({"frequency": [0.0, 3.0], "recency": [0.0, 12.0], "T": [20.0, 40.0], "monetary_value": [0, 50]})
    evidence = value_evidence(X)
    assert evidence(np.array([0, 1]), "frequency").tolist() == ["one purchase, no repeat yet", "repeat purchases: 3"]
    assert evidence(np.array([0]), "recency")[0] == "no repeat purchase yet"
    assert evidence(np.array([0]), "monetary_value")[0] == "no order value yet"
