"""What BI reads holds no personal data.

Personal data is planted in every place a company's export can carry it: extra customer columns (first and last
names, phone, street address, date of birth, IBAN and a second `Email` column, loaded as `Email_1`), free text in
ticket messages, chats, survey comments, reviews and social posts (an e-mail, a phone number, an address and an
IBAN) and a quarantined customer row with an e-mail. After gate, dbt build and publish, every column of every table
of the published database is scanned for every planted value and for every raw customer id: none may be found.
The working database keeps everything (nothing is lost), and the restricted contact-centre file maps keys back.
"""

from __future__ import annotations

import re
import shutil
import stat
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from empathy import privacy
from tests.conftest import make_settings, query

SALT = "salt-of-the-privacy-test-0123456789"
GIVEN = ["Maria", "John", "Ana", "Pedro", "Laura", "James", "Sofia", "Lucas", "Emma", "Diego", "Julia", "Thomas"]
FAMILY = ["Silva", "Smith", "Garcia", "Santos", "Miller", "Lopez", "Costa", "Brown", "Martinez", "Oliveira"]
TEXT_EMAIL = "jane.planted@example.org"
TEXT_PHONE = "+44 20 7946 0958"
TEXT_ADDRESS = "221b Baker Street"
TEXT_IBAN = "DE89 3704 0044 0532 0130 00"
PLANTED_TEXT = f" Reach me at {TEXT_EMAIL} or {TEXT_PHONE}, I live at {TEXT_ADDRESS}; refund to {TEXT_IBAN} please."
QUARANTINED_ID = "C99999999"
QUARANTINED_EMAIL = "quarantined.person@example.org"
TEXT_COLUMNS = {
    "ticket_messages": "body",
    "chats": "customer_text",
    "survey_responses": "comment",
    "reviews": "body",
    "social_mentions": "text",
}


def _iban(n: int) -> str:
    """A valid German IBAN (mod-97 check digits) for customer number n."""
    bban = f"37040044{n:010d}"
    check = 98 - int(bban + "131400") % 97  # D=13, E=14, then "00"
    return f"DE{check:02d}{bban}"


def _extras(table: pa.Table) -> dict[str, list]:
    numbers = [int(i[1:]) for i in table["customer_id"].to_pylist()]
    return {
        "first_name": [GIVEN[n % len(GIVEN)] for n in numbers],
        "last_name": [FAMILY[n % len(FAMILY)] for n in numbers],
        "phone": [f"+351 912 {n // 1000:03d} {n % 1000:03d}" for n in numbers],
        "street_address": [f"{n + 1} Baker Street" for n in numbers],
        "date_of_birth": [date(1950 + n % 50, 1 + n % 12, 1 + n % 28) for n in numbers],
        "iban": [_iban(n) for n in numbers],
        "Email": [f"second.address.{n}@example.net" for n in numbers],
    }


def _plant_customers(table: pa.Table) -> pa.Table:
    for name, values in _extras(table).items():
        table = table.append_column(name, pa.array(values, pa.date32() if name == "date_of_birth" else pa.string()))
    return table


def _quarantined_customer(table: pa.Table) -> pa.Table:
    """One more customer row without its required created_at: the gate quarantines it, e-mail and all."""
    row = {name: [None] for name in table.column_names}
    row.update(customer_id=[QUARANTINED_ID], email=[QUARANTINED_EMAIL], first_name=["Zebulon"])
    return pa.concat_tables([table, pa.table(row, schema=table.schema)])


def _plant_text(column: str):
    def change(table: pa.Table) -> pa.Table:
        values = table[column].to_pylist()
        planted = [v if i % 7 else (v or "") + PLANTED_TEXT for i, v in enumerate(values)]
        return table.set_column(table.column_names.index(column), column, pa.array(planted, pa.string()))

    return change


def _rewrite(landing, folder: str, change, only_largest: bool = False) -> None:
    paths = sorted((landing / folder).glob("day=*/*.parquet"))
    if only_largest:  # one rejected row stays under the gate's failure rate there
        paths = [max(paths, key=lambda p: (pq.read_metadata(p).num_rows, p.name))]
    for path in paths:
        pq.write_table(change(pq.read_table(path, partitioning=None)), path)


@pytest.fixture(scope="module")
def planted(small_world, tmp_path_factory):
    from empathy.pipeline import run
    from tests.test_text_marts import QUIET

    landing = tmp_path_factory.mktemp("privacy_world") / "landing"
    shutil.copytree(small_world, landing, ignore=shutil.ignore_patterns("_truth"))  # a company, not the demo
    _rewrite(landing, "customers", _plant_customers)
    _rewrite(landing, "customers", _quarantined_customer, only_largest=True)
    for folder, column in TEXT_COLUMNS.items():
        _rewrite(landing, folder, _plant_text(column))
    settings = make_settings(tmp_path_factory.mktemp("privacy_built"), landing=landing)
    settings.options["dbt"]["vars"] = {"backtest_origins": 1}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(privacy.SALT_ENV, SALT)
        summary = run(settings, QUIET)
    customers = pc.unique(pq.read_table(landing / "customers", columns=["customer_id"])["customer_id"]).to_pylist()
    extras = _extras(pa.table({"customer_id": customers}))
    handles = pq.read_table(landing / "social_mentions", columns=["author_handle"])["author_handle"].to_pylist()
    return settings, summary, customers, extras, [h for h in set(handles) if h]


