"""audit.runs, the ledger of pipeline runs, and the gate check that `empathy build` / `publish` pass first.

Every run (``empathy run``, ``build``, ``publish``) writes a 'started' row before it does anything and
updates it when it ends, however it ends. A run that is killed leaves its row 'started'; the next run,
which holds the run lock and so knows that no other run is active, marks it 'interrupted'.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

from empathy.config import Settings
from empathy.diskspace import disk_full
from empathy.publish import connect_warehouse

STARTED = "started"
INTERRUPTED = "interrupted"
FAILED = "failed"
# Statuses a run may still move on from; any other status recorded is final.
OPEN = (STARTED, "audited")


class GateNotPassed(RuntimeError):
    """The last gate run blocked publication; `empathy build` / `publish` refuse without --force."""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists audit")
    con.execute(
        """
        create table if not exists audit.runs (
            run_id varchar, started_at timestamp, finished_at timestamp, status varchar, message varchar
        )
        """
    )


def record_run(settings: Settings, run_id: str, started: datetime, status: str, message: str = "") -> None:
    """Write (or replace) the row of ``run_id``; a 'started' row has no finished_at yet."""
    con = connect_warehouse(settings.warehouse)
    try:
        _ensure(con)
        con.execute("delete from audit.runs where run_id = ?", [run_id])
        con.execute(
            "insert into audit.runs values (?, ?, ?, ?, ?)",
            [run_id, started, None if status == STARTED else _now(), status, message[:4000]],
        )
    finally:
        con.close()


def mark_interrupted(settings: Settings, run_id: str) -> int:
    """Rows other runs left 'started' become 'interrupted'; call it holding the run lock. Returns how many."""
    con = connect_warehouse(settings.warehouse)
    try:
        _ensure(con)
        stale = con.execute(
            "select count(*) from audit.runs where status = ? and run_id <> ?", [STARTED, run_id]
        ).fetchone()[0]
        con.execute(
            "update audit.runs set status = ?, message = left('stopped before it finished (killed, or the machine "
            "stopped); marked by run ' || ? || '. ' || coalesce(message, ''), 4000) "
            "where status = ? and run_id <> ?",
            [INTERRUPTED, run_id, STARTED, run_id],
        )
    finally:
        con.close()
    return stale


@dataclass
class RunRecord:
    settings: Settings
    run_id: str
    command: str
    started: datetime
    status: str = STARTED

    def record(self, status: str, message: str = "") -> None:
        record_run(self.settings, self.run_id, self.started, status, f"{self.command}: {message}")
        self.status = status


@contextlib.contextmanager
def recorded_run(settings: Settings, run_id: str, command: str, note: str = "") -> Iterator[RunRecord]:
    """A 'started' row now; on any exception that left the run open, a 'failed' / 'interrupted' row."""
    mark_interrupted(settings, run_id)
    rec = RunRecord(settings, run_id, command, _now())
    rec.record(STARTED, note or "started")
    try:
        yield rec
    except BaseException as exc:
        if rec.status in OPEN:
            status = INTERRUPTED if isinstance(exc, KeyboardInterrupt | SystemExit) else FAILED
            full = disk_full(exc, settings) if isinstance(exc, Exception) else None
            # Writing the row may fail too (a full disk): the run's own error matters more, and a row left
            # 'started' is marked 'interrupted' by the next run.
            with contextlib.suppress(Exception):
                rec.record(status, str(full) if full else f"{type(exc).__name__}: {exc}")
        raise


def last_gate_run(settings: Settings) -> tuple[str, str, str] | None:
    """(run_id, status, message) of the last gate run in the working database; None before any."""
    if not settings.warehouse.exists():
        return None
    con = connect_warehouse(settings.warehouse, read_only=True)
    try:
        return con.execute(
            "select run_id, status, coalesce(message, '') from audit.gate_runs "
            "order by finished_at desc nulls last, started_at desc limit 1"
        ).fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def check_gate(settings: Settings, command: str, force: bool) -> str:
    """'' when the last gate run passed (or none ran); a note for audit.runs when forced over a block.

    Raises GateNotPassed when the last gate run blocked publication and ``force`` is not set.
    """
    last = last_gate_run(settings)
    if last is None or last[1] != "blocked":
        return ""
    run_id, _, message = last
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    if force:
        # The first blocked file (or problem) names what is being published anyway.
        return f"--force over the blocked gate of run {run_id} ({' '.join(lines[:2])[:600]})"
    raise GateNotPassed(
        f"`{command}` refused: the last gate run ({run_id}) blocked publication, so the working database holds "
        f"rows that did not pass.\n{message}\nFix the landing files and run `empathy gate` (or `empathy run`) "
        f"again; or, knowingly, `{command} --force` (recorded in audit.runs)."
    )
