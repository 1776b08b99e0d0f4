"""The screening of bring-your-own columns: one row per candidate column with its decision and reason.

Published as audit.feature_exclusions. See empathy.predict.feature_screening and DECISIONLOG.md.
"""

import json


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy.predict import feature_screening as fs

    rules = dbt.ref("feature_exclusions").df()
    settings = fs.ScreeningSettings(
        personal_data_min_share=float(dbt.config.get("personal_data_min_share", 0.5)),
        proxy_association_threshold=float(dbt.config.get("proxy_association_threshold", 0.5)),
        allowed_proxy_columns=tuple(json.loads(dbt.config.get("allowed_proxy_columns", "[]") or "[]")),
        personal_data_columns=tuple(json.loads(dbt.config.get("personal_data_columns", "[]") or "[]")),
        name_rules=tuple(
            (r.name_regex, r.category, r.reason)
            for r in rules.sort_values(["category", "name_regex"]).itertuples(index=False)
        ),
    )
    values = dbt.ref("int_byo_column_values").df()
    profiles = dbt.ref("stg_crm__customers").project("customer_id, birth_year, age_band, gender, created_at").df()
    return fs.to_arrow(fs.screen(values, profiles, settings))
