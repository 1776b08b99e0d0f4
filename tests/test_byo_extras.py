"""Extra columns end to end: the gate registers them, staging carries them, the source files list them, and the
bring-your-own screening keeps personal data and proxies of age out of the features, each with its reason."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from empathy.cli import _registered_extras
from empathy.contract_docs import check_sources, write_sources
from tests.conftest import make_settings, query

GIVEN = ["Maria", "John", "Ana", "Pedro", "Laura", "James", "Sofia", "Lucas", "Emma", "Diego", "Julia", "Thomas"]
FAMILY = ["Silva", "Smith", "Garcia", "Santos", "Miller", "Lopez", "Costa", "Brown", "Martinez", "Oliveira"]
END = date(2026, 6, 30)


def _pick(customer_id: str, salt: str, n: int) -> int:
    return int(hashlib.sha256(f"{salt}:{customer_id}".encode()).hexdigest()[:8], 16) % n


def _with_customer_extras(table: pa.Table) -> pa.Table:
    ids = table["customer_id"].to_pylist()
    birth = table["birth_year"].to_pylist()
    senior = [None if b is None else int(END.year - b >= 65) for b in birth]
    extras = {
        "phone_service": pa.array(["yes" if _pick(i, "phone", 3) else "no" for i in ids]),
        "senior_citizen": pa.array(senior, pa.int64()),
        "first_name": pa.array([GIVEN[_pick(i, "given", len(GIVEN))] for i in ids]),
        "account_holder": pa.array(
            [f"{GIVEN[_pick(i, 'holder', len(GIVEN))]} {FAMILY[_pick(i, 'family', len(FAMILY))]}" for i in ids]
        ),
        "contact": pa.array([f"{i.lower()}@mail.example.org" for i in ids]),
    }
    for name, values in extras.items():
        table = table.append_column(name, values)
    return table


def _with_review_order(table: pa.Table) -> pa.Table:
    table = table.append_column("order_id", pc.binary_join_element_wise("ord-", table["review_id"], ""))
    # named like a column stg_feedback__reviews makes of its own (from `title`)
    return table.append_column("review_title", pa.array(["kept"] * table.num_rows))


def _with_subscription_channel(table: pa.Table) -> pa.Table:
    ids = table["subscription_id"].to_pylist()
    return table.append_column("billing_channel", pa.array(["app" if _pick(i, "bill", 2) else "web" for i in ids]))


def _rewrite(landing: Path, folder: str, change) -> None:
    for path in sorted((landing / folder).glob("day=*/*.parquet")):
        pq.write_table(change(pq.read_table(path, partitioning=None)), path)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from empathy.generate import generate
    from empathy.pipeline import run
    from tests.test_text_marts import QUIET

    landing = tmp_path_factory.mktemp("byo_world") / "landing"
    generate(landing, customers=400, days=120, seed=11, sector="retail", end_date=END)
    shutil.rmtree(landing / "_truth")
    _rewrite(landing, "customers", _with_customer_extras)
    _rewrite(landing, "reviews", _with_review_order)
    _rewrite(landing, "subscriptions", _with_subscription_channel)
    settings = make_settings(tmp_path_factory.mktemp("byo_built"), landing=landing)
    settings.options["dbt"]["vars"] = {"backtest_origins": 1}
    return settings, run(settings, QUIET)


def test_build_passes(world):
    _, summary = world
    assert summary.dbt.count("model", "error") == 0 and summary.dbt.count("test", "fail") == 0


def test_no_landing_day_column_in_raw_staging_or_marts(world):
    settings, _ = world
    leaked = query(
        settings.warehouse,
        "select table_schema, table_name from information_schema.columns "
        "where lower(column_name) = 'day' and table_schema in ('raw', 'staging', 'intermediate', 'marts')",
    )
    assert leaked == []


def test_gate_registers_the_extras(world):
    settings, _ = world
    registered = {
        (t, c, d)
        for t, c, d in query(settings.warehouse, "select table_name, column_name, data_type from audit.extra_columns")
    }
    assert ("reviews", "order_id", "VARCHAR") in registered
    assert ("customers", "senior_citizen", "BIGINT") in registered
    assert {c for t, c, _ in registered if t == "customers"} >= {
        "loyalty_tier",
        "household_size",
        "phone_service",
        "first_name",
        "account_holder",
        "contact",
    }


def test_extras_reach_their_staging_models(world):
    settings, _ = world
    columns = {
        (t, c)
        for t, c in query(
            settings.warehouse,
            "select table_name, column_name from information_schema.columns where table_schema = 'staging'",
        )
    }
    assert ("stg_feedback__reviews", "order_id") in columns
    for model in ("stg_crm__customers", "stg_crm__customer_versions"):
        assert {(model, c) for c in ("phone_service", "senior_citizen", "contact", "loyalty_tier")} <= columns
    orders = query(settings.warehouse, "select count(*), count(order_id) from staging.stg_feedback__reviews")[0]
    assert orders[0] > 0 and orders[0] == orders[1]
    # an extra whose name the model uses for its own column is carried under a prefix, not dropped
    clash = query(
        settings.warehouse,
        "select count(*) from staging.stg_feedback__reviews where extra__review_title = 'kept' "
        "and review_title is distinct from 'kept'",
    )[0][0]
    assert clash == orders[0]


def test_source_files_list_the_registered_extras(world, tmp_path):
    settings, _ = world
    extras = _registered_extras(settings)  # what `empathy contract sources` writes
    write_sources(tmp_path, extras)
    doc = yaml.safe_load((tmp_path / "models/staging/feedback/_feedback__sources.yml").read_text())
    reviews = next(t for t in doc["sources"][0]["tables"] if t["name"] == "reviews")
    order_id = next(c for c in reviews["columns"] if c["name"] == "order_id")
    assert order_id["config"]["meta"] == {"extra": True} and order_id["data_type"] == "varchar"
    # Files listing extras are still in step with the contract.
    assert check_sources(tmp_path) == []


def _screening(settings):
    rows = query(
        settings.published,
        "select column_name, decision, reason_category, reason, matched_pattern from audit.feature_exclusions "
        "where byo_source = 'customer'",
    )
    return {r[0]: r[1:] for r in rows}


def test_phone_service_is_a_feature_and_senior_citizen_an_excluded_age_proxy(world):
    settings, _ = world
    screening = _screening(settings)
    assert screening["phone_service"][:2] == ("feature", None)
    decision, category, reason, _ = screening["senior_citizen"]
    assert (decision, category) == ("excluded", "age_proxy") and "age" in reason
    features = {
        c
        for (c,) in query(
            settings.warehouse,
            "select column_name from information_schema.columns where table_name = 'int_customer_snapshots'",
        )
    }
    assert {"byo__phone_service", "byo__loyalty_tier", "byo_subscription__billing_channel"} <= features
    assert not {"byo__senior_citizen", "byo__contact", "byo__first_name", "byo__account_holder"} & features


def test_names_and_emails_are_excluded_as_personal_data_by_value(world):
    settings, _ = world
    screening = _screening(settings)
    assert screening["contact"][:2] == ("excluded", "personal_data") and screening["contact"][3] == "email"
    for column in ("first_name", "account_holder"):
        assert screening[column][:2] == ("excluded", "personal_data") and screening[column][3] == "name"
        assert "person names" in screening[column][2]
