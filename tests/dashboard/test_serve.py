"""Starting the dashboard: the command refuses without a publication, and serves the app headless on localhost."""

from __future__ import annotations

from typer.testing import CliRunner

from empathy.cli import app
from empathy.dashboard.serve import APP, streamlit_command


def test_dashboard_without_a_publication_says_to_run_first(tmp_path, monkeypatch):
    monkeypatch.setenv("EMPATHY_PUBLISHED", str(tmp_path / "published" / "empathy.duckdb"))
    result = CliRunner().invoke(app, ["dashboard"])
    assert result.exit_code == 1
    assert "nothing published yet" in result.output and "empathy run" in result.output


def test_streamlit_runs_the_app_headless_on_the_given_port():
    command = streamlit_command(8765)
    assert command[command.index("run") + 1] == str(APP) and APP.exists()
    assert "--server.headless=true" in command and "--server.port=8765" in command
    assert "--server.address=127.0.0.1" in command
