"""MiniLM-L6 (a 6-layer BERT) in plain PyTorch with the accurate tier's two heads, for training and ONNX export.

Training-time only (`pip install -e 'python[train]'`): the runtime runs the exported ONNX graph with
onnxruntime and never imports this module. Weight names match the `model.safetensors` of
sentence-transformers/all-MiniLM-L6-v2, so the published weights load as they are.

Graph: token ids and mask in; the mean of the last layer over real tokens (the pooling all-MiniLM-L6-v2 was
trained with); one linear head per task; class probabilities out (softmax inside the graph).
"""

from __future__ import annotations

import math

import torch
from torch import nn

HIDDEN = 384
HEADS = 12
LAYERS = 6
INTERMEDIATE = 1536
VOCAB = 30522
POSITIONS = 512
EPS = 1e-12


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        size = HIDDEN // HEADS

        def split(t):
            return t.view(batch, length, HEADS, size).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(size) + additive_mask
        weights = torch.softmax(scores, dim=-1)
        return (weights @ v).transpose(1, 2).reshape(batch, length, HIDDEN)


class DenseNorm(nn.Module):
    """BERT's `output` block: dense, dropout, residual, LayerNorm."""

    def __init__(self, d_in: int, dropout: float):
        super().__init__()
        self.dense = nn.Linear(d_in, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=EPS)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class AttentionBlock(nn.Module):
    def __init__(self, dropout: float):
        super().__init__()
        self.self = Attention()
        self.output = DenseNorm(HIDDEN, dropout)

    def forward(self, x, additive_mask):
        return self.output(self.self(x, additive_mask), x)


class Intermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(HIDDEN, INTERMEDIATE)

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, dropout: float):
        super().__init__()
        self.attention = AttentionBlock(dropout)
        self.intermediate = Intermediate()
        self.output = DenseNorm(INTERMEDIATE, dropout)

    def forward(self, x, additive_mask):
        x = self.attention(x, additive_mask)
        return self.output(self.intermediate(x), x)


class Embeddings(nn.Module):
    def __init__(self, dropout: float):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, HIDDEN)
        self.position_embeddings = nn.Embedding(POSITIONS, HIDDEN)
        self.token_type_embeddings = nn.Embedding(2, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=EPS)
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class Encoder(nn.Module):
    def __init__(self, dropout: float):
        super().__init__()
        self.layer = nn.ModuleList(Layer(dropout) for _ in range(LAYERS))


class MiniLM(nn.Module):
    """The encoder with mean pooling: (ids, mask) -> (batch, 384)."""

    def __init__(self, dropout: float = 0.1):
        super().__init__()
        self.embeddings = Embeddings(dropout)
        self.encoder = Encoder(dropout)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        maskf = mask.to(torch.float32)
        additive = (1.0 - maskf)[:, None, None, :] * -1e4
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, additive)
        return (x * maskf[..., None]).sum(1) / maskf.sum(1, keepdim=True).clamp(min=1.0)


class Classifier(nn.Module):
    """MiniLM plus one linear head per task; `forward` gives logits, `Probabilities` wraps it for export."""

    def __init__(self, n_classes: dict[str, int], dropout: float = 0.1):
        super().__init__()
        self.tasks = list(n_classes)
        self.minilm = MiniLM(dropout)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({task: nn.Linear(HIDDEN, n) for task, n in n_classes.items()})

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = self.dropout(self.minilm(ids, mask))
        return {task: self.heads[task](pooled) for task in self.tasks}

    def load_minilm(self, state: dict[str, torch.Tensor]) -> None:
        """Load all-MiniLM-L6-v2's weights (its `pooler.*` and `position_ids` are not used)."""
        wanted = {k: v for k, v in state.items() if not k.startswith("pooler.") and not k.endswith("position_ids")}
        missing, unexpected = self.minilm.load_state_dict(wanted, strict=False)
        if missing or unexpected:
            raise ValueError(f"MiniLM weights do not match: missing {missing}, unexpected {unexpected}")


class Probabilities(nn.Module):
    """The exported graph: ids and mask in, one softmax per task out, in `tasks` order."""

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, ids: torch.Tensor, mask: torch.Tensor):
        logits = self.classifier(ids, mask)
        return tuple(torch.softmax(logits[task], dim=-1) for task in self.classifier.tasks)
