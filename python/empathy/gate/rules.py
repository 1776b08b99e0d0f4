"""Plain-language text for every quarantine rule: what is wrong and how to fix it.

``what`` may contain ``{value}``, replaced by the offending value (quoted, cut for display).
"""

from __future__ import annotations

from empathy import contract

TYPE_HINTS = {
    "string": "text",
    "timestamp": "a timestamp such as 2024-05-01 13:45:00 (ISO 8601, UTC; an offset like +02:00 is converted)",
    "date": "a date such as 2024-05-01",
    "integer": "a whole number",
    "double": "a number with a dot as decimal separator (no thousands separators, no NaN or infinity)",
    "boolean": "true or false",
}

REDELIVER = "then deliver the corrected file again under the same path (it replaces the earlier rows)."


def _column(table: contract.Table, name: str) -> contract.Column | None:
    try:
        return table.column(name)
    except KeyError:
        return None


def rule_text(table: contract.Table, rule: str) -> tuple[str, str]:
    kind, _, name = rule.partition(":")
    col = _column(table, name) if name else None
    ref = f"{table.name}.{name}"
    if kind == "missing_column":
        return (
            f"the file has no column '{name}', which the raw-data contract requires for {table.name}",
            f"add '{name}' to the export ({col.description if col else ''}), {REDELIVER}",
        )
    if kind == "type" and col is not None:
        return (
            f"{ref} = {{value}} is not {TYPE_HINTS.get(col.type, col.type)}",
            f"correct the value (or the export format of {name}) at the source, {REDELIVER}",
        )
    if kind == "not_null":
        return (
            f"{ref} is empty but the contract requires it",
            f"fill in {name} at the source, {REDELIVER}",
        )
    if kind == "allowed" and col is not None:
        return (
            f"{ref} = {{value}} is not one of the allowed values ({', '.join(col.allowed or ())})",
            "map the source value to one of the allowed values (or extend the contract if the value is legitimate), "
            + REDELIVER,
        )
    if kind == "range" and col is not None:
        lo = "-inf" if col.min is None else f"{col.min:g}"
        hi = "+inf" if col.max is None else f"{col.max:g}"
        return (
            f"{ref} = {{value}} is outside the allowed range [{lo}, {hi}]",
            f"correct the value at the source (check units and sign), {REDELIVER}",
        )
    if kind == "max_length" and col is not None:
        return (
            f"{ref} is longer than the contract's limit of {col.max_length:,} characters: {{value}}",
            "shorten or split the text at the source; the full row is kept in audit.quarantine.row_json, " + REDELIVER,
        )
    if kind == "not_future":
        return (
            f"{ref} = {{value}} lies in the future (after the run time plus gate.future_tolerance_hours)",
            "check the source system's clock and time zone (timestamps must be UTC), " + REDELIVER,
        )
    if kind == "references" and col is not None:
        parent = col.references or "its parent table"
        return (
            f"{ref} = {{value}} does not exist in {parent} (neither loaded before nor valid in this run)",
            f"deliver the missing {parent.split('.')[0]} row (or correct the id), then deliver this file again "
            "(a changed file is read again)",
        )
    version = f"{table.key} and {table.updated_column}" if table.updated_column else table.key
    newer = table.updated_column or "key"
    if kind == "duplicate_key":
        return (
            f"key {table.key} = {{value}} appears twice in this file with the same {version} and the same content; "
            "only the first copy is loaded",
            "remove the repeated line at the source; a changed record must carry a newer "
            + (table.updated_column or "key")
            + " (different versions of a record are all loaded, staging keeps the latest)",
        )
    if kind == "duplicate_resent":
        return (
            f"key {table.key} = {{value}} repeats a row of another file (the same {version}, the same content); "
            "this copy is not loaded again (it does not count as a failure)",
            "nothing, if the record was sent again on purpose; to stop this note, do not resend rows already "
            "delivered (a corrected file goes under its first path, where it replaces the rows loaded from it)",
        )
    if kind == "conflict":
        return (
            f"key {table.key} = {{value}} has the same {version} as a row loaded before it but other content; "
            "the first copy stays loaded and this one is not",
            f"if the record changed, send it with a newer {newer}; if the kept copy is the wrong one, deliver "
            "its file again corrected under the same path (it replaces the rows loaded from it)",
        )
    if kind == "encoding":
        return (
            "the line is not valid UTF-8 text: {value}",
            "export the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`), " + REDELIVER,
        )
    if kind == "csv_malformed":
        return (
            "the line cannot be parsed as CSV: {value}",
            "check the quoting, the delimiter and the number of columns of that line, " + REDELIVER,
        )
    if kind == "file_unreadable":
        return (
            "the whole file cannot be read: {value}",
            "deliver the file again (a truncated copy or a file that is not Parquet/CSV is the usual cause); "
            "nothing from it was loaded",
        )
    return (f"{rule}: {{value}}", REDELIVER)
