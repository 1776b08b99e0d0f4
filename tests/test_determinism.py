"""Same input, same output: the same world built twice from scratch publishes equal tables, and a re-run with no
new landing files changes no published table and adds no model version.

One world (retail, 600 customers x 150 days, every table, customers with a bring-your-own text column sent empty)
is built in two homes; the first home is then built a third time on the same files. Every table of the published `marts` schema (and `audit.model_status` when it
exists) is compared row for row, rows sorted by every column, floats to 1e-12 relative.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from empathy.predict import churn as ch
from empathy.predict.warehouse import train_registry
from empathy.state.effects import estimate_event_effects
from empathy.state.model import fit_state_models, predict_states
from tests.conftest import make_settings
from tests.test_predict_models import GRID, snapshots
from tests.test_state_effects import AS_OF, make_world
from tests.test_state_model import _world

# Columns that record when a build ran, not what it computed; a second build is another moment, so they differ.
WALL_CLOCK_COLUMNS = frozenset(
    {
        "run_id",  # the run that wrote the row (a new id per run)
        "loaded_at",  # when the gate loaded the customer's row (raw _loaded_at, carried into dim_customers)
    }
)
COMPARED_SCHEMAS = ("marts",)
# audit.model_status and audit.mart_status also record when each step of the run happened: their timestamp
# columns are left out too. They keep every run's rows; the newest run's are compared.
EXTRA_TABLES = (("audit", "model_status"), ("audit", "mart_status"))
REL_TOL = 1e-12

# Small enough to build three times, long enough for the churn model to train (short horizon and history).
DBT_VARS = {"churn_horizon_days": 30, "min_history_days": 28, "backtest_origins": 1}


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    found = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
    return [t for t in found if t[0] in COMPARED_SCHEMAS or t in EXTRA_TABLES]


def _sort_key(row: tuple) -> tuple:
    """Rows in a total order that tiny float differences do not upset (floats rounded for sorting only)."""
    return tuple((0, "") if v is None else (1, f"{v:.9g}") if isinstance(v, float) else (1, repr(v)) for v in row)


def snapshot(path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every compared table of a published database: its columns (wall-clock columns left out) and sorted rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for schema, table in _tables(con):
            columns = [
                c
                for c, kind in con.execute(
                    "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ?"
                    " order by column_index",
                    [schema, table],
                ).fetchall()
                if c not in WALL_CLOCK_COLUMNS
                and f"{table}.{c}" not in WALL_CLOCK_COLUMNS
                and not ((schema, table) in EXTRA_TABLES and kind.startswith("TIMESTAMP"))
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            newest = (
                f' where run_id = (select run_id from "{schema}"."{table}" order by recorded_at desc limit 1)'
                if (schema, table) in EXTRA_TABLES
                else ""
            )
            rows = con.execute(f'select {select} from "{schema}"."{table}"{newest}').fetchall()
            out[f"{schema}.{table}"] = (columns, sorted(rows, key=_sort_key))
        return out
    finally:
        con.close()


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL)
    return a == b


def differences(first: dict, second: dict, limit: int = 3) -> list[str]:
    """What differs between two snapshots: tables, columns, row counts, and a few differing cells per table."""
    out = []
    for name in sorted(set(first) | set(second)):
        if name not in first or name not in second:
            out.append(f"{name}: only in the {'first' if name in first else 'second'} build")
            continue
        (cols_a, rows_a), (cols_b, rows_b) = first[name], second[name]
        if cols_a != cols_b:
            out.append(f"{name}: columns differ: {sorted(set(cols_a) ^ set(cols_b))}")
            continue
        if len(rows_a) != len(rows_b):
            out.append(f"{name}: {len(rows_a)} rows against {len(rows_b)}")
            continue
        cells = [
            (cols_a[j], ra[j], rb[j])
            for ra, rb in zip(rows_a, rows_b, strict=True)
            for j in range(len(cols_a))
            if not _same(ra[j], rb[j])
        ]
        if cells:
            columns = sorted({c for c, _, _ in cells})
            shown = "; ".join(f"{c}: {x!r} vs {y!r}" for c, x, y in cells[:limit])
            out.append(f"{name}: {len(cells)} cells differ in {columns} (e.g. {shown})")
    return out


def _versions(path) -> dict[str, list[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        registry = con.execute("select model_version from intermediate.int_model_registry order by 1").fetchall()
        published = con.execute("select model_version from marts.dim_model_versions order by 1").fetchall()
    finally:
        con.close()
    return {"registry": [v for (v,) in registry], "published": [v for (v,) in published]}


# -- the fits, one at a time: rows in another order give the same result ----------------------------------------------
def _reversed(table):
    if isinstance(table, pd.DataFrame):
        return table.iloc[::-1].reset_index(drop=True)
    return table.take(pa.array(range(table.num_rows - 1, -1, -1)))


def test_state_models_do_not_depend_on_the_order_of_their_inputs():
    days, labels, invitations, _ = _world(n_customers=150, n_days=45)
    states = [
        predict_states(fit_state_models(d, lab, inv, threads=1), days.tail(300)).to_pandas()
        for d, lab, inv in ((days, labels, invitations), (_reversed(days), _reversed(labels), _reversed(invitations)))
    ]
    for column in ("valence", "valence_low", "valence_high", "arousal", "predicted_nps_score", "response_propensity"):
        assert np.array_equal(states[0][column].to_numpy(), states[1][column].to_numpy(), equal_nan=True), column
    assert states[0]["driver_1"].equals(states[1]["driver_1"])


def test_event_effects_do_not_depend_on_the_order_of_their_inputs():
    world = make_world(n=800)
    tables = (world.events, world.outcomes, world.population)
    first = estimate_event_effects(*tables, as_of=AS_OF, min_exposed=5)
    second = estimate_event_effects(*(_reversed(t) for t in tables), as_of=AS_OF, min_exposed=5)
    assert first.to_pylist() == second.to_pylist()
    assert any(r["status"] == "ok" for r in first.to_pylist())


def test_categorical_levels_do_not_depend_on_row_order():
    column = ["b", "a", "c", "a", "b", "c", None]  # a, b and c tie
    forward = ch.infer_spec(pa.table({"x": [1.0] * 7, "tier": column}))
    backward = ch.infer_spec(pa.table({"x": [1.0] * 7, "tier": column[::-1]}))
    assert forward.categorical == backward.categorical == {"tier": ("a", "b", "c")}


def _registry_inputs(with_empty_text_column: bool):
    """Snapshots with a scoring date after the grid, their outcomes and the churn horizon, as ibis tables."""
    n = 150
    grid = snapshots(n, dates=GRID[:10])
    score_date = GRID[10]
    scoring = grid.filter(pc.equal(grid["snapshot_date"], pa.scalar(GRID[9], pa.date32())))
    scoring = scoring.set_column(
        scoring.column_names.index("customer_snapshot_id"),
        "customer_snapshot_id",
        pa.array([f"C{i}:{score_date}" for i in range(n)]),
    )
    for name, value, type_ in (
        ("snapshot_date", score_date, pa.date32()),
        ("feature_date", score_date - timedelta(days=1), pa.date32()),
        ("is_scoring_snapshot", True, pa.bool_()),
        ("is_grid_snapshot", False, pa.bool_()),
    ):
        scoring = scoring.set_column(scoring.column_names.index(name), name, pa.array([value] * n, type_))
    table = pa.concat_tables([grid, scoring])
    if with_empty_text_column:
        table = table.append_column("byo__empty_note", pa.nulls(table.num_rows, pa.string()))
    outcomes = table.select(["customer_snapshot_id", "is_churned", "next_action"]).append_column(
        "is_label_complete", pc.invert(table["is_scoring_snapshot"])
    )
    snaps = table.drop_columns(["is_churned", "next_action"])
    horizon = pa.table({"horizon_days": [28], "next_action_days": [28]})
    orders = pa.table(
        {
            "customer_id": pa.array([], pa.string()),
            "ordered_at": pa.array([], pa.timestamp("us")),
            "order_status": pa.array([], pa.string()),
            "currency": pa.array([], pa.string()),
            "order_total": pa.array([], pa.float64()),
        }
    )
    rates = pa.table({"currency": ["USD"], "usd_per_unit": [1.0]})
    subscriptions = pa.table(
        {"started_at": pa.array([], pa.timestamp("us")), "ended_at": pa.array([], pa.timestamp("us"))}
    )
    return [ibis.memtable(t) for t in (snaps, outcomes, horizon, orders, rates, subscriptions)]


def test_a_second_registry_build_on_the_same_data_adds_no_version():
    inputs = _registry_inputs(with_empty_text_column=True)
    first = train_registry(*inputs, None, min_history_days=0, threads=1)
    assert sorted(first["model_name"].to_pylist()) == ["churn", "next_action"]
    again = train_registry(*inputs, ibis.memtable(first), min_history_days=0, threads=1)
    assert again.num_rows == 0, again.select(["model_name", "retrain_reason"]).to_pylist()
    # a column that goes away is still a change of the feature columns
    shrunk = _registry_inputs(with_empty_text_column=False)
    assert train_registry(*shrunk, ibis.memtable(first), min_history_days=0, threads=1).num_rows == 2


EMPTY_COLUMN = "referral_note"  # a bring-your-own text column the company sends empty


def _add_empty_text_column(landing) -> None:
    for path in sorted((landing / "customers").rglob("*.parquet")):
        data = pq.read_table(path)
        pq.write_table(data.append_column(EMPTY_COLUMN, pa.nulls(data.num_rows, pa.string())), path)


def _empty_feature(path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            f"select count(*), count(byo__{EMPTY_COLUMN}) from intermediate.int_customer_snapshots"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    from empathy.generate import generate
    from empathy.pipeline import run
    from tests.test_text_marts import QUIET, _text_model_or_skip

    _text_model_or_skip()
    landing = tmp_path_factory.mktemp("determinism_world") / "landing"
    generate(landing, customers=600, days=150, seed=11, sector="retail", end_date=date(2026, 6, 30))
    _add_empty_text_column(landing)
    homes = []
    for name in ("first", "second"):
        settings = make_settings(tmp_path_factory.mktemp(f"determinism_{name}"), landing=landing)
        settings.options["dbt"]["vars"] = dict(DBT_VARS)
        run(settings, QUIET)
        homes.append(settings)
    first = snapshot(homes[0].published)
    before = _versions(homes[0].warehouse)
    run(homes[0], QUIET)  # the same files again: nothing new to load
    return {
        "first": first,
        "second": snapshot(homes[1].published),
        "rerun": snapshot(homes[0].published),
        "versions_before": before,
        "versions_after": _versions(homes[0].warehouse),
        "empty_feature": _empty_feature(homes[0].warehouse),
    }


@pytest.mark.slow
def test_same_world_built_twice_publishes_equal_tables(builds):
    assert len(builds["first"]) >= 18
    assert sum(len(rows) for _, rows in builds["first"].values()) > 10_000
    assert differences(builds["first"], builds["second"]) == []


@pytest.mark.slow
def test_rerun_without_new_files_changes_no_published_table(builds):
    # what a run says it did differs by design on a re-run ("current version kept" for "trained"): the marts only
    marts = {name: snap for name, snap in builds["first"].items() if name.startswith("marts.")}
    again = {name: snap for name, snap in builds["rerun"].items() if name.startswith("marts.")}
    assert marts and differences(marts, again) == []


@pytest.mark.slow
def test_rerun_on_the_same_data_adds_no_model_version(builds):
    ((rows, filled),) = builds["empty_feature"]
    assert rows > 0 and filled == 0  # the empty text column reached the snapshots, as a candidate feature
    before, after = builds["versions_before"], builds["versions_after"]
    assert {v.split("-")[0] for v in before["registry"]} >= {"churn", "next_action"}
    assert after == before
