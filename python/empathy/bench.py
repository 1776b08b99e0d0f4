"""Benchmarks: wall time and peak memory of each pipeline step at several sizes.

    python -m empathy.bench --sizes 10000,100000 --write benchmarks/RESULTS.md

Each step runs as its own process (the CLI, as a user or orchestrator runs it),
so peak RSS is that step's own high-water mark, dbt's child process included.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import duckdb

STEPS = ("generate", "gate + load", "dbt build", "publish")
PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "pyarrow", "pandas", "numpy")


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Run a command; return (seconds, peak RSS in MiB of it and its waited-for children, exit code)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
        raise RuntimeError(f"{' '.join(cmd)} failed with exit {code}:\n{err}")
    return seconds, usage.ru_maxrss / 1024, code


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024**2:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = "-"
    return {
        "cpu": f"{cpu} x {os.cpu_count()}",
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        **versions,
    }


def bench_size(customers: int, days: int, workdir: Path, seed: int = 42) -> dict:
    home = workdir / f"c{customers}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        EMPATHY_HOME=str(home),
        EMPATHY_LANDING=str(home / "landing"),
        EMPATHY_WAREHOUSE=str(home / "warehouse.duckdb"),
        EMPATHY_PUBLISHED=str(home / "published" / "empathy.duckdb"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        GX_ANALYTICS_ENABLED="false",
    )
    cli = [sys.executable, "-m", "empathy.cli"]
    project = Path(__file__).resolve().parents[2]
    cmds = {
        "generate": [
            *cli,
            "generate",
            "--customers",
            str(customers),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--end-date",
            "2026-06-30",
            "--force",
        ],
        "gate + load": [*cli, "gate"],
        "dbt build": [*cli, "build"],
        "publish": [*cli, "publish"],
    }
    out: dict = {"customers": customers, "days": days, "steps": {}, "load": []}
    for step in STEPS:
        print(f"[bench] {customers:,} customers: {step} ...", flush=True)
        out["load"].append(os.getloadavg()[0])
        seconds, rss, _ = _run(cmds[step], env, project)
        out["load"].append(os.getloadavg()[0])
        out["steps"][step] = (seconds, rss)
        print(f"[bench] {customers:,} customers: {step} {seconds:.1f}s, peak RSS {rss:,.0f} MiB", flush=True)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        out["raw_rows"] = con.execute("select sum(rows_loaded) from audit.load_log").fetchone()[0]
        out["files"] = con.execute("select count(*) from audit.load_log").fetchone()[0]
        out["interactions"] = con.execute("select count(*) from marts.fct_interactions").fetchone()[0]
    finally:
        con.close()
    out["db_mib"] = (home / "warehouse.duckdb").stat().st_size / 1024**2
    out["published_mib"] = (home / "published" / "empathy.duckdb").stat().st_size / 1024**2
    return out


def render(results: list[dict], info: dict[str, str]) -> str:
    lines = [
        "## Pipeline benchmark",
        "",
        "Produced by `make bench` (`python -m empathy.bench`). Each step runs as its own process through the",
        "CLI, the way an orchestrator runs it; peak RSS is that process's high-water mark including dbt's child.",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on:",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        "Demo world, retail preset, 365 days:",
        "",
        "| customers | landing files | raw rows | interactions | step | wall time (s) | peak RSS (MiB) |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        for i, step in enumerate(STEPS):
            sec, rss = r["steps"][step]
            head = (
                f"| {r['customers']:,} | {r['files']:,} | {r['raw_rows']:,} | {r['interactions']:,} "
                if i == 0
                else "| | | | "
            )
            lines.append(f"{head}| {step} | {sec:,.1f} | {rss:,.0f} |")
        total = sum(s for s, _ in r["steps"].values())
        lines.append(f"| | | | | **total** | **{total:,.1f}** | |")
    lines += [
        "",
        "Load average (1 min) at the start and end of each step, as other jobs may share the cores: "
        + "; ".join(
            f"{r['customers']:,} customers: " + ", ".join(f"{x:.1f}" for x in r.get("load", [])) for r in results
        ),
        "",
        "Database sizes: "
        + "; ".join(
            f"{r['customers']:,} customers: working {r['db_mib']:,.0f} MiB, published {r['published_mib']:,.0f} MiB"
            for r in results
        ),
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, name: str, text: str) -> None:
    """Replace one marked section of a results file, keeping the other sections (other benchmarks)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    if start in old and end in old:
        head, rest = old.split(start, 1)
        new = head + block + rest.split(end, 1)[1]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--sizes",
        default=os.environ.get("BENCH_SIZES", "10000,100000"),
        help="comma-separated customer counts (default 10000,100000; add 1000000 where time allows)",
    )
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--workdir", type=Path, default=None, help="where to put the data (default: a temp folder)")
    ap.add_argument("--write", type=Path, default=None, help="write the Markdown table here")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="empathy-bench-"))
    results = [bench_size(n, args.days, workdir) for n in sizes]
    text = render(results, machine())
    print(text)
    if args.write:
        write_section(args.write, "pipeline", text)
        print(f"written to {args.write}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
