"""Past activation in the demo world: the product's decisions, their randomised holdouts and true effects.

Every ``ROUND_DAYS`` days the simulated product decides a treatment for each eligible customer from the
customer's latent state (:func:`decide`), the same situations the next best action reads:

* valence below ``DISTRESS_VALENCE`` (distress): ``human_review`` for a valuable customer (purchase rate in
  the top fifth), else ``apology_recovery``;
* an open issue (a late parcel, a defect, a delayed service, a failed payment or an unresolved ticket whose
  latent intensity is at least ``ISSUE_INTENSITY``): ``proactive_support``;
* valence above ``DELIGHT_VALENCE`` and marketing consent: ``upsell_offer`` for a valuable customer, else
  ``loyalty_thanks``;
* anyone else with marketing consent: ``standard_campaign`` or ``softer_campaign`` (half each);
* without marketing consent nothing marketing is decided.

A customer is decided for again only once the previous exposure's outcome window (``WINDOW_DAYS``) is over,
so windows never overlap. The arm comes from :func:`empathy.activation.experiments.arm` (the hash the
warehouse uses) with holdout share ``HOLDOUT_SHARE``. A treated customer gets the treatment's true effect
for the ``WINDOW_DAYS`` days after the exposure day; a holdout customer gets nothing (the decision is
withheld). Each treatment moves exactly one outcome, so its truth is exact:

* ``churn_hazard_multiplier`` multiplies the daily churn hazard: the estimand ``churn_rate`` (churn events
  per customer-day at risk, treated over holdout) equals it;
* ``order_rate_multiplier`` multiplies the daily purchase probability: the estimand ``order_rate`` (orders
  per customer-day, treated over holdout) equals it.

The other outcome of a treatment is left unchecked (its truth is not exact: a lower churn hazard also keeps
more customers ordering). Draws use their own random stream, so the rest of the world moves only through
the effects. ``_truth/treatment_effects.parquet`` holds the table; docs/demo_world.md prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from empathy.activation import experiments
from empathy.generate import effects as E

ROUND_DAYS = 14
WINDOW_DAYS = 60
HOLDOUT_SHARE = experiments.DEFAULT_HOLDOUT_SHARE
DISTRESS_VALENCE = -0.3
DELIGHT_VALENCE = 0.4
VALUABLE_QUANTILE = 0.8
ISSUE_INTENSITY = 0.3
ISSUE_EVENTS = ("late_delivery", "defective_item", "service_delay", "payment_failed", "ticket_unresolved")
EXPERIMENT_VERSION = 1


@dataclass(frozen=True)
class TreatmentEffect:
    treatment_id: str
    channel: str  # the channel the simulated product uses
    churn_hazard_multiplier: float
    order_rate_multiplier: float
    description: str


TREATMENT_EFFECTS: tuple[TreatmentEffect, ...] = (
    TreatmentEffect("apology_recovery", "email", 0.6, 1.0, "An apology with a gesture to a customer in distress."),
    TreatmentEffect("proactive_support", "phone", 0.7, 1.0, "Support reaches out about an open ticket."),
    TreatmentEffect("human_review", "none", 0.65, 1.0, "A senior agent reviews a valuable customer in distress."),
    TreatmentEffect("loyalty_thanks", "email", 0.75, 1.0, "A thank-you to a delighted customer."),
    TreatmentEffect("upsell_offer", "email", 1.0, 1.4, "An upsell offer to a delighted, valuable customer."),
    TreatmentEffect("standard_campaign", "email", 1.0, 1.25, "The standard promotional campaign."),
    TreatmentEffect("softer_campaign", "email", 1.0, 1.1, "Content without a sales push."),
)  # fmt: skip

TREATMENT_IDS: tuple[str, ...] = tuple(t.treatment_id for t in TREATMENT_EFFECTS)
TR = {name: i for i, name in enumerate(TREATMENT_IDS)}
CHURN_MULT = np.array([t.churn_hazard_multiplier for t in TREATMENT_EFFECTS])
ORDER_MULT = np.array([t.order_rate_multiplier for t in TREATMENT_EFFECTS])
NONE = -1


def experiment_of(treatment_id: str) -> str:
    return experiments.experiment_id(treatment_id, EXPERIMENT_VERSION)


def decide(
    valence: np.ndarray,
    open_issue: np.ndarray,
    valuable: np.ndarray,
    marketing_ok: np.ndarray,
    coin: np.ndarray,
) -> np.ndarray:
    """The treatment code (index into TREATMENT_IDS, or NONE) the simulated product decides per customer."""
    out = np.full(len(valence), NONE, dtype=np.int64)
    distress = valence < DISTRESS_VALENCE
    ticket = ~distress & open_issue
    delight = ~distress & ~ticket & (valence > DELIGHT_VALENCE) & marketing_ok
    rest = ~distress & ~ticket & ~delight & marketing_ok
    out[distress] = np.where(valuable[distress], TR["human_review"], TR["apology_recovery"])
    out[ticket] = TR["proactive_support"]
    out[delight] = np.where(valuable[delight], TR["upsell_offer"], TR["loyalty_thanks"])
    out[rest] = np.where(coin[rest] < 0.5, TR["standard_campaign"], TR["softer_campaign"])
    return out


def effects_table() -> dict[str, list]:
    """One row per experiment and checked outcome: the exact true ratio (_truth/treatment_effects.parquet)."""
    rows: dict[str, list] = {"experiment_id": [], "treatment_id": [], "metric": [], "true_ratio": [], "description": []}
    for t in TREATMENT_EFFECTS:
        metric, ratio = (
            ("churn_rate", t.churn_hazard_multiplier)
            if t.churn_hazard_multiplier != 1.0
            else ("order_rate", t.order_rate_multiplier)
        )
        rows["experiment_id"].append(experiment_of(t.treatment_id))
        rows["treatment_id"].append(t.treatment_id)
        rows["metric"].append(metric)
        rows["true_ratio"].append(float(ratio))
        rows["description"].append(t.description)
    return rows


def effects_markdown() -> str:
    """The treatment-effect table as Markdown (docs/demo_world.md embeds it; a test keeps them equal)."""
    lines = [
        "| treatment | experiment | churn-hazard multiplier | order-rate multiplier | checked estimand |",
        "|---|---|---:|---:|---|",
    ]
    table = effects_table()
    for t, metric in zip(TREATMENT_EFFECTS, table["metric"], strict=True):
        lines.append(
            f"| `{t.treatment_id}` | `{experiment_of(t.treatment_id)}` | {t.churn_hazard_multiplier:g} | "
            f"{t.order_rate_multiplier:g} | `{metric}` |"
        )
    return "\n".join(lines)


class Activation:
    """The simulated product's past decisions and their effects, attached to a World."""

    def __init__(self, world, rng: np.random.Generator):
        self.w = world
        self.rng = rng
        n = world.N
        self.treatment = np.full(n, NONE, dtype=np.int64)  # the treated arm's active treatment
        self.until = np.full(n, -1, dtype=np.int64)  # last day of the current window (any arm)
        self.valuable = world.buy_rate >= np.quantile(world.buy_rate, VALUABLE_QUANTILE)
        self.customer_ids = [f"C{i:08d}" for i in range(n)]
        self.exposures = 0

    def _active(self, idx: np.ndarray, d: int) -> np.ndarray:
        return (self.treatment[idx] != NONE) & (self.until[idx] >= d)

    def churn_multiplier(self, idx: np.ndarray, d: int) -> np.ndarray:
        m = np.ones(len(idx))
        on = self._active(idx, d)
        m[on] = CHURN_MULT[self.treatment[idx[on]]]
        return m

    def order_multiplier(self, idx: np.ndarray, d: int) -> np.ndarray:
        m = np.ones(len(idx))
        on = self._active(idx, d)
        m[on] = ORDER_MULT[self.treatment[idx[on]]]
        return m

    def decide_day(self, d: int) -> None:
        """On a round day, decide for every alive customer outside a window and write the exposures."""
        if d % ROUND_DAYS != ROUND_DAYS // 2:
            return
        w = self.w
        idx = w.alive_idx[self.until[w.alive_idx] < d]
        if not len(idx):
            return
        coin = self.rng.random(len(idx))
        issue = (w.S[[E.EV[k] for k in ISSUE_EVENTS]][:, idx] >= ISSUE_INTENSITY).any(axis=0)
        code = decide(w.v[idx], issue, self.valuable[idx], w.marketing_ok(idx), coin)
        keep = code != NONE
        idx, code = idx[keep], code[keep]
        if not len(idx):
            return
        experiment = [experiment_of(TREATMENT_IDS[c]) for c in code]
        holdout = experiments.is_holdout(experiment, [self.customer_ids[i] for i in idx], HOLDOUT_SHARE)
        self.until[idx] = d + WINDOW_DAYS
        self.treatment[idx] = np.where(holdout, NONE, code)
        ts = w.ts0 + w.tod(idx, self.rng)
        channel = [TREATMENT_EFFECTS[c].channel for c in code]
        w.writer.add(
            "treatment_exposures",
            d,
            {
                "exposure_id": w.ids("exposure", len(idx)),
                "customer_id": idx,
                "treatment_id": pa.array([TREATMENT_IDS[c] for c in code], pa.string()),
                "experiment_id": pa.array(experiment, pa.string()),
                "arm": np.where(holdout, ARMS.index("holdout"), ARMS.index("treated")),
                "channel": np.array([CHANNELS.index(c) for c in channel]),
                "exposed_at": ts,
            },
        )
        self.exposures += len(idx)


ARMS: tuple[str, ...] = ("treated", "holdout")
CHANNELS: tuple[str, ...] = ("email", "sms", "phone", "in_app", "none")
