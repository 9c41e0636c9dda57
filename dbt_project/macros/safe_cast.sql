{#- dbt-duckdb ships no safe_cast: a plain cast raises on a bad value, try_cast returns null like Spark's
    cast does. dbt's own dispatch finds this implementation for target.type == 'duckdb'. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
