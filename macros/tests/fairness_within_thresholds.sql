{#-
    Generic test on the fairness audit: fails when a judged metric breaches
    its threshold (seed fairness_thresholds), and says which: the metric, the
    score or action, the group, the value and the bound. dbt reports only a
    count for a failing test, so the breaches are read first and raised as
    the test's error message; the query below returns the same rows for
    `dbt test --store-failures` (and is all that `dbt compile` produces).
-#}
{% test fairness_within_thresholds(model, message_column='breach') %}

{#- only when tests run: `dbt compile` and `dbt docs generate` compile tests too, and must not fail on a breach -#}
{%- if execute and flags.WHICH in ('build', 'test') and empathy_relation_exists(model) -%}
    {%- set found = run_query(
        "select " ~ message_column ~ " from " ~ model ~ " where " ~ message_column
        ~ " is not null order by 1 limit 20"
    ) -%}
    {%- if found.rows | length > 0 -%}
        {%- set lines = [] -%}
        {%- for row in found.rows -%}{%- do lines.append(row[0]) -%}{%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "fairness breach in " ~ model.identifier ~ ": " ~ (found.rows | length)
            ~ (" or more" if found.rows | length == 20 else "") ~ " metric(s) beyond the sector's threshold\n  "
            ~ (lines | join("\n  "))
            ~ "\nThresholds: seed fairness_thresholds; see DECISIONLOG.md before changing one."
        ) }}
    {%- endif -%}
{%- endif %}

select {{ message_column }}
from {{ model }}
where {{ message_column }} is not null

{% endtest %}
