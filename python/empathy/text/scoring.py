"""Scoring files and Arrow tables: identical texts are scored once, output keeps input order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from empathy.text.language import SWITCH_CONFIDENCE, LanguagePrior, company_mix, word_count
from empathy.text.model import TextModel, detect_languages, load_model
from empathy.text.normalize import normalise_text

BATCH = 20_000


class ScoreInputError(ValueError):
    pass


def sniff_delimiter(path: Path, suffix: str) -> str:
    """The delimiter of a delimited text file: tab for .tsv; for .csv the one of `,` `;` tab `|` that the
    header and the first lines agree on (spreadsheets in many locales save `;`), else `,`."""
    if suffix == ".tsv":
        return "\t"
    import csv

    with path.open("r", encoding="utf-8", errors="replace", newline="") as f:
        sample = f.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_input(path: Path) -> pa.Table:
    suffix = path.suffix.lower()
    if not path.exists():
        raise ScoreInputError(f"{path}: no such file")
    if suffix == ".parquet":
        return pq.read_table(path)
    if suffix in (".csv", ".tsv"):
        options = pacsv.ParseOptions(delimiter=sniff_delimiter(path, suffix), newlines_in_values=True)
        try:
            return pacsv.read_csv(path, parse_options=options)
        except pa.ArrowInvalid as exc:
            raise ScoreInputError(f"{path}: not readable as {suffix[1:].upper()} ({exc}); CSV must be UTF-8") from exc
    raise ScoreInputError(f"{path}: unsupported file type {suffix!r}; use .csv, .tsv or .parquet")


def input_mix(texts: list[str], min_confidence: float = SWITCH_CONFIDENCE) -> dict[str, float]:
    """The language mix of a set of texts (the company's, when it is all of them): see `language.company_mix`."""
    detected, confidences = detect_languages(texts)
    return company_mix(detected, confidences, [word_count(t) for t in texts], min_confidence)


def score_texts(
    texts: list[str | None],
    model: TextModel | None = None,
    progress: Callable[[int, int], None] | None = None,
    declared: list[str | None] | None = None,
    switch_confidence: float = SWITCH_CONFIDENCE,
) -> pa.Table:
    """Signals for each text, in order; each distinct (normalised text, declared language) is scored once.

    Short texts lean on `declared` (the writer's language, per text) and on the mix of the texts' own languages."""
    model = model or load_model()
    normalised = [normalise_text(t) for t in texts]
    declared = [None] * len(texts) if declared is None else [None if d is None else str(d) for d in declared]
    keys = np.array([f"{d or ''}\x00{t}" for t, d in zip(normalised, declared, strict=True)], dtype=object)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    distinct = [normalised[i] for i in first]
    mix = input_mix(sorted(set(normalised)), switch_confidence)
    parts = []
    for start in range(0, len(distinct), BATCH):
        prior = LanguagePrior([declared[i] for i in first[start : start + BATCH]], mix, switch_confidence)
        parts.append(model.score(distinct[start : start + BATCH], prior))
        if progress:
            progress(min(start + BATCH, len(distinct)), len(distinct))
    scored = pa.concat_tables(parts) if parts else model.score([])
    return scored.take(pa.array(inverse.reshape(-1), type=pa.int64()))


def score_table(
    table: pa.Table,
    text_column: str,
    id_column: str | None = None,
    model=None,
    progress: Callable[[int, int], None] | None = None,
    source: str = "input",
    language_column: str | None = None,
    switch_confidence: float = SWITCH_CONFIDENCE,
) -> pa.Table:
    for name, role in (
        (text_column, "--text-column"),
        (id_column, "--id-column"),
        (language_column, "--language-column"),
    ):
        if name is not None and name not in table.column_names:
            raise ScoreInputError(
                f"{source}: column {name!r} ({role}) not found; columns are: {', '.join(table.column_names)}"
            )
    column = table[text_column]
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    declared = pc.cast(table[language_column], pa.string()).to_pylist() if language_column else None
    signals = score_texts(
        column.to_pylist(), model=model, progress=progress, declared=declared, switch_confidence=switch_confidence
    )
    front = {id_column: table[id_column]} if id_column else {"row_number": pa.array(np.arange(table.num_rows))}
    return pa.table({**front, **{n: signals[n] for n in signals.column_names}})


def score_file(
    input_path: Path,
    text_column: str,
    output_path: Path,
    id_column: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    language_column: str | None = None,
    switch_confidence: float = SWITCH_CONFIDENCE,
) -> pa.Table:
    if output_path.suffix.lower() != ".parquet":
        raise ScoreInputError(f"{output_path}: the output must be a .parquet file")
    table = read_input(input_path)
    out = score_table(
        table,
        text_column,
        id_column,
        progress=progress,
        source=str(input_path),
        language_column=language_column,
        switch_confidence=switch_confidence,
    )
    output_path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(out, output_path)
    return out
