"""The pipeline as Dagster assets: the gate, every dbt model and publish, with a daily schedule and a sensor.

* ``raw`` tables: the gate validates the landing files and loads the rows that pass (one multi-asset whose
  assets are the dbt sources, so lineage runs from the landing files to the marts).
* every dbt model, seed and snapshot: one asset each (dagster-dbt's ``@dbt_assets`` on the manifest); every dbt
  test is an asset check on the model it tests. ``dbt build`` runs in the working database with the same vars
  and environment as ``empathy run`` and writes ``audit.mart_status`` after it.
* ``published``: the published database BI tools read, only after every model and test passed.

``empathy_job`` materialises them all; ``empathy_daily`` runs it every day at 06:00 UTC and
``empathy_landing_sensor`` when landing files are added or changed (both start stopped: switch them on in the
UI). ``make orchestrate`` runs ``dagster dev`` on this module; paths come from the usual EMPATHY_* variables.
"""

# No `from __future__ import annotations`: Dagster reads the annotations of asset functions at run time.
import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from rich.console import Console

from empathy.config import Settings, load_settings
from empathy.dbt import DbtFailed, dbt_executable, run_dbt
from empathy.mart_status import load_manifest
from empathy.pipeline import (
    dbt_vars,
    drop_dbt_leftovers,
    ingest_step,
    new_run_id,
    publish_only,
    record_mart_status,
)
from empathy.privacy import resolve_salt
from empathy.publish import run_lock
from empathy.runs import check_gate, recorded_run

JOB_NAME = "empathy_job"
# A change to any of these makes the manifest stale (then it is parsed again when the definitions load).
PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds", "data-tests", "profiles")


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (dagster-dbt hands ``os.environ`` to the dbt child process)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _newest_input(project_dir: Path) -> float:
    newest = 0.0
    for name in PROJECT_INPUTS:
        path = project_dir / name
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for f in files:
            newest = max(newest, f.stat().st_mtime)
    return newest


def prepare_manifest(settings: Settings) -> Path:
    """The dbt manifest of the project in ``settings.dbt_target``, parsed again when any project file is newer."""
    path = settings.dbt_target / "manifest.json"
    if path.exists() and path.stat().st_mtime >= _newest_input(settings.project_dir):
        return path
    result = run_dbt(settings, ["parse", "--vars", json.dumps(dbt_vars(settings), default=str)])
    if not result.ok:
        raise DbtFailed("dbt parse failed:\n  " + "\n  ".join(result.failures))
    return path


def landing_fingerprint(landing: Path) -> str:
    """A hash of the landing files' names, sizes and modification times ('' without any file)."""
    if not landing.exists():
        return ""
    entries = sorted(
        f"{p.relative_to(landing)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
        for p in landing.rglob("*")
        if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(landing).parts)
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest() if entries else ""


def landing_sensor(settings: Settings, job_name: str = JOB_NAME) -> dg.SensorDefinition:
    """Requests a run when the landing files differ from those of the last request (the cursor)."""

    @dg.sensor(
        name="empathy_landing_sensor",
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Runs {job_name} when files in {settings.landing} are added, replaced or removed.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        fingerprint = landing_fingerprint(settings.landing)
        if not fingerprint:
            return dg.SkipReason(f"no landing files in {settings.landing}")
        if fingerprint == context.cursor:
            return dg.SkipReason("landing files unchanged since the last run requested")
        context.update_cursor(fingerprint)
        return dg.RunRequest(run_key=fingerprint)

    return _sensor


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Assets, checks, job, schedule and sensor of the pipeline for one EMPATHY_HOME (``settings``)."""
    settings = settings or load_settings()
    manifest_path = prepare_manifest(settings)
    manifest = load_manifest(manifest_path.parent)
    translator = DagsterDbtTranslator()
    sources = sorted(uid for uid in manifest.get("sources", {}))
    raw_specs = [
        dg.AssetSpec(
            key=translator.get_asset_spec(manifest, uid, None).key,
            description=manifest["sources"][uid].get("description") or None,
            group_name="raw",
            kinds={"duckdb"},
        )
        for uid in sources
    ]
    quiet = Console(quiet=True)

    @dg.multi_asset(name="gate", specs=raw_specs, description="Validate the landing files and load the rows that pass.")
    def gate(context: dg.AssetExecutionContext):
        resolve_salt(settings.landing)  # dbt hashes personal data with it: fail before any work
        run_id = new_run_id()
        with run_lock(settings), recorded_run(settings, run_id, "dagster gate") as rec:
            report = ingest_step(settings, quiet, run_id)
            try:
                report.raise_if_blocked()
            except Exception as exc:
                rec.record("blocked_by_gate", str(exc))
                raise
            rec.record("audited", "gate passed")
        context.log.info(f"gate run {run_id} passed")
        for spec in raw_specs:
            yield dg.MaterializeResult(asset_key=spec.key)

    @dbt_assets(manifest=manifest, dagster_dbt_translator=translator, name="dbt_models")
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        run_id = new_run_id()
        with run_lock(settings):
            note = check_gate(settings, "dagster build", force=False)
            with recorded_run(settings, run_id, "dagster build", note) as rec:
                drop_dbt_leftovers(settings)
                args = ["build", "--vars", json.dumps(dbt_vars(settings), default=str)]
                with _environ({**settings.env(), "EMPATHY_RUN_ID": run_id}):
                    yield from dbt.cli(args, context=context, target_path=settings.dbt_target).stream()
                marts = record_mart_status(settings, run_id)
                rec.record("built", note or "dbt build passed")
        not_ok = [f"{m.model}: {m.status} ({m.reason})" for m in marts if m.status != "ok"]
        context.log.info(f"dbt build {run_id}: {len(marts)} marts" + ("; " + "; ".join(not_ok) if not_ok else ""))

    @dg.asset(
        name="published",
        deps=[dbt_models],
        group_name="published",
        kinds={"duckdb"},
        description="The published database BI tools read (EMPATHY_PUBLISHED), replaced whole after a passing build.",
    )
    def published(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        result = publish_only(settings)
        context.log.info(f"published {len(result.tables)} tables to {result.path}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": len(result.tables),
                "rows": sum(result.tables.values()),
            }
        )

    job = dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.all(), description="Gate, dbt build, publish.")
    daily = dg.ScheduleDefinition(
        name="empathy_daily",
        job=job,
        cron_schedule="0 6 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    return dg.Definitions(
        assets=[gate, dbt_models, published],
        jobs=[job],
        schedules=[daily],
        sensors=[landing_sensor(settings)],
        resources={
            "dbt": DbtCliResource(
                project_dir=str(settings.project_dir),
                profiles_dir=str(settings.profiles_dir),
                dbt_executable=dbt_executable(),  # the environment's own, as `empathy run` uses
                global_config_flags=["--no-use-colors"],
            )
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -m empathy.orchestration.definitions` loads (``make orchestrate``)."""
    return build_definitions(load_settings())
