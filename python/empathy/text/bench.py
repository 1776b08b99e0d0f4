"""Text-model throughput benchmark (`make bench` runs it after the pipeline benchmark).

    python -m empathy.text.bench --texts 40000 --write benchmarks/RESULTS.md

Texts are the project's evaluation messages and GoEmotions dev comments (when ../shared/data is there),
each made distinct by a suffix so no cache can help. Rows: the full set of signals in one process and in
two worker processes (one per core), VADER's polarity_scores in one process for scale, the cold start
(deriving the static table into an empty cache) and peak memory; then the accurate tier on real-length texts
with two scoring threads and with one, and the size of its int8 graph.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def corpus(n: int) -> list[str]:
    from empathy.text import corpora

    pool = [r["text"] for r in corpora.eval_rows()]
    with contextlib.suppress(FileNotFoundError):
        pool += corpora.goemotions("ekman", "dev").texts
    if not pool:
        pool = ["my order arrived late and the box was damaged", "obrigado pelo atendimento rápido!"]
    return [f"{pool[i % len(pool)]} #{i}" for i in range(n)]


def _worker(texts: list[str]) -> int:
    from empathy.text.model import load_model

    return load_model(tier="fast").score(texts).num_rows


def run(n: int) -> dict[str, float]:
    from empathy.text.evaluate import vader_labels
    from empathy.text.model import TextModel, load_model

    texts = corpus(n)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cold:
        old = os.environ.get("EMPATHY_MODEL_CACHE")
        os.environ["EMPATHY_MODEL_CACHE"] = cold
        t0 = time.perf_counter()
        TextModel()
        out["cold start s (derive static table)"] = time.perf_counter() - t0
        if old is None:
            del os.environ["EMPATHY_MODEL_CACHE"]
        else:
            os.environ["EMPATHY_MODEL_CACHE"] = old
    t0 = time.perf_counter()
    model = load_model(tier="fast")
    out["warm load s"] = time.perf_counter() - t0
    model.score(texts[:200])
    t0 = time.perf_counter()
    model.score(texts)
    out["texts/s, all signals, 1 process"] = n / (time.perf_counter() - t0)
    half = n // 2
    # spawn, not fork: lingua's and BLAS's thread pools do not survive a fork
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_worker, [texts[:200], texts[200:400]]))  # load the model in both workers
        t0 = time.perf_counter()
        list(pool.map(_worker, [texts[:half], texts[half:]]))
        out["texts/s, all signals, 2 processes"] = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    vader_labels(texts)
    out["texts/s, VADER sentiment only, 1 process"] = n / (time.perf_counter() - t0)
    out["peak RSS MiB (this process)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_accurate(n: int) -> dict[str, float]:
    """The accurate tier: load, texts/s on real-length texts with two and with one scoring thread, graph size."""
    from empathy.text.accurate import AccurateTextModel, accurate_artifacts_dir
    from empathy.text.model import load_model

    texts = corpus(n)
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    model = load_model(tier="accurate")
    out["accurate: load s (fast tier loaded)"] = time.perf_counter() - t0
    model.score(texts[:50])
    t0, cpu0 = time.perf_counter(), time.process_time()
    model.score(texts)
    out["accurate: texts/s, all signals, 2 threads"] = n / (time.perf_counter() - t0)
    # on shared cores the wall-clock rate says how busy the machine was; texts per CPU second does not
    out["accurate: texts per CPU second"] = n / (time.process_time() - cpu0)
    os.environ["EMPATHY_TEXT_THREADS"] = "1"
    try:
        single = AccurateTextModel(accurate_artifacts_dir(), fast=model.fast)
        t0 = time.perf_counter()
        single.score(texts[: n // 2])
        out["accurate: texts/s, all signals, 1 thread"] = (n // 2) / (time.perf_counter() - t0)
    finally:
        del os.environ["EMPATHY_TEXT_THREADS"]
    out["accurate: int8 graph MB"] = (accurate_artifacts_dir() / "encoder.int8.onnx").stat().st_size / 1e6
    return out


def render(results: dict[str, float], command: str, title: str, version: str, load: float) -> str:
    from empathy.bench import machine

    host = machine()
    lines = [
        f"## {title}",
        "",
        f"`{command}`, model `{version}`, {host['cpu']}, {host['memory']}; load average {load:.1f} at the start "
        "(on shared cores a wall-clock rate falls with the load).",
        "",
        "| measure | value |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v:,.1f} |" if v < 100 else f"| {k} | {v:,.0f} |" for k, v in results.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from empathy.text.model import load_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=40_000, help="texts for the fast tier (0: skip it)")
    ap.add_argument("--accurate-texts", type=int, default=3_000, help="texts for the accurate tier (0: skip it)")
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args(argv)
    sections = []
    if args.texts:
        load = os.getloadavg()[0]
        command = f"python -m empathy.text.bench --texts {args.texts}"
        results = run(args.texts)
        text = render(results, command, "Text scoring throughput", load_model(tier="fast").version, load)
        sections.append(("text-throughput", text))
    if args.accurate_texts:
        load = os.getloadavg()[0]
        command = f"python -m empathy.text.bench --accurate-texts {args.accurate_texts}"
        results = run_accurate(args.accurate_texts)
        title = "Text scoring throughput, accurate tier"
        text = render(results, command, title, load_model(tier="accurate").version, load)
        sections.append(("text-throughput-accurate", text))
    for name, text in sections:
        print(text)
        if args.write:
            from empathy.bench import write_section

            write_section(args.write, name, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
