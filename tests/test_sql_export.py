"""Scores as SQL: generated SQL matches LightGBM's own predictions in DuckDB, and stays portable."""

from __future__ import annotations

import re
import time

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from empathy.predict.sql_export import (
    ZERO_THRESHOLD,
    booster_to_select,
    booster_to_sql,
    python_scores,
    quote_identifier,
    sql_dialect_check,
    sql_number,
    sql_parity,
)

TOLERANCE = 1e-9
BASE_PARAMS = {
    "objective": "binary",
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
    "seed": 7,
    "num_leaves": 15,
    "min_data_in_leaf": 5,
    "learning_rate": 0.1,
}


def train(frame: pd.DataFrame | np.ndarray, label: np.ndarray, rounds: int = 30, **params) -> lgb.Booster:
    dataset_args = {k: params.pop(k) for k in ("categorical_feature",) if k in params}
    return lgb.train({**BASE_PARAMS, **params}, lgb.Dataset(frame, label, **dataset_args), num_boost_round=rounds)


def numeric_frame(seed: int, rows: int, features: int = 5, nan_share: float = 0.15) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, features))
    values[rng.random((rows, features)) < nan_share] = np.nan
    return pd.DataFrame(values, columns=[f"f{i}" for i in range(features)])


def binary_label(frame: pd.DataFrame, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = frame.to_numpy(dtype=np.float64)
    signal = np.nan_to_num(x[:, 0], nan=1.5) + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2]) - 0.5
    return (signal + rng.normal(scale=0.7, size=len(frame)) > 0).astype(int)