def _cells(published, pattern: str) -> dict[str, list[str]]:
    """{schema.table.column: up to 3 cells} of every published cell (as text) that matches `pattern`."""
    con = duckdb.connect(str(published), read_only=True)
    found = {}
    try:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() where database_name = current_database()"
            " and schema_name not in ('information_schema', 'pg_catalog') order by 1, 2, 3"
        ).fetchall()
        for schema, table, column in columns:
            hits = con.execute(
                f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"'
                f' where regexp_matches(lower(cast("{column}" as varchar)), ?) limit 3',
                [pattern],
            ).fetchall()
            if hits:
                found[f"{schema}.{table}.{column}"] = [h for (h,) in hits]
    finally:
        con.close()
    return found


def _any_of(values) -> str:
    return "|".join(re.escape(str(v).lower()) for v in sorted(set(values)))


def test_the_planted_world_builds_and_publishes(planted):
    settings, summary, *_ = planted
    assert summary.published is not None and settings.published.exists()
    assert summary.dbt.count("model", "error") == 0 and summary.dbt.count("test", "fail") == 0


def test_no_planted_value_in_any_published_cell(planted):
    settings, _, _, extras, _ = planted
    values = [TEXT_EMAIL, TEXT_PHONE, TEXT_ADDRESS, TEXT_IBAN, TEXT_IBAN.replace(" ", ""), QUARANTINED_EMAIL]
    for name in ("phone", "street_address", "iban", "Email"):
        values += extras[name]
    values += [d.isoformat() for d in extras["date_of_birth"]]
    assert _cells(settings.published, _any_of(values)) == {}
    # names as whole cells (a name may be a word of some text)
    names = _any_of(extras["first_name"] + extras["last_name"] + ["Zebulon"])
    assert _cells(settings.published, f"^({names})$") == {}


def test_no_raw_customer_id_or_author_handle_in_any_published_cell(planted):
    settings, _, customers, _, handles = planted
    assert _cells(settings.published, _any_of([*customers, QUARANTINED_ID.lower()])) == {}
    assert _cells(settings.published, _any_of(handles)) == {}


def test_no_personal_extra_column_is_published(planted):
    settings, *_ = planted
    published = {
        c.lower()
        for (c,) in query(settings.published, "select distinct column_name from duckdb_columns() where not internal")
    }
    assert not published & {"first_name", "last_name", "phone", "street_address", "date_of_birth", "iban", "email_1"}
    assert not published & {"row_json", "bad_value"}
    # the non-personal extras still reach dim_customers
    columns = {
        c
        for (c,) in query(
            settings.published, "select column_name from duckdb_columns() where table_name = 'dim_customers'"
        )
    }
    assert {"loyalty_tier", "household_size"} <= columns


def test_email_duplicate_is_caught_by_its_values(planted):
    settings, *_ = planted
    rows = query(
        settings.warehouse,
        "select column_name, decision, reason_category, matched_pattern from audit.feature_exclusions"
        " where lower(column_name) in ('email_1', 'phone', 'street_address', 'iban', 'first_name', 'last_name')",
    )
    verdicts = {name.lower(): (decision, category, pattern) for name, decision, category, pattern in rows}
    assert verdicts["email_1"] == ("excluded", "personal_data", "email")
    assert {v[0] for v in verdicts.values()} == {"excluded"} and len(verdicts) == 6


def test_customers_are_published_under_their_keyed_hash(planted):
    settings, _, customers, *_ = planted
    keys = {k for (k,) in query(settings.published, "select customer_id from marts.dim_customers")}
    assert keys == {privacy.customer_key(c, SALT) for c in customers if c != QUARANTINED_ID}
    # the same customer has the same key in every mart: BI joins still work
    joined = query(
        settings.published,
        "select count(*), count(d.customer_id) from marts.fct_interactions i"
        " left join marts.dim_customers d on i.customer_id = d.customer_id where i.customer_id is not null",
    )[0]
    assert joined[0] > 0 and joined[0] == joined[1]
    # e-mail hashes are keyed with the same salt
    email = dict(query(settings.warehouse, "select customer_id, email from raw.customers where email is not null"))
    hashes = dict(query(settings.published, "select customer_id, email_hash from marts.dim_customers"))
    some = sorted(email)[:20]
    assert [hashes[privacy.customer_key(c, SALT)] for c in some] == [privacy.pii_hash(email[c], SALT) for c in some]


def test_published_text_is_redacted_and_working_text_is_whole(planted):
    settings, *_ = planted
    published = query(settings.published, "select text from marts.fct_interactions where text like '%Reach me at%'")
    assert published and all("[email]" in t and "[phone]" in t and "[iban]" in t for (t,) in published)
    assert all("[address]" in t for (t,) in published)
    working = query(
        settings.warehouse, "select count(*) from marts.fct_interactions where contains(text, ?)", [TEXT_EMAIL]
    )
    assert working[0][0] == len(published)


def test_quarantine_is_published_without_the_raw_row(planted):
    settings, *_ = planted
    published = query(
        settings.published, "select table_name, rule, file, row_number, column_name from audit.quarantine"
    )
    assert [r for r in published if r[0] == "customers" and r[4] == "created_at"]
    kept = query(
        settings.warehouse, "select count(*) from audit.quarantine where contains(row_json, ?)", [QUARANTINED_EMAIL]
    )
    assert kept[0][0] >= 1


def test_contact_centre_lookup_is_restricted_and_maps_keys_to_ids(planted):
    settings, _, customers, *_ = planted
    assert settings.restricted.exists() and settings.restricted.parent != settings.published.parent
    assert stat.S_IMODE(settings.restricted.stat().st_mode) == 0o600
    lookup = dict(query(settings.restricted, "select customer_id, customer_key from customer_lookup"))
    loaded = [c for c in customers if c != QUARANTINED_ID]
    assert set(loaded) <= set(lookup) and QUARANTINED_ID not in lookup
    assert all(lookup[c] == privacy.customer_key(c, SALT) for c in loaded)
