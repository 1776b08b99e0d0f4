"""The text model against a generated demo world's known truth (`<landing>/_truth/texts.parquet`).

The demo world is a check only: nothing here or in training reads the generator's phrase banks. Each truth row
names the raw table, column and record id of a customer-written text; the text is read back from the landing
folder, scored, and compared with what it truly expresses (intent, emotion, sarcasm).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from empathy.text.schema import EMOTIONS

NEGATIVE_EMOTIONS = ("anger", "sadness", "fear", "disgust")


def truth_texts(landing: Path, truth: Path) -> pd.DataFrame:
    """Truth rows with their `text`, read from the raw tables (the record id is each table's first column)."""
    labels = pd.read_parquet(truth / "texts.parquet")
    parts = []
    for (table, column), group in labels.groupby(["source_table", "source_column"], sort=True):
        dataset = ds.dataset(landing / table, format="parquet", partitioning="hive")
        key = dataset.schema.names[0]
        raw = dataset.to_table(columns=[key, column]).to_pandas().rename(columns={key: "id", column: "text"})
        parts.append(group.merge(raw.drop_duplicates("id"), on="id", how="inner"))
    if not parts:
        return labels.assign(text=pd.Series(dtype=str))
    out = pd.concat(parts, ignore_index=True)
    return out[out["text"].notna() & (out["text"].str.strip() != "")].reset_index(drop=True)


def recall_precision(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Recall and precision of boolean predictions (0 when there is nothing to divide by)."""
    hits = float(np.sum(truth & predicted))
    return hits / max(int(truth.sum()), 1), hits / max(int(predicted.sum()), 1)


def truth_figures(frame: pd.DataFrame, scored: pd.DataFrame, sarcasm_cut: float = 0.5) -> dict[str, float]:
    """Complaint, negative-emotion, dominant-emotion and sarcasm figures of scored texts against their truth."""
    from sklearn.metrics import f1_score

    figures: dict[str, float] = {"texts": float(len(frame))}
    is_complaint = frame["intent"].to_numpy() == "complaint"
    said = scored["intent"].to_numpy() == "complaint"
    figures["complaint recall"], figures["complaint precision"] = recall_precision(is_complaint, said)
    true_emotion = frame["emotion"].to_numpy()
    predicted_emotion = scored["dominant_emotion"].to_numpy()
    for emotion in NEGATIVE_EMOTIONS:
        figures[f"{emotion} recall"], _ = recall_precision(true_emotion == emotion, predicted_emotion == emotion)
    present = [e for e in EMOTIONS if (true_emotion == e).any()]
    figures["dominant-emotion macro-F1"] = float(
        f1_score(true_emotion, predicted_emotion, labels=present, average="macro", zero_division=0)
    )
    sarcastic = frame["sarcasm"].to_numpy(dtype=bool)
    flagged = scored["sarcasm_score"].to_numpy(dtype=float) >= sarcasm_cut
    figures["sarcasm flagged, sarcastic texts"] = float(flagged[sarcastic].mean()) if sarcastic.any() else 0.0
    figures["sarcasm flagged, other texts"] = float(flagged[~sarcastic].mean()) if (~sarcastic).any() else 0.0
    return figures
