"""Arrow helpers that every warehouse step shares."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def finite_or_null(table: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """`table` with every NaN or infinite float replaced by null, and how many were replaced per column.

    A NaN is "could not be computed"; SQL's word for that is NULL, which `not_null` tests, `count(col)` and
    `avg(col)` understand, while a NaN sorts above every number and passes `>= 9`. Published tables hold nulls.
    """
    replaced: dict[str, int] = {}
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_floating(field.type) and len(column):
            bad = pc.invert(pc.fill_null(pc.is_finite(column), True))
            n = pc.sum(bad).as_py() or 0
            if n:
                replaced[field.name] = int(n)
                column = pc.if_else(bad, pa.scalar(None, field.type), column)
        columns.append(column)
    return (pa.Table.from_arrays(columns, schema=table.schema) if replaced else table), replaced
