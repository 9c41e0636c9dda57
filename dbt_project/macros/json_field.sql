{#- One field of a JSON text column as text (null when absent). Dispatched: the quarantine keeps each held-back
    record as JSON, and the engines spell the extraction differently. -#}
{% macro json_field(column, field) -%}
    {{ return(adapter.dispatch('json_field', 'futuremart')(column, field)) }}
{%- endmacro %}

{% macro default__json_field(column, field) -%}
    json_extract_string({{ column }}, '$.{{ field }}')
{%- endmacro %}

{% macro duckdb__json_field(column, field) -%}
    json_extract_string({{ column }}, '$.{{ field }}')
{%- endmacro %}

{% macro spark__json_field(column, field) -%}
    get_json_object({{ column }}, '$.{{ field }}')
{%- endmacro %}
