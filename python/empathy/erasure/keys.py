"""The erasure key and the keyed hash that tombstones and audit.erasures store instead of an id.

hash = sha256 hex of ``key | kind | value``. The key comes from EMPATHY_ERASURE_KEY or, when that is unset, from
``$EMPATHY_HOME/erasure.key`` (32 random bytes as hex, created on the first erasure, readable by its owner only).
Without the key a tombstone cannot be matched to an id, and ids cannot be found by hashing guesses.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from empathy.config import Settings

ENV = "EMPATHY_ERASURE_KEY"


class ErasureKeyMissing(RuntimeError):
    """Tombstones exist but the key that made them is gone."""


def key_path(settings: Settings) -> Path:
    return settings.home / "erasure.key"


def erasure_key(settings: Settings, create: bool = False) -> str:
    """The key: EMPATHY_ERASURE_KEY, else the key file (made when ``create``)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return env
    path = key_path(settings)
    if path.exists():
        text = path.read_text().strip()
        if text:
            return text
        raise ErasureKeyMissing(f"the erasure key file {path} is empty; restore it from a backup or set {ENV}")
    if not create:
        raise ErasureKeyMissing(
            f"the working database holds erasure tombstones but their key is missing: neither {ENV} is set nor "
            f"{path} exists. Restore the key file (or set {ENV} to the key used by `empathy forget`); without it "
            "the gate cannot keep erased customers out"
        )
    settings.home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def keyed_hash(key: str, kind: str, value: str) -> str:
    """sha256 hex of ``key|kind|value``; the same as :func:`keyed_hash_sql` computes in DuckDB."""
    return hashlib.sha256(f"{key}|{kind}|{value}".encode()).hexdigest()


def keyed_hash_sql(key_literal: str, kind_literal: str, value_sql: str) -> str:
    """The DuckDB expression of :func:`keyed_hash` (arguments are SQL: two literals and a varchar expression)."""
    return f"sha256({key_literal} || '|' || {kind_literal} || '|' || {value_sql})"
