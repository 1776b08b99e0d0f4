"""Scoring files and Arrow tables: identical texts are scored once, output keeps input order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from empathy.text.model import TextModel, load_model
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


def score_texts(
    texts: list[str | None], model: TextModel | None = None, progress: Callable[[int, int], None] | None = None
) -> pa.Table:
    """Signals for each text, in order; each distinct normalised text is scored once."""
    model = model or load_model()
    normalised = [normalise_text(t) for t in texts]
    distinct, inverse = np.unique(np.array(normalised, dtype=object), return_inverse=True)
    parts = []
    for start in range(0, len(distinct), BATCH):
        parts.append(model.score(list(distinct[start : start + BATCH])))
        if progress:
            progress(min(start + BATCH, len(distinct)), len(distinct))
    scored = pa.concat_tables(parts) if parts else model.score([])
    return scored.take(pa.array(inverse, type=pa.int64()))


def score_table(
    table: pa.Table,
    text_column: str,
    id_column: str | None = None,
    model: TextModel | None = None,
    progress: Callable[[int, int], None] | None = None,
    source: str = "input",
) -> pa.Table:
    for name, role in ((text_column, "--text-column"), (id_column, "--id-column")):
        if name is not None and name not in table.column_names:
            raise ScoreInputError(
                f"{source}: column {name!r} ({role}) not found; columns are: {', '.join(table.column_names)}"
            )
    column = table[text_column]
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    signals = score_texts(column.to_pylist(), model=model, progress=progress)
    front = {id_column: table[id_column]} if id_column else {"row_number": pa.array(np.arange(table.num_rows))}
    return pa.table({**front, **{n: signals[n] for n in signals.column_names}})


def score_file(
    input_path: Path,
    text_column: str,
    output_path: Path,
    id_column: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pa.Table:
    if output_path.suffix.lower() != ".parquet":
        raise ScoreInputError(f"{output_path}: the output must be a .parquet file")
    table = read_input(input_path)
    out = score_table(table, text_column, id_column, progress=progress, source=str(input_path))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(out, output_path)
    return out
