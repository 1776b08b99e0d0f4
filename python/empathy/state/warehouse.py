"""The warehouse side of the emotional state: what the dbt Python models under `models/*/state/` call.

Relational steps (which rows to score, the latest day, the population) are ibis expressions that run in the
warehouse; Arrow crosses into Python only for the rows the models fit on or score.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy import status
from empathy.state.effects import OUTPUT_SCHEMA as EFFECT_SCHEMA
from empathy.state.effects import ROW_KEYS, estimate_event_effects
from empathy.state.model import STATE_SCHEMA, NoLabels, fit_state_models, predict_states
from empathy.text.warehouse import as_table, backend  # noqa: F401  (re-exported for the dbt models)

# A customer with no engagement for this many days counts as churned on their last engagement day, for the
# event library's churn hazard (a provisional rule for non-contractual businesses; see DECISIONLOG.md).
CHURN_INACTIVITY_DAYS = 120


def _arrow(expr: ir.Table) -> pa.Table:
    return expr.to_pyarrow()


def score_states(
    days: ir.Table,
    labels: ir.Table,
    invitations: ir.Table,
    existing: ir.Table | None = None,
    *,
    recompute_days: int = 3,
    explain_days: int = 28,
    interval_options: dict | None = None,
    threads: int = 2,
) -> pa.Table:
    """The state of every customer-day of int_customer_days that is new or recent.

    Models are refitted on every label each build. On the first build every row is scored; afterwards only
    rows not scored yet or within `recompute_days` of the newest scored day (the rows int_customer_days
    recomputes), so history keeps the estimate made at the time, with its model version. Drivers are computed
    for the latest row of every customer and the last `explain_days` days; `interval_options` go to
    empathy.state.model.calibrate_interval (level, calibration_share, min_pairs).
    """
    todo = days
    if existing is not None:
        newest = existing.state_date.max().as_scalar()
        scored = existing.select(existing.customer_day_id)
        todo = (
            days.anti_join(scored, "customer_day_id")
            .union(days.filter(days.state_date >= newest - ibis.interval(days=recompute_days)))
            .distinct()
        )
    rows = _arrow(todo)
    if rows.num_rows == 0:
        status.report("state", "ok", "no new or recent customer-day to score", counts={"rows": 0})
        return pa.Table.from_pylist([], schema=STATE_SCHEMA)
    try:
        every_day = rows if existing is None else _arrow(days)  # the first build scores every row: read once
        models = fit_state_models(
            every_day, _arrow(labels), _arrow(invitations), threads=threads, interval_options=interval_options
        )
    except NoLabels as exc:  # a company with no answers, reviews or texts yet: no states, said in audit
        status.report(
            "state",
            "skipped",
            f"{exc}; no emotional states this build",
            counts={"customer_days": rows.num_rows},
            fix="survey answers (NPS/CSAT), reviews with ratings, or customer texts (tickets, chats, reviews)",
        )
        return pa.Table.from_pylist([], schema=STATE_SCHEMA)
    report_state_models(models)
    latest = pc.max(rows["state_date"]).as_py()
    since = pa.scalar(latest - timedelta(days=explain_days), pa.date32())
    explain = pc.or_(pc.greater_equal(rows["state_date"], since), rows["is_latest"]).to_numpy(zero_copy_only=False)
    return predict_states(models, rows, explain=explain)


def report_state_models(models) -> None:
    """One status per state model: which were fitted, on how many labels, and which could not be."""
    labels = models.training.get("labels", {})
    counts = {"labels": labels, "invitations": models.training.get("invitations", 0)}
    texts, nps = labels.get("text", 0), labels.get("survey_nps", 0)
    status.report("valence", "ok", f"fitted on {sum(labels.values()):,} labels", counts=counts)
    # Per component, in order: (the fitted model, the status when it is missing, why, what would fix it); the
    # first missing model sets the component's status, and with none missing it is ok.
    rules = {
        "arousal_emotion": [
            (
                models.arousal,
                "skipped",
                f"{texts:,} customer-days with scored text (too few to learn arousal and emotions); they are null",
                "customer texts (tickets, chats, messages, reviews)",
            ),
            (
                models.emotion,
                "degraded",
                "every text carries the same dominant emotion: arousal is fitted, emotion probabilities are null",
                "more varied customer texts",
            ),
        ],
        "nps": [
            (
                models.nps_score,
                "skipped",
                f"{nps:,} NPS answers (too few to learn from): predicted NPS and its groups are null",
                "NPS survey answers (survey_responses with survey_type 'nps')",
            ),
            (
                models.nps_group,
                "degraded",
                "every NPS answer falls in one group: the score is predicted, the group probabilities are null",
                "NPS answers from detractors, passives and promoters",
            ),
        ],
        "response_propensity": [
            (
                models.propensity,
                "degraded",
                "no survey invitations with both answers and non-answers: survey labels "
                "are not reweighted for who answers, and response propensity is null",
                "survey_invitations, including the ones nobody answered",
            ),
        ],
    }
    done = {"arousal_emotion": f"fitted on {texts:,} text days", "nps": f"fitted on {nps:,} NPS answers"}
    for component, steps in rules.items():
        failed = next((step for step in steps if step[0] is None), None)
        if failed is None:
            status.report(component, "ok", done.get(component, "fitted"), counts=counts)
        else:
            _, word, reason, fix = failed
            status.report(component, word, reason, counts=counts, fix=fix)


def _population(days: ir.Table) -> pa.Table:
    """customer_id, start_date, end_date (the churn day by the inactivity rule, else null)."""
    latest = days.filter(days.is_latest)
    first = days.group_by("customer_id").aggregate(first_day=days.state_date.min())
    joined = latest.join(first, "customer_id")
    inactive = joined.days_since_engagement.fill_null(365)
    end = ibis.ifelse(
        inactive >= CHURN_INACTIVITY_DAYS,
        joined.state_date - inactive.cast("int32").as_interval("D"),
        ibis.null("date"),
    )
    start = joined.state_date - joined.tenure_days.cast("int32").as_interval("D")
    return _arrow(
        joined.select(
            "customer_id",
            start_date=ibis.least(start, joined.first_day).cast("date"),
            end_date=end.cast("date"),
        )
    )


# Every label source is an outcome of the event library (and all of them together its 'valence').
LABEL_OUTCOMES = {"text": "sentiment", "survey_nps": "survey", "survey_csat": "survey", "review": "review"}
ANSWER_COMMENT_SOURCE = "text_answer_comment"

LIBRARY_SCHEMA = pa.schema(
    [
        ("event_effect_id", pa.string()),
        ("event_type", pa.string()),
        ("description", pa.string()),
        ("expected_direction", pa.string()),
        ("magnitude_unit", pa.string()),
        ("events_detected", pa.int64()),
        ("customers_exposed", pa.int64()),
        *[f for f in EFFECT_SCHEMA if f.name != "event_type"],
        ("direction_as_expected", pa.bool_()),
        ("as_of", pa.date32()),
    ]
)


def event_library(
    events: ir.Table, labels: ir.Table, days: ir.Table, event_types: ir.Table, *, seed: int = 0
) -> pa.Table:
    """dim_event_library: every seed event type's measured effects (one row per event type and outcome)."""
    latest_row = days.filter(days.is_latest)
    as_of = latest_row.state_date.max().to_pyarrow().as_py()
    if as_of is None:
        status.report(
            "event_library",
            "skipped",
            "no customer-day history to measure event effects on",
            fix="land customers and their interactions",
        )
        return pa.Table.from_pylist([], schema=LIBRARY_SCHEMA)
    outcomes = labels.select(
        "customer_id",
        outcome_date=labels.label_date,
        outcome=labels.label_source.cases(*LABEL_OUTCOMES.items(), else_=labels.label_source),
        value=labels.valence,
        # A text label made only of comments of survey answers or reviews was asked for; the other texts (tickets,
        # chats, calls, posts) are written when something made the customer write. Each has its own level.
        source=ibis.cases(
            (
                (labels.label_source == "text") & (labels.n_answer_comments == labels.n_answers),
                ibis.literal(ANSWER_COMMENT_SOURCE),
            ),
            else_=labels.label_source,
        ),
    )
    ev = events.select("customer_id", "event_type", event_date=events.event_date, magnitude=events.magnitude)
    # Durations (days late, days open) count one unit a day in the per-unit regression.
    durations = event_types.filter(event_types.magnitude_unit.startswith("days")).event_type
    per_day = set(_arrow(durations.as_table()).column(0).to_pylist())
    effects = estimate_event_effects(
        _arrow(ev), _arrow(outcomes), _population(days), as_of=as_of, seed=seed, per_day_types=per_day
    )
    counts = _arrow(
        events.group_by("event_type").aggregate(
            events_detected=events.n_events.sum().cast("int64"),
            customers_exposed=events.customer_id.nunique().cast("int64"),
        )
    )
    types = _arrow(event_types.select("event_type", "description", "expected_direction", "magnitude_unit"))
    import pandas as pd

    frame = pd.DataFrame({"event_type": types["event_type"].to_pylist()})
    for name in ("description", "expected_direction", "magnitude_unit"):
        frame[name] = types[name].to_pylist()
    outs = pd.DataFrame(list(ROW_KEYS), columns=["outcome", "effect_per"])
    frame = frame.merge(outs, how="cross")
    eff = effects.to_pandas()
    frame = frame.merge(eff, on=["event_type", "outcome", "effect_per"], how="left")
    frame = frame.merge(counts.to_pandas(), on="event_type", how="left")
    frame[["events_detected", "customers_exposed"]] = frame[["events_detected", "customers_exposed"]].fillna(0)
    for col in (
        "exposed_units",
        "exposed_customers",
        "exposed_with_outcome",
        "control_units",
        "control_with_outcome",
        "strata_used",
        "strata_dropped",
    ):
        frame[col] = frame[col].fillna(0)
    frame["status"] = frame["status"].fillna("no_events")
    sign = np.where(frame["outcome"] == "churn", np.log(frame["hazard_ratio"].astype(float)), frame["effect"])
    significant = (frame["status"] == "ok") & (frame["p_value"].astype(float) < 0.05)
    # For churn a harmful event raises the hazard; for sentiment and survey it lowers the score.
    harmful = np.where(frame["outcome"] == "churn", sign > 0, sign < 0)
    expected_negative = frame["expected_direction"] == "negative"
    frame["direction_as_expected"] = np.where(significant, harmful == expected_negative, None)
    frame["event_effect_id"] = frame["event_type"] + ":" + frame["outcome"] + ":" + frame["effect_per"]
    frame["as_of"] = as_of if isinstance(as_of, date) else pd.Timestamp(as_of).date()
    _report_library(frame)
    return pa.Table.from_pandas(frame[LIBRARY_SCHEMA.names], schema=LIBRARY_SCHEMA, preserve_index=False)


def _report_library(frame) -> None:
    by_status = {str(k): int(v) for k, v in frame["status"].value_counts().sort_index().items()}
    measured = by_status.get("ok", 0)
    counts = {"effects": len(frame), "by_status": by_status}
    if measured == 0:
        status.report(
            "event_library",
            "skipped",
            f"no effect of the {len(frame)} event/outcome pairs could be measured (statuses: {by_status})",
            counts=counts,
            fix="events (late deliveries, tickets, price changes, ...) and later outcomes (texts, surveys) for them",
        )
    elif measured < len(frame):
        status.report(
            "event_library",
            "ok",
            f"{measured} of {len(frame)} event/outcome effects measured; the others say why in their status column",
            counts=counts,
        )
    else:
        status.report("event_library", "ok", f"all {measured} effects measured", counts=counts)
