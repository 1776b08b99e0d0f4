"""Scores as SQL: a LightGBM booster rendered as portable SQL, with measured parity against Python.

A model trained in Python has to be scored inside the warehouse as a plain dbt model, so its trees are
written out as nested ``case`` expressions that follow LightGBM's own decision rules exactly (missing
values, the zero band, categorical truncation). ``sql_parity`` runs that SQL in DuckDB next to
``booster.predict`` and reports the largest difference, which the model registry records as evidence.

Conventions of the generated SQL:

* SQL ``NULL`` is the missing value. A ``NaN`` stored in a double column is *not* treated as missing
  (warehouses disagree on how ``NaN`` compares), so upstream models must turn ``NaN`` into ``NULL``.
  Missing values are routed by three-valued logic rather than ``is null`` tests: each split is written so
  that its ``else`` branch is the side LightGBM sends missing values to, and a comparison with NULL is
  never true.
* Column references are never cast. Every numeric literal is written in exponent form (``5e-1``, ``0e0``),
  which DuckDB, Spark, Snowflake and BigQuery read as a double (Postgres reads an exact numeric and
  compares it with a double column as a double), so integer columns are promoted to double for each
  comparison (exact up to 2**53) and nothing depends on a warehouse's cast rules. Booleans must be cast
  to an integer upstream: not every warehouse compares a boolean with a number.
* Categorical features must hold the integer category codes LightGBM was trained on (for a pandas
  ``category`` column: the position of the value in the training categories).
* The output is DuckDB SQL that uses only constructs every supported warehouse has (``case``, ``and``,
  ``or``, ``in``, ``floor``, ``abs``, ``exp``, ``least``, ``greatest``, CTEs) and double-quoted
  identifiers; ``sqlglot`` transpiles it to the other dialects (``sql_dialect_check``).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import lightgbm
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot.errors import ErrorLevel, SqlglotError

# LightGBM's kZeroThreshold is declared `const double kZeroThreshold = 1e-35f;`: the float literal widened
# to double, which is not the double nearest to 1e-35.
ZERO_THRESHOLD: float = float(np.float32(1e-35))
# exp() overflows a double just above 709; Postgres and Snowflake raise instead of returning infinity, so
# the sigmoid input is clamped to +-700 in SQL and in numpy alike (changes a probability by < 1e-300).
SIGMOID_CLAMP: float = 700.0
# Objectives whose prediction is the raw sum of trees (no output transformation).
IDENTITY_OBJECTIVES = frozenset({"regression", "regression_l1", "huber", "fair", "quantile", "mape"})
OUTPUTS = ("raw", "probability")
DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")
PARITY_ROW = "_parity_row"
# booster_to_select puts each tree in its own column (Postgres allows at most 1664 select-list entries);
# larger models put several consecutive trees in one column.
MAX_TREE_COLUMNS = 1000
PARITY_BATCH = 16_384

_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_SIMPLE_REFERENCE = re.compile(
    r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+"))*'
)
# Words that are reserved in at least one supported warehouse; such names are quoted even when lowercase.
_RESERVED = frozenset(
    """
    all and any array as asc at between both by case cast check collate column constraint create cross cube
    current current_date current_time current_timestamp current_user default desc distinct else end escape
    except exists extract false fetch filter following for foreign from full grant group grouping having ilike
    in inner intersect interval into is join lateral leading left like limit natural new not null nulls of
    offset on only or order outer over partition pivot preceding primary qualify range recursive references
    right rollup row rows select session_user set some struct table tablesample then to trailing true union
    unique unknown unnest unpivot user using values when where window with within
    """.split()  # noqa: SIM905 -- a word list reads better than 110 quoted strings
)


@dataclass(frozen=True)
class _ModelSpec:
    """What the SQL needs from a booster's JSON dump besides the trees."""

    objective: str
    sigmoid: float
    feature_names: list[str]
    trees: list[dict[str, Any]]

    @property
    def is_binary(self) -> bool:
        return self.objective == "binary"


