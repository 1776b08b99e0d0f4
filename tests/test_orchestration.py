"""The Dagster job materialises the whole pipeline, and the README's `mf query` examples answer on what it built.

One small world is built, by the job, for both: the semantic layer is queried on the working database the job's
dbt build left.
"""

from __future__ import annotations

import csv
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from empathy.orchestration.definitions import (
    JOB_NAME,
    build_definitions,
    landing_fingerprint,
    landing_sensor,
)
from tests.conftest import PROJECT_DIR, make_settings, query


def _evaluate(sensor, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor)
    return sensor.evaluate_tick(context), context.cursor


def test_sensor_requests_a_run_only_when_landing_files_change(tmp_path):
    settings = make_settings(tmp_path / "home")
    sensor = landing_sensor(settings)
    data, cursor = _evaluate(sensor, None)
    assert not data.run_requests and "no landing files" in (data.skip_message or "")

    day = settings.landing / "orders" / "day=2026-06-30"
    day.mkdir(parents=True)
    (day / "orders.parquet").write_bytes(b"first")
    data, cursor = _evaluate(sensor, None)
    assert len(data.run_requests) == 1 and cursor == landing_fingerprint(settings.landing)

    data, same = _evaluate(sensor, cursor)
    assert not data.run_requests and same == cursor

    (settings.landing / "_truth").mkdir()  # the demo world's ground truth is not a landing file
    (settings.landing / "_truth" / "states.parquet").write_bytes(b"truth")
    assert _evaluate(sensor, cursor)[0].run_requests == []

    (day / "orders.parquet").write_bytes(b"replaced, longer")
    data, newer = _evaluate(sensor, cursor)
    assert len(data.run_requests) == 1 and newer != cursor


@pytest.fixture(scope="module")
def orchestrated(small_world, tmp_path_factory):
    """Settings of a home whose whole job the Dagster definitions materialised in-process, and the result."""
    settings = make_settings(tmp_path_factory.mktemp("dagster") / "home", landing=small_world)
    defs = build_definitions(settings)
    result = defs.resolve_job_def(JOB_NAME).execute_in_process(raise_on_error=False)
    return settings, result


@pytest.mark.slow
def test_job_materialises_gate_models_checks_and_publish(orchestrated):
    settings, result = orchestrated
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    keys = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    # dbt models are keyed <schema>/<model>, the gate's raw tables <source>/<table>
    assert {"crm/customers", "commerce/orders", "marts/dim_customers", "marts/fct_next_actions", "published"} <= keys
    assert "semantic/metricflow_time_spine" in keys
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 100 and all(c.passed for c in checks)

    published = settings.published
    tables = {r[0] for r in query(published, "select table_schema || '.' || table_name from information_schema.tables")}
    assert {"marts.dim_customers", "marts.fct_customer_emotional_states", "marts.fct_next_actions"} <= tables
    assert not any(t.startswith("semantic.") for t in tables)  # the time spine stays in the working database
    assert query(published, "select count(*) from marts.dim_customers")[0][0] == 400
    assert query(published, "select count(*) from marts.fct_customer_emotional_states")[0][0] > 0


def _readme_mf_queries() -> list[list[str]]:
    section = (PROJECT_DIR / "README.md").read_text().split("## Metrics and orchestration", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(line) for line in re.findall(r"^\.venv/bin/mf query .*$", section, flags=re.M)]


def _mf(settings, args: list[str], csv_path: Path) -> list[dict]:
    env = {**settings.env(), "DBT_PROFILES_DIR": str(settings.profiles_dir)}
    mf = str(Path(sys.executable).parent / "mf")
    proc = subprocess.run(
        [mf, *args[1:], "--csv", str(csv_path)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    if not csv_path.exists():  # MetricFlow writes no file for an empty result
        return []
    with csv_path.open() as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_readme_metric_queries_answer_on_the_built_world(orchestrated, tmp_path):
    settings, result = orchestrated
    assert result.success
    # MetricFlow reads <project>/target/semantic_manifest.json: the one the job's dbt build wrote (= `make metrics`)
    target = PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    shutil.copy(settings.dbt_target / "semantic_manifest.json", target / "semantic_manifest.json")

    commands = _readme_mf_queries()
    assert len(commands) >= 4
    # a small world trains no churn model: marts that are empty there may answer with no row
    may_be_empty = {"value_at_risk": "fct_next_actions", "alerts": "fct_dissatisfaction_alerts"}
    answers = {}
    for i, args in enumerate(commands):
        rows = _mf(settings, args, tmp_path / f"q{i}.csv")
        cmd = " ".join(args)
        if not rows:
            marts = [mart for metric, mart in may_be_empty.items() if metric in cmd]
            assert marts, f"no rows: {cmd}"
            assert all(query(settings.warehouse, f"select count(*) from marts.{m}")[0][0] == 0 for m in marts), cmd
        answers[cmd] = rows

    daily = next(rows for cmd, rows in answers.items() if "average_empathy_score" in cmd)
    expected = {
        str(day): (n, mean, distressed)
        for day, n, mean, distressed in query(
            settings.warehouse,
            """
            select state_date, count(distinct customer_id), avg(empathy_score),
                   count(distinct customer_id) filter (where empathy_band = 'distressed')
            from marts.fct_customer_emotional_states group by 1
            """,
        )
    }
    assert len(daily) == len(expected)
    for row in daily:
        n, mean, distressed = expected[row["metric_time__day"][:10]]
        assert int(float(row["customers"])) == n
        assert float(row["average_empathy_score"]) == pytest.approx(mean, rel=1e-9)
        assert float(row["distressed_share"]) == pytest.approx(distressed / n, rel=1e-9)

    nps = next(rows for cmd, rows in answers.items() if "surveyed_nps" in cmd)
    segments = {r["customer__segment"]: r for r in nps}
    for segment, promoters, detractors, respondents in query(
        settings.warehouse,
        """
        select c.segment, count(*) filter (where n.last_actual_nps_group = 'promoter'),
               count(*) filter (where n.last_actual_nps_group = 'detractor'),
               count(*) filter (where n.last_actual_nps_group is not null)
        from marts.fct_nps_predicted as n join marts.dim_customers as c using (customer_id)
        group by 1
        """,
    ):
        row = segments[segment or ""]
        assert int(float(row["nps_respondents"])) == respondents
        if respondents:
            assert float(row["surveyed_nps"]) == pytest.approx(100 * (promoters - detractors) / respondents)
