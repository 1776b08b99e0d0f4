"""Consent coverage: a company without consent data is activated for service only, and the audit says so."""

from __future__ import annotations

import ibis
import pyarrow as pa

from empathy import status
from empathy.activation import consent_coverage


def test_consent_records_mean_consent_decides_activation():
    table = consent_coverage.coverage(consent_records=12, customers_with_consents=5)
    assert table.to_pylist() == [
        {
            "consent_records": 12,
            "customers_with_consents": 5,
            "has_consent_data": True,
            "activation_basis": consent_coverage.BASIS_CONSENT,
        }
    ]
    assert status.recent()[-1]["status"] == "ok"


def test_no_consent_data_is_service_only_and_reported_degraded():
    table = consent_coverage.coverage(consent_records=0, customers_with_consents=0)
    row = table.to_pylist()[0]
    assert row["has_consent_data"] is False
    assert row["activation_basis"] == consent_coverage.BASIS_SERVICE_ONLY
    said = status.recent()[-1]
    assert said["status"] == "degraded"
    assert "no marketing activation" in said["reason"] and "service actions only" in said["reason"]
    assert "consents" in said["fix"]


def test_coverage_of_counts_records_and_customers_of_a_staged_table():
    consents = ibis.memtable(
        pa.table({"consent_id": ["k1", "k2", "k3"], "customer_id": ["c1", "c1", "c2"]}),
    )
    row = consent_coverage.coverage_of(consents).to_pylist()[0]
    assert (row["consent_records"], row["customers_with_consents"]) == (3, 2)
    empty = ibis.memtable(pa.table({"consent_id": pa.array([], pa.string()), "customer_id": pa.array([], pa.string())}))
    assert consent_coverage.coverage_of(empty).to_pylist()[0]["has_consent_data"] is False
