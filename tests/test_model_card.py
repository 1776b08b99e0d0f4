"""Model cards and the churn fairness audit on the world long enough to train (test_predict_marts' build)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from empathy.cli import app
from empathy.model_card import write_cards
from tests.conftest import query
from tests.test_predict_marts import predict_built  # noqa: F401  (the module fixture: gate, dbt build, publish)

SECTIONS = (
    "## Data window",
    "## Features",
    "## Out-of-sample metrics",
    "## Fairness",
    "## Limitations",
    "## Intended use",
    "## Not intended for",
)


def test_churn_errors_are_judged_out_of_time(predict_built):  # noqa: F811
    settings, _ = predict_built
    db = settings.published
    origin, n, churned = query(
        settings.warehouse,
        "select max(origin_date), count(*), count(case when is_churned then 1 end)"
        " from intermediate.int_churn_holdout_scores",
    )[0]
    assert n > 100 and 0 < churned < n
    # the origin's label window is complete: every outcome is known, none was seen by the model that scored it
    complete = query(
        settings.warehouse,
        "select cast(? as date) + h.horizon_days - 1 <= d.latest_data_date"
        " from intermediate.int_churn_horizon h cross join intermediate.int_as_of_date d",
        [origin],
    )[0][0]
    assert complete
    rows = dict(
        query(
            db,
            "select metric, count(metric_value) from marts.fct_fairness_audit"
            " where subject = 'churn_high_risk' and population = 'labelled' group by 1",
        )
    )
    assert rows["false_negative_rate"] > 0 and rows["calibration_gap"] > 0
    judged = query(
        db,
        "select count(*), count(case when is_passed then 1 end) from marts.fct_fairness_audit"
        " where subject = 'churn_high_risk' and metric = 'calibration_gap_vs_all' and is_judged",
    )[0]
    assert judged[0] > 0 and judged[0] == judged[1]


def test_a_card_per_version_with_every_section_from_the_data(predict_built, tmp_path):  # noqa: F811
    settings, _ = predict_built
    versions = query(
        settings.published, "select model_version, model_name, n_train, is_current from marts.dim_model_versions"
    )
    cards = {c.model_version: c for c in write_cards(settings.published, tmp_path)}
    assert set(cards) == {v for v, *_ in versions} and len(list(tmp_path.glob("*.md"))) == len(versions)
    for version, _name, n_train, _current in versions:
        text = cards[version].text
        positions = [text.find(s) for s in SECTIONS]
        assert -1 not in positions and positions == sorted(positions), version
        assert f"| training rows | {n_train:,} |" in text
        assert "n/a |" not in text.split("## Features")[0].split("## Data window")[1]
    churn = next(cards[v].text for v, name, _, current in versions if name == "churn" and current)
    # backtest figures of this version, the fairness of its scores, what the screening kept out and why
    auc = query(
        settings.published,
        "select value from marts.fct_model_backtests where model_name = 'churn' and metric = 'auc'"
        " order by origin_date desc limit 1",
    )[0][0]
    assert f"{auc:,.4g}" in churn
    assert "churn_high_risk" in churn and "calibration_gap" in churn
    assert "Sensitive customer attributes used as features: none" in churn
    excluded = query(settings.published, "select column_name from audit.feature_exclusions where decision = 'excluded'")
    assert excluded and all(f"| {c} |" in churn for (c,) in excluded)
    assert re.search(r"\*\*churn\*\* \(int_model_registry\): (ok|degraded)", churn)


def test_model_card_command_writes_the_cards(predict_built, tmp_path, monkeypatch):  # noqa: F811
    settings, _ = predict_built
    monkeypatch.setenv("EMPATHY_PUBLISHED", str(settings.published))
    result = CliRunner().invoke(app, ["model-card", "--out", str(tmp_path / "cards")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "cards").glob("*.md"))) >= 3
    missing = CliRunner().invoke(
        app, ["model-card", "--out", str(tmp_path / "none")], env={"EMPATHY_PUBLISHED": str(tmp_path / "x.duckdb")}
    )
    # the console wraps long paths at its width: compare the words, not the line breaks
    assert missing.exit_code == 1 and "does not exist" in " ".join(missing.output.split())
