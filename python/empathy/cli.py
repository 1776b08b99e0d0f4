"""Command-line interface: `empathy --help`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from empathy.config import load_settings
from empathy.text.language import SWITCH_CONFIDENCE as SWITCH_CONFIDENCE_DEFAULT

app = typer.Typer(
    help="Warehouse-native predictive empathy: raw interaction tables -> gate -> dbt -> published marts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
contract_app = typer.Typer(help="The raw-data contract and the dbt source files made from it.", no_args_is_help=True)
app.add_typer(contract_app, name="contract")

console = Console()
err = Console(stderr=True)

LANDING = typer.Option(None, "--landing", help="Landing folder (default: EMPATHY_LANDING or .empathy/landing).")


def _fail(exc: Exception, code: int = 1) -> None:
    err.print(f"[bold red]error:[/bold red] {exc}")
    raise typer.Exit(code)


@contextlib.contextmanager
def _disk_full_is_one_message(settings) -> Iterator[None]:
    """An out-of-space error anywhere below (Python, DuckDB, dbt) becomes one message and exit code 2."""
    from empathy.diskspace import disk_full

    try:
        yield
    except Exception as exc:
        full = disk_full(exc, settings)
        if full is None:
            raise
        _fail(full, 2)


@app.command()
def version() -> None:
    """Print the package version."""
    from empathy import __version__

    console.print(__version__)


@app.command()
def generate(
    customers: int = typer.Option(10_000, help="Number of customers."),
    days: int = typer.Option(365, help="Days of history."),
    seed: int = typer.Option(42, help="Random seed; the world is deterministic for (seed, size, sector, end date)."),
    sector: str = typer.Option("retail", help="Sector preset: retail, subscription or healthcare."),
    end_date: str = typer.Option(None, help="Last day of the world, YYYY-MM-DD (default: yesterday, UTC)."),
    out: Path = typer.Option(None, "--out", help="Output folder (default: the landing folder)."),
    force: bool = typer.Option(False, help="Regenerate even when the folder already holds this world."),
) -> None:
    """Write a simulated company's raw tables as Parquet, partitioned by day, plus ground truth in _truth/."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from empathy.generate import generate as gen

    settings = load_settings()
    target = out or settings.landing
    end = date.fromisoformat(end_date) if end_date else None
    with Progress(
        TextColumn("[bold]generate"),
        BarColumn(),
        TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("generate", total=1.0, label="")

        def cb(stage: str, fraction: float) -> None:
            bar.update(task, completed=fraction, label=stage)

        try:
            summary = gen(
                target, customers=customers, days=days, seed=seed, sector=sector, end_date=end, force=force, progress=cb
            )
        except (ValueError, OSError) as exc:
            _fail(exc)
        bar.update(task, completed=1.0, label="done")
    rows = summary.get("rows", {})
    console.print(
        f"world in {target}: {sum(rows.values()):,} rows in {len(rows)} tables "
        f"({summary.get('seconds', 0):.1f}s); ground truth in {Path(target) / '_truth'}"
    )


@app.command()
def run(
    landing: Path = LANDING,
    publish: bool = typer.Option(True, "--publish/--no-publish", help="Publish after the gate and tests pass."),
) -> None:
    """The main job: gate + load the landing files, dbt build (models and tests), publish atomically."""
    from empathy.dbt import DbtFailed
    from empathy.gate import GateBlocked
    from empathy.pipeline import PipelineError, print_summary
    from empathy.pipeline import run as run_pipeline
    from empathy.publish import WarehouseLocked

    settings = load_settings(landing=landing)
    console.print(f"landing {settings.landing}\nworking database {settings.warehouse}")
    try:
        with _disk_full_is_one_message(settings):
            summary = run_pipeline(settings, console, do_publish=publish)
    except GateBlocked as exc:
        _fail(exc, 2)
    except (DbtFailed, PipelineError, WarehouseLocked) as exc:
        _fail(exc, 1)
    print_summary(settings, summary, console)


@app.command()
def gate(landing: Path = LANDING) -> None:
    """Only validate and load the landing files (no dbt, no publish)."""
    from empathy.gate import GateBlocked
    from empathy.pipeline import ingest_step
    from empathy.publish import WarehouseLocked, run_lock

    settings = load_settings(landing=landing)
    try:
        with _disk_full_is_one_message(settings), run_lock(settings):
            report = ingest_step(settings, console)
        console.print(gate_table(report.summary_rows()))
        for fr in report.ignored:
            console.print(f"not read: {fr.message}")
        report.raise_if_blocked()
    except GateBlocked as exc:
        _fail(exc, 2)
    except WarehouseLocked as exc:
        _fail(exc)


def gate_table(rows: list[dict]):
    """The gate's per-table summary as one table (files, rows read, loaded, quarantined, status)."""
    from rich.table import Table

    t = Table(title="gate: landing files of this run")
    for col in ("table", "files read", "rows read", "rows loaded", "rows quarantined", "status"):
        t.add_column(col, justify="left" if col in ("table", "status") else "right")
    for r in rows:
        t.add_row(
            r["table"],
            f"{r['files_read']:,} of {r['files']:,}",
            f"{r['rows_read']:,}",
            f"{r['rows_loaded']:,}",
            f"{r['rows_quarantined']:,}",
            str(r["status"]),
        )
    return t


FORCE = typer.Option(
    False, "--force", help="Run even though the last gate run blocked publication (recorded in audit.runs)."
)


@app.command()
def build(
    select: list[str] = typer.Option(None, "--select", "-s", help="dbt selection."),
    force: bool = FORCE,
) -> None:
    """Only run `dbt build` on the working database (no gate, no publish); refused over a blocked gate."""
    from empathy.dbt import DbtFailed
    from empathy.pipeline import build_only, print_mart_status
    from empathy.publish import WarehouseLocked
    from empathy.runs import GateNotPassed

    settings = load_settings()
    try:
        with _disk_full_is_one_message(settings):
            result = build_only(settings, console, select=select, force=force)
    except GateNotPassed as exc:
        _fail(exc, 2)
    except (DbtFailed, WarehouseLocked) as exc:
        _fail(exc)
    console.print(f"{result.count('model', 'success')} models, {result.count('test', 'pass')} tests passed")
    print_mart_status(result.marts, console)


@app.command()
def publish(force: bool = FORCE) -> None:
    """Publish the working database's marts now (normally `empathy run` does this after the tests pass)."""
    from empathy.pipeline import publish_only
    from empathy.publish import WarehouseLocked
    from empathy.runs import GateNotPassed

    settings = load_settings()
    try:
        with _disk_full_is_one_message(settings):
            result = publish_only(settings, force=force)
    except GateNotPassed as exc:
        _fail(exc, 2)
    except (WarehouseLocked, RuntimeError) as exc:
        _fail(exc)
    console.print(f"published {len(result.tables)} tables to {result.path}")


@app.command()
def forget(
    customer_id: list[str] = typer.Option(None, "--customer-id", help="Customer id to erase (repeatable)."),
    ids_file: Path = typer.Option(None, "--ids-file", help="A text file of customer ids, one per line."),
    reason: str = typer.Option("", "--reason", help="Why (a ticket number, 'GDPR art. 17'); kept in audit.erasures."),
    force: bool = typer.Option(
        False, "--force", help="Publish even though the gate blocked publication (recorded in audit.runs)."
    ),
    landing: Path = LANDING,
) -> None:
    """Erase customers from the landing files, the working database, every model and the published database."""
    from empathy.dbt import DbtFailed
    from empathy.erasure.forget import ErasureError, PublicationRefused, forget, read_ids_file
    from empathy.erasure.keys import ErasureKeyMissing
    from empathy.publish import WarehouseLocked

    settings = load_settings(landing=landing)
    try:
        ids = list(customer_id or []) + (read_ids_file(ids_file) if ids_file else [])
        result = forget(settings, ids, reason=reason, console=console, force=force)
    except PublicationRefused as exc:
        _fail(exc, 2)
    except (ErasureError, ErasureKeyMissing, DbtFailed, WarehouseLocked) as exc:
        _fail(exc)
    removed = ", ".join(f"{k} {v:,}" for k, v in sorted(result.rows_removed.items())) or "nothing found"
    console.print(
        f"erasure {result.erasure_id}: {result.customers} customer(s) forgotten; rows removed: {removed}\n"
        f"  {len(result.files_rewritten)} landing file(s) rewritten; tombstones keep them out of later loads\n"
        f"  published again to {result.published}; see audit.erasures"
    )


@app.command()
def query(
    sql: str = typer.Argument(..., help="SQL to run, read-only, on the published database."),
    format: str = typer.Option("table", "--format", help="Output: table, csv or json (all columns, all rows)."),
) -> None:
    """Run a read-only query on the published database only (no files, no ATTACH, no extensions)."""
    from rich.table import Table as RTable

    from empathy.query import FORMATS, QueryError, run_query, to_csv, to_json

    if format not in FORMATS:
        _fail(ValueError(f"--format {format!r} is not one of {', '.join(FORMATS)}"))
    settings = load_settings()
    try:
        result = run_query(settings.published, sql)
    except QueryError as exc:
        _fail(exc)
    if result is None:
        return
    if format == "csv":
        sys.stdout.write(to_csv(result))
    elif format == "json":
        sys.stdout.write(to_json(result) + "\n")
    else:
        t = RTable(caption=f"{len(result.rows):,} rows")
        for col in result.columns:
            t.add_column(col, overflow="fold")
        for row in result.rows:
            t.add_row(*("NULL" if v is None else str(v) for v in row))
        console.print(t)


@app.command("score-text")
def score_text(
    input: Path = typer.Option(..., "--input", help="A .csv, .tsv or .parquet file."),
    text_column: str = typer.Option(..., "--text-column", help="Column holding the text."),
    id_column: str = typer.Option(None, "--id-column", help="Column to carry into the output as the row key."),
    output: Path = typer.Option(..., "--output", help="Output .parquet file."),
    language_column: str = typer.Option(
        None, "--language-column", help="Column holding the writer's declared language or locale (en, pt-BR, ...)."
    ),
    switch_confidence: float = typer.Option(
        SWITCH_CONFIDENCE_DEFAULT,
        "--language-switch-confidence",
        help="Detector confidence a short text needs to leave its writer's or the company's language.",
    ),
) -> None:
    """Score any file with the warehouse's text model: one output row per input row, fct_text_signals columns."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from empathy.text.model import ModelMissing
    from empathy.text.scoring import ScoreInputError, score_file

    with Progress(
        TextColumn("[bold]score"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("score", total=None)

        def cb(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            out = score_file(
                input,
                text_column,
                output,
                id_column=id_column,
                progress=cb,
                language_column=language_column,
                switch_confidence=switch_confidence,
            )
        except (ScoreInputError, ModelMissing) as exc:
            _fail(exc)
    labels = out.group_by("sentiment_label").aggregate([("sentiment_label", "count")]).to_pylist()
    mix = ", ".join(f"{r['sentiment_label']} {r['sentiment_label_count']:,}" for r in labels)
    console.print(f"{out.num_rows:,} rows scored -> {output} ({mix})")


@app.command("train-text")
def train_text(
    out: Path = typer.Option(None, "--out", help="Artifact folder (default: the package's committed artifacts)."),
    tier: str = typer.Option("fast", "--tier", help="fast, or accurate (needs the train extra: make train-accurate)."),
    limit: int = typer.Option(20_000, help="accurate: training rows, a seeded subset (0: all)."),
    epochs: int = typer.Option(1, help="accurate: passes over the training rows."),
) -> None:
    """Retrain the text model from the labelled data in ../shared/data (EMPATHY_SHARED_DATA) and the seed set."""
    if tier not in ("fast", "accurate"):
        _fail(ValueError(f"--tier {tier!r}: use fast or accurate"))
    try:
        if tier == "accurate":
            from empathy.text.train_accurate import ARTIFACTS_ACCURATE, Recipe, train_accurate

            recipe = Recipe(limit=limit or None, epochs=epochs)
            train_accurate(out or ARTIFACTS_ACCURATE, recipe, progress=lambda m: console.print(m))
        else:
            from empathy.text.model import ARTIFACTS
            from empathy.text.train import train

            train(out or ARTIFACTS, progress=lambda m: console.print(m))
    except (FileNotFoundError, ImportError) as exc:
        _fail(exc)


@app.command("eval-text")
def eval_text(
    write: Path = typer.Option(
        None, "--write", help="Also write the table into this results file (section text-eval)."
    ),
    throughput_texts: int = typer.Option(20_000, help="Texts for the throughput row."),
    tier: str = typer.Option(None, "--tier", help="fast or accurate (default: text.tier in empathy.yml)."),
    truth: Path = typer.Option(
        None, "--truth", help="Ground truth folder of a demo world (default: <landing>/_truth when it exists)."
    ),
) -> None:
    """Evaluate the text model on labelled data it never trained on, beside VADER, and print the table."""
    from empathy.bench import write_section
    from empathy.text.evaluate import evaluate, to_markdown
    from empathy.text.model import ModelMissing, load_model

    try:
        model = load_model(tier=tier)
        rows = evaluate(
            model,
            progress=lambda m: err.print(f"[dim]{m}[/dim]"),
            throughput_texts=throughput_texts,
            truth_dir=truth or load_settings().landing / "_truth",
        )
    except (FileNotFoundError, ModelMissing, ValueError) as exc:
        _fail(exc)
    tier = getattr(model, "tier", "fast")
    text = to_markdown(rows, model.version, tier)
    console.print(text)
    if write:
        section = "text-eval" if tier == "fast" else f"text-eval-{tier}"
        write_section(write, section, f"## Text model ({tier} tier)\n\n" + text)
        console.print(f"written to {write}")


def _evaluation(
    evaluate: Callable[[Path, Path | None, Callable[[str], None]], list],
    to_markdown: Callable[[list], str],
    truth: Path | None,
    write: Path | None,
    section: str,
    heading: str,
) -> None:
    """Run an evaluation on the working database, print its table, and write it into a results file section."""
    from empathy.bench import write_section

    settings = load_settings()
    truth_dir = truth or settings.landing / "_truth"
    if not settings.warehouse.exists():
        _fail(FileNotFoundError(f"no working database at {settings.warehouse}; run `empathy run` first"))
    try:
        rows = evaluate(
            settings.warehouse, truth_dir if truth_dir.exists() else None, lambda m: err.print(f"[dim]{m}[/dim]")
        )
    except (FileNotFoundError, ValueError) as exc:
        _fail(exc)
    text = to_markdown(rows)
    console.print(text)
    if write:
        write_section(write, section, heading + text)
        console.print(f"written to {write}")


TRUTH_OPTION = typer.Option(
    None, "--truth", help="Ground truth folder of a demo world (default: <landing>/_truth when it exists)."
)


@app.command("eval-state")
def eval_state(
    write: Path = typer.Option(
        None, "--write", help="Also write the table into this results file (section state-eval)."
    ),
    truth: Path = TRUTH_OPTION,
) -> None:
    """Evaluate the emotional-state models on a time split and, for the demo world, against its ground truth."""
    from empathy.state.evaluate import evaluate_state, to_markdown

    _evaluation(
        lambda warehouse, truth_dir, say: evaluate_state(warehouse, truth_dir, progress=say),
        to_markdown,
        truth,
        write,
        "state-eval",
        "## Emotional state\n\n`empathy eval-state` on the demo world (10,000 customers, 365 days).\n\n",
    )


@app.command("eval-models")
def eval_models(
    write: Path = typer.Option(
        None, "--write", help="Also write the table into this results file (section models-eval)."
    ),
    truth: Path = TRUTH_OPTION,
    cdnow: Path = typer.Option(
        None, "--cdnow", help="CDNOW_sample.txt (default: $EMPATHY_SHARED_DATA/cdnow or ../shared/data/cdnow)."
    ),
) -> None:
    """Print the churn, next-action and value models' out-of-time figures: backtests, SQL parity, CDNOW, truth."""
    from empathy.predict.evaluate import evaluate_models, to_markdown

    _evaluation(
        lambda warehouse, truth_dir, say: evaluate_models(warehouse, truth_dir, cdnow=cdnow, progress=say),
        to_markdown,
        truth,
        write,
        "models-eval",
        "## Predictions: churn, next action, lifetime value\n\n`empathy eval-models` on the demo world "
        "(10,000 customers, 365 days). Every figure is out of time: backtests retrain as of each origin and "
        "score it; the demo truth is the simulation's latent churn.\n\n",
    )


@app.command("eval-actions")
def eval_actions(
    write: Path = typer.Option(
        None, "--write", help="Also write the table into this results file (section actions-eval)."
    ),
    truth: Path = TRUTH_OPTION,
) -> None:
    """Segment stability and separation, treatment uplift against the demo truth, consent and distress rules.

    Exits non-zero only on a consent breach or a sales offer to a customer in distress."""
    from empathy.activation.evaluate import evaluate_actions, to_markdown

    failed: list = []

    def evaluate(warehouse: Path, truth_dir: Path | None, say: Callable[[str], None]) -> list:
        rows = evaluate_actions(warehouse, truth_dir, progress=say)
        failed.extend(r for r in rows if r.failed)
        return rows

    _evaluation(
        evaluate,
        to_markdown,
        truth,
        write,
        "actions-eval",
        "## Segments, actions and experiments\n\n`empathy eval-actions` on the demo world. Uplift intervals are "
        "95%; the truth is the simulated effect of each treatment (docs/demo_world.md).\n\n",
    )
    if failed:
        err.print("[red]rules broken: " + "; ".join(f"{r.metric} {r.value:g}" for r in failed) + "[/red]")
        raise typer.Exit(1)


@app.command("model-card")
def model_card(
    out: Path = typer.Option(None, "--out", help="Folder for the cards (default: $EMPATHY_HOME/model_cards)."),
    working: bool = typer.Option(False, "--working", help="Read the working database instead of the published one."),
) -> None:
    """Write a markdown card per model version: data window, features, backtests, fairness, limitations, use."""
    from empathy.model_card import ModelCardError, write_cards

    settings = load_settings()
    try:
        cards = write_cards(settings.warehouse if working else settings.published, out or settings.home / "model_cards")
    except ModelCardError as exc:
        _fail(exc)
    for card in cards:
        console.print(f"{card.model_version}: {card.path}")
    console.print(f"{len(cards)} model card(s)")


@app.command()
def docs() -> None:
    """Build dbt docs (models, columns, lineage) and the Great Expectations data docs."""
    from empathy.dbt import run_dbt
    from empathy.gate import build_data_docs

    settings = load_settings()
    if not settings.warehouse.exists():
        _fail(
            FileNotFoundError(
                f"no working database at {settings.warehouse}: the docs describe built tables; "
                "run `empathy run` (or `make demo`) first"
            )
        )
    result = run_dbt(settings, ["docs", "generate"])
    if not result.ok:
        _fail(RuntimeError("dbt docs generate failed:\n" + "\n".join(result.failures)))
    console.print(
        f"dbt docs (models, columns, lineage): {settings.dbt_target / 'index.html'}\n"
        f"  serve them: DBT_TARGET_PATH={settings.dbt_target} .venv/bin/dbt docs serve --profiles-dir profiles"
    )
    try:
        index = build_data_docs(settings)
        console.print(f"data-quality docs: {index}")
    except Exception as exc:  # GX docs need at least one gate run
        err.print(f"data-quality docs not built: {exc} (run `empathy run` first)")


@app.command()
def dashboard(
    port: int = typer.Option(8501, help="Port to serve on (localhost)."),
    address: str = typer.Option("127.0.0.1", help="Address to listen on."),
) -> None:
    """Serve the dashboard (Streamlit) over the published database, read-only: never the working one."""
    import subprocess

    from empathy.dashboard.serve import streamlit_command

    settings = load_settings()
    if not settings.published.exists():
        _fail(FileNotFoundError(f"nothing published yet at {settings.published}; run `empathy run` first"))
    console.print(f"dashboard on http://{address}:{port} reading {settings.published} (Ctrl+C stops it)")
    with contextlib.suppress(KeyboardInterrupt):
        raise typer.Exit(subprocess.call(streamlit_command(port, address), env=settings.env()))


def _registered_extras(settings):
    """The extra columns of audit.extra_columns in the working database, by table; {} when there is none."""
    import duckdb

    from empathy.contract_docs import group_extras
    from empathy.gate.extras import registry_rows

    if str(settings.warehouse) == ":memory:" or not settings.warehouse.exists():
        return {}
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error as exc:
        raise RuntimeError(
            f"cannot read the extra columns from {settings.warehouse}: {exc}. Wait for the running pipeline to "
            "finish, or pass --no-extras to write the contract's columns only"
        ) from exc
    try:
        return group_extras(registry_rows(con))
    finally:
        con.close()


@contract_app.command("sources")
def contract_sources(
    extras: bool = typer.Option(
        True, help="Also list the extra columns the gate registered (audit.extra_columns in the working database)."
    ),
) -> None:
    """Write models/staging/<source>/_<source>__sources.yml from the contract (and the registered extra columns)."""
    from empathy.config import find_project_dir
    from empathy.contract import to_markdown
    from empathy.contract_docs import write_sources

    project = find_project_dir()
    try:
        found = _registered_extras(load_settings()) if extras else {}
    except RuntimeError as exc:
        _fail(exc)
    paths = list(write_sources(project, found))
    if found:
        console.print(f"extra columns listed: {sum(len(v) for v in found.values())} in {len(found)} table(s)")
    md = project / "docs" / "raw_contract.md"
    md.parent.mkdir(exist_ok=True)
    md.write_text(to_markdown())
    for p in [*paths, md]:
        console.print(f"wrote {p}")


@contract_app.command("check")
def contract_check() -> None:
    """Fail when the committed dbt source files differ from the contract."""
    from empathy.config import find_project_dir
    from empathy.contract import to_markdown
    from empathy.contract_docs import check_sources

    project = find_project_dir()
    drift = list(check_sources(project))
    md = project / "docs" / "raw_contract.md"
    if not md.exists() or md.read_text() != to_markdown():
        drift.append(md)
    if drift:
        err.print("[red]these source files differ from python/empathy/contract.py[/red]: " + ", ".join(map(str, drift)))
        err.print("run `empathy contract sources` and commit the result")
        raise typer.Exit(1)
    console.print("dbt sources match the contract")


@contract_app.command("show")
def contract_show(table: str = typer.Argument(None, help="One table; all when omitted.")) -> None:
    """Print the raw-data contract."""
    from rich.table import Table as RTable

    from empathy import contract

    tables = [contract.table(table)] if table else list(contract.TABLES)
    for t in tables:
        rt = RTable(title=f"{t.source}.{t.name} (key {t.key}){'' if t.required_table else ', optional'}")
        for c in ("column", "type", "rules", "description"):
            rt.add_column(c)
        for c in t.columns:
            rules = c.rules()
            rt.add_row(c.name, c.type, "; ".join(rules), c.description)
        console.print(rt)


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
