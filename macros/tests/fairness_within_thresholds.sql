{#-
    Generic test on the fairness audit: fails when a judged metric breaches
    its threshold (seed fairness_thresholds), and says which: the metric, the
    score or action, the group, the value and the bound. dbt reports only a
    count for a failing test, so the breaches are read first and raised as
    the test's error message; the query below returns the same rows for
    `dbt test --store-failures`.
-#}
{% test fairness_within_thresholds(model, message_column='breach') %}

{%- if execute and empathy_relation_exists(model) -%}
    {%- set found = run_query(
        "select " ~ message_column ~ " from " ~ model ~ " where " ~ message_column
        ~ " is not null order by 1 limit 20"
    ) -%}
    {%- if found.rows | length > 0 -%}
        {%- set lines = [] -%}
        {%- for row in found.rows -%}{%- do lines.append(row[0]) -%}{%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "fairness breach in " ~ model.identifier ~ " (" ~ (found.rows | length) ~ " shown at most 20):\n  "
            ~ (lines | join("\n  "))
            ~ "\nThe model treats these groups differently beyond the sector's threshold (seed fairness_thresholds); "
            ~ "see DECISIONLOG.md before changing a threshold."
        ) }}
    {%- endif -%}
{%- endif %}

select {{ message_column }}
from {{ model }}
where {{ message_column }} is not null

{% endtest %}
