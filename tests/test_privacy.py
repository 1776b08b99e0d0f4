"""Keyed customer pseudonyms, the salt rule and the redaction of free text (empathy.privacy)."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from empathy import privacy
from tests.conftest import make_settings, query

SALT = "a-test-salt-of-enough-length"


def test_customer_key_is_hmac_sha256_of_the_id_keyed_with_the_salt():
    expected = hmac.new(SALT.encode(), b"C000042", hashlib.sha256).hexdigest()
    assert privacy.customer_key("C000042", SALT) == expected
    assert privacy.customer_key("C000042", SALT) != hashlib.sha256(b"C000042").hexdigest()
    assert privacy.customer_key("C000042", SALT + "x") != expected


def test_pii_hash_normalises_like_staging():
    assert privacy.pii_hash("  Ana.Silva@Example.ORG ", SALT) == privacy.customer_key("ana.silva@example.org", SALT)
    assert privacy.pii_hash("  ", SALT) is None and privacy.pii_hash(None, SALT) is None


@pytest.mark.parametrize("salt", [SALT, "ünïcode salt, with 'quotes'", "k" * 100], ids=["ascii", "unicode", "long"])
def test_sql_keyed_hash_equals_the_python_one(salt):
    ids = ["C000001", "c-2", "émile", "x'y"]
    con = duckdb.connect()
    got = con.execute(f"select {privacy.hmac_sql('v', salt)} from unnest(?) t(v)", [ids]).fetchall()
    assert [g for (g,) in got] == [privacy.customer_key(i, salt) for i in ids]


def test_salt_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv(privacy.SALT_ENV, SALT)
    assert privacy.resolve_salt(tmp_path) == SALT


def test_a_short_salt_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(privacy.SALT_ENV, "short")
    with pytest.raises(privacy.SaltMissing, match="at least 16"):
        privacy.resolve_salt(tmp_path)


def test_no_salt_is_refused_outside_the_demo_world(monkeypatch, tmp_path):
    monkeypatch.delenv(privacy.SALT_ENV, raising=False)
    with pytest.raises(privacy.SaltMissing, match="EMPATHY_PII_SALT is not set"):
        privacy.resolve_salt(tmp_path)
    (tmp_path / "_truth").mkdir()
    assert privacy.resolve_salt(tmp_path) == privacy.DEMO_SALT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("write to ana.silva+shop@mail.example.co.uk please", "write to [email] please", id="email"),
        pytest.param("Call me on +44 20 7946 0958 today", "Call me on [phone] today", id="uk-intl"),
        pytest.param("my cell: (415) 555-0173.", "my cell: [phone].", id="us-parens"),
        pytest.param("ligue +55 11 91234-5678 agora", "ligue [phone] agora", id="br"),
        pytest.param("llámame al +34 612 34 56 78", "llámame al [phone]", id="es"),
        pytest.param("tel 0612345678", "tel [phone]", id="fr-national-no-separators"),
        pytest.param("ring 0049 30 1234567", "ring [phone]", id="00-prefix"),
        pytest.param("US office 555.123.4567", "US office [phone]", id="dotted"),
        pytest.param("appelez le 06-12-34-56-78 svp", "appelez le [phone] svp", id="fr-dashed-not-a-date"),
        pytest.param("Nummer 0049-30-12-34567", "Nummer [phone]", id="de-dashed-not-a-date"),
        pytest.param("refund to DE89 3704 0044 0532 0130 00 asap", "refund to [iban] asap", id="iban-spaced"),
        pytest.param("IBAN GB82WEST12345698765432.", "IBAN [iban].", id="iban-compact"),
        pytest.param("card 4111 1111 1111 1111 was charged", "card [card] was charged", id="card-spaced"),
        pytest.param("card 5500-0000-0000-0004", "card [card]", id="card-dashed"),
        pytest.param("I live at 221b Baker Street, London", "I live at [address], London", id="address-en"),
        pytest.param("send it to 12 Main St. now", "send it to [address] now", id="address-st"),
        pytest.param("moro na Rua das Flores, 100 em Lisboa", "moro na [address] em Lisboa", id="address-pt"),
        pytest.param("vivo en Calle Mayor 3, Madrid", "vivo en [address], Madrid", id="address-es"),
        pytest.param("Hauptstraße 5 in Berlin", "[address] in Berlin", id="address-de"),
    ],
)
def test_redact_masks_contacts_accounts_and_addresses(text, expected):
    assert privacy.redact(text) == expected
    # the publish step's SQL pre-test lets every such text through to redact
    guard = duckdb.connect().execute(f"select {privacy.redaction_guard_sql('?')}", [text]).fetchone()[0]
    assert guard is True


def test_the_sql_guard_skips_ordinary_text_and_evidence():
    texts = [
        "late deliveries in 90 days: 2, the last on 2026-06-21 (9 days ago): -12 points",
        "ordered 21/06/2026 at 14:30, order #4411",
        "Not great, the parcel came 3 days late",
    ]
    con = duckdb.connect()
    assert [con.execute(f"select {privacy.redaction_guard_sql('?')}", [t]).fetchone()[0] for t in texts] == [False] * 3


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("delivered on 2026-06-21 at 14:30, two days late", id="iso-date-time"),
        pytest.param("ordered 21/06/2026, arrived 30.06.2026", id="dates"),
        pytest.param("order #12345678 and ORD-2026-000123 still missing", id="order-numbers"),
        pytest.param("order 98765432 never came", id="plain-8-digits"),
        pytest.param("charged $1,299.00 instead of 999.99", id="amounts"),
        pytest.param("threshold 0.12345678901234567", id="decimal"),
        pytest.param("waited 3 more days on the way home", id="not-an-address"),
        pytest.param("invalid IBAN DE00 3704 0044 0532 0130 00", id="iban-bad-checksum"),
        pytest.param("4111 1111 1111 1112", id="card-bad-luhn-and-too-long-for-a-phone"),
        pytest.param("no digits here at all", id="plain"),
    ],
)
def test_redact_keeps_dates_order_numbers_and_amounts(text):
    assert privacy.redact(text) == text


def test_redact_keeps_none():
    assert privacy.redact(None) is None


def _tiny_warehouse(settings) -> None:
    """A working database as a build left it: one mart with a customer id and a text, one quarantined row."""
    settings.landing.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_notes as select * from (values ('C1', 'C1:2026-06-01', 'mail me at a.b@example.org'),"
        " ('C2', 'C2:2026-06-01', 'fine, thanks')) t(customer_id, note_id, text)"
    )
    con.execute("create schema audit")
    con.execute(
        "create table audit.quarantine as select 'customers' as table_name, 'f.parquet' as file, 3::bigint as"
        " row_number, 'not_null:created_at' as rule, 'created_at' as column_name, 'x@example.org' as bad_value,"
        ' \'{"customer_id": "C9", "email": "x@example.org"}\' as row_json'
    )
    con.close()


def test_publish_without_a_salt_is_refused_and_publishes_nothing(monkeypatch, tmp_path):
    from empathy.publish import publish

    settings = make_settings(tmp_path / "home")
    _tiny_warehouse(settings)
    monkeypatch.delenv(privacy.SALT_ENV, raising=False)
    with pytest.raises(privacy.SaltMissing, match="EMPATHY_PII_SALT is not set"):
        publish(settings, "no-salt")
    assert not settings.published.exists() and not settings.restricted.exists()


def test_run_without_a_salt_stops_before_the_gate(monkeypatch, tmp_path):
    from empathy.pipeline import PipelineError, run
    from tests.test_text_marts import QUIET

    settings = make_settings(tmp_path / "home")
    settings.landing.mkdir(parents=True)
    monkeypatch.delenv(privacy.SALT_ENV, raising=False)
    with pytest.raises(PipelineError, match="EMPATHY_PII_SALT is not set"):
        run(settings, QUIET)
    assert not settings.warehouse.exists()


def test_publish_keys_composite_ids_redacts_text_and_drops_the_raw_row(monkeypatch, tmp_path):
    from empathy.publish import publish

    settings = make_settings(tmp_path / "home")
    _tiny_warehouse(settings)
    monkeypatch.setenv(privacy.SALT_ENV, SALT)
    publish(settings, "with-salt")
    rows = query(settings.published, "select customer_id, note_id, text from marts.fct_notes order by text")
    key = {c: privacy.customer_key(c, SALT) for c in ("C1", "C2")}
    assert rows == [
        (key["C2"], privacy.customer_key("C2:2026-06-01", SALT), "fine, thanks"),
        (key["C1"], privacy.customer_key("C1:2026-06-01", SALT), "mail me at [email]"),
    ]
    columns = [
        c
        for (c,) in query(
            settings.published, "select column_name from duckdb_columns() where table_name = 'quarantine'"
        )
    ]
    assert columns == ["table_name", "file", "row_number", "rule", "column_name"]
    assert query(settings.restricted, "select customer_id, customer_key from customer_lookup") == sorted(key.items())
