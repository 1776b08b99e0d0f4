"""`empathy model-card`: one markdown card per model version, from the tables of a built database.

Every section comes from the data: the version's row of `marts.dim_model_versions` (data window, features), the
screening of bring-your-own columns (`audit.feature_exclusions`), the out-of-sample backtests
(`marts.fct_model_backtests`), the fairness audit (`marts.fct_fairness_audit`) and what the models said they
could not do (`audit.model_status`). Intended use and non-use are the product's policy per model, stated beside
the figures that bound it. A section with nothing in the data says so and why, never leaves a blank.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Customer attributes the fairness audit groups by: a card says whether any is a feature of the version.
SENSITIVE_ATTRIBUTES = ("age_band", "birth_year", "gender", "country", "language")

# What each model's output feeds in fct_fairness_audit.
AUDITED_SUBJECTS = {
    "churn": ("churn_high_risk", "retain"),
    "next_action": ("do_not_market", "reassure", "upsell", "route_to_senior_agent"),
    "clv_bgnbd": ("upsell",),
    "clv_subscription": ("upsell",),
}
# The registry component of each model in audit.model_status, and the other models whose word concerns it.
STATUS_SOURCES = {
    "churn": ("churn_backtest", "churn_holdout"),
    "next_action": ("churn_backtest",),
    "clv_bgnbd": ("clv",),
    "clv_subscription": ("clv",),
}
USE = {
    "churn": (
        "Rank eligible customers by their probability of churning within the horizon, to decide whom to contact "
        "for retention (fct_churn_scores: risk band, saveable flag) and to explain why (fct_score_explanations).",
        "Not a decision on its own about price, credit, eligibility, service level or employment; not a "
        "statement about an individual's intent; not for customers outside the data window's population "
        "(new markets, business lines it never saw); not valid beyond the horizon it was trained for.",
    ),
    "next_action": (
        "Estimate what each customer is likely to do next within the next-action window, as one input of the "
        "recommended action in fct_next_actions (route to a senior agent, reassure, retain, upsell, do not market).",
        "Not to withhold service or support from anyone; not a complaint or fraud detector; the recommended "
        "action is a suggestion to a person, not an automatic sanction.",
    ),
    "clv_bgnbd": (
        "Expected purchase value over the value horizon, to size retention effort and find room to grow "
        "(fct_clv, upsell readiness).",
        "Not to deny service or set individual prices; not for customers without purchase history (no estimate).",
    ),
    "clv_subscription": (
        "Expected subscription value over the value horizon, to size retention effort (fct_clv).",
        "Not to deny service or set individual prices; not for subscriptions unlike those it was fitted on.",
    ),
}


# The backtest figures a card shows, in this order (fct_model_backtests' summary metrics).
BACKTEST_METRICS = (
    "n",
    "base_rate",
    "auc",
    "pr_auc",
    "brier",
    "ece",
    "top_decile_lift",
    "accuracy",
    "majority_accuracy",
    "macro_auc",
)


class ModelCardError(RuntimeError):
    """The database cannot give model cards; the message says what to build first."""


@dataclass
class Card:
    model_version: str
    path: Path
    text: str


def _rows(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _has(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v).replace("|", "/") for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _feature_names(features: str | None) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature names from the registry's features JSON (any of its shapes)."""
    try:
        raw = json.loads(features or "null")
    except json.JSONDecodeError:
        return [], []
    if isinstance(raw, dict) and ("numeric" in raw or "categorical" in raw):
        return list(raw.get("numeric") or []), list(raw.get("categorical") or {})
    if isinstance(raw, dict):
        return list(raw), []
    if isinstance(raw, list):
        return [str(f) for f in raw], []
    return [], []


def _data_section(v: dict) -> str:
    rows = [
        ["trained through (last day of data)", v["trained_through"]],
        ["training data", f"{_fmt(v['training_start_date'])} to {_fmt(v['training_end_date'])}"],
        ["calibration snapshot", v["calibration_date"]],
        ["churn horizon (days)", v["horizon_days"]],
        ["training rows", v["n_train"]],
        ["calibration rows", v["n_calibration"]],
        ["training positive rate", v["train_positive_rate"]],
        ["why trained", v["retrain_reason"]],
    ]
    return "## Data window\n\n" + _table(["", ""], [r for r in rows if r[1] is not None])