# -- model inspection --------------------------------------------------------------------------------------------
def _model_spec(booster: lightgbm.Booster, num_iteration: int | None, *, header_only: bool = False) -> _ModelSpec:
    """Parse and validate ``booster.dump_model``: only single-output binary or identity regression models.

    ``header_only`` dumps a single tree: enough to validate the model and read its objective when the trees
    themselves are not needed (dumping 10^5 nodes as JSON takes over a second).
    """
    dump = booster.dump_model(num_iteration=1 if header_only else num_iteration)
    tokens = str(dump.get("objective", "")).split()
    if not tokens:
        raise ValueError("the booster has no objective in its dump; train it with objective='binary' or 'regression'")
    objective = tokens[0]
    if dump.get("num_class", 1) != 1 or dump.get("num_tree_per_iteration", 1) != 1:
        raise ValueError(
            f"objective {objective!r} has {dump.get('num_class')} classes: multiclass boosters cannot be exported; "
            "train one binary booster per class instead"
        )
    if objective == "binary":
        sigmoid = 1.0
        for token in tokens[1:]:
            if token.startswith("sigmoid:"):
                sigmoid = float(token.split(":", 1)[1])
    elif objective in IDENTITY_OBJECTIVES:
        if "sqrt" in tokens[1:]:
            raise ValueError(
                f"objective {' '.join(tokens)!r} squares its output (reg_sqrt=True); retrain with reg_sqrt=False"
            )
        sigmoid = 1.0
    else:
        raise ValueError(
            f"objective {objective!r} is not supported: only 'binary' and identity regression objectives "
            f"({', '.join(sorted(IDENTITY_OBJECTIVES))}) can be exported to SQL"
        )
    if booster.params.get("linear_tree") in (True, 1, "true", "True", "1") or any(
        _has_linear_leaves(tree["tree_structure"]) for tree in dump["tree_info"][:1]
    ):
        raise ValueError("the booster uses linear trees (linear_tree=True); retrain with linear_tree=False to export")
    if dump.get("average_output", False):
        # LightGBM's raw score of a random forest is the sum of trees but its probability uses their mean, so
        # "margin" has no single meaning there.
        raise ValueError("random-forest boosters (boosting='rf') cannot be exported; train with boosting='gbdt'")
    return _ModelSpec(
        objective=objective,
        sigmoid=sigmoid,
        feature_names=list(dump["feature_names"]),
        trees=[tree["tree_structure"] for tree in dump["tree_info"]],
    )


def _has_linear_leaves(node: Mapping[str, Any]) -> bool:
    """True when a leaf of this tree carries linear coefficients (LightGBM's linear_tree)."""
    while "leaf_value" not in node:
        node = node["left_child"]
    return "leaf_coeff" in node


# -- SQL text ----------------------------------------------------------------------------------------------------
def sql_number(value: float) -> str:
    """A double literal in exponent form that round-trips exactly: ``0.1`` -> ``1e-1``, ``0.0`` -> ``0e0``.

    Plain decimals such as ``0.123`` are parsed as DECIMAL by DuckDB, Postgres and others; the exponent form
    is a double everywhere, and ``repr`` gives the shortest digits that read back as the same double.
    """
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot write {number!r} as a SQL literal: only finite numbers are allowed")
    if number == 0.0:
        return "0e0"
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    text = "".join(str(d) for d in digits)
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{exponent + len(digits) - 1}"


