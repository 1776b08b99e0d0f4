"""Which columns tie a row to a customer.

A *kind* names the values of one key, as ``table.column`` (``customers.customer_id``, ``orders.order_id``). A row
belongs to an erased customer when one of its columns holds a value of its kind that the erasure holds: the
customer's id, or the key of one of their rows that other tables refer to (an order of theirs for its items and
shipments, a ticket for its messages, an invitation for its answers). Every kind comes from the contract's
references, plus the few columns that identify the customer without declaring a reference.
"""

from __future__ import annotations

from functools import cache

from empathy import contract

CUSTOMER = "customers.customer_id"
# Columns that hold a customer's id without declaring a reference (they hold agents' ids too).
ALIASES = {("ticket_messages", "author_id"): CUSTOMER}
# Personal values that identify the customer beyond their id: rows carrying them are theirs too.
PERSONAL = {("social_mentions", "author_handle")}


@cache
def referenced_kinds() -> frozenset[str]:
    """Keys some column of the contract refers to (``orders.order_id``, ...)."""
    return frozenset(c.references for t in contract.TABLES for c in t.columns if c.references)


def column_kinds(table: contract.Table) -> dict[str, str]:
    """column -> kind, for every column of ``table`` whose value can tie a row to an erased customer."""
    out: dict[str, str] = {}
    for c in table.columns:
        own = f"{table.name}.{c.name}"
        if c.references:
            out[c.name] = c.references
        elif (table.name, c.name) in ALIASES:
            out[c.name] = ALIASES[(table.name, c.name)]
        elif own in referenced_kinds() or (table.name, c.name) in PERSONAL:
            out[c.name] = own
    return out


def carried_kinds(table: contract.Table) -> dict[str, str]:
    """column -> kind of the values an erased row of ``table`` passes on to other tables (its referenced key,
    its personal identifiers)."""
    out: dict[str, str] = {}
    for c in table.columns:
        own = f"{table.name}.{c.name}"
        if own in referenced_kinds() or (table.name, c.name) in PERSONAL:
            out[c.name] = own
    return out


@cache
def kinds_by_name() -> dict[str, str]:
    """Lower-cased column name -> kind, for files outside the contract's folders (a name with two kinds is left
    out)."""
    seen: dict[str, set[str]] = {}
    for t in contract.TABLES:
        for name, kind in column_kinds(t).items():
            seen.setdefault(name.lower(), set()).add(kind)
    return {name: next(iter(kinds)) for name, kinds in seen.items() if len(kinds) == 1}
