"""Worlds shaped like real exports (tests/worlds.py) build green, publish no NaN or infinity, judge everything at
one as-of date, and publish empty marts only where recorded, each with its status and reason in audit.mart_status."""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from tests import worlds
from tests.conftest import build_world, query, shared

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115
VARS = {"backtest_origins": 1}

# What each world publishes as empty today (marts with zero rows), measured on these worlds. A mart that turns
# empty and is not listed here fails the test; one that fills up is an improvement (shorten the list).
NO_TEXT = {
    "fct_customer_emotional_states",  # the emotional state needs texts or survey/review labels
    "fct_customer_text_daily",
    "fct_dissatisfaction_alerts",
    "fct_emotional_journey",
    "fct_nps_predicted",
    "fct_sentiment_model_evaluations",
    "fct_state_explanations",
    "fct_text_signals",
    "rpt_text_themes",
}
# Nobody is likely to call in a world without tickets, chats, calls or parcels, nor consents to profile by (call routing).
NO_SUPPORT = {"fct_call_routing"}
# No company world sends treatment_exposures (the product's own decision log): no experiment to measure yet.
NO_EXPOSURES = {"fct_treatment_outcomes"}
EMPTY_TODAY: dict[str, set[str]] = {
    "cdnow": NO_TEXT | NO_SUPPORT | NO_EXPOSURES,
    "online_retail": NO_TEXT | NO_SUPPORT | NO_EXPOSURES,
    # nobody buys twice: no churn model is trained, so no scores, actions, backtests or explanations; with no
    # state either, the fairness audit has nothing to judge
    "no_repeat_customers": NO_TEXT
    | NO_SUPPORT
    | NO_EXPOSURES
    | {
        "dim_model_versions",
        "fct_churn_scores",
        "fct_fairness_audit",
        "fct_model_backtests",
        "fct_next_actions",
        "fct_outreach_list",  # no churn score: nobody is known to be at risk
        "fct_score_explanations",
    },
    "subscriptions_snapshot": NO_SUPPORT
    | NO_EXPOSURES
    | {
        "fct_dissatisfaction_alerts",
        "fct_outreach_list",  # no customer in the high churn-risk band (low and medium only)
        "fct_sentiment_model_evaluations",
        "fct_state_explanations",
    },
    # customers and subscriptions only: no text, no emotional state
    "telco_snapshot": NO_TEXT | NO_SUPPORT | NO_EXPOSURES,
    # texts and no orders or subscriptions: no churn to learn; no rated text for a company sentiment model
    "texts_without_ratings": NO_SUPPORT
    | NO_EXPOSURES
    | {
        "dim_model_versions",
        "fct_churn_scores",
        "fct_dissatisfaction_alerts",
        "fct_model_backtests",
        "fct_next_actions",
        "fct_outreach_list",
        "fct_score_explanations",
        "fct_sentiment_model_evaluations",
    },
}

# Defects these worlds still reveal (reported, not fixed): none today. A world listed here is xfail(strict), so a
# fix that makes it pass fails the test until the entry is removed.
BUILD_FAILS: dict[str, str] = {}
PUBLISHES_NAN: dict[str, str] = {**BUILD_FAILS}