def split_nodes(booster: lgb.Booster) -> list[dict]:
    """Every split node of every tree in the dump."""
    nodes, stack = [], [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "leaf_value" not in node:
            nodes.append(node)
            stack.extend((node["left_child"], node["right_child"]))
    return nodes


def assert_parity(result: dict, rows: int, probability: bool = True) -> None:
    assert result["rows"] == rows
    assert result["max_abs_diff_margin"] < TOLERANCE, result
    if probability:
        assert result["max_abs_diff_probability"] < TOLERANCE, result
    else:
        assert result["max_abs_diff_probability"] is None


# -- literals and identifiers ---------------------------------------------------------------------------------
def test_sql_number_is_an_exact_double_literal():
    rng = np.random.default_rng(0)
    values = [0.0, -0.0, 1.0, -2.5, 0.1, 1e-300, 5e-324, 1.7976931348623157e308, ZERO_THRESHOLD, 123456789.125]
    values += list(rng.normal(scale=10.0, size=200)) + list(10.0 ** rng.uniform(-40, 40, size=200))
    for value in values:
        text = sql_number(value)
        assert re.fullmatch(r"-?\d(\.\d+)?e-?\d+", text), text
        assert float(text) == value
    assert sql_number(0.123) == "1.23e-1"
    assert sql_number(0.0) == "0e0"
    con = duckdb.connect()
    literals = ", ".join(f"typeof({sql_number(v)}), {sql_number(v)}" for v in values[:10])
    row = con.execute(f"select {literals}").fetchone()
    assert all(t == "DOUBLE" for t in row[0::2])
    assert list(row[1::2]) == values[:10]
    with pytest.raises(ValueError, match="finite"):
        sql_number(float("nan"))


def test_quote_identifier():
    assert quote_identifier("tenure_days") == "tenure_days"
    assert quote_identifier("Tenure") == '"Tenure"'
    assert quote_identifier("order") == '"order"'
    assert quote_identifier("avg-ticket") == '"avg-ticket"'
    assert quote_identifier('say "hi"') == '"say ""hi"""'
    assert quote_identifier("1st") == '"1st"'


# -- parity per missing-value regime ---------------------------------------------------------------------------
def test_parity_nan_missing_values():
    frame = numeric_frame(1, 3000)
    booster = train(frame, binary_label(frame, 1))
    nodes = split_nodes(booster)
    nan_nodes = [n for n in nodes if n["missing_type"] == "NaN"]
    assert {n["default_left"] for n in nan_nodes} == {True, False}
    scoring = numeric_frame(2, 5000, nan_share=0.3)
    assert_parity(sql_parity(booster, scoring, list(scoring.columns), threads=1), 5000)
    margin, probability = python_scores(booster, scoring, list(scoring.columns))
    assert np.max(np.abs(margin - booster.predict(scoring, raw_score=True))) == 0.0
    assert np.max(np.abs(probability - booster.predict(scoring))) < 1e-15


def test_parity_use_missing_false_scored_with_nulls():
    frame = numeric_frame(3, 3000, nan_share=0.0)
    booster = train(frame, binary_label(frame, 3), use_missing=False)
    nodes = split_nodes(booster)
    assert {n["missing_type"] for n in nodes} == {"None"}
    # NULL is compared as 0.0, so both directions occur: thresholds on either side of zero
    assert min(n["threshold"] for n in nodes) < 0 < max(n["threshold"] for n in nodes)
    scoring = numeric_frame(4, 5000, nan_share=0.3)
    assert_parity(sql_parity(booster, scoring, list(scoring.columns), threads=1), 5000)


def test_parity_zero_as_missing():
    rng = np.random.default_rng(5)
    frame = numeric_frame(5, 3000, nan_share=0.1)
    frame = frame.mask(rng.random(frame.shape) < 0.3, 0.0)
    booster = train(frame, binary_label(frame, 5), zero_as_missing=True)
    nodes = split_nodes(booster)
    assert any(n["missing_type"] == "Zero" for n in nodes)
    scoring = numeric_frame(6, 4000, nan_share=0.2)
    band = float(np.float32(1e-35))  # LightGBM's kZeroThreshold: the float 1e-35f, slightly above 1e-35
    edge = [0.0, -0.0, 1e-35, band, -band, np.nextafter(band, 1.0), np.nextafter(-band, -1.0), 1e-36, -1e-30]
    for column in scoring.columns:
        scoring[column] = scoring[column].mask(rng.random(len(scoring)) < 0.25, rng.choice(edge, len(scoring)))
    assert_parity(sql_parity(booster, scoring, list(scoring.columns), threads=1), 4000)


def test_parity_pandas_categorical_with_unseen_values_and_nulls():
    rng = np.random.default_rng(7)
    rows = 3000
    plans = pd.Categorical(rng.choice(["basic", "plus", "pro", "team", "edu", "trial"], rows))
    frame = pd.DataFrame({"plan": plans, "tenure": rng.normal(size=rows), "region": rng.integers(0, 4, rows)})
    frame.loc[rng.random(rows) < 0.1, "plan"] = np.nan
    effect = frame["plan"].map({"plus": 1.5, "team": 1.0, "trial": -1.0}).astype(float).fillna(0.0)
    label = (effect + frame["tenure"] + rng.normal(size=rows) > 0.3).to_numpy().astype(int)
    booster = train(frame, label, min_data_per_group=10, cat_smooth=1.0)
    assert any(n["decision_type"] == "==" for n in split_nodes(booster))
    scoring = pd.DataFrame(
        {
            "plan": pd.Categorical(rng.choice(["pro", "trial", "plus", "enterprise", "team", None], 2000)),
            "tenure": rng.normal(size=2000),
            "region": rng.integers(-1, 6, 2000),
        }
    )
    features = list(scoring.columns)
    margin, _ = python_scores(booster, scoring, features)
    assert np.array_equal(margin, booster.predict(scoring, raw_score=True))
    assert_parity(sql_parity(booster, scoring, features, threads=1), 2000)


def test_parity_integer_category_codes_follow_lightgbm_truncation():
    rng = np.random.default_rng(8)
    rows = 3000
    codes = rng.integers(0, 9, rows).astype(float)
    x = rng.normal(size=rows)
    label = (np.isin(codes, [0, 3, 5, 8]) * 1.5 + x + rng.normal(size=rows) > 0.8).astype(int)
    booster = train(np.c_[codes, x], label, categorical_feature=[0], min_data_per_group=10, cat_smooth=1.0)
    nodes = [n for n in split_nodes(booster) if n["decision_type"] == "=="]
    assert any(n["threshold"].split("||")[0] == "0" for n in nodes)
    assert any(n["threshold"].split("||")[0] != "0" for n in nodes)
    odd = [-1.0, -0.5, -0.0, 0.5, 2.7, 3.0, 3.999, 8.2, 9.0, 1e10, -1e10, np.nan]
    scoring = pd.DataFrame({"code": rng.choice(odd + list(range(9)), 3000), "x": rng.normal(size=3000)})
    assert_parity(sql_parity(booster, scoring, ["code", "x"], threads=1), 3000)


def test_parity_regression_raw_output():
    frame = numeric_frame(9, 3000)
    rng = np.random.default_rng(9)
    target = 3.0 * np.nan_to_num(frame["f0"].to_numpy()) + frame["f1"].fillna(-2).to_numpy() + rng.normal(size=3000)
    booster = train(frame, target, objective="regression")
    scoring = numeric_frame(10, 3000, nan_share=0.3)
    assert_parity(sql_parity(booster, scoring, list(scoring.columns), threads=1), 3000, probability=False)
    expression = booster_to_sql(booster, output="raw")
    con = duckdb.connect()
    con.register("scoring", scoring)
    # DuckDB reads float NaN from pandas as NaN, not NULL: convert before scoring, as a warehouse model would
    nulls = ", ".join(f"nullif({c}, 'nan'::double) as {c}" for c in scoring.columns)
    sql_values = con.execute(f"select {expression} from (select {nulls} from scoring)").fetchnumpy()
    values = next(iter(sql_values.values()))
    assert np.max(np.abs(values - booster.predict(scoring))) < TOLERANCE


def test_parity_platt_calibration():
    frame = numeric_frame(11, 3000)
    booster = train(frame, binary_label(frame, 11))
    scoring = numeric_frame(12, 3000)
    features = list(scoring.columns)
    a, b = 0.8123456789, -0.3456789
    margin, calibrated = python_scores(booster, scoring, features, calibration=(a, b))
    assert np.allclose(calibrated, 1 / (1 + np.exp(-(a * margin + b))), rtol=0, atol=1e-15)
    _, plain = python_scores(booster, scoring, features)
    assert np.max(np.abs(calibrated - plain)) > 0.01
    assert_parity(sql_parity(booster, scoring, features, calibration=(a, b), threads=1), 3000)
    expression = booster_to_sql(booster, calibration=(a, b))
    assert sql_number(a) in expression and sql_number(b) in expression


def expression_depth(sql: str) -> int:
    """Deepest nesting of parentheses and case expressions."""
    depth = deepest = 0
    for token in re.findall(r"\(|\)|\bcase\b|\bend\b", sql):
        depth += 1 if token in ("(", "case") else -1
        deepest = max(deepest, depth)
    return deepest


def test_large_booster_stays_shallow_and_exact(record_property):
    rng = np.random.default_rng(13)
    frame = numeric_frame(13, 2500, features=8, nan_share=0.1)
    label = (rng.random(2500) < 1 / (1 + np.exp(-np.nan_to_num(frame.to_numpy()).sum(axis=1)))).astype(int)
    booster = train(frame, label, rounds=400, num_leaves=40, max_depth=8, min_data_in_leaf=3, learning_rate=0.05)
    dump = booster.dump_model()
    assert len(dump["tree_info"]) == 400

    def depth(node: dict) -> int:
        return 0 if "leaf_value" in node else 1 + max(depth(node["left_child"]), depth(node["right_child"]))

    assert max(depth(t["tree_structure"]) for t in dump["tree_info"]) == 8
    expression = booster_to_sql(booster)
    # 8 case levels per tree plus log2(400) levels of the balanced sum and the sigmoid's few parentheses
    assert expression_depth(expression) <= 2 * 8 + 9 + 6
    scoring = numeric_frame(14, 5000, features=8, nan_share=0.2)
    con = duckdb.connect(config={"threads": 1})
    con.register("scoring_input", pa.Table.from_pandas(scoring, preserve_index=False))
    single = con.execute(f"select {expression} as p from scoring_input").fetchnumpy()["p"]
    _, probability = python_scores(booster, scoring, list(scoring.columns))
    assert np.max(np.abs(single - probability)) < TOLERANCE
    result = sql_parity(booster, scoring, list(scoring.columns), threads=1)
    assert_parity(result, 5000)
    record_property("sql_chars_expression", len(expression))
    record_property("sql_chars_select", result["sql_chars"])
    record_property("duckdb_seconds_5000_rows", result["duckdb_seconds"])
    assert len(expression) > 400 * 1000  # the model really is large: at least 1 kB of SQL per tree


def test_feature_names_that_need_quoting_and_mapping():
    rng = np.random.default_rng(15)
    rows = 2500
    frame = pd.DataFrame(
        {"Tenure": rng.normal(size=rows), "order": rng.normal(size=rows), "avg-ticket": rng.normal(size=rows)}
    )
    frame.loc[rng.random(rows) < 0.1, "Tenure"] = np.nan
    label = binary_label(frame, 15)
    booster = train(frame, label)
    assert booster.feature_name() == ["Tenure", "order", "avg-ticket"]
    expression = booster_to_sql(booster)
    assert '"Tenure"' in expression and '"order"' in expression and '"avg-ticket"' in expression
    scoring = frame.sample(1500, random_state=1).reset_index(drop=True)
    assert_parity(sql_parity(booster, scoring, list(scoring.columns), threads=1), 1500)
    renamed = scoring.set_axis(["tenure_days", "order_count", "ticket_mean"], axis=1)
    assert_parity(sql_parity(booster, renamed, list(renamed.columns), threads=1), 1500)
    # a mapping of SQL expressions under a relation alias, run by hand
    mapped = booster_to_sql(
        booster,
        {"Tenure": "s.tenure_days", "order": "s.order_count", "avg-ticket": "s.ticket_cents / 100e0"},
    )
    assert "(s.ticket_cents / 100e0)" in mapped
    aliased = booster_to_sql(booster, ["tenure_days", "order_count", "ticket_mean"], relation_alias="s")
    assert "s.tenure_days" in aliased
    source = renamed.assign(ticket_cents=renamed["ticket_mean"] * 100)
    con = duckdb.connect()
    con.register("source_frame", pa.Table.from_pandas(source, preserve_index=False))
    got = con.execute(f"select {mapped} as a, {aliased} as b from source_frame as s").fetchnumpy()
    _, probability = python_scores(booster, renamed, list(renamed.columns))
    expected_b = probability
    _, expected_a = python_scores(booster, source.assign(ticket_mean=source["ticket_cents"] / 100), list(renamed))
    assert np.max(np.abs(got["b"] - expected_b)) < TOLERANCE
    assert np.max(np.abs(got["a"] - expected_a)) < TOLERANCE


def test_integer_and_boolean_columns_in_a_typed_table():
    rng = np.random.default_rng(16)
    rows = 3000
    frame = pd.DataFrame(
        {
            "tickets": rng.poisson(2.0, rows) - 1,
            "is_paying": rng.random(rows) < 0.4,
            "spend": rng.gamma(2.0, 30.0, rows),
        }
    )
    label = ((frame["tickets"] > 2) ^ frame["is_paying"] ^ (frame["spend"] > 80)).to_numpy().astype(int)
    booster = train(frame.astype({"is_paying": int}), label)
    scoring = pd.DataFrame(
        {
            "tickets": pd.array(rng.integers(-3, 8, 2000), dtype="Int64"),
            "is_paying": pd.array(rng.random(2000) < 0.5, dtype="boolean"),
            "spend": rng.gamma(2.0, 30.0, 2000),
        }
    )
    scoring.loc[rng.random(2000) < 0.1, "tickets"] = pd.NA
    scoring.loc[rng.random(2000) < 0.1, "is_paying"] = pd.NA
    features = list(scoring.columns)
    assert_parity(sql_parity(booster, scoring, features, key_column=None, threads=1), 2000)
    # the same through a DuckDB table declared with integer columns (booleans cast to int upstream)
    con = duckdb.connect()
    con.register("raw_input", pa.Table.from_pandas(scoring.assign(k=np.arange(2000)), preserve_index=False))
    con.execute(
        "create table typed as select k, tickets::integer as tickets, is_paying::integer as is_paying, "
        "spend::double as spend from raw_input"
    )
    assert con.execute("select typeof(tickets), typeof(is_paying) from typed limit 1").fetchone() == (
        "INTEGER",
        "INTEGER",
    )
    sql = booster_to_select(booster, "typed", ["k"])
    got = con.execute(f"select * from ({sql}) order by k").fetchnumpy()
    margin, probability = python_scores(booster, scoring, features)
    assert np.max(np.abs(got["churn_margin"] - margin)) < TOLERANCE
    assert np.max(np.abs(got["churn_probability"] - probability)) < TOLERANCE


# -- statement shape, iterations, inputs ----------------------------------------------------------------------
def test_select_statement_shape_and_keys_from_an_arrow_table():
    frame = numeric_frame(17, 2000)
    booster = train(frame, binary_label(frame, 17))
    sql = booster_to_select(booster, "features", ["customer_id", "as_of"])
    assert sql == sql.lower()
    assert sql.startswith("with tree_scores as (")
    assert "as churn_margin" in sql and "as churn_probability" in sql
    assert sql.count("case when") == sum(1 for _ in split_nodes(booster))  # every tree once
    table = pa.Table.from_pandas(frame.assign(customer_id=[f"c{i:05d}" for i in range(2000)]), preserve_index=False)
    result = sql_parity(booster, table, list(frame.columns), key_column="customer_id", threads=1)
    assert_parity(result, 2000)
    assert result["sql_chars"] > 0 and result["duckdb_seconds"] >= 0


def test_best_iteration_is_respected():
    frame = numeric_frame(18, 2000)
    booster = train(frame, binary_label(frame, 18), rounds=40)
    booster.best_iteration = 12
    margin, _ = python_scores(booster, frame, list(frame.columns))
    assert np.array_equal(margin, booster.predict(frame, raw_score=True, num_iteration=12))
    assert not np.allclose(margin, booster.predict(frame, raw_score=True, num_iteration=40))
    assert_parity(sql_parity(booster, frame, list(frame.columns), threads=1), 2000)
    assert_parity(sql_parity(booster, frame, list(frame.columns), num_iteration=40, threads=1), 2000)
    twelve = booster_to_sql(booster, output="raw")
    all_trees = booster_to_sql(booster, output="raw", num_iteration=40)
    assert len(all_trees) > 2 * len(twelve)


# -- refusals --------------------------------------------------------------------------------------------------
def test_refuses_models_and_arguments_it_cannot_export():
    frame = numeric_frame(20, 600, nan_share=0.0)
    label = binary_label(frame, 20)
    multiclass = train(
        frame, (frame["f0"] > 0).astype(int) + (frame["f1"] > 0), rounds=3, objective="multiclass", num_class=3
    )
    with pytest.raises(ValueError, match="multiclass"):
        booster_to_sql(multiclass)
    linear = train(frame, label, rounds=3, linear_tree=True)
    with pytest.raises(ValueError, match="linear_tree"):
        booster_to_sql(linear)
    poisson = train(frame, np.abs(frame["f0"].to_numpy()), rounds=3, objective="poisson")
    with pytest.raises(ValueError, match="'poisson' is not supported"):
        booster_to_sql(poisson, output="raw")
    regression = train(frame, frame["f0"].to_numpy(), rounds=3, objective="regression")
    with pytest.raises(ValueError, match="output='raw'"):
        booster_to_sql(regression)
    with pytest.raises(ValueError, match="margin_column=None"):
        booster_to_select(regression, "features", ["id"])
    forest = train(frame, label, rounds=3, boosting="rf", bagging_fraction=0.7, bagging_freq=1)
    with pytest.raises(ValueError, match="boosting='rf'"):
        booster_to_sql(forest)
    binary = train(frame, label, rounds=5)
    with pytest.raises(ValueError, match=r"no column for features \['f1'\]"):
        booster_to_sql(binary, {"f0": "a", "f2": "c", "f3": "d", "f4": "e"})
    with pytest.raises(ValueError, match=r"\['tenure'\] that are not features"):
        booster_to_sql(binary, {"tenure": "t", **{f"f{i}": f"c{i}" for i in range(5)}})
    with pytest.raises(ValueError, match="one column per feature"):
        booster_to_sql(binary, ["a", "b"])
    with pytest.raises(ValueError, match="not one of"):
        booster_to_sql(binary, output="logit")
    with pytest.raises(ValueError, match="calibration applies to probabilities"):
        booster_to_sql(binary, output="raw", calibration=(1.0, 0.0))
    with pytest.raises(ValueError, match="pair"):
        booster_to_sql(binary, calibration=(1.0,))
    with pytest.raises(ValueError, match="clash"):
        booster_to_select(binary, "features", ["churn_margin"])
    with pytest.raises(ValueError, match="no columns"):
        sql_parity(binary, frame, ["f0", "f1", "f2", "f3", "missing_column"])


# -- portability ------------------------------------------------------------------------------------------------
def test_sqlglot_transpiles_to_other_warehouses():
    rng = np.random.default_rng(21)
    rows = 1500
    frame = pd.DataFrame(
        {"code": rng.integers(0, 6, rows).astype(float), "x": rng.normal(size=rows), "y": rng.normal(size=rows)}
    )
    frame = frame.mask(rng.random(frame.shape) < 0.2, 0.0)
    label = (np.isin(frame["code"], [0, 2]) + frame["x"] + rng.normal(size=rows) > 0.5).astype(int)
    booster = train(frame, label, rounds=5, zero_as_missing=True, categorical_feature=[0], min_data_per_group=10)
    expression = booster_to_sql(booster, {"code": "code", "x": '"X Value"', "y": "y"}, calibration=(1.1, -0.2))
    statement = booster_to_select(booster, "analytics.features", ["customer_id"])
    started = time.perf_counter()
    for sql in (expression, statement):
        assert sql_dialect_check(sql) == dict.fromkeys(("duckdb", "spark", "snowflake", "bigquery", "postgres"), True)
    assert time.perf_counter() - started < 20
    assert sql_dialect_check("select case when then", dialects=("spark", "bigquery")) == {
        "spark": False,
        "bigquery": False,
    }