def quote_identifier(name: str) -> str:
    """``name`` as a SQL identifier: bare when it is a plain lowercase non-reserved word, else double-quoted."""
    if not name:
        raise ValueError("an empty string is not a column name; pass the column's name")
    if _PLAIN_IDENTIFIER.fullmatch(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _column_expressions(
    spec: _ModelSpec,
    feature_columns: Mapping[str, str] | Sequence[str] | None,
    relation_alias: str | None,
) -> list[str | None]:
    """The SQL expression for each feature index (None for features no split uses and none was given)."""
    prefix = f"{quote_identifier(relation_alias)}." if relation_alias else ""
    names = spec.feature_names
    if feature_columns is None:
        return [prefix + quote_identifier(name) for name in names]
    if isinstance(feature_columns, Mapping):
        unknown = sorted(set(feature_columns) - set(names))
        if unknown:
            raise ValueError(
                f"feature_columns names {unknown} that are not features of the booster; its features are {names}"
            )
        expressions: list[str | None] = []
        for name in names:
            expression = feature_columns.get(name)
            if expression is not None and not str(expression).strip():
                raise ValueError(f"feature_columns[{name!r}] is empty; give the SQL expression for that feature")
            if expression is not None and not _SIMPLE_REFERENCE.fullmatch(expression):
                expression = f"({expression})"
            expressions.append(expression)
        return expressions
    if isinstance(feature_columns, str):
        raise ValueError("feature_columns is a single string; pass a mapping {feature: column} or a list of columns")
    columns = list(feature_columns)
    if len(columns) != len(names):
        raise ValueError(
            f"feature_columns lists {len(columns)} columns but the booster has {len(names)} features {names}; "
            "give one column per feature, in the booster's feature order, or a mapping"
        )
    return [prefix + quote_identifier(column) for column in columns]


def _used_features(node: Mapping[str, Any], used: set[int]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if "leaf_value" not in current:
            used.add(int(current["split_feature"]))
            stack.extend((current["left_child"], current["right_child"]))


def _tree_sql(node: Mapping[str, Any], columns: Sequence[str | None]) -> str:
    """One tree as nested ``case when <condition> then <subtree> else <subtree> end``.

    Mirrors ``Tree::NumericalDecision`` and ``Tree::CategoricalDecision`` (LightGBM tree.h). Missing values
    need no ``is null`` test: a comparison with NULL is never true, so a row with a NULL feature always takes
    the ``else`` branch, and the condition is written so that the ``else`` branch is the side LightGBM sends
    missing values to (``v > t`` with the children swapped when they go left). This keeps every node to
    one or two comparisons, which matters for parse, plan and run time of models with 10^5 nodes.
    """
    if "leaf_value" in node:
        return sql_number(node["leaf_value"])
    column = columns[int(node["split_feature"])]
    if column is None:  # guarded by _margin_sql; kept so a bad index cannot produce invalid SQL
        raise ValueError(f"no SQL column for feature index {node['split_feature']}")
    left = _tree_sql(node["left_child"], columns)
    right = _tree_sql(node["right_child"], columns)
    condition, null_goes_left = _split_condition(node, column)
    if null_goes_left:
        return f"case when {condition} then {right} else {left} end"
    return f"case when {condition} then {left} else {right} end"


def _split_condition(node: Mapping[str, Any], column: str) -> tuple[str, bool]:
    """``(condition, null_goes_left)``: when ``null_goes_left`` the condition selects the right child."""
    decision = node["decision_type"]
    missing = node.get("missing_type", "None")
    default_left = bool(node.get("default_left", False))
    if decision == "==":
        # NaN -> right; otherwise the value is truncated toward zero to an int and negative ints go right.
        # For v > -1, floor(abs(v)) is exactly that truncation, portably (cast to int rounds in most SQL).
        # Without category 0, floor(v) alone decides: it is below 0 for every v < 0.
        categories = sorted({int(c) for c in str(node["threshold"]).split("||")})
        listed = ", ".join(str(c) for c in categories)
        if categories[0] > 0:
            return f"floor({column}) in ({listed})", False
        return f"{column} > -1e0 and floor(abs({column})) in ({listed})", False
    if decision != "<=":
        raise ValueError(f"unknown decision_type {decision!r} in the booster dump; only '<=' and '==' are defined")
    threshold = float(node["threshold"])
    th = sql_number(threshold)
    if missing == "NaN":  # NaN takes the default direction, everything else compares
        null_goes_left = default_left
    elif missing == "None":  # NaN is replaced by 0.0 and compared
        null_goes_left = threshold >= 0.0
    elif missing == "Zero":  # NaN becomes 0.0; |v| <= kZeroThreshold takes the default direction
        z = sql_number(ZERO_THRESHOLD)
        if default_left:  # right iff v > t and v outside the zero band
            band_is_left = threshold >= ZERO_THRESHOLD
            return (
                f"{column} > {th}" if band_is_left else f"{column} > {th} and ({column} < -{z} or {column} > {z})"
            ), True
        band_is_right = threshold < -ZERO_THRESHOLD
        return (
            f"{column} <= {th}" if band_is_right else f"{column} <= {th} and ({column} < -{z} or {column} > {z})"
        ), False
    else:
        raise ValueError(f"unknown missing_type {missing!r} in the booster dump; expected 'None', 'Zero' or 'NaN'")
    return (f"{column} > {th}", True) if null_goes_left else (f"{column} <= {th}", False)


def _balanced_sum(terms: Sequence[str]) -> str:
    """``a + b + ...`` as a balanced tree of parentheses: nesting depth log2(n) instead of n.

    A left-deep sum of hundreds of ``case`` expressions exceeds DuckDB's max_expression_depth (1000) and the
    recursion limits of other parsers; the balanced sum differs from LightGBM's sequential sum only in the
    rounding of the last bits (about 1e-15 for hundreds of trees).
    """
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return f"({_balanced_sum(terms[:middle])}\n + {_balanced_sum(terms[middle:])})"


def _check_calibration(calibration: tuple[float, float] | None) -> tuple[float, float] | None:
    if calibration is None:
        return None
    try:
        a, b = (float(v) for v in calibration)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"calibration must be a pair (a, b) of numbers, got {calibration!r}") from exc
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"calibration must be finite numbers (a, b), got {calibration!r}")
    return a, b


