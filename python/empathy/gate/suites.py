"""Great Expectations suites built from the raw-data contract, and the validation run.

One file-backed GX project lives under ``settings.gx_dir``. Each gate run validates every
table that received new files once (in chunks of at most ``CHUNK_ROWS`` rows) on a pandas
batch that carries ``_file`` and ``_row_number``, so that every failing row is identified.
The stored validation results are trimmed (no full lists of failing rows, long values cut)
so that the GX store and the data docs stay small; the full detail goes to audit.quarantine.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from empathy import contract
from empathy.config import Settings

CHUNK_ROWS = 1_000_000
DATASOURCE = "empathy_gate"
BATCH_DEFINITION = "whole_table"
INDEX_COLUMNS = ["_file", "_row_number"]
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": INDEX_COLUMNS}

# Rule order: the first broken rule of a row is the one reported as `rule`.
RULE_ORDER = (
    "file_unreadable",
    "encoding",
    "csv_malformed",
    "missing_column",
    "type",
    "not_null",
    "allowed",
    "range",
    "max_length",
    "not_future",
    "references",
    "duplicate_key",
    "conflict",
    "duplicate_resent",
)


def rule_rank(rule: str, table: contract.Table) -> int:
    kind, _, column = rule.partition(":")
    base = RULE_ORDER.index(kind) if kind in RULE_ORDER else len(RULE_ORDER)
    names = table.column_names
    pos = names.index(column) if column in names else len(names)
    return base * 1000 + pos


def version_column(table: contract.Table) -> str:
    """Name of the column holding "key|updated_column" (one value per version of a record)."""
    return f"{table.key}__version"


def ref_flag_column(column: str) -> str:
    """Name of the boolean column that says whether a referencing value exists in its parent table."""
    return f"{column}__exists_in_parent"


@dataclass
class Check:
    """One expectation of a table's suite and the quarantine rule it stands for."""

    rule: str
    column: str | None
    expectation: object  # a great_expectations Expectation
    quarantines: bool = True  # failing rows go to quarantine (the key-uniqueness check only reports)


@dataclass
class Outcome:
    """Aggregated result of one expectation over all chunks."""

    check: Check
    type: str
    success: bool = True
    element_count: int = 0
    unexpected_count: int = 0
    partial: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    error: str = ""


