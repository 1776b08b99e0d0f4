"""Export the fine-tuned classifier to ONNX, quantise it to int8, and tune its decision offsets on the int8 graph.

Training-time only (imports PyTorch). The offsets are tuned on what runs in production (the int8 graph through
`empathy.text.encoder`), on the seeded slice of the training rows kept out of fine-tuning.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from empathy.text.encoder import OnnxEncoder
from empathy.text.train import tune_bias

OPSET = 17


def export_int8(model, target: Path, tasks: list[str]) -> None:
    """Write `target`: the classifier as an ONNX graph (ids, mask -> one softmax per task), weights in int8."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from empathy.text.minilm_torch import Probabilities

    wrapped = Probabilities(model).eval()
    ids = torch.ones((1, 8), dtype=torch.int64)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "encoder.fp32.onnx"
        torch.onnx.export(
            wrapped,
            (ids, torch.ones_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=tasks,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
            opset_version=OPSET,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gather"])


def tune_offsets(
    artifacts: Path, rows: list, task_classes: dict[str, list[str]], max_len: int, threads: int
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Per task, log-offsets maximising macro-F1 on `rows` (their single-label rows), and the macro-F1 reached."""
    from sklearn.metrics import f1_score

    encoder = OnnxEncoder(artifacts, list(task_classes), max_len=max_len, threads=threads)
    offsets, figures = {}, {}
    for task, classes in task_classes.items():
        chosen = [r for r in rows if task in r.targets and r.targets[task].max() == 1.0]
        p = encoder.probabilities([r.text for r in chosen])[task]
        y = np.array([int(r.targets[task].argmax()) for r in chosen])
        offsets[task] = tune_bias(p, y, len(classes))
        decided = (np.log(np.clip(p, 1e-12, None)) + offsets[task]).argmax(1)
        figures[task] = {
            "rows": len(chosen),
            "macro_f1_argmax": round(float(f1_score(y, p.argmax(1), average="macro")), 4),
            "macro_f1_with_offsets": round(float(f1_score(y, decided, average="macro")), 4),
        }
    return offsets, figures
