"""The main job: gate + load, dbt build, publish; each step only when the one before passed."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from empathy.config import Settings
from empathy.dbt import DbtFailed, DbtResult, run_dbt
from empathy.privacy import SaltMissing, resolve_salt
from empathy.publish import PublishResult, connect_warehouse, publish, run_lock
from empathy.runs import check_gate, recorded_run

DBT_LEFTOVER_SUFFIXES = ("__dbt_tmp", "__dbt_backup")


class PipelineError(RuntimeError):
    """A step failed; the message says which, why and what to do. Nothing was published."""


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[label]}", style="dim"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@dataclass
class RunSummary:
    run_id: str
    seconds: dict[str, float] = field(default_factory=dict)
    ingest: object | None = None
    dbt: DbtResult | None = None
    published: PublishResult | None = None


def ingest_step(settings: Settings, console: Console, run_id: str | None = None):
    from empathy.gate import ingest

    with _progress(console) as bar:
        task = bar.add_task("gate + load", total=None, label="")

        def cb(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None, label=stage)

        con = connect_warehouse(settings.warehouse)
        try:
            report = ingest(settings, con=con, progress=cb, run_id=run_id)
        finally:
            con.close()
    return report


def dbt_vars(settings: Settings) -> dict:
    """The vars every `dbt build` gets: the sector (empathy.yml) picks the fairness thresholds; an explicit dbt var
    wins."""
    return {
        "sector": settings.options.get("sector", "retail"),
        **((settings.options.get("dbt") or {}).get("vars") or {}),
    }


def build_step(
    settings: Settings,
    console: Console,
    select: list[str] | None = None,
    run_id: str | None = None,
    full_refresh: bool = False,
) -> DbtResult:
    """dbt build with a progress bar, then the status of every mart (audit.mart_status, kept on the result).

    ``full_refresh`` rebuilds the incremental models (their kept history and caches) from the raw tables."""
    run_id = run_id or new_run_id()
    dropped = drop_dbt_leftovers(settings)
    if dropped:
        console.print(f"dropped {len(dropped)} table(s) a stopped dbt build left behind: {', '.join(dropped[:5])}")
    args = ["build", *(["--full-refresh"] if full_refresh else [])]
    console.print(f"dbt build: starting in {settings.project_dir} (artefacts in {settings.dbt_target})")
    if select:
        args += ["--select", *select]
    args += ["--vars", json.dumps(dbt_vars(settings), default=str)]
    with _progress(console) as bar:
        task = bar.add_task("dbt build", total=None, label="")

        def cb(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total or None, label=label)

        result = run_dbt(settings, args, progress=cb, env={"EMPATHY_RUN_ID": run_id})
    if result.ok:
        result.marts = record_mart_status(settings, run_id)
    if not result.ok:
        lines = "\n  ".join(result.failures[:20]) or "(no message; see logs/dbt.log)"
        raise DbtFailed(
            f"dbt build failed (exit {result.returncode}); nothing was published, the last published "
            f"version stays in place.\n  {lines}\nFix the model or data named above and re-run `empathy run`."
        )
    return result


def drop_dbt_leftovers(settings: Settings) -> list[str]:
    """Drop the ``__dbt_tmp`` / ``__dbt_backup`` relations a killed dbt build leaves in the working database."""
    con = connect_warehouse(settings.warehouse)
    try:
        found = con.execute(
            """
            select schema_name, table_name, 'table' from duckdb_tables()
            where database_name = current_database() and not temporary
            union all
            select schema_name, view_name, 'view' from duckdb_views()
            where database_name = current_database() and not temporary and not internal
            order by 1, 2
            """
        ).fetchall()
        dropped = []
        for schema, name, kind in found:
            if name.endswith(DBT_LEFTOVER_SUFFIXES):
                qualified = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))
                con.execute(f"drop {kind} if exists {qualified} cascade")
                dropped.append(f"{schema}.{name}")
    finally:
        con.close()
    return dropped


def record_mart_status(settings: Settings, run_id: str) -> list:
    """Write audit.mart_status for this run (rows, status, reason of every mart) and return it."""
    from empathy.mart_status import load_manifest, mart_report, write_mart_report

    con = connect_warehouse(settings.warehouse)
    try:
        report = mart_report(con, load_manifest(settings.dbt_target))
        write_mart_report(con, report, run_id)
    finally:
        con.close()
    return report


def print_mart_status(report: list, console: Console) -> None:
    """The table every run ends with: each mart's rows, status and, where it is not plainly ok, why."""
    if not report:
        return
    t = Table(title="marts: rows, status and why (audit.mart_status; model details in audit.model_status)")
    for col in ("mart", "rows", "status", "reason"):
        t.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
    style = {"ok": "green", "degraded": "yellow", "skipped": "red"}
    for m in report:
        t.add_row(m.model, f"{m.rows:,}", f"[{style.get(m.status, 'white')}]{m.status}[/]", m.reason or "")
    console.print(t)
    bad = [m for m in report if m.status != "ok"]
    if bad:
        console.print(
            f"{len(bad)} of {len(report)} marts are not fully built: each reason above says what was missing; "
            '`empathy query "select * from audit.model_status"` has the counts and what data would fix it'
        )


