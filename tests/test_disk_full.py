"""A full disk gives one clear message (path, room left, what to free) and exit code 2, never a traceback."""

from __future__ import annotations

import errno
from importlib import import_module

import duckdb
import pytest
from typer.testing import CliRunner

from empathy import cli
from empathy.cli import app
from empathy.config import load_settings
from empathy.dbt import DbtFailed
from empathy.diskspace import DiskFull, disk_full, no_space
from tests.gate_helpers import customer, query, write_parquet

runner = CliRunner()
gate_ingest = import_module("empathy.gate.ingest")  # the module (the package exports the function by that name)
WAL = "/data/empathy/warehouse.duckdb.wal"


def _chained() -> duckdb.Error:
    """DuckDB's follow-up error ("invalidated") raised while handling the real one."""
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", WAL)
        except OSError as exc:
            raise duckdb.InvalidInputException("database has been invalidated") from exc
    except duckdb.Error as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "path"),
    [
        pytest.param(OSError(errno.ENOSPC, "No space left on device", WAL), WAL, id="oserror-enospc"),
        pytest.param(OSError(errno.EDQUOT, "Disk quota exceeded", WAL), WAL, id="oserror-quota"),
        pytest.param(
            duckdb.IOException(f'IO Error: Could not write file "{WAL}": No space left on device'), WAL, id="duckdb"
        ),
        pytest.param(_chained(), WAL, id="chained-under-invalidated"),
        pytest.param(
            DbtFailed('dbt build failed (exit 2)\n  {"msg": "IO Error: No space left on device"}'), None, id="dbt"
        ),
    ],
)
def test_out_of_space_errors_are_recognised_in_every_shape(exc, path):
    assert no_space(exc) == (True, path)


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(OSError(errno.EACCES, "Permission denied", WAL), id="permission"),
        pytest.param(duckdb.IOException('IO Error: Could not set lock on file "x.duckdb"'), id="lock"),
        pytest.param(ValueError("space"), id="other"),
    ],
)
def test_other_errors_are_not_taken_for_a_full_disk(exc, tmp_path):
    assert no_space(exc) == (False, None)
    assert disk_full(exc, load_settings(home=tmp_path)) is None


def test_the_message_names_the_path_the_room_left_and_what_to_free(tmp_path):
    settings = load_settings(home=tmp_path / "home", warehouse=tmp_path / "home" / "warehouse.duckdb")
    (tmp_path / "home" / "dbt" / "target").mkdir(parents=True)
    (tmp_path / "home" / "dbt" / "target" / "manifest.json").write_bytes(b"x" * 2500)
    full = disk_full(OSError(errno.ENOSPC, "No space left on device", str(settings.warehouse)), settings)
    assert isinstance(full, DiskFull)
    text = str(full)
    assert f"out of disk space writing {settings.warehouse}" in text
    assert " free of " in text
    assert f"{settings.dbt_target} (2.5 kB): dbt artefacts, made again by the next build: safe to delete" in text
    assert "nothing was published" in text and "EMPATHY_HOME" in text


@pytest.fixture
def home(tmp_path, monkeypatch):
    for var in ("EMPATHY_LANDING", "EMPATHY_WAREHOUSE", "EMPATHY_PUBLISHED"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EMPATHY_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cli.err, "width", 1000)
    settings = load_settings()
    write_parquet(settings.landing, "customers", "2024-06-01", [customer(1), customer(2)])
    return settings


def test_gate_on_a_full_disk_exits_2_with_one_message_and_loses_nothing(home, monkeypatch):
    def no_room(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(home.warehouse) + ".wal")

    real = gate_ingest._Run._insert_raw
    monkeypatch.setattr(gate_ingest._Run, "_insert_raw", no_room)
    result = runner.invoke(app, ["gate"])
    assert result.exit_code == 2, result.output
    assert f"out of disk space writing {home.warehouse}.wal" in result.output
    assert "Traceback" not in result.output and "Errno" not in result.output
    # The table's transaction was rolled back: nothing half-loaded, and the file is read again next time.
    assert query(home, "select count(*) from audit.load_log where file like 'customers/%'") == [(0,)]
    monkeypatch.setattr(gate_ingest._Run, "_insert_raw", real)  # space freed
    again = runner.invoke(app, ["gate"])
    assert again.exit_code == 0, again.output
    assert query(home, "select count(*) from raw.customers") == [(2,)]


def test_run_on_a_full_disk_marks_its_audit_row_failed(home, monkeypatch):
    from empathy import pipeline

    def no_room(*args, **kwargs):
        raise duckdb.IOException(f'IO Error: Could not write file "{home.warehouse}.wal": No space left on device')

    monkeypatch.setattr(pipeline, "ingest_step", no_room)
    result = runner.invoke(app, ["run", "--no-publish"])
    assert result.exit_code == 2, result.output
    assert f"out of disk space writing {home.warehouse}.wal" in result.output
    assert "Traceback" not in result.output
    rows = query(home, "select status, message from audit.runs")
    assert len(rows) == 1
    status, message = rows[0]
    assert status == "failed"
    assert message.startswith(f"empathy run: out of disk space writing {home.warehouse}.wal")


def test_a_run_whose_failure_cannot_be_recorded_still_reports_the_disk(home, monkeypatch):
    from empathy import pipeline, runs

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(home.landing))

    real = runs.record_run

    def record(settings, run_id, started, status, message=""):
        if status == runs.FAILED:
            raise duckdb.IOException("IO Error: could not write the run row")
        return real(settings, run_id, started, status, message)

    monkeypatch.setattr(pipeline, "ingest_step", no_room)
    monkeypatch.setattr(runs, "record_run", record)
    result = runner.invoke(app, ["run", "--no-publish"])
    assert result.exit_code == 2, result.output
    assert f"out of disk space writing {home.landing}" in result.output
    assert query(home, "select status from audit.runs") == [("started",)]  # the next run marks it interrupted