def build_checks(table: contract.Table, not_after: datetime, references: dict[str, str]) -> list[Check]:
    """The table's expectations from the contract.

    ``references`` maps a referencing column to its parent ("customers.customer_id") for the
    references that are checked in this run (the parent table exists in raw).
    """
    import great_expectations.expectations as gxe

    def meta(rule: str, note: str) -> dict:
        return {"rule": rule, "notes": note}

    checks: list[Check] = []
    for c in table.columns:
        if c.required:
            checks.append(
                Check(
                    f"column_exists:{c.name}",
                    c.name,
                    gxe.ExpectColumnToExist(column=c.name, meta=meta(f"column_exists:{c.name}", "required column")),
                    quarantines=False,
                )
            )
    for c in table.columns:
        if c.required:
            r = f"not_null:{c.name}"
            checks.append(
                Check(r, c.name, gxe.ExpectColumnValuesToNotBeNull(column=c.name, meta=meta(r, "required (not null)")))
            )
        if c.allowed:
            r = f"allowed:{c.name}"
            checks.append(
                Check(
                    r,
                    c.name,
                    gxe.ExpectColumnValuesToBeInSet(
                        column=c.name, value_set=list(c.allowed), meta=meta(r, "one of the allowed values")
                    ),
                )
            )
        if c.min is not None or c.max is not None:
            r = f"range:{c.name}"
            checks.append(
                Check(
                    r,
                    c.name,
                    gxe.ExpectColumnValuesToBeBetween(
                        column=c.name, min_value=c.min, max_value=c.max, meta=meta(r, "within the contract's range")
                    ),
                )
            )
        if c.max_length is not None:
            r = f"max_length:{c.name}"
            checks.append(
                Check(
                    r,
                    c.name,
                    gxe.ExpectColumnValueLengthsToBeBetween(
                        column=c.name, max_value=c.max_length, meta=meta(r, f"at most {c.max_length} characters")
                    ),
                )
            )
        if c.not_future:
            r = f"not_future:{c.name}"
            checks.append(
                Check(
                    r,
                    c.name,
                    gxe.ExpectColumnValuesToBeBetween(
                        column=c.name,
                        max_value=not_after,
                        meta=meta(r, f"not after the run time plus the clock tolerance ({not_after:%Y-%m-%d %H:%M})"),
                    ),
                )
            )
        if c.name in references:
            r = f"references:{c.name}"
            checks.append(
                Check(
                    r,
                    c.name,
                    gxe.ExpectColumnValuesToBeInSet(
                        column=ref_flag_column(c.name),
                        value_set=[True],
                        meta=meta(
                            r,
                            f"every {table.name}.{c.name} exists in {references[c.name]} (raw, including this "
                            "run's valid rows); the flag column is computed by a join in DuckDB",
                        ),
                    ),
                )
            )
    # Older versions of a record (same key, older updated_column) are legitimate history, so the
    # uniqueness that must hold is that of (key, version); the SQL step keeps the latest version.
    r = f"unique:{table.key}"
    unique_col = version_column(table) if table.updated_column else table.key
    note = (
        f"each version of a record, ({table.key}, {table.updated_column}), appears once in this run's files"
        if table.updated_column
        else f"{table.key} unique within this run's files"
    )
    checks.append(
        Check(
            r,
            table.key,
            gxe.ExpectColumnValuesToBeUnique(column=unique_col, meta=meta(r, note)),
            quarantines=False,
        )
    )
    return checks