def run(settings: Settings, console: Console | None = None, do_publish: bool = True) -> RunSummary:
    console = console or Console()
    run_id = new_run_id()
    summary = RunSummary(run_id=run_id)
    if not settings.landing.exists():
        raise PipelineError(
            f"landing folder {settings.landing} does not exist: run `empathy generate` for the demo world, "
            "or point --landing / EMPATHY_LANDING at your own files"
        )
    try:  # dbt hashes personal data with the salt and publish keys customers with it: fail before any work
        resolve_salt(settings.landing)
    except SaltMissing as exc:
        raise PipelineError(str(exc)) from exc
    with run_lock(settings), recorded_run(settings, run_id, "empathy run") as rec:
        t = time.monotonic()
        report = ingest_step(settings, console, run_id)
        summary.ingest = report
        summary.seconds["gate_and_load"] = time.monotonic() - t
        try:
            report.raise_if_blocked()
        except Exception as exc:
            rec.record("blocked_by_gate", str(exc))
            raise

        t = time.monotonic()
        try:
            summary.dbt = build_step(settings, console, run_id=run_id)
        except DbtFailed as exc:
            rec.record("dbt_failed", str(exc))
            raise
        summary.seconds["dbt_build"] = time.monotonic() - t

        if do_publish:
            rec.record("audited", "gate and every dbt test passed")
            t = time.monotonic()
            summary.published = publish(settings, run_id)
            summary.seconds["publish"] = time.monotonic() - t
            rec.record("published", str(summary.published.path))
        else:
            rec.record("audited", "publication skipped (--no-publish)")
    return summary


def build_only(settings: Settings, console: Console, select: list[str] | None = None, force: bool = False) -> DbtResult:
    """`empathy build`: dbt build under the run lock, refused over a blocked gate unless forced; in audit.runs."""
    run_id = new_run_id()
    with run_lock(settings):
        note = check_gate(settings, "empathy build", force)
        with recorded_run(settings, run_id, "empathy build", note) as rec:
            try:
                result = build_step(settings, console, select=select, run_id=run_id)
            except DbtFailed as exc:
                rec.record("dbt_failed", str(exc))
                raise
            rec.record("built", note or "dbt build passed")
    return result


def publish_only(settings: Settings, force: bool = False) -> PublishResult:
    """`empathy publish`: publish under the run lock, refused over a blocked gate unless forced; in audit.runs."""
    run_id = new_run_id()
    with run_lock(settings):
        note = check_gate(settings, "empathy publish", force)
        with recorded_run(settings, run_id, "empathy publish", note) as rec:
            drop_dbt_leftovers(settings)
            result = publish(settings, run_id)
            rec.record("published", f"{result.path}" + (f"; {note}" if note else ""))
    return result


def print_summary(settings: Settings, summary: RunSummary, console: Console) -> None:
    con = connect_warehouse(settings.warehouse, read_only=True)
    try:
        per_table = con.execute(
            """
            select table_name,
                   count(*) filter (where status not in ('skipped_unchanged')) as files_this_run,
                   sum(rows_read) as rows_read,
                   sum(rows_loaded) as rows_loaded,
                   sum(rows_quarantined) as rows_quarantined,
                   sum(coalesce(rows_erased, 0)) as rows_erased
            from audit.load_log
            group by 1
            order by 1
            """
        ).fetchall()
        top_rules = con.execute(
            "select table_name, rule, count(*) from audit.quarantine group by 1, 2 order by 3 desc limit 8"
        ).fetchall()
    finally:
        con.close()

    t = Table(title=f"run {summary.run_id}: raw tables (all loads so far)")
    erased = any(row[5] for row in per_table)  # rows of erased customers the gate dropped (empathy forget)
    for col in ("table", "rows read", "rows loaded", "rows quarantined", *(["rows erased"] if erased else [])):
        t.add_column(col, justify="right" if col != "table" else "left")
    for name, _files, read, loaded, quarantined, gone in per_table:
        cells = [f"{read or 0:,}", f"{loaded or 0:,}", f"{quarantined or 0:,}", *([f"{gone:,}"] if erased else [])]
        t.add_row(name, *cells)
    console.print(t)
    if top_rules:
        console.print(
            "quarantined rows by rule (table, rule, rows): " + "; ".join(f"{a} {b} {c:,}" for a, b, c in top_rules)
        )
        console.print(
            "  see audit.quarantine for every rejected row, its rule, file, row number and the full original row"
        )
    ignored = getattr(summary.ingest, "ignored", [])
    if ignored:
        console.print(
            f"{len(ignored)} landing entries not read (hidden, or refused: links, special files): "
            + "; ".join(fr.file for fr in ignored[:5])
            + ("; ..." if len(ignored) > 5 else "")
            + "; see audit.load_log where status = 'ignored'"
        )
    if summary.dbt:
        d = summary.dbt
        console.print(
            f"dbt: {d.count('model', 'success')} models built, {d.count('seed', 'success')} seeds, "
            f"{d.count('test', 'pass')} tests passed, {d.count('test', 'warn')} warned "
            f"in {d.seconds:.0f}s"
        )
    if summary.dbt and summary.dbt.marts:
        print_mart_status(summary.dbt.marts, console)
    if summary.published:
        p = summary.published
        console.print(
            f"[green]published[/green] {len(p.tables)} tables ({sum(p.tables.values()):,} rows) to {p.path}\n"
            f'  query it: empathy query "select * from marts.dim_customers limit 5"\n'
            f"  or from Python, read-only: duckdb.connect('{p.path}', read_only=True)\n"
            f"  customer keys -> ids for the contact centre only (restricted): {settings.restricted}"
        )
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items())
    console.print(f"timings: {timing}")