def _probability_sql(margin: str, spec: _ModelSpec, calibration: tuple[float, float] | None) -> str:
    """The probability from a margin expression: Platt ``a*m + b`` when calibrated, else LightGBM's sigmoid."""
    if calibration is not None:
        z = f"{sql_number(calibration[0])} * ({margin}) + {sql_number(calibration[1])}"
    elif spec.sigmoid != 1.0:
        z = f"{sql_number(spec.sigmoid)} * ({margin})"
    else:
        z = margin
    clamp = sql_number(SIGMOID_CLAMP)
    return f"1e0 / (1e0 + exp(-greatest(-{clamp}, least({clamp}, {z}))))"


def _check_output(spec: _ModelSpec, output: str, calibration: tuple[float, float] | None) -> None:
    if output not in OUTPUTS:
        raise ValueError(f"output={output!r} is not one of {OUTPUTS}")
    if output == "probability" and not spec.is_binary:
        raise ValueError(f"a {spec.objective!r} booster has no probability; pass output='raw' for its prediction")
    if calibration is not None and output != "probability":
        raise ValueError("calibration applies to probabilities only; pass output='probability' or drop calibration")


def _tree_terms(
    spec: _ModelSpec,
    feature_columns: Mapping[str, str] | Sequence[str] | None,
    relation_alias: str | None,
) -> list[str]:
    """One SQL expression per tree, after checking that every feature a split uses has a column."""
    if not spec.trees:
        raise ValueError("the booster has no trees; train at least one iteration before exporting it")
    columns = _column_expressions(spec, feature_columns, relation_alias)
    used: set[int] = set()
    for tree in spec.trees:
        _used_features(tree, used)
    missing = sorted(spec.feature_names[i] for i in used if columns[i] is None)
    if missing:
        raise ValueError(
            f"feature_columns has no column for features {missing}, which the trees split on; add them to the mapping"
        )
    return [_tree_sql(tree, columns) for tree in spec.trees]


