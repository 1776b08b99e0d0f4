"""Ground truth of the demo world, written to ``out/_truth/`` (the pipeline never reads it).

* ``latent_state_weekly.parquet``: customer_id, week_start (Monday), valence and arousal (weekly means of
  the daily state), valence_end and arousal_end (the state on the last day observed that week, the day a
  state estimated at the week's end is for), dominant_emotion (most frequent daily dominant emotion), days
  (days observed that week).
* ``churn.parquet``: customer_id, churned_at, churn_driver (the event type whose churn multiplier
  contributed most, or low_valence / baseline), valence at churn.
* ``events.parquet``: every emotion-moving event that happened: customer_id, event_type, occurred_at,
  related_id, magnitude.
* ``event_effects.parquet``: the true effect sizes (see effects.py).
* ``treatment_effects.parquet``: the true effect of every simulated treatment's experiment on its checked
  outcome (experiment_id, treatment_id, metric, true_ratio; see activation.py).
* ``texts.parquet``: what every customer-written text truly expresses (sentiment, emotion, intent, topic,
  cause, language, sarcasm, latent valence at writing time).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from empathy.generate import activation
from empathy.generate import effects as E
from empathy.generate import vocab as V
from empathy.generate.text import INTENTS, SENTIMENTS, TEXT_CAUSES, TOPICS, Tone
from empathy.generate.writer import ID_FORMATS, format_ids

CHURN_DRIVERS: tuple[str, ...] = (*E.EVENT_NAMES, "low_valence", "baseline")
TEXT_SOURCES: tuple[tuple[str, str], ...] = (
    ("support_tickets", "subject"),
    ("ticket_messages", "body"),
    ("chats", "customer_text"),
    ("calls", "transcript"),
    ("survey_responses", "comment"),
    ("reviews", "title"),
    ("reviews", "body"),
    ("social_mentions", "text"),
)
ENTITIES: tuple[str, ...] = tuple(ID_FORMATS)
_OPTS = {"compression": "zstd", "compression_level": 3}


def format_related(ent: np.ndarray, ids: np.ndarray) -> pa.Array:
    """Format ids whose entity differs per row (entity codes index ENTITIES; -1 means null)."""
    n = len(ids)
    out = pa.nulls(n, pa.string())
    for e in np.unique(ent):
        if e < 0:
            continue
        m = ent == e
        formatted = format_ids(np.where(m, ids, -1), ENTITIES[e])
        out = pc.if_else(pa.array(m), formatted, out)
    return out


class TruthWriter:
    def __init__(self, folder: Path, world):
        self.folder = Path(folder)
        self.w = world
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._events: list[dict] = []
        self._texts: list[dict] = []
        self._churn: list[dict] = []
        self.rows: dict[str, int] = {}
        n = world.N
        self.sum_v = np.zeros(n, dtype=np.float64)
        self.sum_a = np.zeros(n, dtype=np.float64)
        self.count = np.zeros(n, dtype=np.int16)
        self.last_v = np.zeros(n, dtype=np.float64)
        self.last_a = np.zeros(n, dtype=np.float64)
        self.emo_counts = np.zeros((len(E.EMOTIONS), n), dtype=np.int16)

    @staticmethod
    def entity_code(name: str) -> int:
        return ENTITIES.index(name)

    def _write(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if name not in self._writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema, **_OPTS)
        self._writers[name].write_table(table)
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    # ---- latent state ---------------------------------------------------------------------------
    def daily(self, d: int) -> None:
        w = self.w
        idx = w.alive_idx
        self.sum_v[idx] += w.v[idx]
        self.sum_a[idx] += w.a[idx]
        self.count[idx] += 1
        self.last_v[idx] = w.v[idx]
        self.last_a[idx] = w.a[idx]
        self.emo_counts[w.emo[idx], idx] += 1
        if w.weekday(d) == 6 or d == w.D - 1:
            self._write_week(d)

    def _write_week(self, d: int) -> None:
        w = self.w
        idx = np.nonzero(self.count > 0)[0]
        if len(idx):
            c = self.count[idx].astype(np.float64)
            emo = np.argmax(self.emo_counts[:, idx], axis=0)
            monday = w.start + dt.timedelta(days=d - w.weekday(d))
            days_since = (monday - dt.date(1970, 1, 1)).days
            table = pa.table(
                {
                    "customer_id": format_ids(idx, "customer"),
                    "week_start": pa.array(np.full(len(idx), days_since, dtype=np.int32), pa.date32()),
                    "valence": pa.array(np.round(self.sum_v[idx] / c, 4)),
                    "arousal": pa.array(np.round(self.sum_a[idx] / c, 4)),
                    "valence_end": pa.array(np.round(self.last_v[idx], 4)),
                    "arousal_end": pa.array(np.round(self.last_a[idx], 4)),
                    "dominant_emotion": pa.array(list(E.EMOTIONS), pa.string()).take(pa.array(emo)),
                    "days": pa.array(self.count[idx].astype(np.int64)),
                }
            )
            self._write("latent_state_weekly", table)
        self.sum_v[:] = 0
        self.sum_a[:] = 0
        self.count[:] = 0
        self.emo_counts[:] = 0

    # ---- events, churn, texts -----------------------------------------------------------------------
    def events(self, ev: dict) -> None:
        self._events.append(ev)

    def churn(self, cust: np.ndarray, ts: np.ndarray, driver: np.ndarray, valence: np.ndarray) -> None:
        self._churn.append({"cust": cust, "ts": ts, "driver": driver, "v": valence})

    def texts(
        self, source: tuple[str, str], entity: str, ids: np.ndarray, cust: np.ndarray, tone: Tone, ts: np.ndarray
    ) -> None:
        n = len(ids)
        if n == 0:
            return
        self._texts.append(
            {
                "src": np.full(n, TEXT_SOURCES.index(source), dtype=np.int8),
                "ent": np.full(n, ENTITIES.index(entity), dtype=np.int8),
                "id": np.asarray(ids, dtype=np.int64),
                "cust": np.asarray(cust, dtype=np.int64),
                "ts": np.asarray(ts, dtype=np.int64),
                "lang": tone.lang,
                "sent": tone.sentiment(),
                "v": tone.valence,
                "emo": tone.emotion,
                "high": tone.high,
                "intent": tone.intent,
                "cause": tone.cause.astype(np.int8),
                "topic": tone.topic.astype(np.int8),
                "sarcasm": tone.sarcasm,
            }
        )

    def flush(self, d: int) -> None:
        if self._events:
            ev = {k: np.concatenate([b[k] for b in self._events]) for k in self._events[0]}
            self._events = []
            o = np.lexsort((ev["cust"], ev["ts"]))
            ev = {k: v[o] for k, v in ev.items()}
            self._write(
                "events",
                pa.table(
                    {
                        "customer_id": format_ids(ev["cust"], "customer"),
                        "event_type": pa.array(list(E.EVENT_NAMES), pa.string()).take(pa.array(ev["k"])),
                        "occurred_at": pa.array(ev["ts"].view("datetime64[us]"), pa.timestamp("us")),
                        "related_id": format_related(ev["rel_ent"], ev["rel"]),
                        "magnitude": pa.array(ev["tmag"].astype(np.float64)),
                    }
                ),
            )
        if self._texts:
            t = {k: np.concatenate([b[k] for b in self._texts]) for k in self._texts[0]}
            self._texts = []
            t_end = self.w.t_end
            keep = t["ts"] < t_end
            t = {k: v[keep] for k, v in t.items()}
            o = np.lexsort((t["id"], t["src"], t["ts"]))
            t = {k: v[o] for k, v in t.items()}
            src = pa.array([s[0] for s in TEXT_SOURCES], pa.string()).take(pa.array(t["src"]))
            col = pa.array([s[1] for s in TEXT_SOURCES], pa.string()).take(pa.array(t["src"]))
            self._write(
                "texts",
                pa.table(
                    {
                        "source_table": src,
                        "source_column": col,
                        "id": format_related(t["ent"], t["id"]),
                        "customer_id": format_ids(t["cust"], "customer"),
                        "written_at": pa.array(t["ts"].view("datetime64[us]"), pa.timestamp("us")),
                        "language": pa.array(list(V.LANGS), pa.string()).take(pa.array(t["lang"])),
                        "sentiment": pa.array(list(SENTIMENTS), pa.string()).take(pa.array(t["sent"])),
                        "emotion": pa.array(list(E.EMOTIONS), pa.string()).take(pa.array(t["emo"])),
                        "intensity": pa.array(["low", "high"], pa.string()).take(pa.array(t["high"].astype(np.int8))),
                        "intent": pa.array(list(INTENTS), pa.string()).take(pa.array(t["intent"])),
                        "topic": pa.array(list(TOPICS), pa.string()).take(pa.array(t["topic"])),
                        "cause": pa.array(list(TEXT_CAUSES), pa.string()).take(pa.array(t["cause"])),
                        "sarcasm": pa.array(t["sarcasm"], pa.bool_()),
                        "latent_valence": pa.array(np.round(t["v"].astype(np.float64), 4)),
                    }
                ),
            )

    def close(self) -> None:
        self.flush(self.w.D)
        if self._churn:
            c = {k: np.concatenate([b[k] for b in self._churn]) for k in self._churn[0]}
            o = np.lexsort((c["cust"], c["ts"]))
            c = {k: v[o] for k, v in c.items()}
            table = pa.table(
                {
                    "customer_id": format_ids(c["cust"], "customer"),
                    "churned_at": pa.array(c["ts"].view("datetime64[us]"), pa.timestamp("us")),
                    "churn_driver": pa.array(list(CHURN_DRIVERS), pa.string()).take(pa.array(c["driver"])),
                    "valence_at_churn": pa.array(np.round(c["v"].astype(np.float64), 4)),
                }
            )
        else:
            table = pa.table(
                {
                    "customer_id": pa.array([], pa.string()),
                    "churned_at": pa.array([], pa.timestamp("us")),
                    "churn_driver": pa.array([], pa.string()),
                    "valence_at_churn": pa.array([], pa.float64()),
                }
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, self.folder / "churn.parquet", **_OPTS)
        self.rows["churn"] = table.num_rows
        pq.write_table(pa.table(E.effects_table()), self.folder / "event_effects.parquet", **_OPTS)
        self.rows["event_effects"] = len(E.EVENT_EFFECTS)
        pq.write_table(pa.table(activation.effects_table()), self.folder / "treatment_effects.parquet", **_OPTS)
        self.rows["treatment_effects"] = len(activation.TREATMENT_EFFECTS)
        for wr in self._writers.values():
            wr.close()
        self._writers = {}
