"""`empathy eval-actions`: are the segments stable and distinct, do the treatments work, are the rules kept?

Reads the working database (never the published copy, which hashes customer ids):

* segment stability: of the customers with no interaction on a day, the share who keep the segment they had the
  day before (fct_customer_segments; goal at least 90%);
* segment separation: the share of the variance of churn probability and of the Empathy Score that lies between
  segments on the latest day (eta squared; 0 = segments say nothing, 1 = they say everything);
* uplift against the demo truth (``<landing>/_truth/treatment_effects.parquet``): for each experiment's checked
  estimand, whether the 95% interval of fct_treatment_outcomes holds the true ratio; the share of covered among
  the estimated (goal at least 90%);
* consent breaches in the activation marts (must be 0) and the share of customers in distress whose next best
  action is a sales offer (must be 0). Only these two fail the command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq

from empathy.mart_status import relation_exists
from empathy.segments.stability import day_to_day_stability

CHANNELS = ("email", "sms", "phone", "in_app")


@dataclass
class Row:
    area: str
    metric: str
    n: int
    value: float | None
    goal: str = ""
    note: str = ""
    failed: bool = False


def segment_rows(con: duckdb.DuckDBPyConnection) -> list[Row]:
    if not relation_exists(con, "marts", "fct_customer_segments"):
        return [Row("segments", "stability", 0, None, ">= 0.90", "no marts.fct_customer_segments")]
    segments = con.sql(
        "select customer_id, segment_date, segment_id, had_interaction from marts.fct_customer_segments"
    ).to_arrow_table()
    stab = day_to_day_stability(segments)
    rows = [
        Row("segments", "day-to-day stability (quiet days)", stab.customer_days, stab.share, ">= 0.90",
            f"{stab.kept:,} of {stab.customer_days:,} quiet customer-days kept their segment"),
    ]  # fmt: skip
    churn = "c.churn_probability" if relation_exists(con, "marts", "fct_churn_scores") else "cast(null as double)"
    join = "left join marts.fct_churn_scores as c on s.customer_id = c.customer_id" if "c." in churn else ""
    latest = con.sql(
        f"select s.segment_id, {churn} as churn, s.empathy_score as score "
        f"from marts.fct_customer_segments as s {join} where s.is_latest"
    ).to_arrow_table()
    for label, column in (("churn probability", "churn"), ("Empathy Score", "score")):
        value, n = separation(latest.column("segment_id").to_pylist(), latest.column(column).to_pylist())
        rows.append(Row("segments", f"separation of {label} (between / total variance)", n, value, "higher is better"))
    return rows


def separation(groups: list, values: list) -> tuple[float | None, int]:
    """Eta squared: the share of the variance of ``values`` that lies between the ``groups`` (None without spread)."""
    pairs = [(g, float(v)) for g, v in zip(groups, values, strict=True) if v is not None and np.isfinite(v)]
    if len(pairs) < 2:
        return None, len(pairs)
    x = np.array([v for _, v in pairs])
    labels = np.array([str(g) for g, _ in pairs])
    total = float(((x - x.mean()) ** 2).sum())
    if total == 0:
        return None, len(x)
    between = sum(
        float((labels == g).sum()) * (float(x[labels == g].mean()) - float(x.mean())) ** 2 for g in np.unique(labels)
    )
    return between / total, len(x)


def uplift_rows(con: duckdb.DuckDBPyConnection, truth: Path | None) -> list[Row]:
    if not relation_exists(con, "marts", "fct_treatment_outcomes"):
        return [Row("uplift", "CI coverage of the true effect", 0, None, ">= 0.90", "no marts.fct_treatment_outcomes")]
    outcomes = con.sql("select * from marts.fct_treatment_outcomes order by experiment_id, metric").to_arrow_table()
    rows = []
    for r in outcomes.to_pylist():
        note = r["status"] if r["status"] != "estimated" else f"95% CI {r['ci_low']:.3f} .. {r['ci_high']:.3f}"
        rows.append(
            Row("uplift", f"{r['experiment_id']} {r['metric']}", (r["n_treated"] or 0) + (r["n_holdout"] or 0),
                r["estimate"], "", note)
        )  # fmt: skip
    path = truth / "treatment_effects.parquet" if truth else None
    if path is None or not path.exists():
        rows.append(Row("uplift", "CI coverage of the true effect", 0, None, ">= 0.90", "no demo truth"))
        return rows
    by_key = {(r["experiment_id"], r["metric"]): r for r in outcomes.to_pylist()}
    checked = covered = not_estimated = 0
    for t in pq.read_table(path).to_pylist():
        r = by_key.get((t["experiment_id"], t["metric"]))
        if r is None or r["status"] != "estimated":
            not_estimated += 1
            rows.append(Row("uplift truth", f"{t['experiment_id']} {t['metric']}", 0, None, "",
                            f"true {t['true_ratio']:g}: not estimated ({r['status'] if r else 'no row'})"))  # fmt: skip
            continue
        checked += 1
        inside = r["ci_low"] <= t["true_ratio"] <= r["ci_high"]
        covered += inside
        rows.append(
            Row("uplift truth", f"{t['experiment_id']} {t['metric']}", r["n_treated"] + r["n_holdout"], r["estimate"],
                "", f"true {t['true_ratio']:g} {'inside' if inside else 'outside'} "
                f"{r['ci_low']:.3f} .. {r['ci_high']:.3f}")
        )  # fmt: skip
    rows.append(
        Row("uplift truth", "CI coverage of the true effect", checked, covered / checked if checked else None,
            ">= 0.90", f"{covered} of {checked} estimated; {not_estimated} not estimated (too few)")
    )  # fmt: skip
    return rows


def rule_rows(con: duckdb.DuckDBPyConnection) -> list[Row]:
    if not relation_exists(con, "marts", "fct_next_best_actions"):
        return [Row("rules", "consent breaches", 0, None, "= 0", "no marts.fct_next_best_actions")]
    consent = " ".join(
        f"when '{c}' then case x.purpose when 'marketing' then k.has_{c}_marketing_consent "
        f"else k.has_{c}_service_consent end"
        for c in CHANNELS
    )
    outreach = (
        "union all select customer_id, channel, 'service' from marts.fct_outreach_list"
        if relation_exists(con, "marts", "fct_outreach_list")
        else ""
    )
    n, breaches = con.sql(
        f"""
        with x as (
            select customer_id, channel, purpose from marts.fct_next_best_actions {outreach}
        )
        select count(*), count(*) filter (where
            not coalesce(k.is_activation_scored, false)
            or (x.purpose = 'marketing' and not coalesce(k.has_consent_data, false))
            or (x.channel != 'none' and coalesce(k.has_consent_data, false)
                and not coalesce(case x.channel {consent} end, false)))
        from x left join intermediate.int_customer_consents as k on x.customer_id = k.customer_id
        """
    ).fetchone()
    distressed, offers = con.sql(
        """
        select count(*), count(*) filter (where a.is_sales_offer)
        from marts.fct_next_best_actions as a
        inner join intermediate.int_customer_activation_signals as s on a.customer_id = s.customer_id
        where s.is_distressed
        """
    ).fetchone()
    share = offers / distressed if distressed else 0.0
    return [
        Row("rules", "consent breaches in activation marts", int(n), float(breaches), "= 0", failed=breaches > 0),
        Row("rules", "share of customers in distress given a sales offer", int(distressed), share, "= 0",
            f"{offers} offers", failed=offers > 0),
    ]  # fmt: skip


def evaluate_actions(
    warehouse: Path, truth: Path | None, *, progress: Callable[[str], None] | None = None
) -> list[Row]:
    say = progress or (lambda _m: None)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        say("segments")
        rows = segment_rows(con)
        say("uplift")
        rows += uplift_rows(con, truth)
        say("rules")
        rows += rule_rows(con)
    finally:
        con.close()
    return rows


def to_markdown(rows: list[Row]) -> str:
    lines = ["| area | metric | n | value | goal | note |", "|---|---|---:|---:|---|---|"]
    for r in rows:
        value = "—" if r.value is None else f"{r.value:.3f}"
        lines.append(f"| {r.area} | {r.metric} | {r.n:,} | {value} | {r.goal} | {r.note} |")
    return "\n".join(lines) + "\n"
