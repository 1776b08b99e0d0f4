"""The daily emotional state of every customer: valence, arousal, emotion, Empathy Score, predicted NPS.

Inputs are three relations of the warehouse (as Arrow tables):

* `days` (`int_customer_days`): point-in-time features per customer-day, everything known by the end of
  `state_date`;
* `labels` (`int_customer_day_labels`): what customers said on a common valence scale (survey answers, review
  ratings, the sentiment of their texts), with the day's text arousal and dominant emotion;
* `invitations` (`int_survey_invitations`): every survey invitation and whether it was answered.

Every label is paired with the features of the customer's latest row on or before the day *before* the label
(`feature_date`), so the models learn to anticipate what a customer will say from what was known before they
said it, and never read the answer they are trained on. The models then apply to every customer-day, including
the silent customers who never answer anything.

Models (LightGBM gradient-boosted trees, deterministic, 1 thread per fit unless told otherwise):

* response propensity: P(answer | invitation, state); survey labels are weighted by the stabilised inverse of
  it (clipped to [0.2, 5]) so the respondents stand for everyone (they are not a random sample: the very happy
  and the very unhappy answer more);
* valence (-1..1): all labels, survey answers weighted by their propensity weight, texts at half weight, with
  an interval for the latent valence calibrated on the latest labels and corrected for label noise (Interval);
* arousal (0..1) and the dominant emotion (7 classes, probabilities): from the customer's texts;
* NPS: the score (0-10) and P(promoter/passive/detractor) from NPS answers, propensity-weighted.

Empathy Score = 50 + 50 * valence (0-100); its confidence is 1 - (high - low) / 2 of the valence interval.
Explanations: LightGBM's exact tree SHAP contributions of the valence model, summed into named drivers and
turned into Empathy Score points; a driver named after an event shows only where the customer had that event
in its window, and the rest goes to the baseline group (see `attribute`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

EMOTIONS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
NPS_GROUPS = ("detractor", "passive", "promoter")
LIFECYCLE_STAGES = ("new", "active", "cooling", "lapsed", "cancelled")

# Columns of int_customer_days that are not features.
ID_COLUMNS = ("customer_day_id", "customer_id", "state_date", "is_eventful", "is_latest")

# Columns of int_customer_days computed from what customers said (the content of texts: sentiment, emotions,
# intents): a label's own reading is in them on its day. The acts (a text written, a survey answered) are not.
READING_FEATURES = (
    "negative_texts_30d", "positive_texts_30d", "complaints_30d", "cancellation_intents_90d", "praise_90d",
    "sarcastic_texts_30d", "sentiment_mean_7d", "sentiment_mean_30d", "sentiment_mean_90d", "sentiment_mean_today",
    "intensity_mean_30d", "emotion_joy_share_30d", "emotion_sadness_share_30d", "emotion_anger_share_30d",
    "emotion_fear_share_30d", "emotion_surprise_share_30d", "emotion_disgust_share_30d", "days_since_negative_text",
    "days_since_positive_text",
)  # fmt: skip

# Label sources and their weight in the valence model (texts are many and noisier than answers).
SOURCE_WEIGHTS = {"survey_nps": 1.0, "survey_csat": 1.0, "review": 1.0, "text": 0.5}
PROPENSITY_CLIP = (0.2, 5.0)

# Drivers: a name, what it is to a person, the features whose contributions it sums, and its evidence.
# Evidence is a list of facts (count column, templates): a fact holds on a row when its count is above zero, and
# it reads the first of its templates whose fields are all present. A driver is named on a row only when at least
# one of its facts holds there (the customer had that event or behaviour in the window); otherwise its points go
# to the baseline group (BASELINE_DRIVER). `{on__<column>}` is the date `<column>` days before the state date.
DRIVERS: list[tuple[str, str, tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]] = [
    (
        "late_delivery",
        "late delivery",
        (
            "late_deliveries_30d",
            "late_deliveries_90d",
            "late_days_30d",
            "days_since_late_delivery",
            "overdue_parcels",
            "max_days_overdue",
        ),
        (
            (
                "late_deliveries_90d",
                (
                    "late deliveries in 90 days: {late_deliveries_90d:.0f}, the last on {on__days_since_late_delivery}"
                    " ({days_since_late_delivery:.0f} days ago)",
                    "late deliveries in 90 days: {late_deliveries_90d:.0f}",
                ),
            ),
            ("late_deliveries_30d", ("late deliveries in 30 days: {late_deliveries_30d:.0f}",)),
            (
                "overdue_parcels",
                (
                    "parcels overdue now: {overdue_parcels:.0f}, by up to {max_days_overdue:.0f} days",
                    "parcels overdue now: {overdue_parcels:.0f}",
                ),
            ),
        ),
    ),
    (
        "unresolved_ticket",
        "unresolved ticket",
        ("open_tickets", "oldest_open_ticket_days", "tickets_opened_90d", "days_since_ticket_opened"),
        (
            (
                "open_tickets",
                (
                    "open tickets: {open_tickets:.0f}, the oldest open since {on__oldest_open_ticket_days}"
                    " ({oldest_open_ticket_days:.0f} days)",
                    "open tickets: {open_tickets:.0f}",
                ),
            ),
        ),
    ),
    (
        "ticket_resolution",
        "ticket resolution",
        (
            "tickets_resolved_90d",
            "resolution_hours_mean_90d",
            "first_response_hours_mean_90d",
            "days_since_ticket_resolved",
            "first_responses_90d",
        ),
        (
            (
                "tickets_resolved_90d",
                (
                    "tickets resolved in 90 days: {tickets_resolved_90d:.0f}, the last on"
                    " {on__days_since_ticket_resolved}, after {resolution_hours_mean_90d:.0f} h on average",
                    "tickets resolved in 90 days: {tickets_resolved_90d:.0f}",
                ),
            ),
        ),
    ),
    (
        "message_tone",
        "tone of recent messages",
        (
            "texts_7d",
            "texts_30d",
            "texts_90d",
            "texts_today",
            "sentiment_mean_today",
            "sentiment_mean_7d",
            "sentiment_mean_30d",
            "sentiment_mean_90d",
            "negative_texts_30d",
            "positive_texts_30d",
            "intensity_mean_30d",
            "sarcastic_texts_30d",
            "days_since_negative_text",
            "days_since_positive_text",
            "praise_90d",
            "emotion_joy_share_30d",
            "emotion_sadness_share_30d",
            "emotion_anger_share_30d",
            "emotion_fear_share_30d",
            "emotion_surprise_share_30d",
            "emotion_disgust_share_30d",
        ),
        (
            (
                "texts_30d",
                ("messages in 30 days: {texts_30d:.0f}, mean sentiment {sentiment_mean_30d:+.2f}",),
            ),
            (
                "texts_90d",
                ("messages in 90 days: {texts_90d:.0f}, mean sentiment {sentiment_mean_90d:+.2f}",),
            ),
        ),
    ),
    (
        "complaints",
        "complaints and cancellation requests",
        ("complaints_30d", "cancellation_intents_90d"),
        (
            ("complaints_30d", ("complaints in 30 days: {complaints_30d:.0f}",)),
            ("cancellation_intents_90d", ("cancellation requests in 90 days: {cancellation_intents_90d:.0f}",)),
        ),
    ),
    (
        "defects_returns",
        "defects and returns",
        ("returns_30d", "returns_90d", "defect_returns_90d", "days_since_defect_return", "order_cancellations_90d"),
        (
            (
                "defect_returns_90d",
                (
                    "defective items returned in 90 days: {defect_returns_90d:.0f}, the last on"
                    " {on__days_since_defect_return}",
                    "defective items returned in 90 days: {defect_returns_90d:.0f}",
                ),
            ),
            ("returns_90d", ("returns in 90 days: {returns_90d:.0f}",)),
            ("order_cancellations_90d", ("orders cancelled in 90 days: {order_cancellations_90d:.0f}",)),
        ),
    ),
    (
        "price_increase",
        "price increase",
        ("price_increases_90d", "days_since_price_increase", "subscription_cancellations_90d"),
        (
            (
                "price_increases_90d",
                (
                    "price increases in 90 days: {price_increases_90d:.0f}, the last on"
                    " {on__days_since_price_increase} ({days_since_price_increase:.0f} days ago)",
                    "price increases in 90 days: {price_increases_90d:.0f}",
                ),
            ),
            (
                "subscription_cancellations_90d",
                ("subscriptions cancelled in 90 days: {subscription_cancellations_90d:.0f}",),
            ),
        ),
    ),
    (
        "billing",
        "billing problems",
        ("payment_failures_30d", "refunds_30d"),
        (
            ("payment_failures_30d", ("failed payments in 30 days: {payment_failures_30d:.0f}",)),
            ("refunds_30d", ("refunds in 30 days: {refunds_30d:.0f}",)),
        ),
    ),
    (
        "marketing_pressure",
        "marketing pressure",
        ("marketing_emails_7d", "marketing_emails_30d", "over_contact_7d"),
        (
            (
                "marketing_emails_30d",
                (
                    "marketing e-mails in 30 days: {marketing_emails_30d:.0f}, of them in the last 7 days:"
                    " {marketing_emails_7d:.0f}",
                    "marketing e-mails in 30 days: {marketing_emails_30d:.0f}",
                ),
            ),
        ),
    ),
    (
        "email_engagement",
        "e-mail engagement",
        (
            "emails_delivered_30d",
            "emails_delivered_90d",
            "email_opens_30d",
            "email_opens_90d",
            "email_clicks_30d",
            "email_open_rate_30d",
            "email_open_rate_90d",
            "email_engagement_decay",
            "days_since_email_open",
            "unsubscribes_90d",
            "spam_complaints_90d",
        ),
        (
            (
                "emails_delivered_90d",
                (
                    "e-mails delivered in 90 days: {emails_delivered_90d:.0f}, opened: {email_opens_90d:.0f}",
                    "e-mails delivered in 90 days: {emails_delivered_90d:.0f}",
                ),
            ),
            ("unsubscribes_90d", ("unsubscribes in 90 days: {unsubscribes_90d:.0f}",)),
            ("spam_complaints_90d", ("spam complaints in 90 days: {spam_complaints_90d:.0f}",)),
        ),
    ),
    (
        "web_friction",
        "web friction",
        (
            "sessions_30d",
            "searches_without_purchase_30d",
            "error_sessions_7d",
            "error_sessions_30d",
            "help_center_views_30d",
        ),
        (
            ("error_sessions_30d", ("web sessions with errors in 30 days: {error_sessions_30d:.0f}",)),
            ("help_center_views_30d", ("help-centre views in 30 days: {help_center_views_30d:.0f}",)),
            (
                "searches_without_purchase_30d",
                ("searches without a purchase in 30 days: {searches_without_purchase_30d:.0f}",),
            ),
        ),
    ),
    (
        "purchases",
        "purchase activity",
        ("orders_90d", "orders_365d", "revenue_365d", "days_since_order", "deliveries_30d"),
        (
            (
                "orders_365d",
                (
                    "orders in a year: {orders_365d:.0f}, the last on {on__days_since_order}"
                    " ({days_since_order:.0f} days ago)",
                    "orders in a year: {orders_365d:.0f}",
                ),
            ),
            ("deliveries_30d", ("deliveries in 30 days: {deliveries_30d:.0f}",)),
        ),
    ),
    (
        "contact_effort",
        "contact effort",
        ("inbound_contacts_30d", "inbound_contacts_90d", "live_contacts_30d", "wait_seconds_mean_30d"),
        (
            (
                "inbound_contacts_30d",
                (
                    "contacts in 30 days: {inbound_contacts_30d:.0f}, {wait_seconds_mean_30d:.0f} s average wait",
                    "contacts in 30 days: {inbound_contacts_30d:.0f}",
                ),
            ),
            ("inbound_contacts_90d", ("contacts in 90 days: {inbound_contacts_90d:.0f}",)),
        ),
    ),
    (
        "feedback",
        "survey and review activity",
        (
            "survey_invitations_90d",
            "survey_responses_90d",
            "ignored_survey_invitations_90d",
            "reviews_90d",
            "social_mentions_90d",
        ),
        (
            (
                "survey_invitations_90d",
                (
                    "survey invitations in 90 days: {survey_invitations_90d:.0f}, answered: {survey_responses_90d:.0f}",
                    "survey invitations in 90 days: {survey_invitations_90d:.0f}",
                ),
            ),
            ("reviews_90d", ("reviews in 90 days: {reviews_90d:.0f}",)),
            ("social_mentions_90d", ("social-media mentions in 90 days: {social_mentions_90d:.0f}",)),
        ),
    ),
    (
        "relationship",
        "relationship stage",
        ("tenure_days", "lifecycle_stage", "days_since_engagement"),
        (
            (
                "tenure_days",
                (
                    "customer since {on__tenure_days} ({tenure_days:.0f} days), last engaged on"
                    " {on__days_since_engagement}",
                    "customer since {on__tenure_days} ({tenure_days:.0f} days)",
                ),
            ),
        ),
    ),
]
# Where the points of drivers without evidence on a row go: the customer differs from the average customer-day
# in things that did not happen to them (no late delivery, no open ticket, ...).
BASELINE_DRIVER = "baseline"
BASELINE_LABEL = "baseline (typical customer)"
DRIVER_OF_FEATURE = {f: name for name, _, features, _ in DRIVERS for f in features}
TOP_DRIVERS = 3
MIN_DRIVER_POINTS = 0.5
MIN_LABELS = 20  # fewer labels of a kind than this: that model is not fitted and its outputs stay empty


class NoLabels(ValueError):
    """Too few labels to fit the state models."""


@dataclass
class StateModels:
    """The fitted models of one build, and what they were fitted on."""

    features: list[str]
    valence: Any
    interval: Interval
    arousal: Any | None
    emotion: Any | None
    emotion_classes: list[str]
    nps_score: Any
    nps_group: Any
    nps_group_classes: list[str]
    propensity: Any
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """A short hash of the feature list and the training summary."""
        blob = json.dumps({"features": self.features, "training": self.training}, sort_keys=True, default=str)
        return "state-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress:
        progress(message)


def feature_columns(days: pa.Table | pd.DataFrame) -> list[str]:
    """Every column of int_customer_days but the keys and flags (extra numeric columns become features too)."""
    names = days.column_names if isinstance(days, pa.Table) else list(days.columns)
    return [c for c in names if c not in ID_COLUMNS]


def _frame(days: pa.Table | pd.DataFrame) -> pd.DataFrame:
    frame = days.to_pandas() if isinstance(days, pa.Table) else days.copy()
    frame["state_date"] = pd.to_datetime(frame["state_date"])
    if "lifecycle_stage" in frame:
        frame["lifecycle_stage"] = pd.Categorical(frame["lifecycle_stage"], categories=LIFECYCLE_STAGES)
    return frame


def _matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    x = frame[features].copy()
    for column in features:
        if column == "lifecycle_stage":
            continue
        x[column] = pd.to_numeric(x[column], errors="coerce").astype("float64")
    return x


def pair_with_features(frame: pd.DataFrame, events: pd.DataFrame, date_column: str = "feature_date") -> pd.DataFrame:
    """Each event row joined to the customer's latest customer-day on or before its `date_column` (as of)."""
    if events.empty:
        return events.assign(**{c: pd.Series(dtype=frame[c].dtype) for c in frame.columns if c != "customer_id"})
    left = events.copy()
    left["_on"] = pd.to_datetime(left[date_column]).astype("datetime64[ns]")
    left = left.sort_values("_on", kind="stable")
    right = frame.rename(columns={"state_date": "_state_date"}).sort_values("_state_date", kind="stable")
    right["_on"] = right["_state_date"].astype("datetime64[ns]")
    paired = pd.merge_asof(left, right, on="_on", by="customer_id", direction="backward")
    paired = paired[paired["_state_date"].notna()].drop(columns=["_on"])
    return paired.rename(columns={"_state_date": "feature_state_date"})


