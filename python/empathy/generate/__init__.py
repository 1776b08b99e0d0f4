"""Demo world generator: a simulated company whose customers have feelings.

``generate(out, customers, days, seed, sector, end_date)`` writes landing files for every table of the
raw-data contract (``out/<table>/day=YYYY-MM-DD/<table>-YYYY-MM-DD.parquet``) and the ground truth the
simulation used (``out/_truth/``). The output is a pure function of the parameters: the same parameters
give byte-identical files. See docs/demo_world.md.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from empathy import contract

GENERATOR_VERSION = "1.0.0"
MANIFEST = "_manifest.json"
TRUTH_DIR = "_truth"

__all__ = ["GENERATOR_VERSION", "generate"]


def _params(customers: int, days: int, seed: int, sector: str, end_date: dt.date) -> dict:
    return {
        "customers": int(customers),
        "days": int(days),
        "seed": int(seed),
        "sector": sector,
        "end_date": end_date.isoformat(),
    }


def generate(
    out: Path,
    customers: int = 10_000,
    days: int = 365,
    seed: int = 42,
    sector: str = "retail",
    end_date: dt.date | None = None,
    force: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Generate the demo world into ``out`` and return a summary.

    The world covers ``[end_date - days + 1, end_date]`` (``end_date`` defaults to yesterday, UTC).
    When ``out/_manifest.json`` holds the same parameters and generator version and ``force`` is false,
    the stored summary is returned without regenerating.
    """
    from empathy.generate.sectors import preset
    from empathy.generate.world import World

    if customers < 1:
        raise ValueError("customers must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    sector_preset = preset(sector)
    if end_date is None:
        end_date = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    started = time.perf_counter()
    out = Path(out)
    params = _params(customers, days, seed, sector, end_date)
    manifest_path = out / MANIFEST
    if manifest_path.exists() and not force:
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            manifest = {}
        if manifest.get("params") == params and manifest.get("generator_version") == GENERATOR_VERSION:
            summary = dict(manifest["summary"])
            summary["out"] = str(out)
            summary["seconds"] = round(time.perf_counter() - started, 3)
            summary["cached"] = True
            return summary

    out.mkdir(parents=True, exist_ok=True)
    if manifest_path.exists():
        manifest_path.unlink()
    for name in [t.name for t in contract.TABLES] + [TRUTH_DIR]:
        if (out / name).exists():
            shutil.rmtree(out / name)

    world = World(out, customers, days, seed, sector_preset, end_date, progress)
    world.run()
    if progress:
        progress("done", 1.0)
    rows = {t.name: world.writer.rows.get(t.name, 0) for t in contract.TABLES}
    summary = {
        "rows": rows,
        "files": world.writer.files,
        "seconds": round(time.perf_counter() - started, 3),
        "params": params,
        "out": str(out),
        "truth_rows": dict(sorted(world.truth.rows.items())),
        "window": {"start": world.start.isoformat(), "end": end_date.isoformat()},
        "cached": False,
    }
    # The manifest holds no wall-clock values, so a re-run with the same parameters is byte-identical.
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "params": params,
        "rows": rows,
        "files": summary["files"],
        "summary": {k: v for k, v in summary.items() if k not in ("seconds", "out")},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return summary
