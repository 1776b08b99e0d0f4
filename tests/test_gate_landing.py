"""Landing files are read, never followed: literal names, refused symlinks, hidden files logged as ignored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import empathy
from empathy.gate import ingest
from tests.gate_helpers import NOW, customer, order, query, settings_for, write_bytes, write_parquet
from tests.test_gate import assert_nothing_lost

DAY = "2024-06-01"
GLOB_NAMES = ["export[1].parquet", "export?.parquet", "*.parquet", "export1.parquet", "[a-z]*.parquet"]


@pytest.fixture
def s(tmp_path):
    return settings_for(tmp_path / "home")


def run(settings):
    return ingest(settings, now=NOW)


def ignored_rows(settings):
    return query(
        settings,
        "select file, message, rows_read, rows_loaded, rows_quarantined from audit.load_log "
        "where status = 'ignored' order by file",
    )


def test_glob_characters_in_file_names_load_literally(s):
    # Each file holds its own customers; a name read as a glob would read other files or none.
    for k, name in enumerate(GLOB_NAMES):
        write_parquet(s.landing, "customers", DAY, [customer(10 * k + i) for i in range(1, k + 2)], name=name)
    csv_rows = "customer_id,created_at,updated_at,email,gender,country,segment\n"
    for name, ids in (("c[1].csv", (901, 902)), ("c1.csv", (903,)), ("c?.csv", (904,))):
        body = "".join(
            f"c{i},2024-06-01 10:00:00,2024-06-01 10:00:00,c{i}@example.com,female,DE,consumer\n" for i in ids
        )
        write_bytes(s.landing, "customers", DAY, name, (csv_rows + body).encode())
    write_parquet(s.landing, "orders", "2024-06-02", [order(1, customer_id="c1")], name="orders[2024].parquet")
    report = run(s)
    report.raise_if_blocked()
    per_file = dict(query(s, "select file, rows_loaded from audit.load_log where status = 'loaded'"))
    expected = {f"customers/day={DAY}/{name}": k + 1 for k, name in enumerate(GLOB_NAMES)}
    expected |= {f"customers/day={DAY}/c[1].csv": 2, f"customers/day={DAY}/c1.csv": 1, f"customers/day={DAY}/c?.csv": 1}
    expected |= {"orders/day=2024-06-02/orders[2024].parquet": 1}
    assert per_file == expected
    assert query(s, "select count(*), count(distinct customer_id) from raw.customers")[0] == (19, 19)
    assert_nothing_lost(s)


def test_symlinks_are_refused_never_followed(s, tmp_path):
    outside = tmp_path / "outside"
    write_parquet(outside, "customers", DAY, [customer(i) for i in range(100, 105)])
    write_parquet(s.landing, "customers", DAY, [customer(1)])
    folder = s.landing / "customers" / f"day={DAY}"
    os.symlink("/etc/passwd", folder / "passwd.csv")
    os.symlink(outside / "customers" / f"day={DAY}" / "part-0.parquet", folder / "linked.parquet")
    os.symlink(outside / "customers" / f"day={DAY}", s.landing / "customers" / "day=2024-06-05")
    os.symlink(outside / "customers", s.landing / "orders")
    report = run(s)
    report.raise_if_blocked()
    assert query(s, "select customer_id from raw.customers") == [("c1",)]
    assert query(s, "select count(*) from audit.quarantine")[0][0] == 0
    assert query(s, "select count(*) from audit.quarantine where row_json like '%root:%'")[0][0] == 0
    rows = ignored_rows(s)
    assert [r[0] for r in rows] == [
        "customers/day=2024-06-01/linked.parquet",
        "customers/day=2024-06-01/passwd.csv",
        "customers/day=2024-06-05",
        "orders",
    ]
    for _file, message, read, loaded, quarantined in rows:
        assert "refused: a symbolic link" in message
        assert (read, loaded, quarantined) == (0, 0, 0)
    assert "/etc/passwd" in rows[1][1]
    assert any("passwd.csv" in note for note in report.notes)
    assert_nothing_lost(s)


def test_special_files_are_refused(s):
    write_parquet(s.landing, "customers", DAY, [customer(1)])
    os.mkfifo(s.landing / "customers" / f"day={DAY}" / "pipe.csv")  # opening it to read waits for a writer
    env = {
        **os.environ,
        **s.env(),
        "PYTHONPATH": os.pathsep.join([str(Path(empathy.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
    }
    try:
        gate = subprocess.run(
            [sys.executable, "-m", "empathy.cli", "gate"], env=env, capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the gate hangs on a named pipe in the landing folder")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert [(r[0], "not a regular file" in r[1]) for r in ignored_rows(s)] == [(f"customers/day={DAY}/pipe.csv", True)]


def test_hidden_files_are_logged_as_ignored_once(s):
    write_parquet(s.landing, "customers", DAY, [customer(1)])
    write_parquet(s.landing, "customers", DAY, [customer(2)], name=".hidden.parquet")
    write_bytes(s.landing, "customers", DAY, ".part-0.parquet.crc", b"junk")
    write_bytes(s.landing, "customers", DAY, "_SUCCESS", b"")
    write_parquet(s.landing / "customers", ".staging", DAY, [customer(3)])
    report = run(s)
    report.raise_if_blocked()
    assert query(s, "select customer_id from raw.customers") == [("c1",)]
    rows = ignored_rows(s)
    assert [r[0] for r in rows] == [
        "customers/.staging",
        f"customers/day={DAY}/.hidden.parquet",
        f"customers/day={DAY}/.part-0.parquet.crc",
    ]
    assert all("hidden" in r[1] for r in rows)
    assert len(report.ignored) == 3
    # Listed once, not at every run; listed again when the file changes.
    run(s)
    assert len(ignored_rows(s)) == 3
    write_bytes(s.landing, "customers", DAY, ".part-0.parquet.crc", b"other junk")
    run(s)
    assert len(ignored_rows(s)) == 4
    assert_nothing_lost(s)