def _in_stable_order(table: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by every column: the warehouse returns rows in no fixed order, and bagging picks rows by position."""
    return table.sort_values(list(table.columns), kind="stable", ignore_index=True) if len(table) else table


def _lgb(kind: str, seed: int, threads: int, **extra: Any) -> Any:
    import lightgbm as lgb

    params = {
        "n_estimators": 200,
        "learning_rate": 0.06,
        "num_leaves": 15,
        "min_child_samples": 30,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "random_state": seed,
        "n_jobs": threads,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }
    params.update(extra)
    if kind == "regressor":
        return lgb.LGBMRegressor(**params)
    return lgb.LGBMClassifier(**params)


def _fit(model: Any, x: pd.DataFrame, y: Any, w: Any = None) -> Any:
    model.fit(x, y, sample_weight=w)
    return model


@dataclass
class Interval:
    """A calibrated interval for the latent valence: valence +- half_width (clipped to -1..1).

    Labels are noisy reads of the state, so the residuals of later labels against a model fitted before them
    are wider than the model's error on the state itself: var(residual) = var(error) + var(noise). The share
    of the error in it is measured on pairs of labels of one customer on one day from different sources (see
    `error_share`); source offsets (surveys and reviews read higher than texts) are removed, and the
    half-width is the normal quantile of the level times the error's standard deviation. `label_half_width`
    is the interval for a new label (error and noise).
    """

    level: float
    half_width: float
    label_half_width: float
    residual_sd: float
    noise_sd: float
    n_calibration: int
    n_pairs: int
    noise_corrected: bool = True
    offsets: dict[str, float] = field(default_factory=dict)

    def bounds(self, valence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The interval of the latent valence around each predicted valence."""
        return np.clip(valence - self.half_width, -1, 1), np.clip(valence + self.half_width, -1, 1)

    def label_bounds(self, valence: np.ndarray, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The interval of a new label of each source (its offset added, the label noise included)."""
        centre = np.asarray(valence, float) + np.asarray([self.offsets.get(str(s), 0.0) for s in sources])
        return np.clip(centre - self.label_half_width, -1, 1), np.clip(centre + self.label_half_width, -1, 1)

    def summary(self) -> dict[str, Any]:
        return {
            k: {s: round(o, 6) for s, o in sorted(v.items())} if isinstance(v, dict) else round(float(v), 6)
            for k, v in self.__dict__.items()
            if not isinstance(v, bool)
        } | {"noise_corrected": self.noise_corrected}


def interval_coverage(low: Any, high: Any, actual: Any) -> float:
    """The share of `actual` values inside [low, high] (NaN when there are none)."""
    low, high, actual = (np.asarray(v, dtype=float) for v in (low, high, actual))
    ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(actual)
    return float(np.mean((actual[ok] >= low[ok]) & (actual[ok] <= high[ok]))) if ok.any() else float("nan")


def _source_centred(values: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """`values` minus the mean of their label source (a source's offset is a trait of the scale, not the state)."""
    out = np.asarray(values, dtype=float).copy()
    for source in np.unique(sources):
        sel = sources == source
        out[sel] -= out[sel].mean()
    return out


def error_share(pairs: pd.DataFrame, residual: np.ndarray, offsets: dict[str, float]) -> tuple[float, int]:
    """The share of the residual variance that is the model's error on the state, not label noise.

    Two independent readings of one customer's state on the same day from different sources (a survey answer
    and a chat message) read the same state with independent noise, so the covariance of their residuals
    (label - cross-fitted model, source offset removed) is the error variance: share = cov / mean variance
    (0..1). A text label that holds the comment of a survey answer or review (`n_answer_comments` > 0) is no
    independent reading beside that answer: the comment is written with the score and shares its noise, which
    would pass for error. Labels days apart do not do either: the model has read the earlier label by then, so
    their residuals are innovations with little in common however wrong the state is.
    """
    comments = pairs["n_answer_comments"] if "n_answer_comments" in pairs else pd.Series(0, index=pairs.index)
    frame = pd.DataFrame(
        {
            "customer_id": pairs["customer_id"].astype(str).to_numpy(),
            "day": pd.to_datetime(pairs["label_date"]).dt.normalize().to_numpy(),
            "source": pairs["label_source"].astype(str).to_numpy(),
            "shares_an_answer": (pairs["label_source"].astype(str).eq("text") & comments.fillna(0).gt(0)).to_numpy(),
            "c": np.asarray(residual, float) - pairs["label_source"].map(offsets).fillna(0.0).to_numpy(float),
        }
    )
    both = frame.merge(frame, on=["customer_id", "day"], suffixes=("_a", "_b"))
    both = both[(both["source_a"] < both["source_b"]) & ~both["shares_an_answer_a"] & ~both["shares_an_answer_b"]]
    if len(both) < MIN_LABELS:
        return 1.0, len(both)
    a, b = both["c_a"].to_numpy(), both["c_b"].to_numpy()
    return float(np.clip(np.mean(a * b) / np.mean((a**2 + b**2) / 2), 0.0, 1.0)), len(both)


def _cross_fitted_residuals(
    pairs: pd.DataFrame,
    x: pd.DataFrame,
    x_day: pd.DataFrame,
    y: np.ndarray,
    weight: np.ndarray,
    seed: int,
    threads: int,
) -> np.ndarray:
    """label - prediction from the label day's row `x_day` of a model fitted on the other half of the customers
    (two folds by customer id, each fitted on `x` as the valence model is): in-sample residuals would have lost
    part of the noise to the fit."""
    fold = (pd.util.hash_pandas_object(pairs["customer_id"].astype(str), index=False).to_numpy() % 2).astype(bool)
    residual = np.zeros(len(y))
    for part in (fold, ~fold):
        if part.all() or not part.any():
            return y - np.clip(_fit(_lgb("regressor", seed, threads), x, y, weight).predict(x_day), -1, 1)
        model = _fit(_lgb("regressor", seed, threads), x[~part], y[~part], weight[~part])
        residual[part] = y[part] - np.clip(model.predict(x_day[part]), -1, 1)
    return residual


def label_day_matrix(
    frame: pd.DataFrame, labels: pd.DataFrame, pairs: pd.DataFrame, features: list[str]
) -> pd.DataFrame:
    """Each label's features as the state of its own day knows them, less its own reading.

    A published state of day D has read day D's events (a late parcel, a ticket opened); the valence model pairs
    a label with the day before (its own text must not explain it). Judging the interval on the day before would
    count the day's events as the state's error. So: the row of the label day, with the READING_FEATURES (what
    customers said) taken from the day before. `pairs` is pair_with_features(frame, labels), in its row order.
    """
    keyed = labels.assign(_label_row=np.arange(len(labels)))
    before = pair_with_features(frame, keyed)
    same_day = pair_with_features(frame, keyed, "label_date").set_index("_label_row").loc[before["_label_row"]]
    x_day = _matrix(same_day.reset_index(drop=True), features)
    reading = [c for c in features if c in READING_FEATURES]
    x_before = _matrix(before.reset_index(drop=True), features)
    x_day[reading] = x_before[reading].to_numpy()
    if len(x_day) != len(pairs):
        raise AssertionError("label_day_matrix: labels and pairs are not the same rows")
    return x_day.set_index(pairs.index)


def days_each_state_stands_for(frame: pd.DataFrame, end: Any) -> np.ndarray:
    """For each customer-day row, the number of calendar days it is the customer's latest state: until the
    customer's next row, or to `end` (the as-of date) for the last one (at least 1)."""
    order = frame.sort_values(["customer_id", "state_date"], kind="stable")
    nxt = order.groupby("customer_id", sort=False)["state_date"].shift(-1).fillna(pd.Timestamp(end))
    days = (nxt - order["state_date"]).dt.days.clip(lower=1).to_numpy(float)
    return pd.Series(days, index=order.index).reindex(frame.index).to_numpy(float)


def shown_days_sample(
    frame: pd.DataFrame, features: list[str], start: Any, end: Any, *, n: int = 50_000, seed: int = 7
) -> tuple[pd.DataFrame, np.ndarray]:
    """The customer-days whose state is shown between `start` and `end` (a seeded sample of at most `n` rows),
    as a feature matrix, with the days each stands for (days_each_state_stands_for) as weights."""
    before = frame[frame["state_date"] < pd.Timestamp(end)].sort_values(["customer_id", "state_date"], kind="stable")
    days = days_each_state_stands_for(before, end)
    keep = (before["state_date"] >= pd.Timestamp(start)).to_numpy()
    rows, days = before[keep], days[keep]
    if len(rows) > n:
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), n, replace=False))
        rows, days = rows.iloc[pick], days[pick]
    return _matrix(rows, features), days


