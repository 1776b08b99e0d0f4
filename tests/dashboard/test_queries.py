"""The dashboard's query functions on a small hand-made published database (no build, no browser)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from empathy.dashboard.data import published, table_state
from empathy.dashboard.pages import actions, customers, effects, models, overview, quality

TABLES = """
create schema marts;
create schema audit;
create schema meta;
create table meta.publication as select 'run-1' as run_id, timestamp '2026-07-01 06:00' as published_at;
create table marts.dim_customers as select * from (values ('a'), ('b'), ('c')) as t(customer_id);
-- a's state on day 1 and day 10, b's on day 5 only: at day 7 the shown states are a@1 and b@5
create table marts.fct_customer_emotional_states as select * from (values
    ('a', date '2026-06-01', 40.0, 'distressed', false),
    ('a', date '2026-06-10', 80.0, 'content', true),
    ('b', date '2026-06-05', 60.0, 'neutral', true)
) as t(customer_id, state_date, empathy_score, empathy_band, is_latest);
create table marts.fct_emotional_journey as select * from (values
    (date '2026-06-01', 1, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (date '2026-06-01', 3, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
) as t(activity_month, customer_days, joy_share, sadness_share, anger_share, fear_share, surprise_share,
       disgust_share, neutral_share);
create table marts.fct_dissatisfaction_alerts as select * from (values
    ('all:all:2026-05-01', date '2026-05-01', 'medium', 'all', 'all', 0.3, 0.1, 3.2, 40),
    ('all:all:2026-06-20', date '2026-06-20', 'high', 'all', 'all', 0.4, 0.1, 4.2, 40)
) as t(alert_id, alert_date, severity, segment_dimension, segment_value, unhappy_share, baseline_share, z_score,
       customer_days);
create table marts.fct_churn_scores as select * from (values
    ('a', date '2026-06-01', 0.9, 'high', true, true, true),
    ('a', date '2026-07-01', 0.8, 'high', true, true, true),
    ('b', date '2026-07-01', 0.7, 'high', false, false, true),
    ('c', date '2026-07-01', 0.1, 'low', false, true, true)
) as t(customer_id, score_date, churn_probability, churn_risk_band, is_saveable, is_reachable, is_responsive);
create table marts.fct_score_explanations as select * from (values
    ('a', date '2026-07-01', 'churn', 1, 'late deliveries', 'late deliveries in 90 days: 2', 'raises', 4.1),
    ('a', date '2026-07-01', 'churn', 2, 'tenure', '', 'lowers', -2.0),
    ('a', date '2026-07-01', 'value', 1, 'orders', 'repeat purchases: 7', 'raises', 30.0),
    ('a', date '2026-06-01', 'churn', 1, 'an old driver', '', 'raises', 9.0)
) as t(customer_id, score_date, target, driver_rank, driver_label, evidence, direction, contribution);
create table marts.fct_next_actions as select * from (values
    ('a', date '2026-07-01', 'reassure', 'saveable', 41.0, 120.0, 'high'),
    ('b', date '2026-07-01', 'route_to_senior_agent', 'open ticket', 30.0, 50.0, 'high'),
    ('c', date '2026-07-01', 'nurture', 'none of these', 70.0, 500.0, 'low')
) as t(customer_id, score_date, recommended_action, action_reason, empathy_score, clv, churn_risk_band);
create table marts.fct_clv as select * from (values
    ('a', date '2026-07-01', 'high'), ('b', date '2026-07-01', 'high'), ('c', date '2026-07-01', 'low')
) as t(customer_id, score_date, value_segment);
create table marts.dim_event_library as select * from (values
    ('late_delivery', 'a parcel late', 'sentiment', 'exposure', -0.2, null, -0.3, -0.1, 0.001, 50, 500, 'negative',
     'ok', 9),
    ('late_delivery', 'a parcel late', 'sentiment', 'unit', -0.05, null, -0.1, 0.0, 0.04, 50, 500, 'negative', 'ok', 9),
    ('late_delivery', 'a parcel late', 'churn', 'exposure', null, 1.8, 1.2, 2.5, 0.01, 50, 500, 'negative', 'ok', 9),
    ('gift', 'a gift', 'survey', 'exposure', null, null, null, null, null, 0, 0, 'positive', 'too_few_exposed', 2)
) as t(event_type, description, outcome, effect_per, effect, hazard_ratio, ci_low, ci_high, p_value, exposed_units,
       control_units, expected_direction, status, events_detected);
create table marts.dim_model_versions as select 'churn-v2' as model_version, 'churn' as model_name, true as is_current;
create table marts.fct_model_backtests as select * from (values
    ('churn-v2', 'churn', date '2026-05-01', 'summary', 0, 'auc', 0.80),
    ('churn-v2', 'churn', date '2026-06-01', 'summary', 0, 'auc', 0.70),
    ('churn-v2', 'churn_baseline_recency', date '2026-06-01', 'summary', 0, 'auc', 0.60),
    ('churn-v1', 'churn', date '2026-06-01', 'summary', 0, 'auc', 0.10),
    ('churn-v2', 'churn', date '2026-05-01', 'calibration', 1, 'n', 10.0),
    ('churn-v2', 'churn', date '2026-05-01', 'calibration', 1, 'mean_predicted', 0.1),
    ('churn-v2', 'churn', date '2026-05-01', 'calibration', 1, 'observed_rate', 0.2),
    ('churn-v2', 'churn', date '2026-06-01', 'calibration', 1, 'n', 30.0),
    ('churn-v2', 'churn', date '2026-06-01', 'calibration', 1, 'mean_predicted', 0.2),
    ('churn-v2', 'churn', date '2026-06-01', 'calibration', 1, 'observed_rate', 0.4)
) as t(model_version, model_name, origin_date, section, bin, metric, value);
create table audit.gate_results as select * from (values
    ('r1', 'orders', 'expect_x', 'amount', false, 5, 5.0, 'range'),
    ('r2', 'orders', 'expect_x', 'amount', true, 0, 0.0, 'range'),
    ('r2', 'orders', 'expect_y', 'status', false, 3, 3.0, 'allowed_values'),
    ('r2', 'customers', 'expect_z', 'id', true, 0, 0.0, 'not_null')
) as t(run_id, table_name, expectation, column_name, success, unexpected_count, unexpected_percent, rule);
create table audit.load_log as select * from (values ('orders', 97, 3), ('orders', 10, 0), ('customers', 3, 0))
    as t(table_name, rows_loaded, rows_quarantined);
create table audit.quarantine as select * from (values ('orders', 'range'), ('orders', 'range'), ('orders', 'orphan'))
    as t(table_name, rule);
create table audit.mart_status as select * from (values
    ('r1', 'fct_clv', 0, 'skipped', 'old word', '', timestamp '2026-06-01'),
    ('r2', 'fct_clv', 0, 'skipped', 'no orders were sent', 'send orders', timestamp '2026-07-01'),
    ('r2', 'fct_churn_scores', 4, 'ok', '', '', timestamp '2026-07-01')
) as t(run_id, model, row_count, status, reason, fix, recorded_at);
create table audit.model_status as select * from (values
    ('m', 'm', 'degraded', 'few labels', 'more surveys', timestamp '2026-07-01'),
    ('m', 'm', 'ok', '', '', timestamp '2026-06-01')
) as t(model, component, status, reason, fix, recorded_at);
create table marts.dim_empagraphic_segments as select * from (values
    ('steady', 'steady regulars', 2, 'buy often, calm', 2, 0.67, 70.0, 0.1, 300.0),
    ('frustrated', 'frustrated loyalists', 1, 'loyal and angry', 1, 0.33, 20.0, 0.6, 900.0)
) as t(segment_id, segment_name, priority, description, customers, customer_share, mean_empathy_score,
       mean_churn_risk, mean_revenue_365d);
create table marts.fct_segment_transitions as select * from (values
    (date '2026-06-22', 'steady regulars', 'steady regulars', true, 9, 0.9),
    (date '2026-06-29', 'steady regulars', 'steady regulars', true, 2, 0.67),
    (date '2026-06-29', 'steady regulars', 'frustrated loyalists', false, 1, 0.33)
) as t(week_start, from_segment, to_segment, is_same_segment, customers, share_of_from);
create table marts.fct_next_best_actions as select * from (values
    ('a', date '2026-06-30', 'Upsell offer', 'email', 5.0),
    ('a', date '2026-07-01', 'Apology with a recovery gesture', 'email', 12.0),
    ('b', date '2026-07-01', 'Apology with a recovery gesture', 'email', 3.0),
    ('c', date '2026-07-01', 'Hold all marketing', 'none', 0.0)
) as t(customer_id, score_date, treatment_name, channel, expected_value);
create table marts.fct_contact_suppressions as select * from (values
    ('a', date '2026-07-01', 'email', 'predicted_distress', date '2026-07-15'),
    ('a', date '2026-07-01', 'sms', 'predicted_distress', date '2026-07-15'),
    ('b', date '2026-07-01', 'email', 'no_consent', null),
    ('c', date '2026-06-01', 'email', 'open_ticket', date '2026-06-05')
) as t(customer_id, score_date, channel, reason_code, suppressed_until);
create table marts.fct_call_routing as select * from (values
    ('a', date '2026-07-01', 'senior', 'p1', true, 'ag1', true),
    ('b', date '2026-07-01', 'senior', 'p1', true, null, null),
    ('c', date '2026-07-01', 'tier1', 'p3', false, 'ag2', false)
) as t(customer_id, score_date, route_tier, priority, is_emotionally_charged, recommended_agent_id, is_skill_matched);
create table marts.fct_treatment_outcomes as select * from (values
    ('apology_v1', 'apology', 'churn_rate', 0.6, 0.4, 0.9, 100, 25, 'estimated', null),
    ('upsell_v1', 'upsell', 'order_rate', 1.1, 0.9, 1.3, 100, 25, 'estimated', null),
    ('upsell_v1', 'upsell', 'revenue_per_day', 0.5, 0.1, 0.9, 100, 25, 'estimated', null),
    ('thanks_v1', 'thanks', 'churn_rate', null, null, null, 5, 1, 'too_few_customers', 'fewer than 20 exposures')
) as t(experiment_id, treatment_id, metric, estimate, ci_low, ci_high, n_treated, n_holdout, status, status_reason);
create table marts.fct_empathy_impact as select * from (values
    ('retained_revenue_usd', 'Revenue added', 120.0, -10.0, 250.0, 'measured', null),
    ('churn_events_avoided', 'Churn avoided', null, null, null, 'not_estimated', 'too few events')
) as t(measure_id, measure, value, ci_low, ci_high, status, status_reason);
create table marts.fct_empty as select 1 as x where false;
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dashboard") / "empathy.duckdb"
    con = duckdb.connect(str(path))
    con.execute(TABLES)
    con.close()
    return path


@pytest.fixture
def con(db):
    with published(db) as connection:
        yield connection


def test_published_connection_is_read_only(con):
    with pytest.raises(duckdb.Error):
        con.execute("create table marts.x as select 1")


def test_absent_table_says_it_is_not_published(con):
    state = table_state(con, "marts.fct_segments")
    assert state.rows is None and not state.ready
    assert "`marts.fct_segments` is not in the published database" in state.message


def test_empty_mart_gives_the_builds_latest_reason_and_fix(con):
    state = table_state(con, "marts.fct_empty")
    assert state.rows == 0 and state.message == "`marts.fct_empty` has no rows."
    clv = table_state(con, "marts.fct_clv")
    assert clv.ready and clv.message == ""
    said = quality.latest_mart_status(con).set_index("mart")
    assert said.loc["fct_clv", "reason"] == "no orders were sent"


def test_empty_mart_message_quotes_mart_status(db, tmp_path):
    path = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(path))
    con.execute(TABLES)
    con.execute("delete from marts.fct_clv")
    con.close()
    with published(path) as read:
        message = table_state(read, "marts.fct_clv").message
    assert message == (
        "`marts.fct_clv` has no rows (status `skipped`): no orders were sent. What would fix it: send orders"
    )


def test_headline_counts_customers_and_todays_states(con):
    top = overview.headline(con)
    assert top["customers"] == 3
    assert top["mean_empathy_score"] == pytest.approx(70.0)  # the latest states: 80 and 60
    assert top["distressed_share"] == 0.0
    assert top["alerts_30d"] == 1  # 2026-05-01 is more than 30 days before the latest alert


def test_trend_shows_each_customers_latest_state_at_the_weeks_end(con):
    trend = overview.empathy_trend(con).set_index("week_end")
    days = [d.date().isoformat() for d in trend.index]
    assert days == ["2026-06-01", "2026-06-08"]
    first, second = trend.iloc[0], trend.iloc[1]
    assert first["customers"] == 1 and first["mean_empathy_score"] == 40.0  # only a has a state by day 1
    assert second["customers"] == 2 and second["mean_empathy_score"] == 50.0  # a@06-01 (40) and b@06-05 (60)
    assert second["distressed_share"] == 0.5


def test_emotion_mix_weights_months_by_customer_days(con):
    mix = overview.emotion_mix(con).set_index("emotion")["share"]
    assert mix["joy"] == pytest.approx(0.25) and mix["sadness"] == pytest.approx(0.75)
    assert mix.sum() == pytest.approx(1.0)


def test_risk_bands_count_the_latest_scoring_day(con):
    bands = customers.risk_bands(con).set_index("churn_risk_band")
    assert bands.loc["high", "customers"] == 2 and bands.loc["high", "saveable"] == 1
    assert bands.loc["low", "customers"] == 1


def test_drivers_in_words_are_the_latest_churn_drivers_in_rank_order(con):
    words = customers.drivers_in_words(con).set_index("customer_id")["drivers"]
    assert words["a"] == "late deliveries (late deliveries in 90 days: 2) raises +4.1 pts; tenure lowers -2.0 pts"


def test_saveable_customers_come_with_action_and_drivers(con):
    saveable = customers.at_risk(con, saveable_only=True)
    assert saveable["customer_id"].tolist() == ["a"]
    row = saveable.iloc[0]
    assert row["recommended_action"] == "reassure" and row["drivers"].startswith("late deliveries")
    everyone = customers.at_risk(con)
    assert everyone["customer_id"].tolist() == ["a", "b", "c"]  # riskiest first


def test_event_effects_are_per_exposure_with_intervals(con):
    effects_ = effects.event_effects(con).set_index("outcome")
    assert sorted(effects_.index) == ["churn", "sentiment"]  # one estimate each: per exposure, not per unit
    assert effects_.loc["churn", "estimate"] == 1.8  # the hazard ratio where there is no difference
    assert effects_.loc["sentiment", "ci_low"] == -0.3 and bool(effects_.loc["sentiment", "is_significant"])
    assert effects.events_without_estimate(con)["status"].tolist() == ["too_few_exposed"]


def test_segments_come_in_rule_order_and_moves_are_the_latest_week(con):
    assert actions.segment_sizes(con)["segment_name"].tolist() == ["frustrated loyalists", "steady regulars"]
    moves = actions.segment_moves(con).set_index("to_segment")["customers"]
    assert moves.to_dict() == {"frustrated loyalists": 1, "steady regulars": 2}


def test_actions_suppressions_and_routing_count_the_latest_day(con):
    acts = actions.best_actions(con).set_index("treatment_name")
    assert acts["customers"].to_dict() == {"Apology with a recovery gesture": 2, "Hold all marketing": 1}
    assert acts.loc["Apology with a recovery gesture", "expected_value"] == 15.0
    held = actions.suppressions(con).set_index("reason_code")
    assert held["customers"].to_dict() == {"predicted_distress": 1, "no_consent": 1}  # a once, on two channels
    assert held.loc["predicted_distress", "channels"] == 2
    calls = actions.routing(con).set_index(["route_tier", "priority"])
    assert calls.loc[("senior", "p1"), "customers"] == 2 and calls.loc[("senior", "p1"), "emotionally_charged"] == 2
    assert (
        calls.loc[("senior", "p1"), "skill_matched_agent"] == 1
        and calls.loc[("tier1", "p3"), "skill_matched_agent"] == 0
    )


def test_uplift_marks_intervals_that_exclude_no_effect_and_lists_the_rest_with_why(con):
    est = actions.uplift(con).set_index(["experiment_id", "metric"])["excludes_no_effect"]
    # a ratio excludes 1, a difference excludes 0
    assert est.to_dict() == {
        ("apology_v1", "churn_rate"): True,
        ("upsell_v1", "order_rate"): False,
        ("upsell_v1", "revenue_per_day"): True,
    }
    assert actions.not_estimated(con)["status_reason"].tolist() == ["fewer than 20 exposures"]
    assert actions.impact(con).set_index("measure_id")["status"].to_dict() == {
        "retained_revenue_usd": "measured",
        "churn_events_avoided": "not_estimated",
    }


def test_backtests_are_of_the_current_version_and_pooled_by_customers(con):
    means = models.mean_summary(con)
    assert means["churn"]["auc"] == pytest.approx(0.75)  # churn-v1's 0.10 is not the current version
    assert means["churn_baseline_recency"]["auc"] == pytest.approx(0.60)
    calibration = models.calibration(con).iloc[0]
    assert calibration["n"] == 40
    assert calibration["mean_predicted"] == pytest.approx((0.1 * 10 + 0.2 * 30) / 40)
    assert calibration["observed_rate"] == pytest.approx((0.2 * 10 + 0.4 * 30) / 40)
    assert models.lift(con).empty


def test_gate_checks_are_the_latest_runs(con):
    checks = quality.gate_checks(con).set_index("table_name")
    assert checks.loc["orders", "passed"] == 1 and checks.loc["orders", "failed"] == 1
    assert quality.failed_checks(con)["rule"].tolist() == ["allowed_values"]
    rows = quality.rows_by_table(con).set_index(["table_name", "outcome"])["rows"]
    assert rows[("orders", "loaded")] == 107 and rows[("orders", "quarantined")] == 3
    assert quality.quarantine_by_rule(con).iloc[0].tolist() == ["orders", "range", 2]


def test_model_status_is_each_models_newest_report(con):
    status = quality.latest_model_status(con)
    assert status["status"].tolist() == ["degraded"]
    assert quality.status_counts(status).to_dict("records") == [{"status": "degraded", "count": 1}]
