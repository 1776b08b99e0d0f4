"""audit.model_status and audit.mart_status: every model that learns or scores says what it could do, and every
mart says why it is empty or degraded."""

from __future__ import annotations

import json
import math

import duckdb
import pyarrow as pa
import pytest

from empathy import status
from empathy.mart_status import mart_report, write_mart_report
from empathy.tables import finite_or_null


def test_recorded_writes_reports_and_an_own_row():
    con = duckdb.connect()

    def call():
        status.report("churn", "skipped", "25 churners of 25", counts={"churned": 25}, fix="more history")
        status.report("clv", "ok", "fitted")
        return pa.table({"x": [1.0, 2.0]})

    result = status.recorded(con, "int_model_registry", call)
    assert result.num_rows == 2
    rows = con.execute(
        "select component, status, reason, counts, fix, rows_out from audit.model_status order by component"
    ).fetchall()
    by_component = {r[0]: r for r in rows}
    assert by_component["churn"][1:3] == ("skipped", "25 churners of 25")
    assert json.loads(by_component["churn"][3]) == {"churned": 25}
    own = by_component["int_model_registry"]
    # it returned rows: a skipped part makes the model degraded, not skipped
    assert own[1] == "degraded" and "churn: 25 churners of 25" in own[2] and own[4] == "more history"
    assert own[5] == 2


def test_a_model_that_returns_nothing_because_a_part_was_skipped_is_skipped():
    con = duckdb.connect()

    def call():
        status.report("nps", "skipped", "0 answers")
        return pa.table({"x": pa.array([], pa.float64())})

    status.recorded(con, "fct_nps", call)
    assert con.execute("select status from audit.model_status where component = 'fct_nps'").fetchone() == ("skipped",)


def test_recorded_replaces_its_own_rows_of_the_same_run(monkeypatch):
    monkeypatch.setenv("EMPATHY_RUN_ID", "run-1")
    con = duckdb.connect()
    status.recorded(con, "m", lambda: pa.table({"x": [1]}))
    status.recorded(con, "m", lambda: pa.table({"x": [1, 2]}))
    assert con.execute("select run_id, rows_out from audit.model_status").fetchall() == [("run-1", 2)]


def test_a_status_needs_a_known_word_and_a_reason():
    with pytest.raises(ValueError, match="status must be one of"):
        status.report("x", "failed", "why")
    with pytest.raises(ValueError, match="needs a reason"):
        status.report("x", "skipped")


def test_report_outside_a_model_is_printed_and_kept(capsys):
    status.report("nps", "skipped", "0 NPS answers", fix="NPS answers")
    assert "nps: skipped: 0 NPS answers" in capsys.readouterr().err
    assert status.recent()[-1]["component"] == "nps"


def test_nan_and_infinity_are_written_as_null_and_counted():
    con = duckdb.connect()
    table = pa.table({"a": [1.0, math.nan, math.inf], "b": ["x", "y", "z"], "c": [None, 2.0, -math.inf]})
    fixed, replaced = finite_or_null(table)
    assert replaced == {"a": 2, "c": 1}
    assert fixed["a"].to_pylist() == [1.0, None, None] and fixed["c"].to_pylist() == [None, 2.0, None]
    out = status.recorded(con, "m", lambda: table)
    assert out["a"].null_count == 2
    (reason,) = con.execute("select reason from audit.model_status where component = 'not_finite_values'").fetchone()
    assert "a 2" in reason and "c 1" in reason


def _manifest(nodes: dict, sources: dict | None = None) -> dict:
    return {"nodes": nodes, "sources": sources or {}}


def _node(name: str, schema: str, parents: list[str], meta: dict | None = None) -> dict:
    return {
        "name": name,
        "alias": name,
        "schema": schema,
        "resource_type": "model",
        "depends_on": {"nodes": parents},
        "config": {"meta": meta or {}},
    }


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    for schema in ("raw", "intermediate", "marts"):
        con.execute(f"create schema {schema}")
    con.execute("create table raw.customers as select 'c1' as customer_id")
    con.execute("create table raw.orders (order_id varchar)")  # sent, with no valid row
    con.execute("create table intermediate.int_model_registry (v int)")
    con.execute("create table marts.fct_churn_scores (p double)")
    con.execute("create table marts.fct_clv as select 1.0 as clv")
    con.execute("create table marts.fct_orders_daily (n int)")
    con.execute("create table marts.fct_customers as select 1 as n")
    con.execute("create table marts.fct_alerts (n int)")
    return con