def shift_weights(
    x_labels: pd.DataFrame,
    x_population: pd.DataFrame,
    population_weight: np.ndarray,
    *,
    clip_quantile: float = 0.9,
    seed: int = 7,
    threads: int = 2,
) -> np.ndarray:
    """Weights that make the label days stand for the days the state is shown on (weighted conformal under
    covariate shift): the odds that a row is a shown day rather than a label day, from a deliberately plain
    classifier, cut at their `clip_quantile` and scaled to mean 1.

    A label is written on a day something happened (a delivery, a contact), when the state has just moved and
    is hardest to read; most days a state is shown on are quiet. The error measured on label days alone is that
    of the hard days (on the demo, 0.085 in variance against 0.072 on all customer-weeks).
    """
    n_lab, n_pop = len(x_labels), len(x_population)
    if n_lab < MIN_LABELS or n_pop < MIN_LABELS:
        return np.ones(n_lab)
    pop_w = np.asarray(population_weight, float)
    both = pd.concat([x_labels, x_population], ignore_index=True)
    if "lifecycle_stage" in both:
        both["lifecycle_stage"] = pd.Categorical(both["lifecycle_stage"], categories=LIFECYCLE_STAGES)
    target = np.r_[np.ones(n_lab), np.zeros(n_pop)]
    sample_w = np.r_[np.ones(n_lab), pop_w * n_lab / pop_w.sum()]  # two classes of equal weight: odds = density ratio
    clf = _fit(
        _lgb("classifier", seed, threads, n_estimators=100, num_leaves=7, min_child_samples=200), both, target, sample_w
    )
    p = np.clip(clf.predict_proba(x_labels)[:, 1], 1e-3, 1 - 1e-3)
    odds = (1 - p) / p
    odds = np.minimum(odds, np.quantile(odds, clip_quantile))
    return odds / odds.mean()


