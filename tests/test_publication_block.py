"""The publication block cannot be walked round: build and publish over a blocked gate, the run ledger."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import empathy
from empathy.cli import app
from empathy.publish import run_lock
from tests.gate_helpers import customer, query, settings_for, write_parquet

BAD = Path(__file__).parent / "bad_inputs"
runner = CliRunner()


@pytest.fixture
def s(tmp_path, monkeypatch):
    """A working database as a build left it (one mart), with the settings in the environment for the CLI."""
    s = settings_for(tmp_path / "home")
    write_parquet(s.landing, "customers", "2024-06-01", [customer(i) for i in range(1, 4)])
    for key, value in s.env().items():
        if key.startswith("EMPATHY_"):
            monkeypatch.setenv(key, value)
    con = duckdb.connect(str(s.warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.dim_customers as select 'c1' as customer_id")
    con.close()
    return s


def block_the_gate(s) -> None:
    folder = s.landing / "orders" / "day=2024-06-02"
    folder.mkdir(parents=True)
    shutil.copy(BAD / "orders_not_parquet.parquet", folder / "orders_not_parquet.parquet")
    gate = runner.invoke(app, ["gate"])
    assert gate.exit_code == 2, gate.output


def runs(s) -> list[tuple]:
    return query(s, "select status, message, finished_at is null from audit.runs order by started_at, run_id")


def test_build_and_publish_refuse_a_blocked_gate(s):
    block_the_gate(s)
    build = runner.invoke(app, ["build"])
    assert build.exit_code == 2, build.output
    assert "refused" in build.output and "orders_not_parquet.parquet" in build.output
    assert not (s.dbt_target / "run_results.json").exists()  # dbt never started
    publish = runner.invoke(app, ["publish"])
    assert publish.exit_code == 2, publish.output
    assert "--force" in publish.output
    assert not s.published.exists()


def test_publish_force_over_a_blocked_gate_is_recorded(s):
    block_the_gate(s)
    gate_run = query(s, "select run_id from audit.gate_runs")[0][0]
    forced = runner.invoke(app, ["publish", "--force"])
    assert forced.exit_code == 0, forced.output
    assert s.published.exists()
    [(status, message, open_)] = runs(s)
    assert (status, open_) == ("published", False)
    assert f"--force over the blocked gate of run {gate_run}" in message
    assert "orders_not_parquet.parquet" in message
    # The published copy carries the note too (its audit.runs row was written before the copy).
    con = duckdb.connect(str(s.published), read_only=True)
    try:
        [(pub_status, pub_message)] = con.execute("select status, message from audit.runs").fetchall()
    finally:
        con.close()
    assert pub_status == "started" and "--force over the blocked gate" in pub_message


def test_publish_after_a_passed_gate_needs_no_force(s):
    gate = runner.invoke(app, ["gate"])
    assert gate.exit_code == 0, gate.output
    result = runner.invoke(app, ["publish"])
    assert result.exit_code == 0, result.output
    assert [r[0] for r in runs(s)] == ["published"]


def test_build_takes_the_run_lock(s):
    with run_lock(s):
        result = runner.invoke(app, ["build"])
    assert result.exit_code == 1, result.output
    assert "another empathy run holds" in result.output
    assert not (s.dbt_target / "run_results.json").exists()


def test_failed_publish_leaves_a_failed_row(s, monkeypatch):
    from empathy import pipeline

    def broken(*_args, **_kw):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(pipeline, "publish", broken)
    result = runner.invoke(app, ["publish"])
    assert result.exit_code == 1, result.output
    [(status, message, open_)] = runs(s)
    assert (status, open_) == ("failed", False)
    assert "disk full (simulated)" in message


def test_killed_publish_stays_started_and_the_next_run_marks_it_interrupted(s):
    child = (
        "import os, signal\n"
        "from empathy import pipeline\n"
        "from empathy.config import load_settings\n"
        "pipeline.publish = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "pipeline.publish_only(load_settings())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(empathy.__file__).parents[1])}
    killed = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    [(status, message, open_)] = runs(s)
    assert (status, open_) == ("started", True)
    assert message.startswith("empathy publish:")
    result = runner.invoke(app, ["publish"])
    assert result.exit_code == 0, result.output
    (first, first_message, _), (second, _, _) = runs(s)
    assert (first, second) == ("interrupted", "published")
    assert "stopped before it finished" in first_message


def test_dbt_leftovers_are_dropped_and_never_published(s):
    con = duckdb.connect(str(s.warehouse))
    con.execute("create table marts.dim_customers__dbt_tmp as select 'half-built' as customer_id")
    con.execute("create view marts.dim_customers__dbt_backup as select 'old' as customer_id")
    con.close()
    result = runner.invoke(app, ["publish"])
    assert result.exit_code == 0, result.output
    for db in (s.warehouse, s.published):
        con = duckdb.connect(str(db), read_only=True)
        try:
            names = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        finally:
            con.close()
        assert "dim_customers" in names
        assert not [n for n in names if "__dbt_" in n], (db, names)
