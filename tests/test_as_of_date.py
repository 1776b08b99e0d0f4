"""One as-of date for every model: the day after the latest data (or after the var as_of_date), never the wall
clock. A world whose data ended years ago is judged on the day after its data ends."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import pytest
from rich.console import Console

from tests.conftest import make_settings, query

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115
OLD_END = date(2023, 3, 31)  # data that ended long before any build


def _build(settings, dbt_vars=None, select=("+dim_customers", "+int_customer_days")):
    """Gate + load, then the models up to dim_customers and int_customer_days (not the predictions)."""
    from empathy.dbt import run_dbt
    from empathy.pipeline import ingest_step

    ingest_step(settings, QUIET).raise_if_blocked()
    args = ["build", "--select", *select, "--indirect-selection", "cautious"]
    result = run_dbt(settings, [*args, "--vars", json.dumps(dbt_vars or {})])
    assert result.ok, result.failures[:5]


@pytest.fixture(scope="module")
def old_world(tmp_path_factory):
    from empathy.generate import generate

    landing = tmp_path_factory.mktemp("old_world") / "landing"
    generate(landing, customers=300, days=90, seed=11, sector="retail", end_date=OLD_END)
    return landing


def test_old_data_is_judged_the_day_after_it_ends(old_world, tmp_path):
    settings = make_settings(tmp_path / "home", landing=old_world)
    _build(settings)
    latest, as_of_date, as_of, source = query(
        settings.warehouse,
        "select latest_data_date, as_of_date, as_of, as_of_source from intermediate.int_as_of_date",
    )[0]
    raw_latest = query(
        settings.warehouse,
        "select max(d) from (select max(ordered_at)::date as d from raw.orders"
        " union all select max(created_at)::date from raw.customers)",
    )[0][0]
    assert source == "data" and raw_latest <= latest <= OLD_END
    assert as_of_date == latest + timedelta(days=1) and as_of.date() == as_of_date
    bad = query(
        settings.warehouse,
        "select count(*), count(case when as_of <> ? then 1 end),"
        " count(case when tenure_days <> date_diff('day', created_at, as_of) then 1 end),"
        " max(tenure_days) from marts.dim_customers",
        [as_of],
    )[0]
    n, other_as_of, wrong_tenure, _ = bad
    assert n == 300 and other_as_of == 0 and wrong_tenure == 0
    latest_state_day = query(
        settings.warehouse, "select max(state_date), count(distinct state_date) from intermediate.int_customer_days"
    )[0][0]
    assert latest_state_day == latest


def test_var_as_of_date_replays_a_past_day(old_world, tmp_path):
    settings = make_settings(tmp_path / "home", landing=old_world)
    _build(settings, {"as_of_date": "2023-02-28"}, select=("+dim_customers",))
    row = query(
        settings.warehouse, "select latest_data_date, as_of_date, as_of_source from intermediate.int_as_of_date"
    )
    assert row == [(date(2023, 2, 28), date(2023, 3, 1), "var")]
    assert query(settings.warehouse, "select distinct as_of from marts.dim_customers")[0][0].date() == date(2023, 3, 1)