def _features_section(con, v: dict) -> str:
    numeric, categorical = _feature_names(v["features"])
    names = numeric + categorical
    out = [f"## Features\n\n{v['feature_count']} features ({len(numeric)} numeric, {len(categorical)} categorical)."]
    if names:
        out.append(", ".join(f"`{n}`" for n in sorted(names)))
    used = [a for a in SENSITIVE_ATTRIBUTES if any(n == a or n.endswith("__" + a) for n in names)]
    out.append(
        "Sensitive customer attributes used as features: "
        + (", ".join(used) if used else "none")
        + f" (checked: {', '.join(SENSITIVE_ATTRIBUTES)})."
    )
    if _has(con, "audit", "feature_exclusions"):
        excluded = _rows(
            con,
            "select byo_source, column_name, reason_category, reason from audit.feature_exclusions"
            " where decision = 'excluded' order by byo_source, column_name",
        )
        if excluded:
            out.append(
                "Columns the company sent that are kept out (audit.feature_exclusions):\n\n"
                + _table(
                    ["source", "column", "category", "why"],
                    [[e["byo_source"], e["column_name"], e["reason_category"], e["reason"]] for e in excluded],
                )
            )
        else:
            screened = con.execute("select count(*) from audit.feature_exclusions").fetchone()[0]
            out.append(
                f"No column the company sent beyond the contract was kept out: {screened} screened, every one a "
                "candidate feature (audit.feature_exclusions)."
            )
    else:
        out.append("audit.feature_exclusions is not in this database: no screening of extra columns was recorded.")
    return "\n\n".join(out)


def _metrics_section(con, v: dict) -> str:
    head = "## Out-of-sample metrics (fct_model_backtests)\n\n"
    if not _has(con, "marts", "fct_model_backtests"):
        return head + "fct_model_backtests is not in this database: no backtest was recorded."
    if v["model_name"] == "churn":
        where, params = (
            "b.model_version = ? and b.model_name = 'churn'",
            [v["model_version"]],
        )
    elif v["model_name"] == "next_action":
        where = (
            "b.model_name = 'next_action' and b.model_version in"
            " (select model_version from marts.dim_model_versions where model_name = 'churn' and trained_through = ?)"
        )
        params = [v["trained_through"]]
    else:
        return head + (
            f"No out-of-sample figures are recorded in the warehouse for {v['model_name']}: the backtests cover the "
            "churn and next-action models; `empathy eval-models` measures value on a 90-day holdout."
        )
    rows = _rows(
        con,
        "select b.origin_date, coalesce(b.candidate, b.model_name) as model_name, b.metric, b.value"
        f" from marts.fct_model_backtests as b where {where}"
        " and b.section = 'summary' order by b.origin_date desc, model_name",
        params,
    )
    if not rows:
        return head + (
            "No backtest figures for this version: it had too little labelled history before each origin "
            "(see Limitations)."
        )
    table: dict[tuple, dict] = {}
    for r in rows:
        table.setdefault((r["origin_date"], r["model_name"]), {})[r["metric"]] = r["value"]
    shown = [m for m in BACKTEST_METRICS if any(m in figures for figures in table.values())]
    text = (
        "Each origin: every candidate retrained on data before that date (or, with too little history, on other "
        "customers) and scored on rows whose outcomes it never saw; the one with the lowest log loss scores.\n\n"
    )
    return (
        head
        + text
        + _table(
            ["origin", "model", *shown],
            [[origin, name, *(figures.get(m) for m in shown)] for (origin, name), figures in table.items()],
        )
    )


