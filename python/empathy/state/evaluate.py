"""`empathy eval-state`: how well the emotional-state models do, on data they did not see.

* Time split: the models are refitted on labels dated before the cutoff (the 75th percentile of label dates)
  and judged after it: predicted against actual NPS answers of responders (MAE beside the training mean's MAE;
  AUC of P(detractor) for detractors), and the share of later labels inside the stated interval of a new label
  (the state's interval widened by the label noise) beside the nominal level.
* Against the demo world's ground truth (`<landing>/_truth/`, never read by the pipeline), after the cutoff:
  the share of latent weekly valences inside the stated interval of the state (beside the nominal level),
  correlation of predicted and latent weekly valence and arousal (everyone, and customers who never said
  anything), accuracy of the dominant emotion beside always guessing the most frequent one, and the event
  library's effects per unit on every label ('valence') against the true effects per unit: their signs, the
  share of 95% intervals holding the true effect, and the Spearman rank correlation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from empathy.state.model import (
    EMOTIONS,
    NoLabels,
    fit_state_models,
    interval_coverage,
    pair_with_features,
    predict_states,
)

# Event library types and the demo world's events they correspond to.
TRUTH_EVENTS = {
    "late_delivery": "late_delivery",
    "defective_item": "defective_item",
    "ticket_unresolved": "ticket_unresolved",
    "fast_resolution": "fast_resolution",
    "price_increase": "price_increase",
    "payment_failed": "payment_failed",
    "marketing_burst": "over_contact",
    "web_errors": "web_error",
    "delight_gift": "surprise_gift",
}

# The demo world's effects are per unit of its own magnitude; this turns one into the library's unit where they
# differ: a price increase is 15% in the world (generate/effects.py) and 1% in the library.
TRUTH_PER_LIBRARY_UNIT = {"price_increase": 1 / 15}


@dataclass
class Row:
    data: str
    metric: str
    n: int
    value: float
    baseline: float | None = None
    baseline_name: str = ""


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score)) if len(set(y)) == 2 else float("nan")


def evaluate_state(warehouse: Path, truth: Path | None, *, progress: Callable[[str], None] | None = None) -> list[Row]:
    say = progress or (lambda _m: None)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        days = con.sql("select * from intermediate.int_customer_days").to_arrow_table()
        labels = con.sql("select * from intermediate.int_customer_day_labels").to_arrow_table()
        invitations = con.sql("select * from intermediate.int_survey_invitations").to_arrow_table()
        library = con.sql("select * from marts.dim_event_library").df()
    except duckdb.CatalogException as exc:
        raise FileNotFoundError(
            f"{warehouse} lacks the state models ({exc}); run `empathy run` (or `make demo`) first"
        ) from exc
    finally:
        con.close()
    lab = labels.to_pandas()
    lab["label_date"] = pd.to_datetime(lab["label_date"])
    if lab.empty:
        return [_not_computed("state models", "no labels in int_customer_day_labels (no answers, reviews or texts)")]
    cutoff = lab["label_date"].quantile(0.75).normalize()
    say(f"fitting on labels before {cutoff.date()}")
    try:
        models = fit_state_models(days, labels, invitations, label_cutoff=cutoff)
    except NoLabels as exc:
        return [_not_computed(f"state models fitted on labels before {cutoff.date()}", str(exc))]
    say("scoring every customer-day")
    states = predict_states(models, days, explain=False).to_pandas()
    states["state_date"] = pd.to_datetime(states["state_date"])
    rows: list[Row] = []
    period = f"after {cutoff.date()}"

    nps = lab[(lab["label_source"] == "survey_nps") & (lab["label_date"] >= cutoff)]
    paired = pair_with_features(states, nps)
    if len(paired):
        actual = paired["raw_score"].to_numpy(float)
        train_mean = lab[(lab["label_source"] == "survey_nps") & (lab["label_date"] < cutoff)]["raw_score"].mean()
        rows.append(
            Row(
                f"NPS answers {period}",
                "MAE of predicted score (0-10)",
                len(paired),
                float(np.mean(np.abs(paired["predicted_nps_score"] - actual))),
                float(np.mean(np.abs(train_mean - actual))),
                "training mean",
            )
        )
        rows.append(
            Row(
                f"NPS answers {period}",
                "AUC of P(detractor) for detractors (0-6)",
                len(paired),
                _auc((actual <= 6).astype(int), paired["p_detractor"].to_numpy(float)),
                0.5,
                "chance",
            )
        )
    else:
        rows.append(_not_computed(f"NPS answers {period}", "no NPS answer after the cutoff to compare with"))
    rows += _label_interval_rows(models, paired_labels(states, lab, cutoff), period)
    if truth is None or not (truth / "latent_state_weekly.parquet").exists():
        rows.append(_not_computed("demo truth", "no _truth folder: only a generated demo world has a known state"))
        return rows

    say("comparing with the demo world's truth")
    weekly = pd.read_parquet(truth / "latent_state_weekly.parquet")
    weekly["week_start"] = pd.to_datetime(weekly["week_start"])
    weekly = weekly[weekly["week_start"] >= cutoff].copy()
    weekly["feature_date"] = weekly["week_start"] + pd.Timedelta(days=6)
    matched = pair_with_features(
        states,
        weekly.rename(
            columns={"valence": "true_valence", "arousal": "true_arousal", "dominant_emotion": "true_emotion"}
        ),
    )
    rows.append(truth_interval_row(models, matched, period))
    if "valence_end" in matched:  # demo worlds generated before it have weekly means only
        rows.append(truth_interval_row(models, matched, period, "valence_end"))
    said = set(lab["customer_id"])
    silent = ~matched["customer_id"].isin(said)
    for name, mask in (
        ("all customer-weeks", np.ones(len(matched), bool)),
        ("customers who never said anything", silent.to_numpy()),
    ):
        sub = matched[mask]
        if len(sub) > 2:
            rows.append(
                Row(
                    f"demo truth, {name} {period}",
                    "Pearson r, predicted vs latent valence",
                    len(sub),
                    float(np.corrcoef(sub["valence"], sub["true_valence"])[0, 1]),
                )
            )
    rows.append(
        Row(
            f"demo truth, all customer-weeks {period}",
            "Pearson r, predicted vs latent arousal",
            len(matched),
            float(np.corrcoef(matched["arousal"], matched["true_arousal"])[0, 1]),
        )
    )
    truth_emotion = matched["true_emotion"].astype(str)
    majority = truth_emotion.value_counts().idxmax()
    rows.append(
        Row(
            f"demo truth, all customer-weeks {period}",
            "dominant emotion accuracy",
            len(matched),
            float((matched["dominant_emotion"] == truth_emotion).mean()),
            float((truth_emotion == majority).mean()),
            f"always '{majority}'",
        )
    )
    non_neutral = truth_emotion != "neutral"
    if non_neutral.any():
        probs = matched.loc[non_neutral, [f"p_{e}" for e in EMOTIONS if e != "neutral"]].to_numpy()
        guess = np.asarray([e for e in EMOTIONS if e != "neutral"])[probs.argmax(axis=1)]
        rows.append(
            Row(
                f"demo truth, customer-weeks with a non-neutral true emotion {period}",
                "emotion accuracy among the six non-neutral emotions",
                int(non_neutral.sum()),
                float((guess == truth_emotion[non_neutral].to_numpy()).mean()),
                float((truth_emotion[non_neutral] == truth_emotion[non_neutral].value_counts().idxmax()).mean()),
                "most frequent",
            )
        )

    effects = pd.read_parquet(truth / "event_effects.parquet")
    rows += event_library_rows(library, effects)
    return rows


def true_effect_per_unit(library: pd.DataFrame, effects: pd.DataFrame) -> pd.DataFrame:
    """The library's 'valence' rows per unit of magnitude with status ok, for events of the demo world,
    each with the world's true valence effect per unit of the library's magnitude (`true_effect`)."""
    truth = effects.set_index("event_type")["valence_effect"]
    rows = library[
        (library["outcome"] == "valence")
        & (library["effect_per"] == "unit")
        & (library["status"] == "ok")
        & library["event_type"].isin(TRUTH_EVENTS)
    ].copy()
    rows["true_effect"] = [truth[TRUTH_EVENTS[e]] * TRUTH_PER_LIBRARY_UNIT.get(e, 1.0) for e in rows["event_type"]]
    return rows.sort_values("event_type").reset_index(drop=True)


def event_library_rows(library: pd.DataFrame, effects: pd.DataFrame) -> list[Row]:
    """The event library against the demo world's true effects: signs of the significant effects, the share of
    95% intervals of the effects per unit that hold the true effect, and the rank correlation of the two."""
    data = "demo truth, event library (every label, effect per unit)"
    sent = true_effect_per_unit(library, effects)
    rows: list[Row] = []
    if sent.empty:
        return [_not_computed(data, "no event of the demo world measured per unit (status ok)")]
    significant = sent[sent["p_value"] < 0.05]
    if len(significant):
        agree = float((np.sign(significant["effect"]) == np.sign(significant["true_effect"])).mean())
        rows.append(Row(data, "significant effects with the true sign", len(significant), agree))
    inside = (sent["ci_low"] <= sent["true_effect"]) & (sent["true_effect"] <= sent["ci_high"])
    rows.append(
        Row(data, "share of 95% intervals holding the true effect", len(sent), float(inside.mean()), 0.95, "nominal")
    )
    if len(sent) >= 3:
        from scipy.stats import spearmanr

        rows.append(
            Row(
                data,
                "Spearman rho, estimated vs true valence effect per unit",
                len(sent),
                float(spearmanr(sent["effect"], sent["true_effect"]).statistic),
            )
        )
    return rows


def paired_labels(states: pd.DataFrame, lab: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The labels dated on or after `cutoff`, each with the state estimated the day before (`label_valence`)."""
    later = lab[lab["label_date"] >= cutoff].rename(columns={"valence": "label_valence"})
    return pair_with_features(
        states, later[["customer_id", "label_date", "feature_date", "label_source", "label_valence"]]
    )