def booster_to_sql(
    booster: lightgbm.Booster,
    feature_columns: Mapping[str, str] | Sequence[str] | None = None,
    *,
    calibration: tuple[float, float] | None = None,
    output: str = "probability",
    relation_alias: str | None = None,
    num_iteration: int | None = None,
) -> str:
    """One SQL scalar expression that scores ``booster`` row by row, matching ``booster.predict``.

    ``feature_columns``: None uses each feature's name as its column; a sequence gives one column name per
    feature in the booster's order; a mapping gives a SQL expression per feature name (used verbatim,
    parenthesised when it is not a plain column reference). Column names are quoted only when needed and
    prefixed with ``relation_alias`` when given (mapping expressions are not). ``output='raw'`` is the sum of
    trees (the margin for a binary model, the prediction for regression); ``'probability'`` applies
    LightGBM's sigmoid, or the Platt scaling ``1/(1+exp(-(a*margin+b)))`` when ``calibration=(a, b)``.
    ``num_iteration`` selects trees like ``booster.predict`` (None: the best iteration when one is set, else
    all trees). Trees are summed in balanced parentheses, so nesting grows with log2 of the tree count.
    For large models prefer ``booster_to_select``: DuckDB plans one tree per column much faster than one
    sum of hundreds of trees.
    """
    calibration = _check_calibration(calibration)
    spec = _model_spec(booster, num_iteration)
    _check_output(spec, output, calibration)
    margin = _balanced_sum(_tree_terms(spec, feature_columns, relation_alias))
    return margin if output == "raw" else _probability_sql(margin, spec, calibration)


def booster_to_select(
    booster: lightgbm.Booster,
    source_relation: str,
    key_columns: Sequence[str],
    *,
    score_column: str = "churn_probability",
    margin_column: str | None = "churn_margin",
    feature_columns: Mapping[str, str] | Sequence[str] | None = None,
    calibration: tuple[float, float] | None = None,
    num_iteration: int | None = None,
) -> str:
    """A complete ``select`` of the keys, the margin and the score of every row of ``source_relation``.

    Each tree is one column of a first CTE, a second CTE sums them into the margin and the final select
    derives the probability from that column, so every tree appears exactly once. One column per tree
    rather than one giant sum keeps planning cheap: DuckDB's common-subexpression pass hashes every
    arithmetic node over ``case`` expressions recursively, which costs seconds for a 400-tree sum. For a regression booster ``score_column`` holds the prediction and ``margin_column`` must be
    None (the two would be the same number). ``source_relation`` is used verbatim (a table name or a
    parenthesised subquery with an alias).
    """
    return _select_sql(
        _model_spec(booster, num_iteration),
        source_relation,
        key_columns,
        score_column=score_column,
        margin_column=margin_column,
        feature_columns=feature_columns,
        calibration=_check_calibration(calibration),
    )


def _select_sql(
    spec: _ModelSpec,
    source_relation: str,
    key_columns: Sequence[str],
    *,
    score_column: str,
    margin_column: str | None,
    feature_columns: Mapping[str, str] | Sequence[str] | None,
    calibration: tuple[float, float] | None,
) -> str:
    """``booster_to_select`` for an already parsed model."""
    if isinstance(key_columns, str):
        raise ValueError(f"key_columns must be a list of column names, got the string {key_columns!r}")
    keys = list(key_columns)
    if not keys:
        raise ValueError("key_columns is empty; give the columns that identify a row so scores can be joined back")
    if not source_relation.strip():
        raise ValueError("source_relation is empty; give the table or subquery that holds the features")
    outputs = [score_column] + ([margin_column] if margin_column is not None else [])
    clashes = sorted(set(outputs) & set(keys)) + ([score_column] if score_column == margin_column else [])
    if clashes:
        raise ValueError(f"output column names {clashes} clash with each other or with key_columns; rename them")
    if not spec.is_binary:
        if margin_column is not None:
            raise ValueError(
                f"a {spec.objective!r} booster has no margin separate from its prediction; pass margin_column=None"
            )
        if calibration is not None:
            raise ValueError(f"calibration applies to probabilities; a {spec.objective!r} booster has none")
    internal = sorted(key for key in keys if key == "_margin" or re.fullmatch(r"_tree_\d+", key))
    if internal:
        raise ValueError(f"key_columns {internal} clash with the query's internal column names; rename them")
    key_list = ", ".join(quote_identifier(key) for key in keys)
    terms = _tree_terms(spec, feature_columns, None)
    group = math.ceil(len(terms) / MAX_TREE_COLUMNS)
    grouped = [_balanced_sum(terms[start : start + group]) for start in range(0, len(terms), group)]
    tree_columns = ",\n".join(f"{term}\n as _tree_{i}" for i, term in enumerate(grouped))
    margin = _balanced_sum([f"_tree_{i}" for i in range(len(grouped))])
    trees_cte = f"with tree_scores as (\nselect {key_list},\n{tree_columns}\nfrom {source_relation}\n)"
    score = quote_identifier(score_column)
    if not spec.is_binary:
        return f"{trees_cte}\nselect {key_list}, {margin} as {score}\nfrom tree_scores"
    margin_name = quote_identifier(margin_column if margin_column is not None else "_margin")
    probability = _probability_sql(margin_name, spec, calibration)
    selected = f"{margin_name}, {probability}" if margin_column is not None else probability
    return (
        f"{trees_cte},\nmargins as (\nselect {key_list}, {margin} as {margin_name}\nfrom tree_scores\n)\n"
        f"select {key_list}, {selected} as {score}\nfrom margins"
    )