def _fairness_section(con, v: dict, current: bool) -> str:
    head = "## Fairness (fct_fairness_audit)\n\n"
    subjects = AUDITED_SUBJECTS.get(v["model_name"], ())
    if not current:
        return head + "Not audited: the audit judges the current version's scores; this version is superseded."
    if not _has(con, "marts", "fct_fairness_audit"):
        return head + "fct_fairness_audit is not in this database: the fairness audit did not run."
    marks = ", ".join("?" for _ in subjects)
    rows = _rows(
        con,
        f"""
        select subject, population, metric, group_attribute,
               count(*) as groups_reported,
               count(case when is_judged then 1 end) as groups_judged,
               count(case when is_passed = false then 1 end) as breaches,
               min(metric_value) as lowest, max(metric_value) as highest,
               max(threshold_bound) as bound, max(threshold) as threshold, max(sector) as sector
        from marts.fct_fairness_audit
        where subject in ({marks}) and metric in ('positive_rate', 'disparate_impact_ratio', 'calibration_gap_vs_all',
            'false_positive_rate', 'false_negative_rate')
        group by 1, 2, 3, 4
        order by 1, 2, 3, 4
        """,
        list(subjects),
    )
    if not rows:
        return head + f"No audit rows for {', '.join(subjects)}: nothing was scored this run (see Limitations)."
    breaches = _rows(
        con,
        f"select breach from marts.fct_fairness_audit where subject in ({marks}) and breach is not null order by 1",
        list(subjects),
    )
    summary = f"Sector {rows[0]['sector']}; audited: {', '.join(subjects)}. " + (
        f"{len(breaches)} breach(es):\n\n" + "\n".join(f"* {b['breach']}" for b in breaches)
        if breaches
        else "No judged metric breaches its threshold."
    )
    return (
        head
        + summary
        + "\n\n"
        + _table(
            [
                "subject",
                "population",
                "metric",
                "group_attribute",
                "groups",
                "judged",
                "breaches",
                "lowest",
                "highest",
                "bound",
            ],
            [
                [
                    r["subject"],
                    r["population"],
                    r["metric"],
                    r["group_attribute"],
                    r["groups_reported"],
                    r["groups_judged"],
                    r["breaches"],
                    r["lowest"],
                    r["highest"],
                    f"{r['bound']} {_fmt(r['threshold'])}" if r["bound"] else "reported only",
                ]
                for r in rows
            ],
        )
    )


def _limitations_section(con, v: dict) -> str:
    head = "## Limitations (audit.model_status)\n\n"
    if not _has(con, "audit", "model_status"):
        return head + "audit.model_status is not in this database: no model reported what it could not do."
    components = (v["model_name"], *STATUS_SOURCES.get(v["model_name"], ()))
    marks = ", ".join("?" for _ in components)
    rows = _rows(
        con,
        f"""
        select model, component, status, reason, fix
        from audit.model_status
        where component in ({marks})
        qualify recorded_at = max(recorded_at) over (partition by model, component)
        order by model, component
        """,
        list(components),
    )
    if not rows:
        return head + f"No report from {', '.join(components)} in audit.model_status."
    notes = [
        f"* **{r['component']}** ({r['model']}): {r['status']}"
        + (f": {r['reason']}" if r["reason"] else "")
        + (f" Fix: {r['fix']}" if r["fix"] else "")
        for r in rows
    ]
    return head + "\n".join(notes)


def _use_section(v: dict) -> str:
    intended, non_use = USE.get(v["model_name"], ("(no stated use for this model)", "(no stated non-use)"))
    return f"## Intended use\n\n{intended}\n\n## Not intended for\n\n{non_use}"


def render(con, v: dict, current: bool) -> str:
    title = (
        f"# Model card: {v['model_version']}\n\n{v['model_name']}, version {v['version_number']}"
        + (" (current)" if current else " (superseded)")
        + "."
    )
    sections = [
        title,
        _data_section(v),
        _features_section(con, v),
        _metrics_section(con, v),
        _fairness_section(con, v, current),
        _limitations_section(con, v),
        _use_section(v),
    ]
    return "\n\n".join(sections) + "\n"


def write_cards(database: Path, out: Path) -> list[Card]:
    """A card per version of marts.dim_model_versions in `database` (opened read-only), written to `out`."""
    if not Path(database).exists():
        raise ModelCardError(f"{database} does not exist: run `empathy run` (or `empathy build`) first")
    con = duckdb.connect(str(database), read_only=True)
    try:
        if not _has(con, "marts", "dim_model_versions"):
            raise ModelCardError(f"{database} has no marts.dim_model_versions: run `empathy build` first")
        versions = _rows(con, "select * from marts.dim_model_versions order by model_name, version_number")
        out.mkdir(parents=True, exist_ok=True)
        cards = []
        for v in versions:
            current = bool(v.get("is_current"))
            path = out / (re.sub(r"[^A-Za-z0-9_.-]+", "_", v["model_version"]) + ".md")
            text = render(con, v, current)
            path.write_text(text)
            cards.append(Card(v["model_version"], path, text))
        return cards
    finally:
        con.close()
