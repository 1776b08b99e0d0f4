"""The true effect sizes of the demo world: what each event does to a customer's emotional state.

Every customer carries a latent state:

* ``valence`` in [-1, 1] (unhappy .. happy) and ``arousal`` in [0, 1] (calm .. agitated),
* both are a personal baseline plus the sum of decaying event impulses plus slow "life noise".

An event of type ``k`` with magnitude ``m`` adds ``m`` to the customer's intensity ``S_k``;
every intensity decays by half every ``half_life_days``. Then

    valence = clip(baseline_valence + sum_k valence_effect_k * S_k + noise, -1, 1)
    arousal = clip(baseline_arousal + sum_k arousal_effect_k * S_k + |noise| / 2, 0, 1)

and the daily churn hazard is

    hazard = base_hazard * exp(CHURN_VALENCE_SLOPE * -valence) * prod_k multiplier_k ** min(S_k, 1)

so an event's churn multiplier applies in full right after it happens and fades with its half-life.
The table below is the ground truth the simulation uses; ``_truth/event_effects.parquet`` holds a copy
and docs/demo_world.md prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMOTIONS: tuple[str, ...] = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
EMO = {name: i for i, name in enumerate(EMOTIONS)}


@dataclass(frozen=True)
class EventEffect:
    name: str
    valence_effect: float  # per unit of magnitude
    arousal_effect: float  # per unit of magnitude
    half_life_days: float
    churn_hazard_multiplier: float  # at full strength (intensity >= 1)
    emotion: str  # the emotion the event pushes toward
    unit: str  # what one unit of magnitude is
    description: str


EVENT_EFFECTS: tuple[EventEffect, ...] = (
    EventEffect("late_delivery", -0.09, 0.07, 10, 1.25, "anger", "day late",
                "A parcel is late: one impulse for every day past the promised delivery time."),
    EventEffect("defective_item", -0.32, 0.16, 21, 1.6, "disgust", "event",
                "An item arrives broken or faulty."),
    EventEffect("service_delay", -0.22, 0.18, 14, 1.3, "fear", "event",
                "A booked service (appointment, installation, activation) is postponed by the company."),
    EventEffect("ticket_unresolved", -0.05, 0.04, 7, 1.08, "anger", "day open",
                "A support ticket stays unresolved: one impulse per day it is open after the first day."),
    EventEffect("bad_resolution", -0.28, 0.12, 21, 1.9, "anger", "event",
                "A ticket is closed without really solving the problem."),
    EventEffect("good_resolution", 0.22, -0.06, 21, 0.8, "joy", "agent empathy factor (0.6-1.6)",
                "A ticket is solved well; the impulse is scaled by the agent's empathy."),
    EventEffect("fast_resolution", 0.28, 0.05, 14, 0.75, "joy", "event",
                "A delight moment: the problem is solved well within a day."),
    EventEffect("price_increase", -0.26, 0.13, 30, 2.0, "anger", "15% increase",
                "A subscription price goes up; magnitude is the increase relative to 15%."),
    EventEffect("payment_failed", -0.12, 0.12, 7, 1.3, "fear", "event",
                "A payment or direct debit fails."),
    EventEffect("billing_surprise", -0.20, 0.15, 21, 1.4, "fear", "event",
                "An unexpected or wrong charge shows up on a bill."),
    EventEffect("over_contact", -0.07, 0.05, 10, 1.15, "disgust", "e-mail over 3 in 7 days",
                "Marketing over-contact: more than three marketing e-mails in seven days."),
    EventEffect("web_error", -0.04, 0.04, 3, 1.03, "anger", "session with errors",
                "A web or app session hits errors."),
    EventEffect("surprise_gift", 0.30, 0.20, 14, 0.7, "surprise", "event",
                "A delight moment: an unexpected gift or goodwill gesture."),
    EventEffect("loyalty_reward", 0.20, 0.10, 30, 0.8, "joy", "event",
                "A delight moment: a loyalty milestone is rewarded (tier upgrade, anniversary)."),
    EventEffect("smooth_delivery", 0.05, 0.02, 5, 0.97, "joy", "event",
                "A parcel or service arrives on time or early."),
    EventEffect("life_up", 0.25, 0.10, 10, 0.9, "joy", "event",
                "Random good news in the customer's life (not caused by the company)."),
    EventEffect("life_down", -0.25, -0.05, 20, 1.1, "sadness", "event",
                "Random bad news in the customer's life (not caused by the company)."),
    EventEffect("health_worry", -0.18, 0.22, 14, 1.05, "fear", "event",
                "Waiting for medical results or a diagnosis (healthcare)."),
)  # fmt: skip

EVENT_NAMES: tuple[str, ...] = tuple(e.name for e in EVENT_EFFECTS)
EV = {name: i for i, name in enumerate(EVENT_NAMES)}
K = len(EVENT_EFFECTS)

# Vectors used by the simulation (float32 to keep the K x N state small).
VALENCE_EFFECT = np.array([e.valence_effect for e in EVENT_EFFECTS], dtype=np.float32)
AROUSAL_EFFECT = np.array([e.arousal_effect for e in EVENT_EFFECTS], dtype=np.float32)
HALF_LIFE = np.array([e.half_life_days for e in EVENT_EFFECTS], dtype=np.float32)
DAILY_DECAY = (0.5 ** (1.0 / HALF_LIFE)).astype(np.float32)
LOG_CHURN_MULT = np.log(np.array([e.churn_hazard_multiplier for e in EVENT_EFFECTS], dtype=np.float32))
EVENT_EMOTION = np.array([EMO[e.emotion] for e in EVENT_EFFECTS], dtype=np.int8)

# Daily "life noise": an Ornstein-Uhlenbeck process on valence with this half-life and step.
NOISE_HALF_LIFE_DAYS = 7.0
NOISE_DECAY = float(0.5 ** (1.0 / NOISE_HALF_LIFE_DAYS))
NOISE_STEP_SD = 0.05

# hazard = base * exp(CHURN_VALENCE_SLOPE * -valence) * event multipliers
CHURN_VALENCE_SLOPE = 3.0

# Dominant emotion: the emotion of the strongest recent event when its valence contribution
# exceeds this; otherwise the valence/arousal quadrant decides.
EVENT_EMOTION_THRESHOLD = 0.15
QUADRANT_VALENCE = 0.3
ANGER_AROUSAL = 0.55


def effects_table() -> dict[str, list]:
    """The effect sizes as columns (written to _truth/event_effects.parquet)."""
    return {
        "event_type": [e.name for e in EVENT_EFFECTS],
        "valence_effect": [e.valence_effect for e in EVENT_EFFECTS],
        "arousal_effect": [e.arousal_effect for e in EVENT_EFFECTS],
        "half_life_days": [float(e.half_life_days) for e in EVENT_EFFECTS],
        "churn_hazard_multiplier": [e.churn_hazard_multiplier for e in EVENT_EFFECTS],
        "emotion": [e.emotion for e in EVENT_EFFECTS],
        "unit": [e.unit for e in EVENT_EFFECTS],
        "description": [e.description for e in EVENT_EFFECTS],
    }


def dominant_emotion(
    valence: np.ndarray, arousal: np.ndarray, intensity: np.ndarray, anxious: np.ndarray
) -> np.ndarray:
    """Dominant emotion codes (index into EMOTIONS) for each customer.

    ``intensity`` is the K x n event-intensity matrix; ``anxious`` flags fear-prone personas.
    """
    contrib = np.abs(VALENCE_EFFECT)[:, None] * intensity
    k = np.argmax(contrib, axis=0)
    cmax = np.take_along_axis(contrib, k[None, :], axis=0)[0]
    emo = np.full(valence.shape, EMO["neutral"], dtype=np.int8)
    emo[valence >= QUADRANT_VALENCE] = EMO["joy"]
    neg = valence <= -QUADRANT_VALENCE
    emo[neg & (arousal >= ANGER_AROUSAL)] = EMO["anger"]
    emo[neg & (arousal < ANGER_AROUSAL)] = EMO["sadness"]
    emo[anxious & (valence < -0.1) & (arousal >= ANGER_AROUSAL)] = EMO["fear"]
    strong = cmax >= EVENT_EMOTION_THRESHOLD
    emo[strong] = EVENT_EMOTION[k[strong]]
    return emo


def effects_markdown() -> str:
    """The effect-size table as Markdown (docs/demo_world.md embeds it; a test keeps them equal)."""
    lines = [
        "| event | valence per unit | arousal per unit | half-life (days) | churn-hazard multiplier | emotion | unit |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for e in EVENT_EFFECTS:
        lines.append(
            f"| `{e.name}` | {e.valence_effect:+.2f} | {e.arousal_effect:+.2f} | {e.half_life_days:g} | "
            f"{e.churn_hazard_multiplier:g} | {e.emotion} | {e.unit} |"
        )
    return "\n".join(lines)