def test_mart_report_explains_every_empty_or_degraded_mart(warehouse):
    con = warehouse
    src = "source.empathy.{}.{}"
    manifest = _manifest(
        {
            "model.empathy.int_model_registry": _node("int_model_registry", "intermediate", []),
            "model.empathy.fct_churn_scores": _node(
                "fct_churn_scores",
                "marts",
                ["model.empathy.int_model_registry"],
                {"status_from": ["int_model_registry.churn"]},
            ),
            "model.empathy.fct_clv": _node("fct_clv", "marts", ["model.empathy.int_model_registry"]),
            "model.empathy.fct_orders_daily": _node(
                "fct_orders_daily", "marts", [src.format("commerce", "orders"), src.format("support", "tickets")]
            ),
            "model.empathy.fct_customers": _node("fct_customers", "marts", [src.format("crm", "customers")]),
            "model.empathy.fct_alerts": _node("fct_alerts", "marts", [src.format("crm", "customers")]),
            "model.empathy.fct_not_built": _node("fct_not_built", "marts", []),
        },
        {
            src.format(s, t): {"name": t, "schema": "raw", "identifier": t}
            for s, t in (("commerce", "orders"), ("support", "tickets"), ("crm", "customers"))
        },
    )

    def registry():
        status.report("churn", "skipped", "25536 churners of 25536", fix="customers who stayed")
        status.report("clv_bgnbd", "degraded", "few repeat buyers", fix="more orders")
        return pa.table({"v": pa.array([], pa.int32())})

    status.recorded(con, "int_model_registry", registry)
    status.recorded(con, "fct_clv", lambda: pa.table({"clv": [1.0]}))
    report = {m.model: m for m in mart_report(con, manifest)}
    churn = report["fct_churn_scores"]
    assert (churn.rows, churn.status) == (0, "skipped")
    assert "25536 churners of 25536" in churn.reason and churn.fix == "customers who stayed"
    assert report["fct_clv"].status == "ok"  # it said so itself, with rows
    orders = report["fct_orders_daily"]
    assert orders.status == "skipped"
    assert "not sent: tickets" in orders.reason and "sent with no valid row: orders" in orders.reason
    assert report["fct_customers"].status == "ok" and report["fct_customers"].reason == ""
    alerts = report["fct_alerts"]
    assert alerts.status == "ok" and alerts.reason.startswith("empty: its inputs have rows")
    assert report["fct_not_built"].status == "skipped" and "not built" in report["fct_not_built"].reason
    write_mart_report(con, list(report.values()), "run-9")
    assert con.execute("select count(*) from audit.mart_status where run_id = 'run-9'").fetchone()[0] == 6


def test_a_mart_that_shows_an_int_model_takes_its_word_and_ignores_rows_an_older_build_wrote_under_its_name(warehouse):
    """Marts are leaves: the Python model behind fct_clv is int_clv, and the SQL mart names it in meta.status_of."""
    con = warehouse
    con.execute("create table intermediate.int_clv as select 1.0 as clv")
    int_clv = _node("int_clv", "intermediate", [])
    mart = {**_node("fct_clv", "marts", ["model.empathy.int_clv"], {"status_of": "int_clv"}), "language": "sql"}
    manifest = _manifest({"model.empathy.int_clv": int_clv, "model.empathy.fct_clv": mart})
    status.recorded(con, "fct_clv", lambda: pa.table({"clv": [1.0]}))  # an older build's Python mart said ok
    status.recorded(con, "int_clv", lambda: status.report("clv_bgnbd", "skipped", "no repeat buyers") or pa.table({}))
    clv = {m.model: m for m in mart_report(con, manifest)}["fct_clv"]
    assert (clv.rows, clv.status) == (1, "degraded")
    assert clv.reason == "clv_bgnbd: no repeat buyers"


# -- end to end: a company that runs no NPS survey ------------------------------------------------------------------
NO_SURVEYS = {"survey_responses", "survey_invitations"}


