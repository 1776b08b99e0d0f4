{{ config(materialized='table') }}

{#-
    The one as-of date of a build (macros/as_of.sql): the latest day with data
    across the raw tables (the var as_of_date when set), the day after it, and
    that day's start as a timestamp. Tenure, consents in force, the emotional
    state's latest day and every score are judged at it. One row; empty dates
    when the raw tables hold no timestamps at all.
-#}
{%- set as_of_date = as_of_date_var() %}

with

raw_event_times as (

    {{ raw_latest_event_times() }}

),

latest as (

    select
        {% if as_of_date -%}
        cast('{{ as_of_date }}' as date) as latest_data_date,
        {%- else -%}
        cast(max(latest_at) as date) as latest_data_date,
        {%- endif %}
        cast(max(latest_at) as date) as latest_raw_date
    from raw_event_times

),

final as (

    select
        latest_data_date,
        cast({{ dbt.dateadd('day', 1, 'latest_data_date') }} as date) as as_of_date,
        cast({{ dbt.dateadd('day', 1, 'latest_data_date') }} as {{ dbt.type_timestamp() }}) as as_of,
        latest_raw_date,
        {{ "'var'" if as_of_date else "'data'" }} as as_of_source
    from latest

)

select * from final
