{#
    Order-by list that ranks the versions of one key, latest first, for the
    portable deduplication pattern used in staging:

        row_number() over (
            partition by <key>
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
        ... where version_rank = 1

    A later version replaces an earlier one: a newer updated column first (a
    version without one counts as older), then a later load (_loaded_at), then
    a later landing file and row (_file, _row_number). Tables without an
    updated column rank by load only.
#}
{% macro latest_version_order(updated_column=none) -%}
    {%- if updated_column -%}
        {{ updated_column }} desc nulls last,
    {% endif -%}
    _loaded_at desc nulls last,
    _file desc nulls last,
    _row_number desc nulls last
{%- endmacro %}