def _label_interval_rows(models, paired: pd.DataFrame, period: str) -> list[Row]:
    """Share of later labels inside the interval of a new label (the state interval widened by label noise)."""
    if paired.empty:
        return []
    low, high = models.interval.label_bounds(paired["valence"].to_numpy(float), paired["label_source"].to_numpy())
    level = models.interval.level
    return [
        Row(
            f"labels {period}",
            f"share inside the stated {level:.0%} interval of a new label",
            len(paired),
            interval_coverage(low, high, paired["label_valence"]),
            level,
            "nominal",
        )
    ]


def truth_interval_row(models, matched: pd.DataFrame, period: str, column: str = "true_valence") -> Row:
    """Share of the latent weekly valences (`true_valence`; `valence_end`: the state on the week's last day)
    inside the stated interval of the state estimated at the week's end."""
    level = models.interval.level
    note = "" if models.interval.noise_corrected else " (too few label pairs: not corrected for label noise)"
    what = "latent valence" if column == "true_valence" else "latent valence on the week's last day"
    return Row(
        f"demo truth, all customer-weeks {period}",
        f"share of {what} inside the stated {level:.0%} interval{note}",
        len(matched),
        interval_coverage(matched["valence_low"], matched["valence_high"], matched[column]),
        level,
        "nominal",
    )


def _not_computed(data: str, why: str) -> Row:
    """A figure this warehouse cannot give, and why (printed as a dash with the reason)."""
    return Row(data, "not computed", 0, float("nan"), None, why)


def to_markdown(rows: list[Row]) -> str:
    lines = [
        "| data | metric | n | model | baseline |",
        "|---|---|---:|---:|---|",
    ]
    for r in rows:
        base = "" if r.baseline is None else f"{r.baseline:.3f}" + (f" ({r.baseline_name})" if r.baseline_name else "")
        if r.baseline is None and r.baseline_name:
            base = r.baseline_name
        value = f"{r.value:.3f}" if r.value is not None and np.isfinite(r.value) else "—"
        lines.append(f"| {r.data} | {r.metric} | {r.n:,} | {value} | {base} |")
    return "\n".join(lines) + "\n"
