"""One row per customer and day: the empagraphic segment, kept stable by hysteresis, and its reason.

See empathy.segments.build.customer_segments; the rules are int_customer_segment_rules.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.segments import build

    return status.recorded(
        session,
        "int_customer_segments",
        build.customer_segments,
        dbt.ref("int_customer_segment_rules").arrow(),
        hold_days=int(dbt.config.get("segment_hold_days", 3)),
    )