# -- Python reference and parity ---------------------------------------------------------------------------------
def _as_pandas(frame: pd.DataFrame | pa.Table, columns: Sequence[str]) -> pd.DataFrame:
    """The needed columns as pandas, keeping integer/boolean types and nulls (Arrow dictionaries -> category)."""
    if not isinstance(frame, (pd.DataFrame, pa.Table)):
        raise ValueError(f"frame must be a pandas DataFrame or a pyarrow Table, got {type(frame).__name__}")
    available = set(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    missing = [column for column in dict.fromkeys(columns) if column not in available]
    if missing:
        raise ValueError(f"the frame has no columns {missing}; pass feature_names that are columns of the frame")
    if isinstance(frame, pa.Table):
        nullable = {
            pa.int8(): pd.Int8Dtype(),
            pa.int16(): pd.Int16Dtype(),
            pa.int32(): pd.Int32Dtype(),
            pa.int64(): pd.Int64Dtype(),
            pa.uint8(): pd.UInt8Dtype(),
            pa.uint16(): pd.UInt16Dtype(),
            pa.uint32(): pd.UInt32Dtype(),
            pa.uint64(): pd.UInt64Dtype(),
            pa.bool_(): pd.BooleanDtype(),
        }
        return frame.select(list(dict.fromkeys(columns))).to_pandas(types_mapper=nullable.get)
    return frame


def _feature_inputs(
    booster: lightgbm.Booster, frame: pd.DataFrame, feature_names: Sequence[str]
) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """The float64 matrix LightGBM scores and, per column, the typed Arrow array the SQL scores.

    Category columns become the booster's training codes (LightGBM's pandas rule: the i-th category column
    pairs with ``booster.pandas_categorical[i]``; unseen values and nulls are missing); booleans become
    0/1 integers; integers stay integers, so the SQL is exercised on the types a warehouse would hold.
    """
    trained = list(getattr(booster, "pandas_categorical", None) or [])
    category_position = 0
    matrix = np.empty((len(frame), len(feature_names)), dtype=np.float64)
    arrays: dict[str, pa.Array] = {}
    for j, name in enumerate(feature_names):
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            if category_position >= len(trained):
                raise ValueError(
                    f"column {name!r} is a pandas category but the booster was not trained on pandas categories "
                    f"for it; pass the integer category codes it was trained on instead"
                )
            categories = trained[category_position]
            category_position += 1
            codes = pd.Categorical(series, categories=categories).codes.astype(np.int64)
            mask = codes < 0
            matrix[:, j] = np.where(mask, np.nan, codes)
            arrays[name] = pa.array(codes.astype(np.int32), mask=mask)
            continue
        if pd.api.types.is_bool_dtype(dtype):
            series = series.astype("Int8")
            dtype = series.dtype
        try:
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"column {name!r} ({dtype}) is not numeric; encode it as numbers (categories as integer codes)"
            ) from exc
        matrix[:, j] = values
        if pd.api.types.is_integer_dtype(dtype):
            arrays[name] = pa.array(series, from_pandas=True)
        else:
            arrays[name] = pa.array(values, mask=np.isnan(values))
    if trained and category_position not in (0, len(trained)):
        raise ValueError(
            f"the booster was trained with {len(trained)} pandas category columns but the frame has "
            f"{category_position}; give every categorical feature the category dtype (or none of them)"
        )
    return matrix, arrays