def calibrate_interval(
    pairs: pd.DataFrame,
    x: pd.DataFrame,
    weight: np.ndarray,
    *,
    x_day: pd.DataFrame | None = None,
    x_population: pd.DataFrame | None = None,
    population_weight: np.ndarray | None = None,
    level: float = 0.8,
    calibration_share: float = 0.2,
    min_pairs: int = 50,
    shift_clip_quantile: float = 0.9,
    seed: int = 7,
    threads: int = 2,
) -> Interval:
    """Split conformal on the latest `calibration_share` of label dates, corrected for label noise (Interval).

    A valence model is fitted on the labels before the calibration slice (on `x`, the day before each label)
    and judged on the slice from `x_day`, the label day as the published state knows it (label_day_matrix;
    `x` when None). Too few
    labels on either side: the full model's residuals on its own labels stand in (in-sample, so the interval is
    then likely too narrow; `n_calibration` says how many labels it rests on). With fewer than `min_pairs`
    pairs to measure the label noise, there is no noise correction (`noise_corrected` False).
    """
    from scipy.stats import norm

    dates = pd.to_datetime(pairs["label_date"])
    cut = dates.quantile(1 - calibration_share)
    later = (dates >= cut).to_numpy()
    y = pairs["valence"].to_numpy(float)
    sources = pairs["label_source"].astype(str).to_numpy()
    if later.sum() < MIN_LABELS or (~later).sum() < MIN_LABELS:
        later = np.ones(len(y), dtype=bool)
        model = _fit(_lgb("regressor", seed, threads), x, y, weight)
    else:
        model = _fit(_lgb("regressor", seed, threads), x[~later], y[~later], weight[~later])
    x_day = x if x_day is None else x_day
    residual, cal_sources = y[later] - np.clip(model.predict(x_day[later]), -1, 1), sources[later]
    offsets = {str(s): float(residual[cal_sources == s].mean()) for s in np.unique(cal_sources)}
    centred = _source_centred(residual, cal_sources)
    residual_var = float(np.mean(centred**2))  # on label days: a new label's interval
    shown_var = residual_var  # on the days the state is shown
    if x_population is not None:
        shift = shift_weights(
            x_day[later],
            x_population,
            np.ones(len(x_population)) if population_weight is None else population_weight,
            clip_quantile=shift_clip_quantile,
            seed=seed,
            threads=threads,
        )
        shown_var = float(np.sum(shift * centred**2) / np.sum(shift))
    share, n_pairs = error_share(pairs, _cross_fitted_residuals(pairs, x, x_day, y, weight, seed, threads), offsets)
    # Too few pairs to measure the noise: the error cannot be told apart from the noise, and the interval is
    # that of a new label (wider than needed, never narrower).
    corrected = n_pairs >= min_pairs
    error_var = shown_var * share if corrected else shown_var
    noise_var = residual_var * (1 - share) if corrected else 0.0
    z = float(norm.ppf(0.5 + level / 2))
    return Interval(
        level=level,
        half_width=z * np.sqrt(error_var),
        label_half_width=z * np.sqrt(residual_var),
        residual_sd=np.sqrt(residual_var),
        noise_sd=np.sqrt(noise_var),
        n_calibration=len(residual),
        n_pairs=n_pairs,
        noise_corrected=corrected,
        offsets=offsets,
    )