class GxProject:
    """The file-backed GX project under settings.gx_dir."""

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        settings.gx_dir.mkdir(parents=True, exist_ok=True)
        self.root = settings.gx_dir
        self.context = gx.get_context(mode="file", project_root_dir=str(settings.gx_dir))
        pb = self.context.variables.progress_bars
        if pb is None or getattr(pb, "globally", True) or getattr(pb, "metric_calculations", True):
            self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            self.context.variables.save()
        try:
            self.datasource = self.context.data_sources.get(DATASOURCE)
        except (KeyError, ValueError, LookupError):
            self.datasource = self.context.data_sources.add_pandas(DATASOURCE)

    def batch_definition(self, table: str):
        try:
            asset = self.datasource.get_asset(table)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(table)
        try:
            return asset.get_batch_definition(BATCH_DEFINITION)
        except (KeyError, ValueError, LookupError):
            return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)

    def suite(self, table: str, checks: list[Check]):
        import great_expectations as gx

        suite = gx.ExpectationSuite(
            name=f"raw.{table}",
            expectations=[c.expectation for c in checks],
            meta={"notes": f"Built from the raw-data contract (empathy.contract) for raw.{table}."},
        )
        return self.context.suites.add_or_update(suite)

    def validation_definition(self, table: str, suite, batch_definition):
        import great_expectations as gx

        vd = gx.ValidationDefinition(name=f"gate.{table}", data=batch_definition, suite=suite)
        return self.context.validation_definitions.add_or_update(vd)

    def validate(self, table: str, checks: list[Check], frames, run_id: str, run_time: datetime):
        """Validate every pandas chunk yielded by ``frames``.

        Returns (outcomes by rule, failures) where failures is a list of (file, row_number, rule, column).
        """
        from great_expectations.constants import DATAFRAME_REPLACEMENT_STR
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )
        from great_expectations.validator.v1_validator import Validator

        bd = self.batch_definition(table)
        suite = self.suite(table, checks)
        vd = self.validation_definition(table, suite, bd)
        by_rule = {c.rule: c for c in checks}
        outcomes = {c.rule: Outcome(check=c, type=c.expectation.expectation_type) for c in checks}
        failures: list[tuple[str, int, str, str | None]] = []
        for n, df in enumerate(frames):
            validator = Validator(batch_definition=bd, batch_parameters={"dataframe": df}, result_format=RESULT_FORMAT)
            result = validator.validate_expectation_suite(suite)
            for r in result.results:
                rule = (r.expectation_config.meta or {}).get("rule")
                check = by_rule.get(rule)
                if check is None:
                    continue
                o = outcomes[rule]
                o.kwargs = {k: v for k, v in r.expectation_config.kwargs.items() if k not in ("batch_id",)}
                info = r.exception_info or {}
                if info.get("raised_exception"):
                    o.success = False
                    o.error = str(info.get("exception_message"))[:2000]
                    continue
                res = r.result or {}
                o.success = o.success and bool(r.success)
                o.element_count += int(res.get("element_count") or (len(df) if res else 0))
                o.unexpected_count += int(res.get("unexpected_count") or 0)
                if len(o.partial) < 10:
                    o.partial.extend(_short(v) for v in (res.get("partial_unexpected_list") or [])[:10])
                if check.quarantines and not r.success:
                    for item in res.get("unexpected_index_list") or []:
                        failures.append((str(item["_file"]), int(item["_row_number"]), rule, check.column))
            result.meta["validation_id"] = vd.id
            result.meta["checkpoint_id"] = None
            run = RunIdentifier(run_name=run_id if n == 0 else f"{run_id}-part{n + 1}", run_time=run_time)
            result.meta["run_id"] = run
            result.meta["validation_time"] = run.run_time
            result.meta["batch_parameters"] = {"dataframe": DATAFRAME_REPLACEMENT_STR}
            suite_id = ExpectationSuiteIdentifier(name=suite.name)
            self.context.validation_results_store.store_validation_results(
                suite_validation_result=_trimmed(result),
                suite_validation_result_identifier=ValidationResultIdentifier(
                    batch_identifier=validator.active_batch_id,
                    expectation_suite_identifier=suite_id,
                    run_id=run,
                ),
                expectation_suite_identifier=suite_id,
            )
        return outcomes, failures

    def build_data_docs(self) -> Path:
        self.context.build_data_docs()
        urls = self.context.get_docs_sites_urls()
        for site in urls:
            url = site.get("site_url") or ""
            if url.startswith("file://"):
                return Path(url[len("file://") :])
        return self.root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def _short(value, limit: int = 200):
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"... ({len(value):,} characters)"
    if hasattr(value, "item"):  # numpy scalar
        try:
            return value.item()
        except (ValueError, TypeError):
            return str(value)
    return value


def _trimmed(result):
    """A copy of a suite result without the full lists of failing rows (those go to audit.quarantine)."""
    out = copy.copy(result)
    out.results = []
    for r in result.results:
        r2 = copy.copy(r)
        res = dict(r.result or {})
        for key in ("unexpected_list", "unexpected_index_list", "unexpected_index_query"):
            res.pop(key, None)
        if "partial_unexpected_list" in res:
            res["partial_unexpected_list"] = [_short(v) for v in res["partial_unexpected_list"]]
        if "partial_unexpected_index_list" in res:
            res["partial_unexpected_index_list"] = [
                {k: _short(v) for k, v in d.items()} for d in res["partial_unexpected_index_list"]
            ]
        if "partial_unexpected_counts" in res:
            res["partial_unexpected_counts"] = [
                {"value": _short(d.get("value")), "count": d.get("count")} for d in res["partial_unexpected_counts"]
            ]
        r2.result = res
        out.results.append(r2)
    return out


def build_data_docs(settings: Settings) -> Path:
    """Build the GX data docs (suites and stored gate validations); returns the index.html path."""
    gx_yml = settings.gx_dir / "gx" / "great_expectations.yml"
    if not gx_yml.exists():
        raise FileNotFoundError(
            f"no data-quality results yet under {settings.gx_dir}: run the gate first (`empathy run` or `empathy gate`)"
        )
    return GxProject(settings).build_data_docs()
