"""Shared fixtures: isolated settings per test and a small generated world.

A world built end to end takes minutes; `shared` builds each distinct one once per test session, across the xdist
workers (a file lock in the session's shared temporary folder), and every module that reads it gets the same
folders. A module whose tests write to a built world takes a copy of its home (`copy_home`: seconds).
`pytest_collection_modifyitems` starts the slowest modules first.
"""

from __future__ import annotations

import copy
import fcntl
import os
import pickle
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

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


# -- worlds shared across modules and xdist workers ------------------------------------------------------------------
def _shared_root(tmp_path_factory) -> Path:
    """A folder every worker of this test session sees (the xdist workers' temp folders share a parent)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    root = base / "shared-worlds"
    root.mkdir(parents=True, exist_ok=True)
    return root


def shared(tmp_path_factory, key: str, build: Callable[[Path], Any]) -> Any:
    """`build(folder)` run once per test session across xdist workers, its (picklable) result handed to every caller.
    The first caller builds under an exclusive file lock while the others wait; a failed build is recorded and
    raised (a skip skips) in every caller, never built again. EMPATHY_TEST_WORLD_LOG names a file that gets one
    line per build (how many worlds a run builds)."""
    root = _shared_root(tmp_path_factory)
    folder = root / key
    done = root / f"{key}.pickle"
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                start = time.monotonic()
                try:
                    outcome = ("ok", build(folder))
                except pytest.skip.Exception as exc:
                    outcome = ("skip", str(exc))
                except Exception:
                    outcome = ("error", traceback.format_exc())
                _log_build(key, time.monotonic() - start, outcome[0])
                tmp = done.with_suffix(".tmp")
                tmp.write_bytes(pickle.dumps(outcome))
                tmp.rename(done)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    kind, value = pickle.loads(done.read_bytes())
    if kind == "skip":
        pytest.skip(value)
    if kind == "error":
        raise RuntimeError(f"the shared world {key!r} failed to build (once for every module that reads it):\n{value}")
    return value


def _log_build(key: str, seconds: float, outcome: str) -> None:
    line = f"world {key} built in {seconds:.0f}s ({outcome}) by {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\n"
    sys.stderr.write(line)
    path = os.environ.get("EMPATHY_TEST_WORLD_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line)


def build_world(home: Path, landing: Path, dbt_vars: dict | None = None):
    """Gate, dbt build and publish of `landing` in `home`: (settings, run summary)."""
    from rich.console import Console

    from empathy.pipeline import run

    settings = make_settings(home, landing=landing)
    if dbt_vars is not None:
        settings.options["dbt"]["vars"] = dict(dbt_vars)
    with open(os.devnull, "w") as quiet:
        return settings, run(settings, Console(file=quiet))


def copy_home(settings: Settings, home: Path) -> Settings:
    """A writable copy of a built world: its home copied to `home` (working and published databases, dbt target),
    the same landing folder and options (dbt vars)."""
    shutil.copytree(settings.home, home, ignore=shutil.ignore_patterns("dashboard-*.log"))
    copied = make_settings(home, landing=settings.landing)
    copied.options = copy.deepcopy(settings.options)
    return copied


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """A small but complete demo world (all tables), generated once per test session; read it, never write it."""
    from empathy.generate import generate

    def build(folder: Path) -> Path:
        out = folder / "landing"
        generate(out, customers=400, days=90, seed=7, sector="retail", end_date=WORLD_END)
        return out

    return shared(tmp_path_factory, "small_world", build)


@pytest.fixture(scope="session")
def small_built(tmp_path_factory, small_world):
    """The small world run end to end with the default settings (gate, dbt build, publish), once per test session:
    (settings, run summary). Read it, never write it: `copy_home` gives a writable copy."""
    return shared(tmp_path_factory, "small_built", lambda folder: build_world(folder / "home", small_world))


@pytest.fixture(scope="session")
def customers_only_built(tmp_path_factory, small_world):
    """A company that sends only customers (the small world's customers folder) run end to end with the default
    settings, once per test session: (settings, run summary). Read it, never write it."""

    def build(folder: Path):
        landing = folder / "landing"
        shutil.copytree(small_world / "customers", landing / "customers")
        return build_world(folder / "home", landing)

    return shared(tmp_path_factory, "customers_only_built", build)


@pytest.fixture(scope="session")
def published_world(tmp_path_factory, small_world) -> Settings:
    """The small world run end to end once per test session (gate, dbt build, publish); read it, never write it.
    A 30-day churn horizon and history let the churn and next-action models train on its 90 days."""
    dbt_vars = {"backtest_origins": 1, "churn_horizon_days": 30, "min_history_days": 30}
    return shared(tmp_path_factory, "published_world", lambda f: build_world(f / "home", small_world, dbt_vars))[0]


# -- the order modules start in -------------------------------------------------------------------------------------
# Under `--dist loadfile --no-loadscope-reorder` (make test) each worker takes the next module in this order: the
# slowest first (worlds built end to end, measured in CI), a module that reads a world another builds after the
# builder, so it finds the world ready instead of waiting on the lock. The other modules keep their order.
SLOW_FIRST = (
    "tests/test_real_shaped_worlds.py",  # six worlds
    "tests/test_text_marts.py",  # builds small_built and customers_only_built
    "tests/test_predict_marts.py",  # builds predict_built
    "tests/test_determinism.py",  # two builds and a rerun
    "tests/test_pipeline.py",  # reads small_built and customers_only_built; reruns in its tests
    "tests/test_erasure.py",
    "tests/test_orchestration.py",
    "tests/dashboard/test_browser.py",  # builds published_world
    "tests/test_byo_extras.py",
    "tests/test_status.py",
    "tests/test_published_privacy.py",
    "tests/test_model_card.py",  # reads predict_built
    "tests/test_state_marts.py",  # reads small_built
    "tests/test_fairness.py",  # reads small_built
    "tests/test_predict_subscriptions_only.py",
    "tests/test_export_shapes.py",
    "tests/test_as_of_date.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {module: i for i, module in enumerate(SLOW_FIRST)}
    # stable: the other modules keep their order
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
