"""The CLI: every command has --help; read-only commands work without a warehouse."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from empathy import cli
from empathy.cli import app

runner = CliRunner()
COMMANDS = ["generate", "run", "gate", "build", "publish", "query", "docs", "version", "contract"]


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
