"""The data-quality gate: validate the landing files and load the valid rows into the raw schema.

    from empathy.gate import ingest, IngestReport, GateBlocked
    report = ingest(settings)          # or ingest(settings, con=..., progress=..., now=...)
    report.raise_if_blocked()          # GateBlocked names file, rule and count of every blocked file
    report.summary_rows()              # per table: files, rows_read, rows_loaded, rows_quarantined, status

Every rejected row is kept in audit.quarantine with its rule, file, row number, a fix and the
full original row; audit.load_log has one row per file read and audit.gate_results one row per
check. Great Expectations data docs: ``build_data_docs(settings)``.
"""

from empathy.gate.ingest import ingest, new_run_id
from empathy.gate.report import FileResult, GateBlocked, IngestReport
from empathy.gate.suites import build_data_docs

__all__ = ["FileResult", "GateBlocked", "IngestReport", "build_data_docs", "ingest", "new_run_id"]
