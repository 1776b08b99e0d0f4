"""The hysteresis keeps a customer's segment through noise and lets it go on news, a crossed margin or a held rule."""

import pytest

from empathy.segments.hysteresis import apply_hysteresis

SEGMENTS = ("steady_regulars", "quietly_drifting", "upset", "occasional")


def _run(rules, fits_current=None, interactions=None, hold_days=3, customers=None):
    n = len(rules)
    fits = {segment: [True] * n for segment in SEGMENTS}
    if fits_current is not None:
        fits["steady_regulars"] = fits_current
    return apply_hysteresis(customers or ["c1"] * n, rules, fits, interactions or [False] * n, hold_days)


def test_a_one_day_blip_does_not_move_the_customer():
    held = _run(["steady_regulars", "quietly_drifting", "steady_regulars", "steady_regulars"])
    assert held.segments == ["steady_regulars"] * 4
    assert held.days_pointing_elsewhere == [0, 1, 0, 0]


def test_a_rule_held_for_the_hold_days_moves_the_customer():
    held = _run(["steady_regulars"] + ["quietly_drifting"] * 4)
    assert held.segments == ["steady_regulars"] * 3 + ["quietly_drifting"] * 2
    assert held.days_pointing_elsewhere == [0, 1, 2, 0, 0]


def test_rules_alternating_between_two_others_never_hold():
    held = _run(["steady_regulars"] + ["quietly_drifting", "occasional"] * 3)
    assert set(held.segments) == {"steady_regulars"}
    assert max(held.days_pointing_elsewhere) == 1


def test_crossing_the_margin_moves_the_customer_at_once():
    held = _run(["steady_regulars", "quietly_drifting", "quietly_drifting"], fits_current=[True, False, False])
    assert held.segments == ["steady_regulars", "quietly_drifting", "quietly_drifting"]


def test_a_day_with_an_interaction_follows_the_rules():
    held = _run(["steady_regulars", "upset", "upset"], interactions=[False, True, False])
    assert held.segments == ["steady_regulars", "upset", "upset"]


def test_each_customer_starts_from_the_rules():
    held = _run(
        ["steady_regulars", "steady_regulars", "upset", "upset"],
        customers=["c1", "c1", "c2", "c2"],
    )
    assert held.segments == ["steady_regulars", "steady_regulars", "upset", "upset"]


@pytest.mark.parametrize(
    ("hold_days", "fits", "message"),
    [
        pytest.param(0, {s: [True] for s in SEGMENTS}, "segment_hold_days", id="hold-days-below-one"),
        pytest.param(3, {"occasional": [True]}, "fits_<segment>", id="missing-fits-column"),
    ],
)
def test_bad_arguments_say_what_to_pass(hold_days, fits, message):
    with pytest.raises(ValueError, match=message):
        apply_hysteresis(["c1"], ["steady_regulars"], fits, [False], hold_days)
