"""dbt source definitions generated from the raw-data contract.

``render_sources()`` turns :mod:`empathy.contract` into one
``models/staging/<source>/_<source>__sources.yml`` file per dbt source: the
source and table descriptions, the raw schema (``var('raw_schema')``), each
table's freshness rule (``loaded_at_field`` = the table's day column) and every
column with its description and DuckDB ``data_type``, including the load
metadata columns the loader adds. The ``data_type`` values are what the
``source_or_empty`` macro uses to stand in a typed empty relation for a table
that received no files, so they must stay in step with the contract:
``empathy contract sources`` rewrites the files and ``empathy contract check``
(and the test suite) fail when the committed files drift.

Key, not-null and accepted-values tests live on the staging models, not on the
sources: a source may be absent, and staging is where rows are deduplicated.

Extra columns (those a company sends beyond the contract, registered by the gate in
``audit.extra_columns``) are written after the contract's columns with ``meta: {extra: true}``
when ``extras`` are passed. ``check_sources`` accepts the extras a committed file lists (they come
from a warehouse, not from the contract) and checks everything else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import yaml

from empathy import contract

# table -> [(column, DuckDB data type)] of the extra columns to list on the sources.
Extras = dict[str, list[tuple[str, str]]]
EXTRA_DESCRIPTION = (
    "Extra column: sent beyond the raw-data contract and carried through to staging as it is "
    "(registered by the gate in audit.extra_columns)."
)

# Columns the loader adds to every raw table (see the loader). They are
# documented on the sources so the typed empty relation carries them too.
METADATA_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_file", "varchar", "Load metadata: landing file the row came from."),
    ("_row_number", "bigint", "Load metadata: row number of the row within its landing file."),
    ("_batch_id", "varchar", "Load metadata: identifier of the landing batch (one file of one table)."),
    ("_run_id", "varchar", "Load metadata: identifier of the pipeline run that loaded the row."),
    ("_loaded_at", "timestamp", "Load metadata: when the row was loaded into the warehouse (UTC)."),
)

HEADER = (
    "# Generated from python/empathy/contract.py by `empathy contract sources`.\n"
    "# Do not edit by hand: change the contract and regenerate (`empathy contract check` detects drift).\n"
)

SOURCE_ORDER: tuple[str, ...] = ("crm", "commerce", "support", "marketing", "digital", "feedback")


def source_path(source: str) -> Path:
    """Path of a source's yml file, relative to the dbt project folder."""
    return Path("models") / "staging" / source / f"_{source}__sources.yml"


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return _q(str(value))


def _column_meta(col: contract.Column) -> list[tuple[str, str]]:
    """Contract rules of a column, as (key, rendered value) pairs for ``meta``."""
    meta: list[tuple[str, str]] = [("contract_type", _q(col.type))]
    if col.required:
        meta.append(("required", "true"))
    if col.allowed is not None:
        meta.append(("allowed_values", "[" + ", ".join(_q(v) for v in col.allowed) + "]"))
    if col.min is not None:
        meta.append(("min", _scalar(col.min)))
    if col.max is not None:
        meta.append(("max", _scalar(col.max)))
    if col.references:
        meta.append(("references", _q(col.references)))
    if col.max_length is not None:
        meta.append(("max_length", str(col.max_length)))
    if col.not_future:
        meta.append(("not_future", "true"))
    if col.pii:
        meta.append(("pii", "true"))
    return meta


def group_extras(rows: Iterable[tuple[str, str, str]]) -> Extras:
    """(table, column, type) rows, e.g. of audit.extra_columns, by table; unknown tables are left out."""
    out: Extras = {}
    for table, column, data_type in rows:
        if table in contract.BY_NAME:
            out.setdefault(table, []).append((column, data_type.lower()))
    return out


def _render_extras(columns: list[tuple[str, str]]) -> list[str]:
    out: list[str] = []
    for name, data_type in columns:
        out += [
            f"          - name: {_q(name)}",
            f"            description: {_q(EXTRA_DESCRIPTION)}",
            f"            data_type: {_q(data_type)}",
            "            config:",
            "              meta:",
            "                extra: true",
        ]
    return out


