"""A company that sends only customers and subscriptions (no orders, no text, no support data) still gets churn
scores, explanations, backtests and subscription value."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from tests.conftest import make_settings, query

KEEP = {"customers", "subscriptions"}


@pytest.fixture(scope="module")
def subscriptions_only(tmp_path_factory):
    from empathy.generate import generate
    from empathy.pipeline import run
    from tests.test_text_marts import QUIET

    landing = tmp_path_factory.mktemp("subs_world") / "landing"
    generate(landing, customers=1500, days=330, seed=5, sector="subscription", end_date=date(2026, 6, 30))
    for folder in landing.iterdir():
        if folder.is_dir() and folder.name not in KEEP and not folder.name.startswith("_"):
            shutil.rmtree(folder)
    shutil.rmtree(landing / "_truth")
    settings = make_settings(tmp_path_factory.mktemp("subs_built"), landing=landing)
    settings.options["dbt"]["vars"] = {"backtest_origins": 1}
    return settings, run(settings, QUIET)


def test_churn_value_and_actions_without_text_or_orders(subscriptions_only):
    settings, summary = subscriptions_only
    assert summary.dbt.count("test", "fail") == 0 and summary.dbt.count("model", "error") == 0
    raw = {t for (t,) in query(settings.warehouse, "select table_name from duckdb_tables() where schema_name = 'raw'")}
    assert raw == KEEP
    n, types = query(settings.published, "select count(*), list(distinct contract_type) from marts.fct_churn_scores")[0]
    assert n > 500 and types == ["subscription"]
    assert query(settings.warehouse, "select horizon_method from intermediate.int_churn_horizon")[0][0].startswith(
        "default"
    )
    value = query(
        settings.published,
        "select count(*), avg(subscription_clv), sum(order_value_clv) from marts.fct_clv"
        " where contract_type = 'subscription'",
    )[0]
    assert value[0] == n and value[1] > 0 and value[2] is None  # no orders: no order value
    targets = {t for (t,) in query(settings.published, "select distinct target from marts.fct_score_explanations")}
    assert targets == {"churn", "subscription_value"}
    # with only plan, price and tenure to go on, a 1,500-customer world gives a weak model: the test checks the
    # backtest ran out of time on one origin for every candidate, not its quality
    auc = query(
        settings.published,
        "select candidate, evaluation, origin_date, value from marts.fct_model_backtests"
        " where model_name = 'churn' and metric = 'auc'",
    )
    assert sorted(c for c, *_ in auc) == ["lightgbm", "logistic_binned", "recency_baseline"]
    assert {(e, o) for _, e, o, _ in auc} == {("out_of_time", auc[0][2])} and all(0 <= v <= 1 for *_, v in auc)
    actions = query(
        settings.published,
        "select count(*), count(distinct recommended_action), count(*) filter (where recommended_action = 'retain'),"
        " count(*) filter (where (churn_risk_band = 'high') <> (recommended_action = 'retain'))"
        " from marts.fct_next_actions",
    )
    # every customer pays a subscription and none is upset or waiting on a ticket: high risk is retained, no one else
    assert actions[0][0] == n and actions[0][2] > 0 and actions[0][3] == 0
