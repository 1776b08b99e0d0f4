"""Text normalisation and the scoring-cache key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_WS = re.compile(r"\s+")


def normalise_text(text: str | None) -> str:
    """Collapse whitespace and strip; the model sees this form and the cache keys on it."""
    if text is None:
        return ""
    return _WS.sub(" ", str(text)).strip()


def text_hash(text: str | None) -> str:
    """sha256 hex of the normalised text: two texts differing only in whitespace share one score."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def text_hashes(texts: Iterable[str | None]) -> list[str]:
    return [text_hash(t) for t in texts]
