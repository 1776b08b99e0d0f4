"""The accurate tier's encoder at run time: a fast tokenizer and an int8 ONNX graph, no PyTorch.

Each text runs on its own (batch of one, no padding). Dynamic int8 quantisation scales a layer's inputs by
the range of the whole input tensor, so in a batch one text's probabilities would depend on the other texts
and on the padding; alone, a text's probabilities depend on that text only. Two texts run at a time, each
on one thread (onnxruntime releases the GIL), which on short texts beats one text on two threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

MAX_LEN = 64


def scoring_threads() -> int:
    """Texts scored at once (`EMPATHY_TEXT_THREADS`, default 2: the machines this runs on have two cores)."""
    return max(1, int(os.environ.get("EMPATHY_TEXT_THREADS", "2")))


class OnnxEncoder:
    """Class probabilities per task for each text, from `encoder.int8.onnx` and `tokenizer.json` in `path`."""

    def __init__(self, path: Path, tasks: list[str], max_len: int = MAX_LEN, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tasks = tasks
        self.threads = threads or scoring_threads()
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_len)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(
            str(path / "encoder.int8.onnx"), options, providers=["CPUExecutionProvider"]
        )
        outputs = [o.name for o in self.session.get_outputs()]
        if outputs != tasks:
            raise ValueError(f"{path / 'encoder.int8.onnx'}: outputs {outputs}, expected {tasks}")

    def _one(self, ids: list[int]) -> list[np.ndarray]:
        array = np.asarray([ids], dtype=np.int64)
        feeds = {"input_ids": array, "attention_mask": np.ones_like(array)}
        return self.session.run(None, feeds)

    def probabilities(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Per task, (len(texts), classes) float64 probabilities."""
        if not texts:
            return {task: np.zeros((0, 0)) for task in self.tasks}
        encoded = [e.ids for e in self.tokenizer.encode_batch(texts)]
        if self.threads == 1:
            results = [self._one(ids) for ids in encoded]
        else:
            with ThreadPoolExecutor(self.threads) as pool:
                results = list(pool.map(self._one, encoded))
        return {task: np.concatenate([r[k] for r in results]).astype(np.float64) for k, task in enumerate(self.tasks)}
