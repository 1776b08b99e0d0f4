"""Erasure on request: `empathy forget` removes a customer from the landing files, the working database, every
model and the published database, and leaves a tombstone (a keyed hash, never the id) that the gate applies on
every later load.

    links.py      which columns tie a row to a customer (the kinds of values an erasure follows)
    keys.py       the erasure key and the keyed hash stored in tombstones and in audit.erasures
    scope.py      every value of the customers found in raw and audit.quarantine
    landing.py    landing files rewritten without the customers' rows, atomically
    purge.py      raw.*, audit.quarantine and audit.gate_results without the customers; the tombstones
    files.py      the gate's Great Expectations store without their values
    tombstones.py the gate's filter: rows a tombstone names are dropped as they are read, counted as erased
    forget.py     the command: the steps above, then the gate, a full-refresh dbt build and publication
"""
