"""What one gate run did: per file, per table, and whether publication is blocked."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

# load_log statuses
LOADED = "loaded"
EMPTY = "empty"
REJECTED = "rejected"
BLOCKED = "blocked"
SKIPPED = "skipped_unchanged"
UNKNOWN_TABLE = "unknown_table"
IGNORED = "ignored"  # hidden files and refused entries (symlinks, special files): never read
STATUSES = (LOADED, EMPTY, REJECTED, BLOCKED, SKIPPED, UNKNOWN_TABLE, IGNORED)


class GateBlocked(RuntimeError):
    """Publication is blocked: one or more landing files failed the data-quality gate."""

    def __init__(self, message: str, blocked: list[FileResult] | None = None) -> None:
        super().__init__(message)
        self.blocked = blocked or []


@dataclass
class FileResult:
    """One landing file (or one unknown folder) and what the gate did with it."""

    table: str
    file: str  # path relative to the landing folder
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_erased: int = 0  # dropped as read: a tombstone of `empathy forget` names them
    failure_rate: float = 0.0
    message: str = ""
    file_hash: str | None = None
    top_rules: list[tuple[str, int]] = field(default_factory=list)
    # The file's current state blocks publication (for an unchanged file: the state it was left in).
    blocking: bool = False
    # Run that read the file (an earlier run for an unchanged file).
    run_id: str | None = None
    # For an unchanged file: the status it got when it was read.
    previous_status: str | None = None
    # Rows checked and rows failing a rule when the file was read (for an unchanged file, the
    # figures of the run that read it).
    rows_checked: int = 0
    rows_failed: int = 0

    def check_invariant(self) -> None:
        if self.rows_loaded + self.rows_quarantined + self.rows_erased != self.rows_read:
            raise AssertionError(
                f"gate bookkeeping error for {self.file}: {self.rows_loaded} loaded + "
                f"{self.rows_quarantined} quarantined + {self.rows_erased} erased != {self.rows_read} read"
            )

    def blocked_line(self, max_failure_rate: float) -> str:
        if self.status == REJECTED or self.previous_status == REJECTED:
            return f"{self.file}: {self.message}"
        rules = ", ".join(f"{r} ({n:,} rows)" for r, n in self.top_rules[:3]) or "see audit.quarantine"
        when = "" if self.previous_status is None else f" (unchanged since run {self.run_id})"
        return (
            f"{self.file}: {self.rows_failed:,} of {self.rows_checked:,} rows ({self.failure_rate:.1%}) "
            f"rejected{when}, "
            f"top rule {rules}; limit gate.max_failure_rate = {max_failure_rate:g}"
        )


@dataclass
class IngestReport:
    run_id: str
    started_at: datetime
    max_failure_rate: float
    finished_at: datetime | None = None
    files: list[FileResult] = field(default_factory=list)
    # audit.gate_results rows written by this run (dicts)
    checks: list[dict] = field(default_factory=list)
    # Problems that are not tied to one file (e.g. the required table is missing); they block.
    problems: list[str] = field(default_factory=list)
    # Informational notes (skipped checks, unknown folders, ...).
    notes: list[str] = field(default_factory=list)
    # Hidden and refused landing entries (never read), with the reason.
    ignored: list[FileResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def blocked(self) -> list[FileResult]:
        return [f for f in self.files if f.blocking]

    @property
    def ok(self) -> bool:
        return not self.blocked and not self.problems

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def blocked_message(self) -> str:
        lines = [f.blocked_line(self.max_failure_rate) for f in self.blocked]
        shown = lines[:50]
        if len(lines) > len(shown):
            shown.append(f"... and {len(lines) - len(shown)} more files (see audit.load_log)")
        parts = []
        if lines:
            parts.append(
                f"gate blocked publication: {len(lines)} landing file(s) failed the data-quality gate:\n  "
                + "\n  ".join(shown)
                + "\nThe valid rows are loaded in the working database; every rejected row is in "
                "audit.quarantine with its rule, row number and a fix. Fix the file(s) and re-run (a changed "
                "file replaces its earlier rows), or raise gate.max_failure_rate in empathy.yml."
            )
        if self.problems:
            parts.append("gate blocked publication:\n  " + "\n  ".join(self.problems))
        return "\n".join(parts)

    def raise_if_blocked(self) -> None:
        if not self.ok:
            raise GateBlocked(self.blocked_message(), self.blocked)

    def summary_rows(self) -> list[dict]:
        """One row per table: files, rows_read, rows_loaded, rows_quarantined, status (this run)."""
        by_table: dict[str, list[FileResult]] = defaultdict(list)
        for f in self.files:
            by_table[f.table].append(f)
        rows = []
        for table, files in by_table.items():
            statuses = {f.status for f in files}
            if any(f.blocking for f in files):
                status = BLOCKED
            elif statuses == {UNKNOWN_TABLE}:
                status = UNKNOWN_TABLE
            elif statuses <= {SKIPPED}:
                status = SKIPPED
            elif statuses <= {EMPTY, SKIPPED}:
                status = EMPTY
            else:
                status = LOADED
            rows.append(
                {
                    "table": table,
                    "files": len(files),
                    "files_read": sum(f.status not in (SKIPPED, UNKNOWN_TABLE) for f in files),
                    "rows_read": sum(f.rows_read for f in files),
                    "rows_loaded": sum(f.rows_loaded for f in files),
                    "rows_quarantined": sum(f.rows_quarantined for f in files),
                    "status": status,
                }
            )
        return rows

    def __str__(self) -> str:
        head = (
            f"gate run {self.run_id}: {len(self.files)} files, {self.rows_read:,} rows read, "
            f"{self.rows_loaded:,} loaded, {self.rows_quarantined:,} quarantined"
        )
        if self.ok:
            return head + ", publication allowed"
        return head + "\n" + self.blocked_message()