def _worlds(known_failures: dict[str, str]) -> list:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=known_failures[name]))
        if name in known_failures
        else name
        for name in sorted(worlds.WORLDS)
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each world built once per test session, on demand (conftest `shared`: a failed build is built once and every
    test of the world reports the same failure): name -> (settings, summary)."""

    def build(name: str, folder):
        try:
            landing = worlds.WORLDS[name](folder / "landing")
        except worlds.MissingData as exc:
            pytest.skip(str(exc))
        return build_world(folder / "home", landing, VARS)

    return lambda name: shared(tmp_path_factory, f"real_shaped_{name}", lambda folder: build(name, folder))


def _mart_status(published, run_id: str) -> dict[str, tuple[str, str]]:
    """audit.mart_status of the run as mart -> (status, reason)."""
    rows = query(published, f"select model, status, reason from audit.mart_status where run_id = '{run_id}'")
    return {name: (status, reason) for name, status, reason in rows}


@pytest.mark.parametrize("name", _worlds(BUILD_FAILS))
def test_world_builds_green(built, name):
    settings, summary = built(name)
    assert summary.dbt.count("model", "error") == 0 and summary.dbt.count("test", "fail") == 0
    assert summary.published is not None and settings.published.exists()


@pytest.mark.parametrize("name", _worlds(PUBLISHES_NAN))
def test_world_publishes_no_nan_or_inf(built, name):
    settings, _ = built(name)
    worlds.assert_no_nan_or_inf(settings.published)


@pytest.mark.parametrize("name", _worlds(BUILD_FAILS))
def test_world_is_judged_at_one_as_of_date(built, name):
    settings, _ = built(name)
    as_of, latest = query(settings.warehouse, "select as_of, latest_data_date from intermediate.int_as_of_date")[0]
    assert {a for (a,) in query(settings.published, "select distinct as_of from marts.dim_customers")} == {as_of}
    score_dates = {d for (d,) in query(settings.published, "select distinct score_date from marts.fct_churn_scores")}
    assert score_dates <= {as_of.date()}
    latest_state = query(settings.warehouse, "select max(state_date) from intermediate.int_customer_days")[0][0]
    assert latest_state == latest
    # tenure runs to the end of the data (CDNOW ends in 1998), never to the wall clock
    longest, span = query(
        settings.published,
        "select max(tenure_days), date_diff('day', min(created_at), max(as_of)) from marts.dim_customers",
    )[0]
    assert longest <= span


@pytest.mark.parametrize("name", _worlds(BUILD_FAILS))
def test_world_segments_every_customer_once_on_the_latest_day(built, name):
    """Any subset of sources gets segments: one per customer on the latest day, the dimension's sizes summing to
    them; without an emotional state nobody is a delighted advocate and the reasons say behaviour alone."""
    settings, _ = built(name)
    rows, customers, with_state = query(
        settings.published,
        "select count(*), count(distinct customer_id), count(*) filter (where has_state)"
        " from marts.fct_customer_segments where is_latest",
    )[0]
    assert rows == customers > 0
    assert query(settings.published, "select sum(customers) from marts.dim_empagraphic_segments")[0][0] == customers
    if with_state == 0:
        delighted, behaviour_alone = query(
            settings.published,
            "select count(*) filter (where segment_id = 'delighted_advocates'),"
            " count(*) filter (where segment_reason like '%no emotional state%') from marts.fct_customer_segments"
            " where is_latest",
        )[0]
        assert delighted == 0 and behaviour_alone == customers


@pytest.mark.parametrize("name", _worlds(BUILD_FAILS))
def test_world_publishes_empty_marts_only_where_recorded(built, name):
    settings, summary = built(name)
    rows = worlds.published_marts(settings.published)
    empty = {mart for mart, n in rows.items() if n == 0}
    print(f"{name}: rows per mart {rows}")
    assert empty <= EMPTY_TODAY[name], f"{name}: newly empty marts {sorted(empty - EMPTY_TODAY[name])}"
    statuses = _mart_status(settings.published, summary.run_id)
    assert set(statuses) == set(rows), f"{name}: marts without a status row"
    unexplained = {
        mart: statuses[mart]
        for mart in empty
        if not statuses[mart][1]
        or (statuses[mart][0] == "ok" and not statuses[mart][1].startswith("empty: its inputs have rows"))
    }
    assert not unexplained, f"{name}: empty marts without a skipped/degraded status and a reason: {unexplained}"
    print(f"{name}: statuses {statuses}")


def test_telco_snapshot_is_a_churn_window_judged_on_held_out_customers(built):
    """Only who left in the last month: the label window ends at the data end, the candidates are judged on held-out
    customers, every active subscriber is scored, and a paying subscriber is never lapsed."""
    settings, _ = built("telco_snapshot")
    w = settings.warehouse
    horizon, method, labels_from = query(
        w, "select horizon_days, horizon_method, labels_from_date from intermediate.int_churn_horizon"
    )[0]
    latest = query(w, "select latest_data_date from intermediate.int_as_of_date")[0][0]
    assert method.startswith("churn window") and (latest - labels_from).days + 1 == horizon
    labelled = query(
        w,
        "select snapshot_date, avg(case when is_churned then 1.0 else 0.0 end), count(*)"
        " from intermediate.int_customer_snapshot_outcomes where is_label_complete group by 1",
    )
    assert [d for d, _, _ in labelled] == [labels_from] and 0.15 < labelled[0][1] < 0.4
    candidate, evaluation = query(
        settings.published, "select candidate, evaluation from marts.dim_model_versions where model_name = 'churn'"
    )[0]
    assert evaluation == "customer_holdout"
    losses = dict(
        query(
            settings.published,
            "select candidate, value from marts.fct_model_backtests where model_name = 'churn'"
            " and section = 'summary' and metric = 'log_loss'",
        )
    )
    assert losses[candidate] == min(losses.values()) and len(losses) == 3
    active = query(
        w,
        "select count(*) from intermediate.int_customer_snapshots where is_scoring_snapshot and active_subscriptions > 0",
    )[0][0]
    scored, lapsed = query(
        settings.published,
        "select count(churn_probability), count(*) filter (where is_cancelled) from marts.fct_churn_scores",
    )[0]
    assert scored == active > 0 and lapsed == 0


def test_telco_snapshot_retains_subscribers_at_high_risk_and_upsells_none_at_risk(built):
    """A paying subscriber at high churn risk gets a renewal or retention offer (nobody is upset or has a ticket in
    this export, so nothing comes before it), never an upsell; the others are not retained."""
    settings, _ = built("telco_snapshot")
    actions = query(
        settings.published,
        "select churn_risk_band, recommended_action, is_retain, count(*) from marts.fct_next_actions group by all",
    )
    high = {action: n for band, action, _, n in actions if band == "high"}
    assert list(high) == ["retain"] and high["retain"] > 0
    assert all(is_retain == (band == "high") for band, _, is_retain, _ in actions)
    assert not [a for band, a, _, _ in actions if band != "high" and a in ("retain", "upsell")]
    scored = query(settings.published, "select count(churn_probability) from marts.fct_churn_scores")[0][0]
    assert sum(n for *_, n in actions) == scored


def test_online_retail_orders_only_routes_to_tiers_only_or_says_why(built):
    """Customers and orders only: no agents, so no recommended agent; routing is empty with a reason or gives
    tiers only, and the contact-centre lookup still has one row per customer."""
    settings, summary = built("online_retail")
    routed, with_agent = query(
        settings.published, "select count(*), count(recommended_agent_id) from marts.fct_call_routing"
    )[0]
    assert with_agent == 0
    status, reason = _mart_status(settings.published, summary.run_id)["fct_call_routing"]
    assert status in ("degraded", "skipped") and "no agents table" in reason
    roster = query(
        settings.published,
        "select status, reason from audit.model_status where model = 'int_agent_roster' and component = 'agents'",
    )
    assert roster and all(s == "skipped" and "tier" in r for s, r in roster)
    customers = query(settings.published, "select count(*) from marts.dim_customers")[0][0]
    lookup = query(
        settings.published,
        "select count(*), count(distinct customer_id), count(recommended_agent_id) from marts.rpt_contact_centre_lookup",
    )[0]
    assert lookup == (customers, customers, 0)
    if routed == 0:
        assert (
            query(
                settings.published,
                "select count(*) from marts.rpt_contact_centre_lookup where routing_priority <> 'none'",
            )[0][0]
            == 0
        )


@pytest.mark.parametrize("name", ["cdnow", "online_retail"])
def test_orders_only_world_gets_service_actions_only_and_says_why(built, name):
    """No consents table: every customer is scored for service actions only, no marketing reaches anyone, and
    audit.mart_status says why for every activation mart."""
    settings, summary = built(name)
    assert set(worlds.activation_breaches(settings.warehouse).values()) == {0}
    purposes = dict(query(settings.published, "select purpose, count(*) from marts.fct_next_best_actions group by 1"))
    assert purposes and set(purposes) == {"service"}
    bases = {b for (b,) in query(settings.published, "select distinct consent_basis from marts.fct_next_best_actions")}
    assert bases <= {"no_contact", "service_contract_no_consent_data"}
    suppressed = query(
        settings.published,
        "select count(distinct customer_id) from marts.fct_contact_suppressions where reason_code = 'no_consent'",
    )[0][0]
    assert suppressed == query(settings.published, "select count(*) from marts.fct_next_best_actions")[0][0]
    statuses = _mart_status(settings.published, summary.run_id)
    for mart in ("fct_next_best_actions", "fct_contact_suppressions", "fct_outreach_list"):
        status, reason = statuses[mart]
        assert status in ("degraded", "skipped") and "no consent data" in reason, (mart, statuses[mart])
    # no decision log: no experiment measured, said in words; the impact is null, never asserted
    status, reason = statuses["fct_treatment_outcomes"]
    assert status == "skipped" and "treatment_exposures" in reason, statuses["fct_treatment_outcomes"]
    impact = query(settings.published, "select measure_id, value, status from marts.fct_empathy_impact")
    assert {m: st for m, _, st in impact if m != "marketing_cost_avoided_usd"} == dict.fromkeys(
        ("retained_revenue_usd", "churn_reduction_share", "churn_events_avoided"), "not_estimated"
    )
