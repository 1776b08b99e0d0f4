"""The emotional-state models end to end: the whole pipeline on the small demo world (needs the text model)."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import pytest
import yaml

from empathy.dbt import run_dbt
from empathy.state.effects import ROW_KEYS
from tests.conftest import PROJECT_DIR, WORLD_END, copy_home, query
from tests.test_text_marts import _text_model_or_skip


@pytest.fixture(scope="module")
def text_built(request, tmp_path_factory):
    """The small world built end to end (the session's shared `small_built`), copied: a test below rebuilds
    int_customer_days in it."""
    _text_model_or_skip()
    settings, summary = request.getfixturevalue("small_built")
    return copy_home(settings, tmp_path_factory.mktemp("state_marts") / "home"), summary


STATE_MARTS = (
    "fct_customer_emotional_states",
    "fct_state_explanations",
    "fct_nps_predicted",
    "fct_emotional_journey",
    "fct_dissatisfaction_alerts",
    "dim_event_library",
)
STATE_INTERMEDIATE = (
    "int_customer_daily_activity",
    "int_customer_days",
    "int_customer_day_labels",
    "int_survey_invitations",
    "int_customer_events",
    "int_customer_states__scored",
)


def test_state_marts_build_and_publish(text_built):
    settings, summary = text_built
    assert summary.dbt.count("test", "fail") == 0 and summary.dbt.count("model", "error") == 0
    published = {
        t for (t,) in query(settings.published, "select table_name from duckdb_tables() where schema_name = 'marts'")
    }
    assert set(STATE_MARTS) <= published
    n_states, n_customers_latest, n_latest = query(
        settings.published,
        "select count(*), count(distinct case when is_latest then customer_id end), count(case when is_latest then 1 end)"
        " from marts.fct_customer_emotional_states",
    )[0]
    n_customers = query(settings.published, "select count(*) from marts.dim_customers")[0][0]
    assert n_states > n_customers
    assert n_customers_latest == n_latest == n_customers  # one state today for everyone, silent or not
    assert query(settings.published, "select count(*) from marts.fct_nps_predicted")[0][0] == n_customers
    bad = query(
        settings.published,
        "select count(*) from marts.fct_customer_emotional_states where empathy_score not between 0 and 100"
        " or abs(empathy_score - (50 + 50 * valence)) > 1e-9 or confidence not between 0 and 1",
    )[0][0]
    assert bad == 0


def test_library_has_every_seed_event_and_outcome(text_built):
    settings, _ = text_built
    seed = query(settings.warehouse, "select count(*) from reference.event_types")[0][0]
    rows = query(settings.published, "select count(*), count(distinct event_type) from marts.dim_event_library")[0]
    assert rows == (len(ROW_KEYS) * seed, seed)


def test_explanations_point_at_states(text_built):
    settings, _ = text_built
    orphans, latest_explained = query(
        settings.published,
        "select count(*) filter (where s.customer_day_id is null),"
        " count(distinct e.customer_day_id) filter (where s.is_latest)"
        " from marts.fct_state_explanations e"
        " left join marts.fct_customer_emotional_states s using (customer_day_id)",
    )[0]
    assert orphans == 0 and latest_explained > 0


ZERO_COUNT = re.compile(r":\s*0(?![\d.])")  # "...: 0" cites a count of zero


def test_explanations_cite_evidence_of_what_happened(text_built):
    settings, _ = text_built
    rows = query(settings.published, "select driver, evidence, explanation from marts.fct_state_explanations")
    assert rows
    assert all(evidence for _, evidence, _ in rows)
    assert not [e for _, e, _ in rows if ZERO_COUNT.search(e)]
    assert {d for d, *_ in rows} >= {"baseline"}
    # a late-delivery driver only for a customer-day with a late delivery in its window
    unfounded = query(
        settings.warehouse,
        "select count(*) from marts.fct_state_explanations e"
        " inner join intermediate.int_customer_days d using (customer_day_id)"
        " where e.driver = 'late_delivery' and coalesce(d.late_deliveries_90d, 0) = 0"
        " and coalesce(d.late_deliveries_30d, 0) = 0 and coalesce(d.overdue_parcels, 0) = 0",
    )[0][0]
    assert unfounded == 0


def test_state_marts_have_no_nan_and_a_real_interval(text_built):
    settings, _ = text_built
    for table in ("fct_customer_emotional_states", "fct_state_explanations"):
        floats = [
            c
            for (c,) in query(
                settings.published,
                "select column_name from duckdb_columns() where table_name = ? and data_type in ('DOUBLE', 'FLOAT')",
                [table],
            )
        ]
        assert floats
        nan = " + ".join(f"count(*) filter (where isnan({c}) or isinf({c}))" for c in floats)
        assert query(settings.published, f"select {nan} from marts.{table}")[0][0] == 0, table
    narrow, unlabelled_driver, band_without_score = query(
        settings.published,
        "select avg(case when empathy_score_low < empathy_score_high then 1 else 0 end),"
        " count(*) filter (where (top_driver is null) <> (top_driver_points is null)"
        " or (top_driver is null) <> (top_driver_evidence is null)),"
        " count(*) filter (where empathy_score is null and empathy_band is not null)"
        " from marts.fct_customer_emotional_states",
    )[0]
    assert narrow > 0.9 and unlabelled_driver == 0 and band_without_score == 0


def test_eval_state_reports_the_interval_coverage(text_built, small_world):
    from empathy.state.evaluate import evaluate_state

    settings, _ = text_built
    rows = evaluate_state(settings.warehouse, small_world / "_truth")
    truth = [r for r in rows if r.metric.startswith("share of latent valence inside the stated 80% interval")]
    labels = [r for r in rows if r.metric.startswith("share inside the stated 80% interval of a new label")]
    assert len(truth) == len(labels) == 1
    assert truth[0].baseline == 0.8 and truth[0].n > 100
    # the small world has too few pairs of labels days apart to measure the label noise: the interval is then
    # that of a new label, which must not cover the latent state less often than stated
    assert "not corrected for label noise" in truth[0].metric
    assert truth[0].value >= 0.8 - 0.03, truth[0]


def test_yml_documents_every_column_of_the_state_models(text_built):
    settings, _ = text_built
    documented = {}
    for path in ("intermediate/state/_state__models.yml", "marts/state/_state__models.yml"):
        for model in yaml.safe_load((PROJECT_DIR / "models" / path).read_text())["models"]:
            documented[model["name"]] = [c["name"] for c in model["columns"]]
    for name in (*STATE_MARTS, *STATE_INTERMEDIATE):
        actual = [
            c
            for (c,) in query(
                settings.warehouse,
                "select column_name from duckdb_columns() where table_name = ? order by column_index",
                [name],
            )
        ]
        assert documented[name] == actual, name


@pytest.mark.parametrize("days_back", [10])
def test_incremental_customer_days_equal_a_full_refresh(text_built, days_back):
    """Build int_customer_days as of an earlier day, then incrementally to the end: same rows as a full rebuild."""
    settings, _ = text_built
    end = WORLD_END if isinstance(WORLD_END, date) else date.fromisoformat(str(WORLD_END))
    earlier = end - timedelta(days=days_back)
    select = ["-s", "int_customer_day_spine", "int_customer_days"]  # the spine is a view: recreated with the var

    def build(as_of: date, *extra: str) -> None:
        result = run_dbt(settings, ["run", *select, "--vars", f"{{as_of_date: '{as_of}'}}", *extra])
        assert result.ok, "\n".join(result.failures)

    snapshot = "select * exclude (is_latest) from intermediate.int_customer_days order by customer_day_id"
    build(earlier, "--full-refresh")
    assert query(settings.warehouse, "select max(state_date) from intermediate.int_customer_days")[0][0] == earlier
    build(end)
    incremental = query(settings.warehouse, snapshot)
    build(end, "--full-refresh")
    full = query(settings.warehouse, snapshot)
    assert len(incremental) == len(full) > 0
    # equal, floats up to summation order (DuckDB's parallel window sums may add in another order)
    for a, b in zip(incremental, full, strict=True):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (a[0], x, y)
            else:
                assert x == y, (a[0], x, y)
