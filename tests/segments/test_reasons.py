"""A segment's reason names the customer's values and says when an input was missing or the hysteresis held."""

from empathy.segments.reasons import segment_reason

FRUSTRATED = {
    "country": "DE",
    "tenure_days": 400,
    "orders_365d": 5,
    "value_percentile": 0.95,
    "days_since_engagement": 3,
    "open_tickets": 2,
    "complaints_30d": 0,
    "valence": -0.42,
    "valence_change_30d": -0.3,
    "dominant_emotion": "anger",
}


def test_frustrated_loyalist_reason_names_valence_trend_tickets_and_value():
    reason = segment_reason("frustrated_loyalists", FRUSTRATED, "frustrated_loyalists", 0, 3)
    assert reason == "valence -0.42, down 0.30 on its 30-day mean, mostly anger, 2 open tickets, top-decile value in DE"


def test_without_a_state_the_reason_says_behaviour_alone():
    row = {**FRUSTRATED, "valence": None, "valence_change_30d": None, "value_percentile": 0.2, "open_tickets": 1}
    reason = segment_reason("upset", row, "upset", 0, 3)
    assert reason.startswith("no emotional state (no texts or state scores): behaviour alone, 1 open ticket")
    assert reason.endswith("value above 20% of customers in DE")


def test_a_held_segment_says_what_the_rules_say():
    reason = segment_reason("steady_regulars", {**FRUSTRATED, "valence": 0.1}, "quietly_drifting", 2, 3)
    assert reason.endswith("; kept by hysteresis: today's rules say quietly drifting (day 2 of 3)")