def _sigmoid(margin: np.ndarray, spec: _ModelSpec, calibration: tuple[float, float] | None) -> np.ndarray:
    if calibration is not None:
        z = calibration[0] * margin + calibration[1]
    elif spec.sigmoid != 1.0:
        z = spec.sigmoid * margin
    else:
        z = margin
    return 1.0 / (1.0 + np.exp(-np.clip(z, -SIGMOID_CLAMP, SIGMOID_CLAMP)))


def _reference(
    booster: lightgbm.Booster,
    matrix: np.ndarray,
    spec: _ModelSpec,
    calibration: tuple[float, float] | None,
    num_iteration: int | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    margin = np.asarray(booster.predict(matrix, raw_score=True, num_iteration=num_iteration), dtype=np.float64)
    return margin, (_sigmoid(margin, spec, calibration) if spec.is_binary else None)


def python_scores(
    booster: lightgbm.Booster,
    frame: pd.DataFrame | pa.Table,
    feature_names: Sequence[str],
    calibration: tuple[float, float] | None = None,
    *,
    num_iteration: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The reference scores the SQL must reproduce: ``(margin, probability)`` as float64 arrays.

    ``feature_names`` are the frame's columns in the booster's feature order; nulls become NaN, category
    columns become the booster's training codes. The margin is ``booster.predict(raw_score=True)``; the
    probability applies the same sigmoid (or Platt scaling) as the SQL, and is None for regression.
    """
    calibration = _check_calibration(calibration)
    spec = _model_spec(booster, num_iteration, header_only=True)
    _check_feature_count(spec, feature_names)
    if calibration is not None and not spec.is_binary:
        raise ValueError(f"calibration applies to probabilities; a {spec.objective!r} booster has none")
    matrix, _ = _feature_inputs(booster, _as_pandas(frame, feature_names), feature_names)
    return _reference(booster, matrix, spec, calibration, num_iteration)


def _check_feature_count(spec: _ModelSpec, feature_names: Sequence[str]) -> None:
    if isinstance(feature_names, str) or len(feature_names) != len(spec.feature_names):
        raise ValueError(
            f"feature_names must list {len(spec.feature_names)} frame columns, one per booster feature "
            f"{spec.feature_names} in that order; got {feature_names!r}"
        )


def _max_abs_diff(expected: np.ndarray, actual: np.ndarray) -> float:
    """Largest |expected - actual|; any NaN/NULL on one side only counts as an infinite difference."""
    diff = np.abs(expected - actual)
    both_nan = np.isnan(expected) & np.isnan(actual)
    diff = np.where(both_nan, 0.0, np.where(np.isnan(diff), np.inf, diff))
    return float(diff.max()) if diff.size else 0.0


def sql_parity(
    booster: lightgbm.Booster,
    frame: pd.DataFrame | pa.Table,
    feature_names: Sequence[str],
    calibration: tuple[float, float] | None = None,
    key_column: str | None = None,
    *,
    num_iteration: int | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Score ``frame`` with the generated SQL in an in-process DuckDB and compare with ``python_scores``.

    ``feature_names`` are the frame's columns in the booster's feature order (they may differ from the
    booster's own feature names; the SQL then reads those columns). The statement is the one
    ``booster_to_select`` writes, with ``key_column`` (when given) as a key; rows are matched by position
    through an added row number. ``threads`` limits DuckDB's threads (default: all cores). Returns
    ``max_abs_diff_margin``, ``max_abs_diff_probability`` (None for regression), ``rows``, ``sql_chars``
    (length of the select statement) and ``duckdb_seconds`` (planning, execution and fetch). A NULL where
    Python has a number counts as an infinite difference.
    """
    calibration = _check_calibration(calibration)
    spec = _model_spec(booster, num_iteration)
    _check_feature_count(spec, feature_names)
    if calibration is not None and not spec.is_binary:
        raise ValueError(f"calibration applies to probabilities; a {spec.objective!r} booster has none")
    reserved = {PARITY_ROW, "margin", "score"}
    clashes = sorted(reserved & ({key_column} | set(feature_names)))
    if clashes:
        raise ValueError(f"columns {clashes} are reserved by the parity query; rename them in the frame")
    needed = list(feature_names) + ([key_column] if key_column else [])
    table = _as_pandas(frame, needed)
    matrix, arrays = _feature_inputs(booster, table, feature_names)
    margin_py, probability_py = _reference(booster, matrix, spec, calibration, num_iteration)

    columns = dict(arrays)
    columns[PARITY_ROW] = pa.array(np.arange(len(table), dtype=np.int64))
    keys = [PARITY_ROW]
    if key_column:
        columns[key_column] = pa.array(table[key_column], from_pandas=True)
        keys.append(key_column)
    sql = _select_sql(
        spec,
        "parity_input",
        keys,
        score_column="score",
        margin_column="margin" if spec.is_binary else None,
        feature_columns=list(feature_names),
        calibration=calibration,
    )
    config = {"threads": threads} if threads else {}
    with duckdb.connect(config=config) as con:
        # Several record batches, so DuckDB can scan them in parallel.
        scored = pa.table(columns)
        con.register("parity_input", pa.Table.from_batches(scored.to_batches(PARITY_BATCH), schema=scored.schema))
        started = time.perf_counter()
        result = con.execute(f"select * from (\n{sql}\n) as scored order by {PARITY_ROW}").fetchnumpy()
        seconds = time.perf_counter() - started
    if not np.array_equal(np.asarray(result[PARITY_ROW]), np.arange(len(table))):
        raise RuntimeError("DuckDB returned a different set of rows than it was given; the parity is not measured")

    def column(name: str) -> np.ndarray:
        values = result[name]
        if np.ma.isMaskedArray(values):
            values = values.astype(np.float64).filled(np.nan)
        return np.asarray(values, dtype=np.float64)

    probability_diff: float | None = None
    if probability_py is not None:
        margin_diff = _max_abs_diff(margin_py, column("margin"))
        probability_diff = _max_abs_diff(probability_py, column("score"))
    else:
        margin_diff = _max_abs_diff(margin_py, column("score"))
    return {
        "max_abs_diff_probability": probability_diff,
        "max_abs_diff_margin": margin_diff,
        "rows": len(table),
        "sql_chars": len(sql),
        "duckdb_seconds": seconds,
    }


def sql_dialect_check(sql: str, dialects: Sequence[str] = DIALECTS) -> dict[str, bool]:
    """For each dialect: can sqlglot read ``sql`` as DuckDB, write it in that dialect and read that back?

    Writing raises on any construct sqlglot knows the target cannot express, so True means the SQL uses
    nothing DuckDB-only as far as sqlglot knows. Nothing is executed: it is not proof that each warehouse
    accepts the statement or computes the same numbers. sqlglot is pure Python: expect about ten seconds per
    dialect for a megabyte of SQL.
    """
    for dialect in dialects:
        try:
            sqlglot.Dialect.get_or_raise(dialect)
        except ValueError as exc:
            raise ValueError(f"unknown SQL dialect {dialect!r}; sqlglot knows e.g. {', '.join(DIALECTS)}") from exc
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except (SqlglotError, RecursionError):
        return dict.fromkeys(dialects, False)
    results: dict[str, bool] = {}
    for dialect in dialects:
        try:
            for statement in statements:
                if statement is None:
                    raise SqlglotError("empty statement")
                written = statement.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
                sqlglot.parse_one(written, read=dialect)
            results[dialect] = len(statements) == 1
        except (SqlglotError, RecursionError):
            results[dialect] = False
    return results
