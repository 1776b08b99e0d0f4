"""The CLI: every command has --help; read-only commands work without a warehouse."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from empathy import cli
from empathy.cli import app

runner = CliRunner()
COMMANDS = ["generate", "run", "gate", "build", "publish", "query", "docs", "version", "contract", "model-card"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_contract_show_lists_rules(monkeypatch):
    monkeypatch.setattr(cli.console, "width", 300)
    result = runner.invoke(app, ["contract", "show", "orders"])
    assert result.exit_code == 0, result.output
    assert "references customers.customer_id" in result.output


def test_unknown_sector_is_a_clear_error(tmp_path):
    result = runner.invoke(
        app, ["generate", "--customers", "10", "--days", "5", "--sector", "mining", "--out", str(tmp_path / "w")]
    )
    assert result.exit_code == 1
    assert "mining" in result.output


def test_query_before_anything_is_published(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPATHY_HOME", str(tmp_path))
    monkeypatch.delenv("EMPATHY_PUBLISHED", raising=False)
    result = runner.invoke(app, ["query", "select 1"])
    assert result.exit_code == 1
    assert "nothing published yet" in result.output


@pytest.fixture
def published(tmp_path, monkeypatch):
    """A small published database, pointed at by EMPATHY_PUBLISHED."""
    import duckdb

    path = tmp_path / "published" / "empathy.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.dim_customers as select * from (values ('c1', 'DE', 10.5, null), "
        "('c2', 'FR', 2.0, 'vip, \"gold\"')) t(customer_id, country, value, note)"
    )
    con.close()
    monkeypatch.setenv("EMPATHY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMPATHY_PUBLISHED", str(path))
    return path


@pytest.mark.parametrize(
    "sql",
    [
        "copy marts.dim_customers to '{out}/stolen.csv'",
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        "attach '{out}/other.duckdb' as other",
        "install httpfs",
        "load httpfs",
        "set enable_external_access = true",
    ],
)
def test_query_refuses_files_attach_and_extensions(published, tmp_path, sql):
    result = runner.invoke(app, ["query", sql.format(out=tmp_path)])
    assert result.exit_code == 1, result.output
    assert "refused" in result.output
    assert "Traceback" not in result.output
    assert "root:" not in result.output
    assert not (tmp_path / "stolen.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_query_formats_print_every_column(published, monkeypatch):
    import csv
    import io
    import json

    monkeypatch.setattr(cli.console, "width", 200)
    sql = "select * from marts.dim_customers order by customer_id"
    as_csv = runner.invoke(app, ["query", "--format", "csv", sql])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows == [
        ["customer_id", "country", "value", "note"],
        ["c1", "DE", "10.5", ""],
        ["c2", "FR", "2.0", 'vip, "gold"'],
    ]
    as_json = runner.invoke(app, ["query", "--format", "json", sql])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == [
        {"customer_id": "c1", "country": "DE", "value": 10.5, "note": None},
        {"customer_id": "c2", "country": "FR", "value": 2.0, "note": 'vip, "gold"'},
    ]
    as_table = runner.invoke(app, ["query", sql])
    assert as_table.exit_code == 0, as_table.output
    for word in ("customer_id", "country", "value", "note", "c2", "FR"):
        assert word in as_table.output
    bad = runner.invoke(app, ["query", "--format", "xml", sql])
    assert bad.exit_code == 1
    assert "table, csv, json" in bad.output


def test_query_while_another_process_writes_the_file(published):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(published)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = runner.invoke(app, ["query", "select 1"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1, result.output
    assert "held open for writing by another process" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_docs_before_any_run_is_an_error_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPATHY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EMPATHY_WAREHOUSE", raising=False)
    result = runner.invoke(app, ["docs"])
    assert result.exit_code == 1
    assert "no working database" in result.output and "empathy run" in result.output
    assert not list((tmp_path / "home").rglob("*.duckdb"))


def test_gate_summary_is_one_table_not_a_dict_per_table():
    from rich.console import Console

    from empathy.cli import gate_table

    rows = [
        {
            "table": "orders",
            "files": 3,
            "files_read": 2,
            "rows_read": 1200,
            "rows_loaded": 1190,
            "rows_quarantined": 10,
            "status": "loaded",
        },
        {
            "table": "tickets",
            "files": 1,
            "files_read": 1,
            "rows_read": 0,
            "rows_loaded": 0,
            "rows_quarantined": 0,
            "status": "empty",
        },
    ]
    console = Console(width=120, record=True)
    console.print(gate_table(rows))
    text = console.export_text()
    assert "{" not in text and "orders" in text and "1,190" in text and "2 of 3" in text
    assert len(text.strip().splitlines()) < 12