@pytest.fixture(scope="module")
def no_surveys_world(tmp_path_factory):
    import shutil
    from datetime import date

    from empathy.generate import generate
    from empathy.pipeline import run
    from tests.conftest import make_settings
    from tests.test_pipeline import QUIET

    landing = tmp_path_factory.mktemp("no_surveys") / "landing"
    generate(landing, customers=400, days=150, seed=11, sector="retail", end_date=date(2026, 6, 30))
    for name in NO_SURVEYS:
        shutil.rmtree(landing / name)
    settings = make_settings(tmp_path_factory.mktemp("no_surveys_built"), landing=landing)
    settings.options["dbt"]["vars"] = {"backtest_origins": 1}
    return settings, run(settings, QUIET)


def _published(settings, sql):
    from tests.conftest import query

    return query(settings.published, sql)


def test_without_nps_answers_predicted_nps_is_null_and_says_why(no_surveys_world):
    settings, summary = no_surveys_world
    n, scores, groups, probabilities = _published(
        settings,
        "select count(*), count(predicted_nps_score), count(predicted_nps_group), count(p_promoter)"
        " from marts.fct_nps_predicted",
    )[0]
    assert n > 100
    assert (scores, groups, probabilities) == (0, 0, 0)  # no answers: nothing predicted, no group from nothing
    (st, reason), *_ = _published(
        settings,
        f"select status, reason from audit.mart_status where run_id = '{summary.run_id}'"
        " and model = 'fct_nps_predicted'",
    )
    assert st in ("degraded", "skipped") and "NPS answers" in reason
    nps = _published(
        settings,
        "select status, fix from audit.model_status"
        f" where run_id = '{summary.run_id}' and model = 'int_customer_states__scored' and component = 'nps'",
    )
    assert nps == [("skipped", "NPS survey answers (survey_responses with survey_type 'nps')")]


def test_every_mart_has_a_status_row_and_the_run_summary_lists_them(no_surveys_world):
    import io

    from rich.console import Console

    from empathy.pipeline import print_summary

    settings, summary = no_surveys_world
    marts = {t for (t,) in _published(settings, "select table_name from duckdb_tables() where schema_name = 'marts'")}
    said = {
        m: (rows, st, reason)
        for m, rows, st, reason in _published(
            settings,
            f"select model, row_count, status, reason from audit.mart_status where run_id = '{summary.run_id}'",
        )
    }
    assert marts == set(said)
    for mart, (rows, st, reason) in said.items():
        assert st in status.STATUSES
        if rows == 0 or st != "ok":
            assert reason, f"{mart} is empty or {st} without a reason"
    out = io.StringIO()
    print_summary(settings, summary, Console(file=out, width=200))
    text = out.getvalue()
    assert all(m in text for m in marts) and "fct_nps_predicted" in text


def test_no_published_float_is_nan_or_infinite(no_surveys_world):
    from tests.worlds import assert_no_nan_or_inf

    settings, _ = no_surveys_world
    assert_no_nan_or_inf(settings.published)


def test_every_mart_carries_the_nan_test(no_surveys_world):
    settings, _ = no_surveys_world
    manifest = json.loads((settings.dbt_target / "manifest.json").read_text())
    marts = {
        n["unique_id"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    tested = {
        n["attached_node"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and (n.get("test_metadata") or {}).get("name") == "no_nan_or_inf"
    }
    assert marts and marts <= tested, f"marts without the no_nan_or_inf test: {sorted(marts - tested)}"


def test_eval_models_says_what_it_cannot_compute_on_this_warehouse(no_surveys_world):
    from empathy.predict.evaluate import evaluate_models, to_markdown

    settings, _ = no_surveys_world
    rows = evaluate_models(settings.warehouse, None, cdnow=settings.home / "no-cdnow-here.txt")
    missing = [r for r in rows if r.value is None]
    assert any("no churn model" in r.reference and "snapshot(s) with a complete" in r.reference for r in missing)
    assert any("CDNOW sample is not here" in r.reference for r in missing)
    table = to_markdown(rows)
    assert table.count("\n") > 2 and "nan" not in table.lower()


def test_eval_state_says_what_it_cannot_compute_on_this_warehouse(no_surveys_world):
    from empathy.state.evaluate import evaluate_state, to_markdown

    settings, _ = no_surveys_world
    rows = evaluate_state(settings.warehouse, None)
    reasons = {r.data: r.baseline_name for r in rows if r.metric == "not computed"}
    assert any("NPS answer" in why for why in reasons.values())
    assert "demo truth" in reasons
    table = to_markdown(rows)
    assert "—" in table and "nan" not in table.lower()