def fit_state_models(
    days: pa.Table | pd.DataFrame,
    labels: pa.Table | pd.DataFrame,
    invitations: pa.Table | pd.DataFrame,
    *,
    label_cutoff: Any = None,
    seed: int = 7,
    threads: int = 2,
    interval_options: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StateModels:
    """Fit every state model on labels dated before `label_cutoff` (all labels when None)."""
    frame = _frame(days)
    features = feature_columns(frame)
    lab = labels.to_pandas() if isinstance(labels, pa.Table) else labels.copy()
    inv = invitations.to_pandas() if isinstance(invitations, pa.Table) else invitations.copy()
    for table, column in ((lab, "label_date"), (inv, "invited_date")):
        table[column] = pd.to_datetime(table[column])
    lab, inv = _in_stable_order(lab), _in_stable_order(inv)
    if label_cutoff is not None:
        cutoff = pd.Timestamp(label_cutoff)
        lab = lab[lab["label_date"] < cutoff]
        inv = inv[inv["invited_date"] < cutoff]
    if len(lab) < MIN_LABELS:
        raise NoLabels(
            "int_customer_day_labels has no labels to learn from (no survey answers, reviews or customer texts"
            + (f" before {label_cutoff}" if label_cutoff is not None else "")
            + f"): the emotional-state model needs at least {MIN_LABELS}"
        )

    _say(progress, "response propensity")
    inv_pairs = pair_with_features(frame, inv)
    propensity = None
    if len(inv_pairs) >= 50 and inv_pairs["responded"].nunique() == 2:
        propensity = _fit(
            _lgb("classifier", seed, threads, n_estimators=200),
            _matrix(inv_pairs, features),
            inv_pairs["responded"].astype(int),
        )

    pairs = pair_with_features(frame, lab)
    if len(pairs) < MIN_LABELS:
        raise NoLabels(
            f"{len(lab):,} labels, of which {len(pairs):,} have a customer-day on or before the day before them "
            f"(the features they are learnt from): the emotional-state model needs at least {MIN_LABELS}"
        )
    x = _matrix(pairs, features)
    weight = pairs["label_source"].map(SOURCE_WEIGHTS).fillna(1.0).to_numpy(dtype=float)
    is_survey = pairs["label_source"].str.startswith("survey_").to_numpy()
    ipw = np.ones(len(pairs))
    if propensity is not None and is_survey.any():
        p = propensity.predict_proba(x[is_survey])[:, 1]
        stabilised = float(inv_pairs["responded"].mean()) / np.clip(p, 1e-3, None)
        ipw[is_survey] = np.clip(stabilised, *PROPENSITY_CLIP)
    weight = weight * ipw

    _say(progress, f"valence on {len(pairs):,} labels")
    y = pairs["valence"].to_numpy(dtype=float)
    valence = _fit(_lgb("regressor", seed, threads), x, y, weight)
    x_day = label_day_matrix(frame, lab, pairs, features)
    options = dict(interval_options or {})
    calibration_start = pairs["label_date"].quantile(1 - options.get("calibration_share", 0.2))
    shown_end = (
        pd.Timestamp(label_cutoff) if label_cutoff is not None else frame["state_date"].max() + pd.Timedelta(days=1)
    )
    x_shown, shown_days = shown_days_sample(frame, features, calibration_start, shown_end, seed=seed)
    interval = calibrate_interval(
        pairs,
        x,
        weight,
        x_day=x_day,
        x_population=x_shown,
        population_weight=shown_days,
        seed=seed,
        threads=threads,
        **options,
    )

    texts = pairs[(pairs["label_source"] == "text") & pairs["arousal"].notna()]
    _say(progress, f"arousal and emotion on {len(texts):,} text days")
    arousal = emotion = None
    if len(texts) >= MIN_LABELS:
        arousal = _fit(_lgb("regressor", seed, threads), _matrix(texts, features), texts["arousal"].to_numpy(float))
        if texts["dominant_emotion"].nunique() >= 2:
            emotion = _fit(
                _lgb("classifier", seed, threads, n_estimators=120),
                _matrix(texts, features),
                texts["dominant_emotion"].astype(str),
            )

    nps = pairs[pairs["label_source"] == "survey_nps"]
    nps_w = ipw[(pairs["label_source"] == "survey_nps").to_numpy()]
    _say(progress, f"NPS on {len(nps):,} answers")
    nps_score = nps_group = None
    if len(nps) >= MIN_LABELS:
        nps_score = _fit(
            _lgb("regressor", seed, threads, n_estimators=200),
            _matrix(nps, features),
            nps["raw_score"].to_numpy(float),
            nps_w,
        )
        groups = np.where(nps["raw_score"] >= 9, "promoter", np.where(nps["raw_score"] >= 7, "passive", "detractor"))
        if len(set(groups)) >= 2:
            nps_group = _fit(_lgb("classifier", seed, threads, n_estimators=120), _matrix(nps, features), groups, nps_w)

    training = {
        "labels": {str(k): int(v) for k, v in pairs["label_source"].value_counts().sort_index().items()},
        "first_label": str(pairs["label_date"].min().date()),
        "last_label": str(pairs["label_date"].max().date()),
        "invitations": len(inv_pairs),
        "response_rate": float(inv_pairs["responded"].mean()) if len(inv_pairs) else None,
        "cutoff": None if label_cutoff is None else str(label_cutoff),
        "interval": interval.summary(),
        "seed": seed,
    }
    return StateModels(
        features=features,
        valence=valence,
        interval=interval,
        arousal=arousal,
        emotion=emotion,
        emotion_classes=[] if emotion is None else [str(c) for c in emotion.classes_],
        nps_score=nps_score,
        nps_group=nps_group,
        nps_group_classes=[] if nps_group is None else [str(c) for c in nps_group.classes_],
        propensity=propensity,
        training=training,
    )


STATE_SCHEMA = pa.schema(
    [
        ("customer_day_id", pa.string()),
        ("customer_id", pa.string()),
        ("state_date", pa.date32()),
        ("is_latest", pa.bool_()),
        ("lifecycle_stage", pa.string()),
        ("valence", pa.float64()),
        ("valence_low", pa.float64()),
        ("valence_high", pa.float64()),
        ("arousal", pa.float64()),
        *[(f"p_{e}", pa.float64()) for e in EMOTIONS],
        ("dominant_emotion", pa.string()),
        ("empathy_score", pa.float64()),
        ("empathy_score_low", pa.float64()),
        ("empathy_score_high", pa.float64()),
        ("confidence", pa.float64()),
        ("predicted_nps_score", pa.float64()),
        *[(f"p_{g}", pa.float64()) for g in NPS_GROUPS],
        ("response_propensity", pa.float64()),
        *[
            col
            for k in range(1, TOP_DRIVERS + 1)
            for col in (
                (f"driver_{k}", pa.string()),
                (f"driver_{k}_label", pa.string()),
                (f"driver_{k}_points", pa.float64()),
                (f"driver_{k}_evidence", pa.string()),
            )
        ],
        ("model_version", pa.string()),
    ]
)


EVIDENCE = {name: facts for name, _, _, facts in DRIVERS}
DRIVER_LABELS = {name: label for name, label, *_ in DRIVERS} | {BASELINE_DRIVER: BASELINE_LABEL}


def _present(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Per row: is there something in `column`? A count or amount above zero, a true flag, a non-empty text."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return (pd.to_numeric(values, errors="coerce").fillna(0).abs() > 0).to_numpy()
    return (values.notna() & values.astype(str).str.strip().ne("")).to_numpy()


def has_evidence(frame: pd.DataFrame, driver: str, evidence: dict | None = None) -> np.ndarray:
    """Per row: did the customer have the event or behaviour `driver` is named after, in its window?

    A driver of `evidence` (EVIDENCE by default) needs one of its facts to hold (its column above zero);
    any other feature group (a bring-your-own column) needs a value in the column of that name.
    """
    if driver == BASELINE_DRIVER:
        return np.ones(len(frame), dtype=bool)
    facts = (EVIDENCE if evidence is None else evidence).get(driver, ((driver, ()),))
    held = np.zeros(len(frame), dtype=bool)
    for column, _ in facts:
        held |= _present(frame, column)
    return held


def attribute(groups: pd.DataFrame, frame: pd.DataFrame, evidence: dict | None = None) -> pd.DataFrame:
    """Per-driver contributions with the evidence rule applied: a driver keeps its contribution on the rows
    where it has evidence; elsewhere the contribution moves to BASELINE_DRIVER (the last column). Row sums are
    unchanged, so the groups still add up to the prediction minus the model's expected value.
    """
    out = groups.reset_index(drop=True).copy()
    frame = frame.reset_index(drop=True)
    baseline = np.zeros(len(out)) if BASELINE_DRIVER not in out else out.pop(BASELINE_DRIVER).to_numpy(float)
    for driver in out.columns:
        held = has_evidence(frame, str(driver), evidence)
        values = out[driver].to_numpy(dtype=float)
        baseline = baseline + np.where(held, 0.0, values)
        out[driver] = np.where(held, values, 0.0)
    out[BASELINE_DRIVER] = baseline
    out.index = groups.index
    return out


# Template fields that may read zero (today, a neutral tone); every other field is a count or a size.
ZERO_IS_A_VALUE = ("on__", "days_since_", "sentiment_")


def _fields(template: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _with_dates(frame: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """The template fields of `frame`; `on__<column>` is the state date minus `<column>` days, as a date."""
    values = pd.DataFrame(index=frame.index)
    state_date = pd.to_datetime(frame["state_date"]) if "state_date" in frame else None
    for name in fields:
        column = name.removeprefix("on__")
        if column not in frame or (name != column and state_date is None):
            return pd.DataFrame()
        value = frame[column]
        if name != column:
            when = state_date - pd.to_timedelta(pd.to_numeric(value, errors="coerce").round(), unit="D")
            value = when.dt.strftime("%Y-%m-%d").where(when.notna())
        values[name] = value
    return values


def _fact_text(frame: pd.DataFrame, templates: tuple[str, ...]) -> np.ndarray:
    """The first template whose fields are all present, per row (None where none is)."""
    out = np.full(len(frame), None, dtype=object)
    todo = np.ones(len(frame), dtype=bool)
    for template in templates:
        fields = _fields(template)
        values = _with_dates(frame, fields)
        if values.empty and fields:
            continue
        ok = todo & values.notna().all(axis=1).to_numpy()
        for name in fields:  # a count of zero is no evidence: the next template leaves it out
            if not name.startswith(ZERO_IS_A_VALUE):
                ok &= pd.to_numeric(values[name], errors="coerce").round().ne(0).to_numpy()
        if ok.any():
            rows = values[ok].itertuples(index=False)
            out[ok] = [template.format(**dict(zip(fields, r, strict=True))) for r in rows]
            todo &= ~ok
    return out


def _plain(value: Any) -> str:
    """A value as people read it: numbers without trailing zeros."""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def driver_evidence(
    frame: pd.DataFrame, driver: str, absent: list[list[str]] | None = None, evidence: dict | None = None
) -> np.ndarray:
    """What happened, when and how many, per row of `frame`, for `driver` (its facts that hold, see `_present`).

    For BASELINE_DRIVER, `absent` names per row the drivers whose events the customer did not have.
    """
    evidence = EVIDENCE if evidence is None else evidence
    n = len(frame)
    if driver == BASELINE_DRIVER:
        names = absent or [[] for _ in range(n)]
        return np.asarray(
            [
                "none of these in the window, against the average customer: " + ", ".join(a)
                if a
                else "the average customer-day"
                for a in names
            ],
            dtype=object,
        )
    if driver not in evidence:
        held = _present(frame, driver)
        values = frame[driver] if driver in frame else pd.Series(None, index=frame.index, dtype=object)
        return np.asarray([f"{driver}: {_plain(v)}" if h else None for v, h in zip(values, held, strict=True)])
    parts: list[np.ndarray] = []
    for column, templates in evidence[driver]:
        held = _present(frame, column)
        text = _fact_text(frame, templates)
        parts.append(np.where(held, text, None))
    joined = ["; ".join(p for p in row if p) or None for row in zip(*parts, strict=True)] if parts else [None] * n
    return np.asarray(joined, dtype=object)


def predict_states(
    models: StateModels, days: pa.Table | pd.DataFrame, *, explain: bool | np.ndarray = True
) -> pa.Table:
    """One row per customer-day of `days` with the state, the Empathy Score, the predicted NPS and the drivers.

    `explain` is True (drivers for every row), False (none) or a boolean mask of the rows to explain: exact tree
    SHAP costs about 10 microseconds per tree and row, so a long history is explained where it is read.
    """
    frame = _frame(days)
    missing = [f for f in models.features if f not in frame.columns]
    if missing:
        raise ValueError(f"int_customer_days lacks the model's feature columns {missing}; rebuild it or refit")
    n = len(frame)
    x = _matrix(frame, models.features)
    out: dict[str, Any] = {
        "customer_day_id": frame["customer_day_id"].astype(str).to_numpy(),
        "customer_id": frame["customer_id"].astype(str).to_numpy(),
        "state_date": frame["state_date"].dt.date.to_numpy(),
        "is_latest": frame["is_latest"].astype(bool).to_numpy() if "is_latest" in frame else np.zeros(n, bool),
        "lifecycle_stage": frame["lifecycle_stage"].astype(str).to_numpy()
        if "lifecycle_stage" in frame
        else np.full(n, None),
    }
    if n == 0:
        return pa.Table.from_pylist([], schema=STATE_SCHEMA)
    valence = np.clip(models.valence.predict(x), -1, 1)
    low, high = models.interval.bounds(valence)
    out.update(valence=valence, valence_low=low, valence_high=high)
    out["arousal"] = np.clip(models.arousal.predict(x), 0, 1) if models.arousal is not None else np.full(n, np.nan)
    if models.emotion is not None:
        proba = models.emotion.predict_proba(x)
        probs = np.zeros((n, len(EMOTIONS)))
        for j, cls in enumerate(models.emotion_classes):
            if cls in EMOTIONS:
                probs[:, EMOTIONS.index(cls)] = proba[:, j]
        probs /= np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
        out["dominant_emotion"] = np.asarray(EMOTIONS, dtype=object)[probs.argmax(axis=1)]
    else:
        probs = np.full((n, len(EMOTIONS)), np.nan)
        out["dominant_emotion"] = np.full(n, None, dtype=object)
    for j, e in enumerate(EMOTIONS):
        out[f"p_{e}"] = probs[:, j]
    out["empathy_score"] = 50 + 50 * valence
    out["empathy_score_low"] = 50 + 50 * low
    out["empathy_score_high"] = 50 + 50 * high
    out["confidence"] = np.clip(1 - (high - low) / 2, 0, 1)
    nan = np.full(n, np.nan)
    out["predicted_nps_score"] = np.clip(models.nps_score.predict(x), 0, 10) if models.nps_score is not None else nan
    group_p = {g: nan for g in NPS_GROUPS}
    if models.nps_group is not None:
        gp = models.nps_group.predict_proba(x)
        group_p = {g: np.zeros(n) for g in NPS_GROUPS}
        for j, cls in enumerate(models.nps_group_classes):
            group_p[cls] = gp[:, j]
    for g in NPS_GROUPS:
        out[f"p_{g}"] = group_p[g]
    out["response_propensity"] = models.propensity.predict_proba(x)[:, 1] if models.propensity is not None else nan

    for k in range(1, TOP_DRIVERS + 1):
        out[f"driver_{k}"] = np.full(n, None, dtype=object)
        out[f"driver_{k}_label"] = np.full(n, None, dtype=object)
        out[f"driver_{k}_points"] = np.full(n, np.nan)
        out[f"driver_{k}_evidence"] = np.full(n, None, dtype=object)
    mask = np.full(n, bool(explain)) if np.isscalar(explain) else np.asarray(explain, dtype=bool)
    if mask.any():
        _explain(models, frame, x, out, np.nonzero(mask)[0])
    out["model_version"] = np.full(n, models.version, dtype=object)
    return _table(out)


def _table(out: dict[str, Any]) -> pa.Table:
    """The state rows as Arrow: a missing or non-finite float becomes NULL, never NaN or infinity."""
    columns = []
    for f in STATE_SCHEMA:
        values = out[f.name]
        if pa.types.is_floating(f.type):
            values = np.asarray(values, dtype=float)
            columns.append(pa.array(values, f.type, mask=~np.isfinite(values)))
        else:
            columns.append(pa.array(values, f.type, from_pandas=True))
    return pa.Table.from_arrays(columns, schema=STATE_SCHEMA)


def driver_points(
    models: StateModels, x: pd.DataFrame, frame: pd.DataFrame | None = None
) -> tuple[list[str], np.ndarray]:
    """Empathy Score points per driver and row: the valence model's SHAP contributions summed per driver.

    With `frame` (the rows' customer-days), the evidence rule applies (see `attribute`): the last name is then
    BASELINE_DRIVER. Either way a row's points add up to 50 x (raw valence prediction - expected value).
    """
    contrib = models.valence.predict(x, pred_contrib=True)[:, :-1]  # last column: the expected value
    names = [name for name, *_ in DRIVERS]
    extra = sorted({f for f in models.features if f not in DRIVER_OF_FEATURE})
    names_all = names + extra
    index = {name: i for i, name in enumerate(names_all)}
    groups = np.zeros((len(x), len(names_all)))
    for j, feature in enumerate(models.features):
        groups[:, index[DRIVER_OF_FEATURE.get(feature, feature)]] += contrib[:, j]
    if frame is None:
        return names_all, 50 * groups
    gated = attribute(pd.DataFrame(50 * groups, columns=names_all), frame.reset_index(drop=True))
    return list(gated.columns), gated.to_numpy()


def _explain(models: StateModels, frame: pd.DataFrame, x: pd.DataFrame, out: dict[str, Any], rows: np.ndarray) -> None:
    """The top drivers of `rows`: evidence-backed drivers and the baseline, by absolute points."""
    frame = frame.iloc[rows].reset_index(drop=True)
    raw_names, raw = driver_points(models, x.iloc[rows])
    gated = attribute(pd.DataFrame(raw, columns=raw_names), frame)
    names, points = list(gated.columns), gated.to_numpy()
    # What the baseline stands for on each row: the drivers without evidence, largest moved points first.
    moved = np.where(points[:, : len(raw_names)] == 0, np.abs(raw), 0.0)
    absent_order = np.argsort(-moved, axis=1, kind="stable")[:, :TOP_DRIVERS]
    order = np.argsort(-np.abs(points), axis=1, kind="stable")[:, :TOP_DRIVERS]
    label_of = np.asarray([DRIVER_LABELS.get(d, d.replace("_", " ")) for d in names], dtype=object)
    for k in range(TOP_DRIVERS):
        idx = order[:, k]
        pts = points[np.arange(len(rows)), idx]
        keep = np.abs(pts) >= MIN_DRIVER_POINTS
        driver = np.asarray(names, dtype=object)[idx]
        evidence = np.full(len(rows), None, dtype=object)
        for name in np.unique(driver[keep]):
            sel = np.nonzero(keep & (driver == name))[0]
            absent = None
            if name == BASELINE_DRIVER:
                absent = [[label_of[j] for j in absent_order[i] if moved[i, j] >= MIN_DRIVER_POINTS / 10] for i in sel]
            evidence[sel] = driver_evidence(frame.iloc[sel], str(name), absent)
        keep &= pd.notna(evidence)  # a driver without evidence text is not shown
        out[f"driver_{k + 1}"][rows] = np.where(keep, driver, None)
        out[f"driver_{k + 1}_label"][rows] = np.where(keep, label_of[idx], None)
        out[f"driver_{k + 1}_points"][rows] = np.where(keep, np.round(pts, 2), np.nan)
        out[f"driver_{k + 1}_evidence"][rows] = np.where(keep, evidence, None)
