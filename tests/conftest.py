"""Shared fixtures: isolated settings per test and a small generated world."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from empathy.config import Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_DIR.parent / "shared" / "data"
WORLD_END = date(2026, 6, 30)

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Worlds that are not the demo world need a salt to publish (empathy.privacy); tests of the rule unset it.
os.environ.setdefault("EMPATHY_PII_SALT", "salt-for-tests-only-not-secret")


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of `sql` on a database file, opened read-only (what a BI tool does)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def make_settings(home: Path, landing: Path | None = None) -> Settings:
    """Settings whose every path lives under `home` (never the developer's .empathy/)."""
    home.mkdir(parents=True, exist_ok=True)
    return load_settings(
        home=home,
        landing=landing or home / "landing",
        warehouse=home / "warehouse.duckdb",
        published=home / "published" / "empathy.duckdb",
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """A small but complete demo world (all tables), generated once per test session."""
    from empathy.generate import generate

    out = tmp_path_factory.mktemp("world") / "landing"
    generate(out, customers=400, days=90, seed=7, sector="retail", end_date=WORLD_END)
    return out


@pytest.fixture(scope="session")
def published_world(tmp_path_factory, small_world) -> Settings:
    """The small world run end to end once per test session (gate, dbt build, publish); read it, never write it.
    A 30-day churn horizon and history let the churn and next-action models train on its 90 days."""
    from rich.console import Console

    from empathy.pipeline import run

    settings = make_settings(tmp_path_factory.mktemp("published_world"), landing=small_world)
    settings.options["dbt"]["vars"] = {"backtest_origins": 1, "churn_horizon_days": 30, "min_history_days": 30}
    with open(os.devnull, "w") as quiet:
        run(settings, Console(file=quiet))
    return settings