def _render_table(t: contract.Table, extras: list[tuple[str, str]] = ()) -> list[str]:
    out = [
        f"      - name: {t.name}",
        f"        description: {_q(t.description)}",
        f"        loaded_at_field: {t.day_column}",
        "        config:",
        "          freshness:",
        f"            warn_after: {{count: {t.freshness_warn_hours}, period: hour}}",
        f"            error_after: {{count: {t.freshness_error_hours}, period: hour}}",
        "          meta:",
        f"            key: {t.key}",
        f"            updated_column: {t.updated_column if t.updated_column else 'null'}",
        f"            required_table: {_scalar(t.required_table)}",
        "        columns:",
    ]
    for col in t.columns:
        out += [
            f"          - name: {col.name}",
            f"            description: {_q(col.description)}",
            f"            data_type: {col.duckdb_type}",
            "            config:",
            "              meta:",
        ]
        out += [f"                {k}: {v}" for k, v in _column_meta(col)]
    out += _render_extras(list(extras))
    for name, data_type, description in METADATA_COLUMNS:
        out += [
            f"          - name: {name}",
            f"            description: {_q(description)}",
            f"            data_type: {data_type}",
        ]
    return out


def render_source(source: str, extras: Extras | None = None) -> str:
    """The yml text of one dbt source, with the extra columns of its tables when given."""
    extras = extras or {}
    tables = [t for t in contract.TABLES if t.source == source]
    if not tables:
        raise KeyError(f"the contract has no tables in source '{source}'")
    lines = [
        HEADER.rstrip("\n"),
        "",
        "version: 2",
        "",
        "sources:",
        f"  - name: {source}",
        f"    description: {_q(contract.SOURCE_DESCRIPTIONS[source])}",
        "    schema: \"{{ var('raw_schema', 'raw') }}\"",
        "    tables:",
    ]
    for i, t in enumerate(tables):
        if i:
            lines.append("")
        lines += _render_table(t, extras.get(t.name, []))
    return "\n".join(lines) + "\n"


def sources() -> list[str]:
    """Source names in a stable order: the known order first, any new source after, sorted."""
    present = {t.source for t in contract.TABLES}
    ordered = [s for s in SOURCE_ORDER if s in present]
    return ordered + sorted(present - set(ordered))


def render_sources(extras: Extras | None = None) -> dict[Path, str]:
    """Every source yml file: path relative to the dbt project folder -> text."""
    return {source_path(s): render_source(s, extras) for s in sources()}


def write_sources(project_dir: Path | str, extras: Extras | None = None) -> list[Path]:
    """Write the source yml files under ``project_dir``; returns the files that changed."""
    project_dir = Path(project_dir)
    changed: list[Path] = []
    for rel, text in render_sources(extras).items():
        path = project_dir / rel
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(rel)
    return changed


def check_sources(project_dir: Path | str) -> list[str]:
    """Source yml files that differ from the contract (missing, changed or stale); empty when in sync."""
    project_dir = Path(project_dir)
    expected = render_sources(committed_extras(project_dir))
    drifted = [
        rel.as_posix()
        for rel, text in expected.items()
        if not (project_dir / rel).exists() or (project_dir / rel).read_text(encoding="utf-8") != text
    ]
    # A sources file for a source the contract no longer has is drift too.
    staging = project_dir / "models" / "staging"
    if staging.is_dir():
        for path in sorted(staging.glob("*/_*__sources.yml")):
            rel = path.relative_to(project_dir)
            if rel not in expected:
                drifted.append(rel.as_posix())
    return drifted


def committed_extras(project_dir: Path | str) -> Extras:
    """The extra columns (``meta: {extra: true}``) the committed source files list, by table."""
    rows: list[tuple[str, str, str]] = []
    for rel in (source_path(s) for s in sources()):
        path = Path(project_dir) / rel
        if not path.exists():
            continue
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue  # an unreadable file is drift; check_sources reports it
        for source in doc.get("sources") or []:
            for table in source.get("tables") or []:
                for col in table.get("columns") or []:
                    meta = (col.get("config") or {}).get("meta") or {}
                    if meta.get("extra") is True:
                        rows.append((table.get("name"), str(col.get("name")), str(col.get("data_type", "varchar"))))
    return group_extras(rows)
