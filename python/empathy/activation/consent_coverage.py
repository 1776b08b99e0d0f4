"""Whether the company sent consent data at all, and what activation may do without it.

One row for int_consent_coverage. With consent records, profiling consent decides who is scored for activation and
consent by channel and purpose decides every contact. Without any (a customers + orders company), nobody has
consented to marketing: activation is service-only on the company's contract basis, and the model reports itself
degraded so `audit.mart_status` says so for every activation mart (DECISIONLOG.md).
"""

from __future__ import annotations

import pyarrow as pa

from empathy import status

COVERAGE_SCHEMA = pa.schema(
    [
        ("consent_records", pa.int64()),
        ("customers_with_consents", pa.int64()),
        ("has_consent_data", pa.bool_()),
        ("activation_basis", pa.string()),
    ]
)

BASIS_CONSENT = "consent"
BASIS_SERVICE_ONLY = "service_only_no_consent_data"


def coverage(consent_records: int, customers_with_consents: int) -> pa.Table:
    """The one-row coverage table, reporting `degraded` when there is no consent record."""
    has_data = consent_records > 0
    if has_data:
        status.report(
            "consent",
            "ok",
            counts={"consent_records": consent_records, "customers_with_consents": customers_with_consents},
        )
    else:
        status.report(
            "consent",
            "degraded",
            "no consent data (raw consents absent or empty): no marketing activation; customers are scored for "
            "service actions only, on the company's contract basis",
            counts={"consent_records": 0},
            fix="land the consents table (channel, purpose, granted_at, revoked_at) to allow marketing actions",
        )
    return pa.Table.from_pylist(
        [
            {
                "consent_records": int(consent_records),
                "customers_with_consents": int(customers_with_consents),
                "has_consent_data": has_data,
                "activation_basis": BASIS_CONSENT if has_data else BASIS_SERVICE_ONLY,
            }
        ],
        schema=COVERAGE_SCHEMA,
    )


def coverage_of(consents) -> pa.Table:
    """`coverage` of an ibis table of stg_crm__consents."""
    consent_records = int(consents.count().execute())
    customers = int(consents.customer_id.nunique().execute()) if consent_records else 0
    return coverage(consent_records, customers)
