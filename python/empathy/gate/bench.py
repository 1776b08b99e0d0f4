"""Benchmark: the gate on CSV files with one very long text field, and on a file sent twice.

    python -m empathy.gate.bench --sizes-mb 0.25,1,5 --write benchmarks/RESULTS.md

For each size, a ``ticket_messages`` CSV holds one message whose body is that many million characters of
prose with commas and quotes (what made DuckDB's ``store_rejects`` reader quadratic), beside a short message;
once as a clean file and once with a malformed line too (so the file takes the Python pass). Reported: the
seconds the gate spent reading that table's files, finding copies of records already loaded, and on the whole
table (read, coerce, validate, de-duplicate, load), and the outcome (rows read / loaded / quarantined). The
duplicate check is timed on a file of ``--resend-rows`` orders loaded, then sent again under another name.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from empathy.bench import machine, write_section
from empathy.config import load_settings
from empathy.gate import ingest

NOW = datetime(2025, 1, 10, 12, 0, 0)
DAY = "2024-06-02"
HEADER = "message_id,ticket_id,author_type,sent_at,body\n"
PROSE = 'Well, the parcel was late, again; "not great", said I. '


def _parquet(landing: Path, table: str, day: str, rows: dict, name: str = "part-0.parquet") -> Path:
    folder = landing / table / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows), folder / name)
    return folder / name


def _world(home: Path):
    settings = load_settings(
        home=home, landing=home / "landing", warehouse=home / "w.duckdb", published=home / "p.duckdb"
    )
    t0 = datetime(2024, 6, 1, 10)
    _parquet(settings.landing, "customers", "2024-06-01", {"customer_id": ["c1"], "created_at": [t0]})
    _parquet(
        settings.landing,
        "support_tickets",
        DAY,
        {"ticket_id": ["t1"], "customer_id": ["c1"], "created_at": [t0], "status": ["open"]},
    )
    return settings


def long_field(mb: float, bad_line: bool, home: Path) -> dict:
    settings = _world(home)
    body = (PROSE * (int(mb * 1_000_000) // len(PROSE) + 1))[: int(mb * 1_000_000)]
    data = HEADER + 'm1,t1,customer,2024-06-02 10:00:00,"' + body.replace('"', '""') + '"\n'
    data += "m2,t1,agent,2024-06-02 10:01:00,hello\n"
    if bad_line:
        data += "m3,t1,agent,2024-06-02 10:02:00,hello,surplus\n"
    folder = settings.landing / "ticket_messages" / f"day={DAY}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "export.csv").write_text(data)
    report = ingest(settings, now=NOW)
    f = next(f for f in report.files if f.table == "ticket_messages")
    return {
        "case": f"{mb:g} MB field" + (" + a malformed line" if bad_line else ""),
        "read_s": report.seconds.get("ticket_messages.read", 0.0),
        "dedupe_s": report.seconds.get("ticket_messages.duplicates", 0.0),
        "table_s": report.seconds["ticket_messages"],
        "outcome": f"{f.rows_read} / {f.rows_loaded} / {f.rows_quarantined}",
    }


def resend(rows: int, home: Path) -> dict:
    settings = _world(home)
    t0 = datetime(2024, 6, 2, 10)
    orders = {
        "order_id": [f"o{i}" for i in range(rows)],
        "customer_id": ["c1"] * rows,
        "ordered_at": [t0] * rows,
        "updated_at": [t0] * rows,
        "status": ["placed"] * rows,
        "order_total": [float(i % 500) for i in range(rows)],
    }
    first = _parquet(settings.landing, "orders", DAY, orders)
    ingest(settings, now=NOW)
    shutil.copy(first, first.parent / "resent.parquet")
    report = ingest(settings, now=NOW)
    f = next(f for f in report.files if f.file.endswith("resent.parquet"))
    return {
        "case": f"{rows:,} orders sent again under another name",
        "read_s": report.seconds.get("orders.read", 0.0),
        "dedupe_s": report.seconds.get("orders.duplicates", 0.0),
        "table_s": report.seconds["orders"],
        "outcome": f"{f.rows_read} / {f.rows_loaded} / {f.rows_quarantined}",
    }


def render(results: list[dict], info: dict[str, str]) -> str:
    lines = [
        "## Gate: long CSV fields and resent files",
        "",
        "`python -m empathy.gate.bench`: one `ticket_messages` CSV with a text field of the given size (prose with "
        "commas and quotes), clean or with a malformed line; and a Parquet file of orders sent twice. Seconds the "
        "gate spent reading the table, finding copies of records already loaded, and on the whole table (with Great "
        "Expectations' validation); rows read / loaded / quarantined of the file. "
        f"Machine: {info.get('cpu', '?')}, {info.get('memory', '?')}.",
        "",
        "| case | read (s) | de-duplicate (s) | whole table (s) | read / loaded / quarantined |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r['case']} | {r['read_s']:.2f} | {r['dedupe_s']:.2f} | {r['table_s']:.2f} | {r['outcome']} |"
        for r in results
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes-mb", default="0.25,1,5", help="field sizes in millions of characters")
    ap.add_argument("--resend-rows", type=int, default=200_000)
    ap.add_argument("--write", type=Path, default=None, help="write the Markdown table into this results file")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="empathy-gate-bench-"))
    try:
        results = []
        for n, mb in enumerate(float(x) for x in args.sizes_mb.split(",") if x.strip()):
            for bad in (False, True):
                results.append(long_field(mb, bad, work / f"f{n}{int(bad)}"))
        results.append(resend(args.resend_rows, work / "resend"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = render(results, machine())
    print(text)
    if args.write:
        write_section(args.write, "gate-csv", text)
        print(f"written to {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
