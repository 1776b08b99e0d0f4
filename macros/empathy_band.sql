{% macro empathy_band(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} < 35 then 'distressed'
        when {{ score }} < 45 then 'uneasy'
        when {{ score }} <= 60 then 'neutral'
        when {{ score }} <= 75 then 'content'
        else 'delighted'
    end
{%- endmacro %}
