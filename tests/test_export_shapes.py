"""The two shapes companies export a subscription table in give the same churn labels: a change history (one row
per version, as the demo world writes it) and current-state rows (one row per subscription, with started_at,
ended_at and updated_at = the cancellation). A current-state row is valid from started_at, so its subscriber is seen
before the cancellation and the churn is labelled."""

from __future__ import annotations

import os
import shutil
from datetime import date

import pytest
from rich.console import Console

from tests import worlds
from tests.conftest import make_settings, query

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115
LABELS = (
    "select customer_id, snapshot_date, contract_type, is_label_complete, is_churned, next_action"
    " from intermediate.int_customer_snapshot_outcomes order by customer_id, snapshot_date"
)


def _build_labels(home, landing):
    """Gate + load, then the models up to the churn labels."""
    from empathy.dbt import run_dbt
    from empathy.pipeline import ingest_step

    settings = make_settings(home, landing=landing)
    ingest_step(settings, QUIET).raise_if_blocked()
    result = run_dbt(
        settings, ["build", "--select", "+int_customer_snapshot_outcomes", "--indirect-selection", "cautious"]
    )
    assert result.ok, result.failures[:5]
    return settings


@pytest.fixture(scope="module")
def both_shapes(tmp_path_factory):
    from empathy.generate import generate

    history = tmp_path_factory.mktemp("history") / "landing"
    generate(history, customers=600, days=240, seed=5, sector="subscription", end_date=date(2026, 6, 30))
    worlds.keep_tables(history, {"customers", "subscriptions"})
    snapshot = tmp_path_factory.mktemp("snapshot") / "landing"
    shutil.copytree(history, snapshot)
    versions = worlds.read_landing(history, "subscriptions")
    rows = worlds.current_state(versions)
    worlds.write_landing(snapshot, "subscriptions", rows)
    assert versions.num_rows > rows.num_rows  # the history really holds several versions of some subscriptions
    return (
        _build_labels(tmp_path_factory.mktemp("history_built"), history),
        _build_labels(tmp_path_factory.mktemp("snapshot_built"), snapshot),
    )


def test_export_shape_is_detected_per_subscription(both_shapes):
    history, snapshot = both_shapes
    shapes = "select export_shape, count(distinct subscription_id) from staging.stg_commerce__subscription_versions"
    assert dict(query(snapshot.warehouse, shapes + " group by 1")).keys() == {"current_state"}
    assert "change_history" in dict(query(history.warehouse, shapes + " group by 1"))
    # every subscription's first version is valid from its start, whatever the shape
    late = "select count(*) from staging.stg_commerce__subscription_versions where version_number = 1 and valid_from <> started_at"
    assert query(snapshot.warehouse, late)[0][0] == 0 and query(history.warehouse, late)[0][0] == 0


def test_same_churn_labels_from_history_and_current_state(both_shapes):
    history, snapshot = both_shapes
    from_history = query(history.warehouse, LABELS)
    from_snapshot = query(snapshot.warehouse, LABELS)
    churned = sum(1 for r in from_history if r[3] and r[4] and r[2] == "subscription")
    assert churned > 20  # the world has churners to see
    assert from_snapshot == from_history
